package web_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/witness"
)

// TestLogPageWitnesses: the auditor's log page shows the log's key with the
// fingerprint to compare with the published one, then the witness the
// administrator registered, the largest tree it cosigned and the cosigned
// checkpoint.
func TestLogPageWitnesses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		au := newBrowser(t, w.URL)
		au.signIn(w.Auditor)
		fp, err := ledger.KeyFingerprint(w.App.Keys.LogKey)
		if err != nil {
			t.Fatal(err)
		}
		p := au.get("/log")
		wantStatus(t, "log", p, http.StatusOK)
		mustContain(t, "log", p, `id="log-key-fingerprint">`+fp+`<`, `id="log-key">`+strings.ReplaceAll(w.App.Keys.LogKey, "+", "&#43;")+`<`,
			`<p id="witness-list">No witness is registered`)

		key, err := witness.NewKey(filepath.Join(t.TempDir(), "w.key"), "auditor.example")
		if err != nil {
			t.Fatal(err)
		}
		w.Must(t, 201, "POST", "/api/v1/log/witnesses", w.Admin, map[string]any{"public_key": key.Verifier})
		wt := &witness.Watcher{URL: w.URL, StatePath: filepath.Join(t.TempDir(), "s.json"), Key: key, PinFingerprint: fp}
		out, err := wt.Check(context.Background())
		if err != nil || !out.Cosigned {
			t.Fatalf("the witness: %+v %v", out, err)
		}
		p = au.get("/log")
		mustContain(t, "log with a witness", p, `<tr id="witness-auditor.example">`, fmt.Sprintf("%d leaves, signed ", out.Size),
			fmt.Sprintf("Latest cosigned checkpoint (%d leaves)", out.Size), `<pre class="note-text" id="log-cosigned">`, "\n— auditor.example ")
	})
}
