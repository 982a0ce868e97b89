package witness

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/strictjson"
)

// strictRules are the rules strictjson refuses with.
var strictRules = map[string]bool{"utf8": true, "duplicate_key": true, "unknown_field": true, "json_type": true, "json": true}

// fixedKeys is a note signer and verifier made from fixed bytes, so that
// the seeds are the same on every run.
func fixedKeys(tb testing.TB, name string) (signer, verifier string) {
	tb.Helper()
	s, v, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)), name)
	if err != nil {
		tb.Fatal(err)
	}
	return s, v
}

// nearValid adds seed and, to f, seed with each of edits made: the ways a
// file edited by hand or an answer altered on the way goes wrong.
func nearValid(f *testing.F, seed []byte, edits ...string) {
	f.Add(seed)
	for i := 0; i+1 < len(edits); i += 2 {
		f.Add(bytes.Replace(seed, []byte(edits[i]), []byte(edits[i+1]), 1))
	}
	for _, s := range []string{`{}`, `[]`, `null`, "{\"x\": \"\xff\"}", `{"a":1} {}`} {
		f.Add([]byte(s))
	}
}

// refusedAsStrict fails t unless err is strictjson's refusal: code
// malformed, one of its rules, a message.
func refusedAsStrict(t *testing.T, in []byte, err error) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Code != errs.Malformed || !strictRules[e.Rule] || e.Message == "" {
		t.Fatalf("%q: refused with %#v", in, err)
	}
}

// FuzzParseState feeds the witness state file's reader any text: it never
// panics; a refusal names the file and strictjson's rule or log_key; what
// it takes, written as Save writes it, reads back the same.
func FuzzParseState(f *testing.F) {
	sk, v := fixedKeys(f, "custos/XA")
	signer, err := note.NewSigner(sk)
	if err != nil {
		f.Fatal(err)
	}
	root := bytes.Repeat([]byte{1}, 32)
	cp, err := ledger.SignCheckpoint(signer, "custos/XA", ledger.Head{Size: 12, Root: root})
	if err != nil {
		f.Fatal(err)
	}
	fp, err := ledger.KeyFingerprint(v)
	if err != nil {
		f.Fatal(err)
	}
	seed, err := json.MarshalIndent(&State{URL: "https://registry.example", LogKey: v, Fingerprint: fp, Size: 12,
		Root: root, Checkpoint: cp, SeenAt: "2026-01-01T00:00:00Z"}, "", "  ")
	if err != nil {
		f.Fatal(err)
	}
	nearValid(f, seed, `"size"`, `"SIZE"`, `"url"`, `"url": "x", "url"`, `"root": "`, `"root": "!`, `"size": 12`, `"size": -1`,
		`"size": 12`, `"size": 1.5`, `"size": 12`, `"size": 11`, `"root": "A`, `"root": "B`, `"key_fingerprint": "SHA256:`, `"key_fingerprint": "SHA256:00`,
		`"log_key": "`, `"log_key": "x`, `"checkpoint": "`, `"checkpoint": "\udc00`, `"checkpoint": "custos/XA\n12`, `"checkpoint": "custos/XA\n13`)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseState("w.state", b)
		if err != nil {
			if s != nil || !strings.HasPrefix(err.Error(), "witness state w.state") {
				t.Fatalf("%q: refused as %v", b, err)
			}
			if _, ok := errs.As(err); ok {
				refusedAsStrict(t, b, err)
			} else if !strings.Contains(err.Error(), ": log_key: ") && !strings.Contains(err.Error(), ": key_fingerprint: ") &&
				!strings.Contains(err.Error(), ": checkpoint") && !strings.Contains(err.Error(), ": size and root: ") {
				t.Fatalf("%q: the refusal names no key: %v", b, err)
			}
			return
		}
		out, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseState("w.state", out)
		if err != nil {
			t.Fatalf("%q: written back as %s, refused: %v", b, out, err)
		}
		if out2, _ := json.MarshalIndent(again, "", "  "); !bytes.Equal(out, out2) {
			t.Fatalf("%q: written back as %s, read and written again as %s", b, out, out2)
		}
	})
}

// FuzzParseKey feeds the witness key file's reader any text: it never
// panics; a refusal names the file and strictjson's rule or the signer, and
// never quotes the signer key given; what it takes, written as NewKey writes
// it, reads back the same.
func FuzzParseKey(f *testing.F) {
	s, v := fixedKeys(f, "auditor.example")
	cv, err := fnote.VKeyToCosignatureV1(v)
	if err != nil {
		f.Fatal(err)
	}
	seed, err := json.MarshalIndent(&Key{Signer: s, Verifier: cv}, "", "  ")
	if err != nil {
		f.Fatal(err)
	}
	nearValid(f, seed, `"signer"`, `"SIGNER"`, `"signer"`, `"ſigner"`, `"verifier"`, `"verifier": "x", "verifier"`,
		`"signer": "PRIVATE+KEY+`, `"signer": "PRIVATE+KEY+x`, `"signer": "`, `"signer": "\ud800`)
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := parseKey("w.key", b)
		if err != nil {
			if k != nil || !strings.HasPrefix(err.Error(), "witness key w.key") {
				t.Fatalf("%q: refused as %v", b, err)
			}
			if _, ok := errs.As(err); ok {
				refusedAsStrict(t, b, err)
			} else if !strings.Contains(err.Error(), ": signer: ") {
				t.Fatalf("%q: the refusal names no key: %v", b, err)
			}
			var given Key
			if json.Unmarshal(b, &given) == nil && len(given.Signer) >= 8 && strings.Contains(err.Error(), given.Signer) {
				t.Fatalf("%q: the refusal quotes the signer key: %v", b, err)
			}
			return
		}
		out, err := json.MarshalIndent(k, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseKey("w.key", out)
		if err != nil || *again != *k {
			t.Fatalf("%q: written back as %s, read back %v, %v", b, out, again, err)
		}
	})
}

// FuzzReadRegistryAnswer feeds the watcher's reading of a registry's answers (its
// checkpoint and a consistency proof) any bytes: it never panics; a
// refusal is strictjson's, naming its rule; what it takes, written again
// (the members it keeps unread with it), reads back as the same.
func FuzzReadRegistryAnswer(f *testing.F) {
	_, v := fixedKeys(f, "custos/XA")
	cp := map[string]any{"size": 12, "root": "AQE=", "checkpoint": "custos/XA\n12\nAQE=\n\n— custos/XA sig\n", "log_key": v,
		"key_fingerprint": "SHA256:ab", "cosigned": nil}
	seed, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		f.Fatal(err)
	}
	nearValid(f, seed, `"checkpoint"`, `"CHECKPOINT"`, `"size"`, `"Size"`, `"size"`, `"size": 1, "size"`, `"log_key": "`, `"log_key": "\ud800`,
		`"cosigned": null`, `"cosigned": {"a": 1, "a": 2}`, `"root"`, `"Checkpoint": "x", "root"`)
	nearValid(f, []byte(`{"from": 1, "to": 12, "proof": ["AQE=", "AgI="]}`), `"proof"`, `"PROOF"`, `"AQE="`, `"A"`, `"from": 1`, `"from": 1, "from": 2`)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, fresh := range []func() answer{func() answer { return &checkpointAnswer{} }, func() answer { return &consistencyAnswer{} }} {
			a := fresh()
			if err := readAnswer(b, a); err != nil {
				refusedAsStrict(t, b, err)
				continue
			}
			out, err := jsonv2.Marshal(a)
			if err != nil {
				t.Fatalf("%q: read, but not written again: %v", b, err)
			}
			again := fresh()
			if err := readAnswer(out, again); err != nil {
				t.Fatalf("%q: written again as %s, refused: %v", b, out, err)
			}
			if out2, _ := jsonv2.Marshal(again); !bytes.Equal(out, out2) {
				t.Fatalf("%q: written again as %s, read and written as %s", b, out, out2)
			}
		}
	})
}

// FuzzAnswerError feeds the witness's reading of a registry's refusal
// (answerError) any status line and body: it never panics; what it returns
// holds no control character and is bounded, whatever the registry wrote;
// it names the status; and a refusal in custos's shape with a plain message
// is repeated as it is.
func FuzzAnswerError(f *testing.F) {
	refusal := []byte(`{"error":{"code":"invalid","rule":"witness","field":"checkpoint","message":"no witness has this key"}}`)
	nearValid(f, refusal, `"message"`, `"MESSAGE"`, `"message"`, `"message":"x","message"`, `"no witness`, `"\u001b[2Jno witness`,
		`"no witness`, `"no\nwitness`, `"error"`, `"error":null,"error"`, `no witness has this key`, strings.Repeat("x", 70<<10))
	f.Add([]byte(`{"error":{"message":"` + strings.Repeat("é", 5000) + `"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, status := range []string{"422 Unprocessable Entity", "500 \x1b[31mInternal\r\nX-Forged: 1", strings.Repeat("9", 500)} {
			got := answerError(&http.Response{Status: status, Body: io.NopCloser(bytes.NewReader(body))})
			if strings.ContainsFunc(got, unicode.IsControl) {
				t.Fatalf("%q, %q: answered %q, which holds a control character", status, body, got)
			}
			// 400 characters of message and 64 of status, each escaped
			// (\xff, \u202e) at most six bytes a character, and an
			// ellipsis each.
			if max := 6*(maxAnswerMessage+errs.MaxEchoed) + 16; len(got) > max {
				t.Fatalf("%q, %q: answered %d bytes, over %d", status, body, len(got), max)
			}
			if !strings.Contains(got, errs.Echo(status, errs.MaxEchoed)) {
				t.Fatalf("%q, %q: answered %q, without the status", status, body, got)
			}
		}
		var e struct {
			Error *errs.Error `json:"error"`
		}
		plain := func(r rune) bool { return !unicode.IsPrint(r) || r == '"' || r == '\\' }
		if len(body) <= 64<<10 && strictjson.Unmarshal(body, &e) == nil && e.Error != nil && e.Error.Message != "" &&
			!strings.ContainsFunc(e.Error.Message, plain) && utf8.RuneCountInString(e.Error.Message) <= maxAnswerMessage {
			got := answerError(&http.Response{Status: "422 Unprocessable Entity", Body: io.NopCloser(bytes.NewReader(body))})
			if got != e.Error.Message+" (422 Unprocessable Entity)" {
				t.Fatalf("%q: a plain refusal answered as %q", body, got)
			}
		}
	})
}
