package assets_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/storetest"
)

// TestBODSImportWithoutVault: a registry opened without its key vault
// refuses an import with a clear error (it used to panic sealing the first
// person statement) and records nothing.
func TestBODSImportWithoutVault(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newBODSWorld(t, dsn)
		ctx := context.Background()
		p, err := auth.Authenticate(ctx, w.App.DB.Read(), w.Officer)
		if err != nil {
			t.Fatal(err)
		}
		noVault := &assets.Service{W: w.S.W, DB: w.S.DB}
		b := &bods.Builder{Prefix: "novault", Date: "2026-05-01", Publisher: "Demoland companies register"}
		file := lines(b.Entity("E", "Open Company Ltd", "DL", ""), b.Person("P", "Secretia Namesake", ""), b.Relationship("r", "E", "P", []float64{75}, ""))
		before := w.count(t, "log_leaves")
		im, err := noVault.ImportBODS(ctx, p, "novault.jsonl", bytes.NewReader(file), int64(len(file)), nil)
		if e, ok := errs.As(err); !ok || e.Code != errs.Unavailable || e.Rule != "vault" || im != nil {
			t.Fatalf("import without a vault: %v %+v, want the rule vault", err, im)
		}
		if n := w.count(t, "assets_bods_statements"); n != 0 {
			t.Errorf("%d statements stored", n)
		}
		if n := w.count(t, "log_leaves"); n != before {
			t.Errorf("the log grew from %d to %d leaves", before, n)
		}
	})
}
