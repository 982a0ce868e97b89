package httpapi_test

import (
	"context"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestStatusesAfterMigration5 takes a registry back to before migration 5,
// where organs and recipients stored their status, migrates it again, and
// checks that the statuses now read from the transplants table are the ones
// that were stored, that the rules that depend on them still refuse and
// accept as before, and that the log still verifies.
func TestStatusesAfterMigration5(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := apptest.NewWorld(t, dsn)
		_, organs := procured(t, w)
		done := transplanted(t, w, w.CoordA, w.CentreA, organs[0], "kidney")
		waiting := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "kidney")).Str("id")

		// Before migration 5: the status columns, kept up to date by the old
		// projectors.
		tx, err := w.App.DB.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			"ALTER TABLE organs ADD COLUMN status TEXT NOT NULL DEFAULT 'procured'",
			"ALTER TABLE recipients ADD COLUMN status TEXT NOT NULL DEFAULT 'waiting'",
			"UPDATE organs SET status = 'transplanted' WHERE id IN (SELECT organ_id FROM transplants)",
			"UPDATE recipients SET status = 'transplanted' WHERE id IN (SELECT recipient_id FROM transplants)",
			"DELETE FROM schema_versions WHERE module = 'transplant' AND version = 2",
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		applied, err := w.App.DB.Migrate(ctx, w.App.Projections.Schemas())
		if err != nil {
			t.Fatalf("transplant migration 2: %v", err)
		}
		if len(applied) != 1 || applied[0].Module != "transplant" || applied[0].Version != 2 {
			t.Fatalf("migrations applied: %v, want transplant 2", applied)
		}

		status := func(path, field string) string {
			t.Helper()
			return w.Must(t, 200, "GET", path, w.Auditor, nil).Str(field)
		}
		if got := status("/api/v1/transplant/recipients/"+done, "recipient.status"); got != "transplanted" {
			t.Errorf("transplanted recipient: status %q", got)
		}
		if got := status("/api/v1/transplant/recipients/"+waiting, "recipient.status"); got != "waiting" {
			t.Errorf("waiting recipient: status %q", got)
		}
		list := w.Must(t, 200, "GET", "/api/v1/transplant/recipients?status=waiting", w.Auditor, nil).Body["recipients"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["id"] != waiting {
			t.Errorf("recipients?status=waiting lists %v, want only %s", list, waiting)
		}
		available := map[string]bool{}
		for _, o := range w.Must(t, 200, "GET", "/api/v1/transplant/organs", w.Auditor, nil).Body["organs"].([]any) {
			available[o.(map[string]any)["id"].(string)] = true
		}
		if available[organs[0]] || !available[organs[1]] || !available[organs[2]] {
			t.Errorf("available organs %v: want %s and %s, not the transplanted %s", available, organs[1], organs[2], organs[0])
		}

		// The transplanted organ and recipient are refused; the others are not.
		refused := w.Do(t, "POST", "/api/v1/transplant/transplant-authorizations", w.CoordA, map[string]any{"organ_id": organs[0], "recipient_id": waiting,
			"centre_id": w.CentreA, "authorized_by": "Medical director", "compatibility_documented": true, "consent_verified": true, "no_payment_declared": true})
		if refused.Status != 409 || refused.Str("error.rule") != "organ_available" {
			t.Errorf("authorizing a transplanted organ: %d %s", refused.Status, refused.Raw)
		}
		refused = w.Do(t, "POST", "/api/v1/transplant/transplant-authorizations", w.CoordA, map[string]any{"organ_id": organs[1], "recipient_id": done,
			"centre_id": w.CentreA, "authorized_by": "Medical director", "compatibility_documented": true, "consent_verified": true, "no_payment_declared": true})
		if refused.Status != 422 || refused.Str("error.rule") != "waiting_list" {
			t.Errorf("authorizing for a transplanted recipient: %d %s", refused.Status, refused.Raw)
		}
		transplanted(t, w, w.CoordB, w.CentreB, organs[1], "kidney")
		traced := map[string]string{}
		tr := w.Must(t, 200, "GET", "/api/v1/transplant/trace/organs/"+organs[1], w.Auditor, nil)
		for _, o := range tr.Body["donors"].([]any)[0].(map[string]any)["organs"].([]any) {
			o := o.(map[string]any)
			traced[o["id"].(string)] = o["status"].(string)
		}
		if traced[organs[0]] != "transplanted" || traced[organs[1]] != "transplanted" || traced[organs[2]] != "procured" {
			t.Errorf("trace after a second transplantation: statuses %v", traced)
		}

		key := w.Must(t, 200, "GET", "/api/v1/hashmatch/key", "", nil).Str("verifier_key")
		rep, err := ledger.Verify(ctx, w.App.DB, server.NewProjections(), ledger.VerifyOptions{VerifierKey: key})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() {
			t.Fatalf("log verify after migration 5: %v", rep.Problems)
		}
	})
}
