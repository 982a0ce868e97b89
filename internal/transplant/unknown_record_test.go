package transplant_test

import (
	"context"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestUnknownRecordAfterFields pins, on both engines, the order in which a
// command on a record that does not exist answers: as every follow-up
// command does (scopeFirst leaves "no such record" to the command), the
// input's fields first (422), then the record (404 reference). A final
// report on an unknown report with a bad conclusion answers enum, as a
// consent of an unknown donor with a bad kind does and a change of an
// unknown recipient's waiting list status with a bad status; with good
// fields, each answers reference. Only a refusal for the centre
// (own_centre) comes before the fields, and it needs a record to be
// another centre's.
func TestUnknownRecordAfterFields(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := apptest.NewWorld(t, dsn)
		s := w.App.Transplant
		coord, regulator := w.Principal(t, w.CoordA), w.Principal(t, w.Regulator)
		today := time.Now().UTC().Format(transplant.DateLayout)
		consent := func(kind string) func(*auth.Principal) error {
			return func(p *auth.Principal) error {
				_, err := s.RecordConsent(ctx, p, "DN-NOPE", transplant.NewConsent{Kind: kind, GivenOn: today, AssessedBy: "Ethics board",
					AssessorIndependent: true, Voluntary: true, Informed: true})
				return err
			}
		}
		waitlist := func(status string) func(*auth.Principal) error {
			return func(p *auth.Principal) error {
				_, err := s.ChangeWaitlistStatus(ctx, p, "RC-NOPE", transplant.NewWaitlistChange{Status: status, Reason: "temporarily_unfit", ChangedOn: today})
				return err
			}
		}
		final := func(conclusion string) func(*auth.Principal) error {
			return func(p *auth.Principal) error {
				_, err := s.RecordFinalReport(ctx, p, "SAE-NOPE", transplant.FinalReport{Conclusion: conclusion, Outcome: "Recovered.", CorrectiveActions: "None."})
				return err
			}
		}
		for _, c := range []struct {
			name        string
			do          func(*auth.Principal) error
			code        errs.Code
			rule, field string
			regulator   bool // the regulator may do it too (the final report)
		}{
			{"consent, bad kind", consent("bogus"), errs.Invalid, "enum", "kind", false},
			{"consent, good fields", consent(transplant.ConsentLiving), errs.NotFound, "reference", "donor_id", false},
			{"waiting list, bad status", waitlist("bogus"), errs.Invalid, "enum", "status", false},
			{"waiting list, good fields", waitlist(transplant.WaitlistSuspended), errs.NotFound, "reference", "recipient_id", false},
			{"final report, bad conclusion", final("bogus"), errs.Invalid, "enum", "conclusion", true},
			{"final report, good fields", final(transplant.SAEConclusions[0]), errs.NotFound, "reference", "sae_id", true},
		} {
			for _, p := range []*auth.Principal{coord, regulator} {
				if p == regulator && !c.regulator {
					continue
				}
				e, ok := errs.As(c.do(p))
				if !ok || e.Code != c.code || e.Rule != c.rule || e.Field != c.field {
					t.Errorf("%s (%s): %v; want %s %s at %s", c.name, p.Role, e, c.code, c.rule, c.field)
				}
			}
		}
	})
}
