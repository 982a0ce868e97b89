package exchange

import (
	stdjson "encoding/json"
	"strings"
	"testing"
	"unicode"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/custos-project/custos/internal/errs"
)

// TestInboxAnswerWrittenAsTheOthers: the inbox's answer is written by the
// writer it is handed to, with that writer's options, as every other answer
// of the API: a plain refusal byte for byte as the error alone (the API's
// refusal body), a signed answer as its fields, whatever the options. With
// encoding/json's own options (internal/httpapi's answers) the bytes are
// those encoding/json writes; a method that wrote with encoding/json itself
// gave finished bytes that a writer escaping less than encoding/json (no
// HTML escapes) did not reach.
func TestInboxAnswerWrittenAsTheOthers(t *testing.T) {
	refusal := &errs.Error{Code: errs.Unauthorized, Rule: "unknown_sender", Field: "key", Message: "no peer <a & b> has the key \u2028"}
	signed := SignedReceipt{Receipt: `{"outcome":"refused","why":"<x>"}`, Key: "SHA256:ab", Signature: "c2ln"}
	type plainSigned struct {
		SignedReceipt
		Error *errs.Error `json:"error,omitempty"`
	}
	for name, opts := range map[string]jsonv2.Options{
		"encoding/json's semantics, indented (the API)": answerOptions,
		"encoding/json's semantics, no HTML escapes":    jsonv2.JoinOptions(jsonv1.DefaultOptionsV1(), jsontext.EscapeForHTML(false), jsontext.EscapeForJS(false)),
		"JSON v2":                jsonv2.DefaultOptionsV2(),
		"JSON v2, deterministic": jsonv2.JoinOptions(jsonv2.Deterministic(true), jsontext.Multiline(true)),
	} {
		for _, c := range []struct {
			what      string
			ans, want any
		}{
			{"a plain refusal", InboxAnswer{Error: refusal}, PlainRefusal{Error: refusal}},
			{"a signed refusal", InboxAnswer{SignedReceipt: signed, Error: refusal}, plainSigned{signed, refusal}},
			{"a receipt", &InboxAnswer{SignedReceipt: signed}, plainSigned{SignedReceipt: signed}},
		} {
			got, err := jsonv2.Marshal(c.ans, opts)
			if err != nil {
				t.Fatal(err)
			}
			want, err := jsonv2.Marshal(c.want, opts)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("%s, %s: written as\n%s\nwant\n%s", name, c.what, got, want)
			}
		}
	}
	// encoding/json writes it in the same shape, with its escapes.
	got, err := stdjson.Marshal(InboxAnswer{Error: refusal})
	want, _ := stdjson.Marshal(PlainRefusal{Error: refusal})
	if err != nil || string(got) != string(want) {
		t.Errorf("encoding/json writes %s (%v), want %s", got, err, want)
	}
	got, _ = stdjson.Marshal(InboxAnswer{SignedReceipt: signed})
	want, _ = stdjson.Marshal(plainSigned{SignedReceipt: signed})
	if string(got) != string(want) {
		t.Errorf("encoding/json writes %s, want %s", got, want)
	}
}

// FuzzReadInboxAnswer feeds the deliverer's reading of a peer's answer any bytes:
// it never panics; a receipt it takes is not empty, and written back as the
// inbox writes it reads back the same; a refusal says the status, and one
// of the answer's form names strictjson's rule and the field, never "json"
// (what is not JSON at all is an answer without a receipt).
func FuzzReadInboxAnswer(f *testing.F) {
	signed := SignedReceipt{Receipt: `{"v":1,"outcome":"accepted"}`, Key: "SHA256:ab", Signature: "c2ln"}
	refusal := &errs.Error{Code: errs.Unauthorized, Rule: "unknown_sender", Field: "key", Message: "no peer has the key"}
	for _, a := range []InboxAnswer{{SignedReceipt: signed}, {Error: refusal}, {SignedReceipt: signed, Error: refusal}} {
		b, err := jsonv2.Marshal(a, answerOptions)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"RECEIPT":"r","key":"k","signature":"s"}`, `{"receipt":"r","receipt":"q","key":"k","signature":"s"}`,
		`{"receipt":"r\ud800","key":"k","signature":"s"}`, "{\"receipt\":\"\xff\",\"key\":\"k\",\"signature\":\"s\"}",
		`{"receipt":"","key":"","signature":"","error":{"code":"invalid","rule":"schema","field":"payload.x","message":"m"}}`,
		`{"error":{"rule":"a\nb\u0000` + strings.Repeat("x", 5000) + `","field":"f\u001b[31m"}}`,
		`<html>502 Bad Gateway</html>`, `null`, `[]`, `{"receipt":1}`, `{"receipt":"r"} x`, `{"error":{"rule":"x","extra":1}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sr, err := readAnswer("200 OK", b)
		if err != nil {
			if sr != nil || !strings.HasPrefix(err.Error(), "the peer answered 200 OK ") {
				t.Fatalf("%q: refused as %v, with %v", b, err, sr)
			}
			if e, ok := errs.As(err); ok && (e.Rule == "" || e.Rule == "json" || e.Code != errs.Malformed) {
				t.Fatalf("%q: refused with %#v", b, e)
			}
			// What the peer wrote goes into the error cut short and
			// quoted: no control character, not a megabyte of it.
			if _, ok := errs.As(err); !ok && (len(err.Error()) > 400 || strings.ContainsFunc(err.Error(), unicode.IsControl)) {
				t.Fatalf("%q: refused as %q", b, err)
			}
			return
		}
		if sr == nil || sr.Receipt == "" {
			t.Fatalf("%q: took %v", b, sr)
		}
		again, err := jsonv2.Marshal(InboxAnswer{SignedReceipt: *sr}, answerOptions)
		if err != nil {
			t.Fatal(err)
		}
		back, err := readAnswer("200 OK", again)
		if err != nil || *back != *sr {
			t.Fatalf("%q: written back as %s, read as %v, %v", b, again, back, err)
		}
	})
}

// TestReadAnswerStatusEchoed: the reason phrase of a peer's status line is
// the peer's text, which Go's client does not check: it goes into the
// outbox's last error cut and escaped, as the refusal's rule and field do.
func TestReadAnswerStatusEchoed(t *testing.T) {
	status := "502 \x1b[2J\r\nforged line " + strings.Repeat("x", 10<<10)
	_, err := readAnswer(status, []byte(`<html>bad gateway</html>`))
	if err == nil {
		t.Fatal("an answer without a receipt was taken")
	}
	if msg := err.Error(); len(msg) > 400 || strings.ContainsFunc(msg, unicode.IsControl) || !strings.Contains(msg, `502 \x1b[2J\r\nforged line x`) {
		t.Errorf("the status line went into the error as %q", msg)
	}
}

// answerOptions are internal/httpapi's answerOptions (encoding/json's
// semantics, indented): how the inbox's answer goes on the wire.
var answerOptions = jsonv2.JoinOptions(jsonv1.DefaultOptionsV1(), jsontext.WithIndent("  "))
