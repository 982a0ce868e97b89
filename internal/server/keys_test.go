package server

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadKeysAsWritten: the key file is read as Save wrote it. A key
// given twice or in another case, in a file edited by hand, was read by
// encoding/json (the last of two, "MASTER_KEY" for master_key); it is refused now,
// naming the rule and the key, and a file as Save wrote it still reads.
func TestLoadKeysAsWritten(t *testing.T) {
	k, err := NewKeys("custos/XA")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "custos.key")
	if err := k.Save(path); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadKeys(path); err != nil || !got.Equal(k) {
		t.Fatalf("the key file as saved: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, from, to, want string }{
		{"a key twice", `"log_verifier"`, `"log_verifier": "other", "log_verifier"`, `duplicate_key: the key "log_verifier" is given twice in one object (field log_verifier)`},
		{"a key in capitals", `"master_key"`, `"MASTER_KEY"`, `unknown_field: the field "MASTER_KEY" is not part of this document: names are written as documented, here "master_key"`},
	} {
		edited := filepath.Join(t.TempDir(), "custos.key")
		if err := os.WriteFile(edited, bytes.Replace(b, []byte(c.from), []byte(c.to), 1), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadKeys(edited)
		if err == nil || !strings.Contains(err.Error(), "is not valid: "+c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}

	// The verifier of another log's key, or not a verifier key at all, is
	// refused naming log_verifier.
	other, err := NewKeys("custos/XA")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, verifier, want string }{
		{"another key's verifier", other.LogKey, "log_verifier: it is not the verifier key of log_signer (custos/XA)"},
		{"not a verifier key", "custos/XA+00000000+AAAA", "log_verifier: "},
		{"none", "", "log_verifier: "},
	} {
		edited := filepath.Join(t.TempDir(), "custos.key")
		if err := os.WriteFile(edited, bytes.Replace(b, []byte(k.LogKey), []byte(c.verifier), 1), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadKeys(edited); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
