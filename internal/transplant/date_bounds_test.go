package transplant_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestDateBounds: a corrective action is due at most two years, and a
// centre's authorization starts at most a year and ends at most ten years,
// ahead of the day they are set. The last day is taken; the day after it
// and 9999-12-31 are refused (date_range, naming the field) and write no
// leaf; an authorization with no end is still given. A corrective action
// done before the day of its audit is refused (dates_in_order, done_on);
// done on that day it is taken. On SQLite and PostgreSQL.
func TestDateBounds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newGODTWorld(t, dsn, time.Now().UTC()) // a clock that stands still: no day turns during the test
		ahead := func(years, days int) string { return w.clock().AddDate(years, 0, days).Format(transplant.DateLayout) }
		a, err := w.svc.PlanAudit(ctx, w.regulator, transplant.NewAudit{CentreID: w.CentreA, PlannedOn: ahead(0, 0), Scope: "Consent files (synthetic)"})
		w.must(err)
		f, err := w.svc.RecordFinding(ctx, w.regulator, a.ID, transplant.NewFinding{Severity: "minor", Description: "A consent form unsigned (synthetic)"})
		w.must(err)
		action := func(due string) func() error {
			return func() error {
				_, err := w.svc.SetCorrectiveAction(ctx, w.regulator, f.ID, transplant.NewCorrectiveAction{Action: "Sign and file it", DueOn: due})
				return err
			}
		}
		licenceFrom := func(from, to string) func() error {
			return func() error {
				_, err := w.svc.AuthorizeCentre(ctx, w.regulator, w.CentreA, transplant.NewCentreAuthorization{Activity: "procurement", Organ: "kidney",
					ValidFrom: from, ValidTo: to})
				return err
			}
		}
		licence := func(to string) func() error { return licenceFrom(ahead(0, 0), to) }
		ak, err := w.svc.SetCorrectiveAction(ctx, w.regulator, f.ID, transplant.NewCorrectiveAction{Action: "Sign and file it", DueOn: ahead(0, 7)})
		w.must(err)
		done := func(on string) func() error {
			return func() error {
				_, err := w.svc.CloseCorrectiveAction(ctx, w.regulator, ak.ID, on, "Signed form seen (synthetic)")
				return err
			}
		}
		w.must(action(ahead(2, 0))())
		w.must(licence(ahead(10, 0))())
		w.must(licenceFrom(ahead(1, 0), "")())
		size := w.LogSize(t)
		for _, c := range []struct {
			name, rule, field string
			do                func() error
		}{
			{"an action due the day after two years ahead", "date_range", "due_on", action(ahead(2, 1))},
			{"an action due 9999-12-31", "date_range", "due_on", action("9999-12-31")},
			{"an authorization ending the day after ten years ahead", "date_range", "valid_to", licence(ahead(10, 1))},
			{"an authorization ending 9999-12-31", "date_range", "valid_to", licence("9999-12-31")},
			{"an authorization starting the day after a year ahead", "date_range", "valid_from", licenceFrom(ahead(1, 1), "")},
			{"an authorization starting 2062 and ending 2063", "date_range", "valid_from", licenceFrom("2062-01-01", "2063-01-01")},
			{"an action done the day before its audit", "dates_in_order", "done_on", done(ahead(0, -1))},
		} {
			e, ok := errs.As(c.do())
			if !ok || e.Code != errs.Invalid || e.Rule != c.rule || e.Field != c.field || !strings.Contains(e.Message, c.field) {
				t.Errorf("%s: %v, want %s on %s", c.name, e, c.rule, c.field)
			}
		}
		if n := w.LogSize(t) - size; n != 0 {
			t.Errorf("the refused dates wrote %d leaves", n)
		}
		w.must(licence("")())
		w.must(done(ahead(0, 0))())
	})
}
