package privacy_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestSealedMustBeCarried: a command whose Decide seals personal data and
// whose entry forgets the commitment fails at its first run, naming its
// entry type, and leaves neither the sealed row nor a leaf; one whose
// entry carries it is recorded, and the log verifies.
func TestSealedMustBeCarried(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		logs := &apptest.LogBuffer{}
		env := apptest.StartWith(t, dsn, func(cfg *server.Config) { cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil)) })
		ctx := context.Background()
		admin := env.Principal(t, env.Admin)
		lang := "fr"
		pref, err := auth.SetPreferences(admin.ID, auth.Preferences{Language: &lang}, env.App.Languages.Codes())
		if err != nil {
			t.Fatal(err)
		}
		rows := func() int {
			var n int
			if err := env.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM subjects WHERE ref = 'SU-FORGOT' OR ref = 'SU-KEPT'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		size := env.LogSize(t)
		_, err = env.App.Writer.Submit(ctx, admin.Actor(), "forgets its commitment", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
			if _, err := env.App.Vault.Store(ctx, tx, "SU-FORGOT", privacy.Person{Name: "Ada Example (synthetic)"}, now); err != nil {
				return nil, err
			}
			return pref(ctx, tx, now) // an entry that carries no commitment
		})
		if e, ok := errs.As(err); !ok || e.Code != errs.Internal {
			t.Fatalf("a command whose entry forgets its sealed row: %v, want an internal error", err)
		}
		if rows() != 0 || env.LogSize(t) != size {
			t.Fatalf("the command that forgot its commitment left %d sealed rows and %d leaves", rows(), env.LogSize(t)-size)
		}
		if !strings.Contains(logs.String(), "entry type principal.preferences_set sealed personal data under SU-FORGOT but does not carry its commitment") {
			t.Errorf("the server log does not say what the command lacks:\n%s", logs.String())
		}
		if strings.Contains(logs.String(), "Ada") {
			t.Error("the server log holds the sealed name")
		}
		_, err = env.App.Writer.Submit(ctx, admin.Actor(), "carries its commitment", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
			c, err := env.App.Vault.Store(ctx, tx, "SU-KEPT", privacy.Person{Name: "Ada Example (synthetic)"}, now)
			if err != nil {
				return nil, err
			}
			e, err := pref(ctx, tx, now)
			if err != nil {
				return nil, err
			}
			e.Sealed = append(e.Sealed, c)
			return e, nil
		})
		if err != nil || rows() != 1 {
			t.Fatalf("a command whose entry carries its commitment: %v, %d rows", err, rows())
		}
		if rep := env.Verify(t); !rep.OK() {
			t.Fatalf("log verify: %v", rep.Problems)
		}
	})
}
