package transplant_test

import (
	"context"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestLivingDonorMinor: no organ is procured from a living donor under 18
// on the day of procurement, and no consent to donate is recorded for one
// under 18 on the consent's day (WHO Guiding Principle 4): by their date of
// birth, a day short of 18, or by the age estimated at registration. Each
// refusal (living_donor_minor on donor_id, 403) writes nothing but the
// alert it raises for oversight; the procurement of a minor is refused for
// their age, not only for the consent it lacks. The minor stays
// registered. A donor 18 that very day consents and gives; a deceased
// donor of 17 does too. A consent given at 17 that an older release
// recorded authorizes nothing. On SQLite and PostgreSQL.
func TestLivingDonorMinor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newRuleWorld(t, dsn)
		s := w.svc
		today := time.Now().UTC().Truncate(24 * time.Hour)
		procuredAt := today.Format(time.RFC3339) // the day's first instant: today, never ahead
		born := func(years, days int) string { return today.AddDate(-years, 0, days).Format(transplant.DateLayout) }
		register := func(dob string, age *int) string {
			t.Helper()
			in := livingDonor(w.CentreA)
			in.DateOfBirth, in.EstimatedAge = dob, age
			d, err := s.RegisterDonor(ctx, w.coordA, in)
			if err != nil {
				t.Fatal(err)
			}
			return d.ID
		}
		consent := func(donor, on string) func() error {
			return func() error {
				_, err := s.RecordConsent(ctx, w.coordA, donor, transplant.NewConsent{Kind: transplant.ConsentLiving, GivenOn: on,
					AssessedBy: "Independent living donor advocate", AssessorIndependent: true, Voluntary: true, Informed: true})
				return err
			}
		}
		living := func(dob string, age *int) string {
			t.Helper()
			d := register(dob, age)
			if err := consent(d, daysAgo(0))(); err != nil {
				t.Fatal(err)
			}
			return d
		}
		procure := func(donor string) func() error {
			return func() error {
				_, err := s.RecordProcurement(ctx, w.coordA, transplant.NewProcurement{DonorID: donor, ProcuredAt: procuredAt, Organs: []string{"kidney"}})
				return err
			}
		}
		minor := register(born(18, 1), nil)
		estimated := register("", intp(17))
		child := register(born(9, 0), nil)
		grown := register(born(18, -10), nil) // 18 ten days ago
		checkRefusals(t, w, []refusalCase{
			{"the consent of a living donor a day short of 18", consent(minor, daysAgo(0)), errs.Forbidden, "living_donor_minor", "donor_id", true},
			{"the consent of a living donor estimated 17", consent(estimated, daysAgo(0)), errs.Forbidden, "living_donor_minor", "donor_id", true},
			{"the consent of a living donor of 9", consent(child, daysAgo(0)), errs.Forbidden, "living_donor_minor", "donor_id", true},
			{"a consent not informed is refused for the age first", func() error {
				_, err := s.RecordConsent(ctx, w.coordA, child, transplant.NewConsent{Kind: transplant.ConsentLiving, GivenOn: daysAgo(0),
					AssessedBy: "Independent living donor advocate", AssessorIndependent: true, Voluntary: true})
				return err
			}, errs.Forbidden, "living_donor_minor", "donor_id", true},
			{"a consent dated before the donor turned 18", consent(grown, daysAgo(20)), errs.Forbidden, "living_donor_minor", "donor_id", true},
			{"a living donor a day short of 18", procure(minor), errs.Forbidden, "living_donor_minor", "donor_id", true},
			{"a living donor estimated 17", procure(estimated), errs.Forbidden, "living_donor_minor", "donor_id", true},
			{"a living donor of 9", procure(child), errs.Forbidden, "living_donor_minor", "donor_id", true},
		})
		var consents, registered int
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM consents WHERE donor_id IN (?, ?, ?)", minor, estimated, child).Scan(&consents); err != nil {
			t.Fatal(err)
		}
		if consents != 0 {
			t.Errorf("%d consents of minors were recorded", consents)
		}
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM donors WHERE id IN (?, ?, ?)", minor, estimated, child).Scan(&registered); err != nil {
			t.Fatal(err)
		}
		if registered != 3 {
			t.Errorf("%d of the 3 minors are registered, want all: a minor proposed as a donor is kept on record", registered)
		}
		var n int
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM organs WHERE donor_id IN (?, ?, ?)", minor, estimated, child).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d organs of minors were recorded", n)
		}
		if err := consent(grown, daysAgo(10))(); err != nil {
			t.Errorf("the consent of a living donor on their 18th birthday: %v", err)
		} else if err := procure(grown)(); err != nil {
			t.Errorf("a living donor 18 ten days ago: %v", err)
		}
		// A consent given at 17 that an older release recorded is no
		// consent: the donor, 18 now, is refused for the consent they lack.
		legacy := register(born(18, -11), nil)
		if _, err := w.App.Writer.Submit(ctx, w.coordA.Actor(), "record consent (an older release)", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
			return ledger.NewEntry(transplant.TypeConsentRecorded, transplant.Consent{ID: "CO-LEGACY-MINOR", DonorID: legacy, Kind: transplant.ConsentLiving,
				GivenOn: daysAgo(20), AssessedBy: "Independent living donor advocate", AssessorIndependent: true, Voluntary: true, Informed: true})
		}); err != nil {
			t.Fatal(err)
		}
		checkRefusals(t, w, []refusalCase{
			{"a procurement on a consent given at 17", procure(legacy), errs.Forbidden, "living_consent", "donor_id", true},
		})
		if err := consent(legacy, daysAgo(0))(); err != nil {
			t.Errorf("the consent of a living donor of 18: %v", err)
		} else if err := procure(legacy)(); err != nil {
			t.Errorf("a procurement on a consent given at 18: %v", err)
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
