package transplant_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestActivity records three donations in three months (75, 40 and 2 days
// ago) and three transplantations now, at two centres, and checks each count
// of the dashboards against what was recorded, for a year and for one month,
// on SQLite and PostgreSQL; a coordinator is refused the figures.
func TestActivity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := apptest.NewWorld(t, dsn)
		svc := w.App.Transplant
		coordA, coordB, reg := w.Principal(t, w.CoordA), w.Principal(t, w.CoordB), w.Principal(t, w.Regulator)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now().UTC()
		donate := func(at time.Time, organs ...string) []string {
			d := deceasedDonor(w.CentreA)
			d.DateOfDeath = at.Format(transplant.DateLayout)
			dn, err := svc.RegisterDonor(ctx, coordA, d)
			must(err)
			_, err = svc.RecordConsent(ctx, coordA, dn.ID, transplant.NewConsent{Kind: transplant.ConsentFamily, GivenOn: d.DateOfDeath,
				AssessedBy: "Donation coordinator", AssessorIndependent: true, Voluntary: true, Informed: true})
			must(err)
			pr, err := svc.RecordProcurement(ctx, coordA, transplant.NewProcurement{DonorID: dn.ID, ProcuredAt: at.Format(time.RFC3339), Organs: organs})
			must(err)
			var ids []string
			for _, o := range pr.Organs {
				ids = append(ids, o.ID)
			}
			return ids
		}
		performed := now.Add(-time.Minute)
		transplantOne := func(organ, centre, kind string) {
			coord := coordA
			if centre == w.CentreB {
				coord = coordB
			}
			r, err := svc.RegisterRecipient(ctx, coord, recipient(centre, kind))
			must(err)
			ta, err := svc.AuthorizeTransplant(ctx, coord, authorization(organ, r.ID, centre))
			must(err)
			_, err = svc.RecordTransplant(ctx, coord, transplant.NewTransplant{OrganID: organ, RecipientID: r.ID, CentreID: centre,
				PerformedAt: performed.Format(time.RFC3339), AuthorizationID: ta.ID})
			must(err)
		}
		at1, at2, at3 := now.AddDate(0, 0, -75), now.AddDate(0, 0, -40), now.Add(-48*time.Hour)
		d1 := donate(at1, "kidney", "liver")
		d2 := donate(at2, "kidney", "kidney")
		d3 := donate(at3, "kidney")
		transplantOne(d1[1], w.CentreA, "liver")
		transplantOne(d2[0], w.CentreB, "kidney")
		transplantOne(d3[0], w.CentreA, "kidney")

		month := func(t time.Time) string { return t.Format("2006-01") }
		add := func(m map[string]int, k string, n int) { m[k] += n }
		donations, organs, transplants := map[string]int{}, map[string]int{}, map[string]int{}
		add(donations, month(at1), 1)
		add(donations, month(at2), 1)
		add(donations, month(at3), 1)
		add(organs, month(at1), 2)
		add(organs, month(at2), 2)
		add(organs, month(at3), 1)
		add(transplants, month(performed), 3)
		from, end := now.AddDate(-1, 0, 0).Format("2006-01"), now.AddDate(0, 1, 0).Format("2006-01")
		a, err := svc.Activity(ctx, reg, from, end)
		must(err)
		for _, c := range []struct {
			name      string
			got, want map[string]int
		}{
			{"donations by month", a.Donations, donations},
			{"organs by month", a.Organs, organs},
			{"transplantations by month", a.Transplants, transplants},
			{"donations by centre", a.CentreDonations, map[string]int{w.CentreA: 3}},
			{"transplantations by centre", a.CentreTransplants, map[string]int{w.CentreA: 2, w.CentreB: 1}},
			{"organs procured", a.OrganProcured, map[string]int{"kidney": 4, "liver": 1}},
			{"organs transplanted", a.OrganTransplanted, map[string]int{"kidney": 2, "liver": 1}},
		} {
			if !maps.Equal(c.got, c.want) {
				t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
			}
		}

		// The month of the first donation alone: it and its organs.
		a, err = svc.Activity(ctx, reg, month(at1), month(at1.AddDate(0, 0, 31-at1.Day()+1)))
		must(err)
		if !maps.Equal(a.Donations, map[string]int{month(at1): 1}) || !maps.Equal(a.OrganProcured, map[string]int{"kidney": 1, "liver": 1}) ||
			len(a.Transplants) != 0 || len(a.CentreTransplants) != 0 {
			t.Errorf("the month %s: %+v", month(at1), a)
		}
		last, err := svc.LastActivity(ctx, reg)
		must(err)
		if last != ledger.FormatTime(performed.Truncate(time.Second)) {
			t.Errorf("last activity %q, want %q", last, ledger.FormatTime(performed.Truncate(time.Second)))
		}

		// A coordinator records; the figures are the regulator's and the
		// auditor's.
		if _, err := svc.Activity(ctx, coordA, from, end); err == nil {
			t.Error("a coordinator read the figures")
		} else if e, ok := errs.As(err); !ok || e.Code != errs.Forbidden || e.Rule != "role" {
			t.Errorf("a coordinator's read refused with %v", err)
		}
		if _, err := svc.Activity(ctx, w.Principal(t, w.Auditor), from, end); err != nil {
			t.Errorf("the auditor: %v", err)
		}
	})
}

// TestActivityCountsOrgansFromAbroad has centre A transplant an organ
// received from abroad (a kidney, today) and checks that the dashboards
// count it as a transplantation of the month, of centre A and of a kidney,
// and that the latest activity is its day, on SQLite and PostgreSQL.
func TestActivityCountsOrgansFromAbroad(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := apptest.NewWorld(t, dsn)
		apptest.ImportedOrgans(t, w, dsn)
		reg := w.Principal(t, w.Regulator)
		now := time.Now().UTC()
		a, err := w.App.Transplant.Activity(ctx, reg, now.Format("2006-01"), now.AddDate(0, 1, 0).Format("2006-01"))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name      string
			got, want map[string]int
		}{
			{"transplantations by month", a.Transplants, map[string]int{now.Format("2006-01"): 1}},
			{"transplantations by centre", a.CentreTransplants, map[string]int{w.CentreA: 1}},
			{"organs transplanted", a.OrganTransplanted, map[string]int{"kidney": 1}},
			{"donations by month", a.Donations, map[string]int{}},
		} {
			if !maps.Equal(c.got, c.want) {
				t.Errorf("%s: %v, want %v (the organ from abroad)", c.name, c.got, c.want)
			}
		}
		last, err := w.App.Transplant.LastActivity(ctx, reg)
		if err != nil {
			t.Fatal(err)
		}
		if want := now.Format(transplant.DateLayout); last != want {
			t.Errorf("last activity %q, want %q (the day of the organ from abroad)", last, want)
		}
	})
}
