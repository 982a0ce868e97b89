package transplant_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestConsentRecordedOnce checks, through the API on both engines, that a
// consent already on file as it is (same donor, kind, day, assessor and
// flags) is refused duplicate_consent, 409 at given_on, and changes
// nothing, while a consent of another day, kind or flags is recorded; and,
// through the service, that two identical consents at once give one record
// and one refusal (the check is in the writer). The same consent posted
// twice was recorded twice.
func TestConsentRecordedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
		path := "/api/v1/transplant/donors/" + donor + "/consents"
		today := time.Now().UTC().Format(transplant.DateLayout)
		consent := func(kind, on string, informed bool) map[string]any {
			return map[string]any{"kind": kind, "given_on": on, "assessed_by": "Donation coordinator",
				"assessor_independent": true, "voluntary": true, "informed": informed}
		}
		first := w.Must(t, 201, "POST", path, w.CoordA, consent(transplant.ConsentFamily, today, true)).Str("id")

		size := w.LogSize(t)
		r := w.Must(t, 409, "POST", path, w.CoordA, consent(transplant.ConsentFamily, today, true))
		if r.Str("error.rule") != "duplicate_consent" || r.Str("error.field") != "given_on" {
			t.Errorf("the same consent again: %s; want duplicate_consent at given_on", r.Raw)
		}
		if msg := r.Str("error.message"); !strings.Contains(msg, first) {
			t.Errorf("the refusal does not name the consent on file (%s): %q", first, msg)
		}
		if got := w.LogSize(t); got != size {
			t.Errorf("the refused consent grew the log from %d to %d", size, got)
		}

		for name, in := range map[string]map[string]any{
			"another day":  consent(transplant.ConsentFamily, daysAgo(1), true),
			"another kind": consent(transplant.ConsentRegistry, today, true),
			"other flags":  consent(transplant.ConsentFamily, today, false),
		} {
			if r := w.Do(t, "POST", path, w.CoordA, in); r.Status != 201 {
				t.Errorf("%s: status %d, want 201 (another consent): %s", name, r.Status, r.Raw)
			}
		}

		// Two at once: the writer lets one through.
		svc, coord := w.App.Transplant, w.Principal(t, w.CoordA)
		in := transplant.NewConsent{Kind: transplant.ConsentFamily, GivenOn: daysAgo(2), AssessedBy: "Donation coordinator",
			AssessorIndependent: true, Voluntary: true, Informed: true}
		var wg sync.WaitGroup
		results := make([]error, 2)
		for i := range results {
			wg.Go(func() { _, results[i] = svc.RecordConsent(context.Background(), coord, donor, in) })
		}
		wg.Wait()
		recorded, refused := 0, 0
		for _, err := range results {
			if err == nil {
				recorded++
			} else if e, ok := errs.As(err); ok && e.Rule == "duplicate_consent" && e.Code == errs.Conflict {
				refused++
			} else {
				t.Errorf("two at once: %v", err)
			}
		}
		if recorded != 1 || refused != 1 {
			t.Errorf("two identical consents at once: %d recorded, %d refused; want 1 and 1", recorded, refused)
		}
	})
}
