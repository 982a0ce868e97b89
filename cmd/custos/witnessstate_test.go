package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestEditedWitnessStateIsRefused: a witness's state file is evidence, and
// log verify --witness-state and log watch read its size and root. A file
// whose size, root or fingerprint was edited by hand, or whose signed
// checkpoint is gone, no longer says what the witness saw: it is refused,
// naming the field, and never turned into a FAIL or an ALARM that accuses
// the registry of a rollback or a rewrite it did not make. Before, verify
// read the edited size and root as the witness's and reported "the log was
// rewritten after the witness saw it" of an untouched registry.
func TestEditedWitnessStateIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dir := t.TempDir()
		witnessed := filepath.Join(dir, "witness.json")
		keyFile, _, pub, _ := initLogged(t, dsn, dir)
		app, err := server.Open(ctx, server.Config{DSN: dsn, KeyFile: keyFile})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(app.Handler())
		t.Cleanup(func() { srv.Close(); app.Close() })
		custos(t, 0, "log", "watch", srv.URL, "--state", witnessed, "--no-cosign", "--public-key", pub)
		b, err := os.ReadFile(witnessed)
		if err != nil {
			t.Fatal(err)
		}
		var kept map[string]any
		if err := json.Unmarshal(b, &kept); err != nil {
			t.Fatal(err)
		}
		out, _ := custos(t, 0, "log", "verify", "--db", dsn, "--witness-state", witnessed)
		if !strings.Contains(out, "OK: ") {
			t.Fatalf("verify with the witness's state as it kept it: %s", out)
		}

		otherKey := "custos/XB+227c20e0+AQGcDFplDk0G0pPSm5GzMYzQwdd9e+TAIxtadzpvs6id"
		otherFP := "SHA256:d29e:320f:1e0c:b10d:2a7f:af0f:035b:1f72:3184:3f0a:52f2:0d12:9bb8:8897:8f31:c0bc"
		for _, c := range []struct {
			name  string
			field string
			value any
			want  string
		}{
			{"a smaller size", "size", 1, "size and root: 1 leaves"},
			{"a larger size", "size", 999999, "size and root: 999999 leaves"},
			{"another root", "root", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "size and root: "},
			{"no checkpoint", "checkpoint", "", "checkpoint: missing"},
			{"another registry's checkpoint", "checkpoint", "custos/XB\n3\n6JE8Ly4v4NKFHcK5F3seM302rhgYpLyekS2lJqepGGk=\n\n— custos/XB IifgQAAA\n", "checkpoint: "},
			{"another key's fingerprint", "key_fingerprint", otherFP, "key_fingerprint: " + otherFP + " is not the fingerprint of its log_key"},
			{"another key", "log_key", otherKey, "key_fingerprint: "},
		} {
			t.Run(c.name, func(t *testing.T) {
				edited := map[string]any{}
				for k, v := range kept {
					edited[k] = v
				}
				edited[c.field] = c.value
				b, err := json.MarshalIndent(edited, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(t.TempDir(), "edited.json")
				if err := os.WriteFile(path, b, 0o600); err != nil {
					t.Fatal(err)
				}
				out, errOut := custos(t, 1, "log", "verify", "--db", dsn, "--witness-state", path)
				if !strings.Contains(errOut, "--witness-state: witness state "+path+": "+c.want) || !strings.Contains(errOut, "the file was edited or damaged") {
					t.Errorf("verify: stderr %q, want %q", errOut, c.want)
				}
				if strings.Contains(out, "FAIL") || strings.Contains(out, "OK: ") {
					t.Errorf("verify judged the registry on an edited state:\n%s", out)
				}
				out, errOut = custos(t, 4, "log", "watch", srv.URL, "--state", path, "--no-cosign")
				if strings.Contains(out+errOut, "ALARM") || !strings.Contains(errOut, c.want) {
					t.Errorf("watch: stdout %q stderr %q, want %q and no alarm", out, errOut, c.want)
				}
				if after, _ := os.ReadFile(path); string(after) != string(b) {
					t.Errorf("watch rewrote the edited state file")
				}
			})
		}
	})
}
