package transplant_test

import (
	"context"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestLivingDonorMinor: no organ is procured from a living donor under 18
// on the day of procurement (WHO Guiding Principle 4): by their date of
// birth, a day short of 18, or by the age estimated at registration. The
// refusal (living_donor_minor on donor_id, 403) writes nothing but the
// alert it raises for oversight, consent on file or not. A donor 18 that
// very day gives; a deceased donor of 17 does too. On SQLite and
// PostgreSQL.
func TestLivingDonorMinor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newRuleWorld(t, dsn)
		s := w.svc
		today := time.Now().UTC().Truncate(24 * time.Hour)
		procuredAt := today.Format(time.RFC3339) // the day's first instant: today, never ahead
		born := func(years, days int) string { return today.AddDate(-years, 0, days).Format(transplant.DateLayout) }
		living := func(dob string, age *int) string {
			t.Helper()
			in := livingDonor(w.CentreA)
			in.DateOfBirth, in.EstimatedAge = dob, age
			d, err := s.RegisterDonor(ctx, w.coordA, in)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.RecordConsent(ctx, w.coordA, d.ID, transplant.NewConsent{Kind: transplant.ConsentLiving, GivenOn: daysAgo(0),
				AssessedBy: "Independent living donor advocate", AssessorIndependent: true, Voluntary: true, Informed: true}); err != nil {
				t.Fatal(err)
			}
			return d.ID
		}
		procure := func(donor string) func() error {
			return func() error {
				_, err := s.RecordProcurement(ctx, w.coordA, transplant.NewProcurement{DonorID: donor, ProcuredAt: procuredAt, Organs: []string{"kidney"}})
				return err
			}
		}
		minor := living(born(18, 1), nil)
		estimated := living("", intp(17))
		child := living(born(9, 0), nil)
		checkRefusals(t, w, []refusalCase{
			{"a living donor a day short of 18", procure(minor), errs.Forbidden, "living_donor_minor", "donor_id", true},
			{"a living donor estimated 17", procure(estimated), errs.Forbidden, "living_donor_minor", "donor_id", true},
			{"a living donor of 9", procure(child), errs.Forbidden, "living_donor_minor", "donor_id", true},
		})
		var n int
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM organs WHERE donor_id IN (?, ?, ?)", minor, estimated, child).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d organs of minors were recorded", n)
		}
		if err := procure(living(born(18, 0), nil))(); err != nil {
			t.Errorf("a living donor 18 today: %v", err)
		}
		if err := procure(living("", intp(18)))(); err != nil {
			t.Errorf("a living donor estimated 18: %v", err)
		}
		in := deceasedDonor(w.CentreA)
		in.DateOfBirth = born(17, 0)
		d, err := s.RegisterDonor(ctx, w.coordA, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordConsent(ctx, w.coordA, d.ID, transplant.NewConsent{Kind: transplant.ConsentFamily, GivenOn: daysAgo(0),
			AssessedBy: "Donation coordinator", AssessorIndependent: true, Voluntary: true, Informed: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordProcurement(ctx, w.coordA, transplant.NewProcurement{DonorID: d.ID, ProcuredAt: procuredAt, Organs: []string{"kidney"}}); err != nil {
			t.Errorf("a deceased donor of 17: %v", err)
		}
	})
}
