package server

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/errs"
)

// FuzzParseKeys feeds the key file's reader any text: it never panics; a
// refusal names the file and the rule (strictjson's) or the key at fault,
// and never quotes a secret given; what it takes has a master key of its
// size and a log signer, and written as Save writes it reads back the same.
func FuzzParseKeys(f *testing.F) {
	k, err := NewKeys("custos/XA")
	if err != nil {
		f.Fatal(err)
	}
	saved := saveForm(f, k)
	f.Add(saved)
	for _, c := range []struct{ from, to string }{
		{`"master_key"`, `"MASTER_KEY"`},
		{`"log_verifier"`, `"log_verifier": "other", "log_verifier"`},
		{`"log_signer": "`, `"log_signer": "\ud800`},
		{`"master_key": "`, `"master_key": "AAAA`},
		{`"log_signer": "PRIVATE+KEY+`, `"log_signer": "PRIVATE+KEY+x`},
		{"{", "{\"note\": \"\xff\", "},
		{"}", "} {}"},
	} {
		f.Add(bytes.Replace(saved, []byte(c.from), []byte(c.to), 1))
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"master_key": null, "log_signer": null, "log_verifier": null}`))
	f.Add([]byte(`[]`))
	rules := map[string]bool{"utf8": true, "duplicate_key": true, "unknown_field": true, "json_type": true, "json": true}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := parseKeys("k.key", b)
		if err != nil {
			msg := err.Error()
			if got != nil || !strings.HasPrefix(msg, "key file k.key") {
				t.Fatalf("%q: refused as %q", b, msg)
			}
			if e, ok := errs.As(err); ok {
				if !rules[e.Rule] || e.Code != errs.Malformed {
					t.Fatalf("%q: refused with %#v", b, e)
				}
			} else if !strings.Contains(msg, ": master_key ") && !strings.Contains(msg, ": log_signer: ") && !strings.Contains(msg, ": log_verifier: ") {
				t.Fatalf("%q: the refusal names no key: %s", b, msg)
			}
			var f keyFile
			if json.Unmarshal(b, &f) == nil {
				for _, secret := range []string{f.MasterKey, f.LogSigner} {
					if len(secret) >= 8 && strings.Contains(msg, secret) {
						t.Fatalf("%q: the refusal quotes a secret: %s", b, msg)
					}
				}
			}
			return
		}
		if len(got.Master) != 32 || got.LogSigner == "" {
			t.Fatalf("%q: took %d bytes of master key, a signer: %v", b, len(got.Master), got.LogSigner != "")
		}
		again, err := parseKeys("k.key", saveForm(t, got))
		if err != nil || !again.Equal(got) {
			t.Fatalf("%q: written as Save writes it, read back %v", b, err)
		}
	})
}

// saveForm is the key file Save writes for k.
func saveForm(tb testing.TB, k *Keys) []byte {
	tb.Helper()
	b, err := k.file()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
