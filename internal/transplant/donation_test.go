package transplant_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// donationOf is the donation number of an organ identifier: country, year
// and sequence, without the organ's number and the check character.
func donationOf(t *testing.T, id string) transplant.OrganID {
	t.Helper()
	oid, err := transplant.ParseOrganID(id)
	if err != nil {
		t.Fatal(err)
	}
	oid.Organ = 0
	return oid
}

// organNumbers are the organ numbers of identifiers, in their order.
func organNumbers(t *testing.T, ids []string) []int {
	t.Helper()
	var ns []int
	for _, id := range ids {
		oid, err := transplant.ParseOrganID(id)
		if err != nil {
			t.Fatal(err)
		}
		ns = append(ns, oid.Organ)
	}
	return ns
}

func organIDs(pr *transplant.Procurement) []string {
	var ids []string
	for _, o := range pr.Organs {
		ids = append(ids, o.ID)
	}
	return ids
}

// tracedOrgans are the organ identifiers a trace shows, sorted.
func tracedOrgans(tr *transplant.Trace) []string {
	var ids []string
	for _, d := range tr.Donors {
		for _, o := range d.Organs {
			ids = append(ids, o.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// TestOneDonationNumber: the procurements of one deceased donor are one
// donation and carry one donation number, the one the first took, their
// organs numbered on; another deceased donor, and each procurement of a
// living donor, takes a number of its own; the trace from any organ of the
// donation finds all of them, and log verify replays the registry alike.
// Both engines.
func TestOneDonationNumber(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newRuleWorld(t, dsn)
		s := w.svc
		procure := func(donor, at string, organs ...string) *transplant.Procurement {
			t.Helper()
			pr, err := s.RecordProcurement(ctx, w.coordA, transplant.NewProcurement{DonorID: donor, ProcuredAt: at, Organs: organs})
			if err != nil {
				t.Fatal(err)
			}
			return pr
		}
		deceased := func() string {
			t.Helper()
			d, err := s.RegisterDonor(ctx, w.coordA, deceasedDonor(w.CentreA))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.RecordConsent(ctx, w.coordA, d.ID, transplant.NewConsent{Kind: transplant.ConsentFamily, GivenOn: daysAgo(2),
				AssessedBy: "Donation coordinator", AssessorIndependent: true, Voluntary: true, Informed: true}); err != nil {
				t.Fatal(err)
			}
			return d.ID
		}

		one := deceased()
		first := procure(one, apptest.Hours(12), "kidney")
		second := procure(one, apptest.Hours(9), "kidney", "liver")
		if first.DonationYear != second.DonationYear || first.DonationSeq != second.DonationSeq {
			t.Errorf("two procurements of one deceased donor: donation numbers %d/%d and %d/%d, want one", first.DonationYear, first.DonationSeq, second.DonationYear, second.DonationSeq)
		}
		if a, b := donationOf(t, first.Organs[0].ID), donationOf(t, second.Organs[0].ID); a != b {
			t.Errorf("the organs of one donation carry %v and %v, want one donation number", a, b)
		}
		if got := organNumbers(t, append(organIDs(first), organIDs(second)...)); !slices.Equal(got, []int{1, 2, 3}) {
			t.Errorf("organ numbers of the donation %v, want 1, 2, 3: the second procurement numbers on", got)
		}
		other := procure(deceased(), apptest.Hours(8), "kidney")
		if other.DonationSeq == first.DonationSeq && other.DonationYear == first.DonationYear {
			t.Errorf("two deceased donors share donation number %d/%d", other.DonationYear, other.DonationSeq)
		}
		if n := organNumbers(t, organIDs(other)); !slices.Equal(n, []int{1}) {
			t.Errorf("another donor's first organ is number %v, want 1", n)
		}

		// A living donor: each procurement is a donation of its own.
		if _, err := s.RecordConsent(ctx, w.coordA, w.living, transplant.NewConsent{Kind: transplant.ConsentLiving, GivenOn: daysAgo(1),
			AssessedBy: "Ethics board", AssessorIndependent: true, Voluntary: true, Informed: true}); err != nil {
			t.Fatal(err)
		}
		kidney := procure(w.living, apptest.Hours(7), "kidney")
		liver := procure(w.living, apptest.Hours(6), "liver")
		seen := map[[2]int]string{}
		for _, pr := range []*transplant.Procurement{first, other, kidney, liver} {
			k := [2]int{pr.DonationYear, pr.DonationSeq}
			if was, dup := seen[k]; dup {
				t.Errorf("procurements %s and %s share donation number %v", was, pr.ID, k)
			}
			seen[k] = pr.ID
		}
		if n := organNumbers(t, organIDs(liver)); !slices.Equal(n, []int{1}) {
			t.Errorf("a living donor's second procurement numbers its organ %v, want 1: a donation of its own", n)
		}

		// The trace from the second procurement's organ finds the first's.
		tr, err := s.TraceOrgan(ctx, w.regulator, second.Organs[1].ID)
		if err != nil {
			t.Fatal(err)
		}
		want := append(organIDs(first), organIDs(second)...)
		slices.Sort(want)
		if got := tracedOrgans(tr); !slices.Equal(got, want) {
			t.Errorf("trace of %s: organs %v, want %v", second.Organs[1].ID, got, want)
		}
		// And so does the search by the donation number, in any case, with
		// spaces.
		number := donationOf(t, first.Organs[0].ID).Donation()
		typed := strings.ToLower(strings.ReplaceAll(number.String(), "-", " "))
		tr, err = s.TraceDonation(ctx, w.regulator, typed)
		if err != nil {
			t.Fatal(err)
		}
		if got := tracedOrgans(tr); tr.From != "donation" || tr.ID != number.String() || len(tr.Donors) != 1 || !slices.Equal(got, want) {
			t.Errorf("trace of donation %q: from %s %s, organs %v, want donation %s, organs %v", typed, tr.From, tr.ID, got, number, want)
		}
		for _, c := range []struct {
			number     string
			code       errs.Code
			rule, text string
		}{
			{number.String() + "-01", errs.Invalid, "donation_number_format", "such as XA-26-000123"},
			{"XA-26-00012", errs.Invalid, "donation_number_format", "such as XA-26-000123"},
			{"X1-26-000123", errs.Invalid, "donation_number_format", "such as XA-26-000123"},
			{"XA-26-000000", errs.Invalid, "donation_number_format", "such as XA-26-000123"},
			{"XA-26-999999", errs.NotFound, "reference", "no donation XA-26-999999"},
			{"YB" + number.String()[2:], errs.NotFound, "reference", "no donation YB"},
		} {
			_, err := s.TraceDonation(ctx, w.regulator, c.number)
			e, ok := errs.As(err)
			if !ok || e.Code != c.code || e.Rule != c.rule || e.Field != "donation" || !strings.Contains(e.Error(), c.text) {
				t.Errorf("trace of donation %q: %v, want %s %s on donation, saying %q", c.number, err, c.code, c.rule, c.text)
			}
		}
		if rep := w.Verify(t); !rep.OK() {
			t.Fatalf("log verify: %v", rep.Problems)
		}
	})
}

// TestOlderDonationNumbers: a registry written by an older release may hold
// two donation numbers for one deceased donor, one per procurement, both
// printed on labels. They are kept; a later procurement reuses the first;
// the trace from an organ of either number finds every organ of the donor,
// and log verify replays it alike. Both engines.
func TestOlderDonationNumbers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newRuleWorld(t, dsn)
		s := w.svc
		// w.donor gave two kidneys and a liver in one procurement: an
		// older release's second procurement of the same donor took a
		// number of its own. Its entry is written as that release wrote it.
		old := olderProcurement(ctx, t, w)
		// A new procurement takes the donor's first number, after its
		// last organ (the liver, 03).
		regrant(ctx, t, w, "heart")
		heart, err := s.RecordProcurement(ctx, w.coordA, transplant.NewProcurement{DonorID: w.donor, ProcuredAt: apptest.Hours(8), Organs: []string{"heart"}})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := donationOf(t, heart.Organs[0].ID), donationOf(t, w.organs[0]); got != want {
			t.Errorf("a new procurement of a donor with two numbers takes %v, want the first, %v", got, want)
		}
		if n := organNumbers(t, organIDs(heart)); !slices.Equal(n, []int{4}) {
			t.Errorf("the new procurement's organ is number %v, want 4", n)
		}
		want := append(append(slices.Clone(w.organs), old.String()), heart.Organs[0].ID)
		slices.Sort(want)
		for _, from := range []string{w.organs[1], old.String(), heart.Organs[0].ID} {
			tr, err := s.TraceOrgan(ctx, w.regulator, from)
			if err != nil {
				t.Fatal(err)
			}
			if got := tracedOrgans(tr); !slices.Equal(got, want) {
				t.Errorf("trace of %s: organs %v, want %v", from, got, want)
			}
		}
		for _, number := range []transplant.Donation{donationOf(t, w.organs[0]).Donation(), old.Donation()} {
			tr, err := s.TraceDonation(ctx, w.regulator, number.String())
			if err != nil {
				t.Fatal(err)
			}
			if got := tracedOrgans(tr); len(tr.Donors) != 1 || tr.Donors[0].Donor.ID != w.donor || !slices.Equal(got, want) {
				t.Errorf("trace of donation %s: %d donors, organs %v, want donor %s, organs %v", number, len(tr.Donors), got, w.donor, want)
			}
		}
		if rep := w.Verify(t); !rep.OK() {
			t.Fatalf("log verify: %v", rep.Problems)
		}
	})
}

// newerSeq is an organ identifier, organ 01, of a donation number the
// registry has not used: the one after w's donor's.
func newerSeq(t *testing.T, w *ruleWorld) transplant.OrganID {
	t.Helper()
	oid, err := transplant.ParseOrganID(w.organs[0])
	if err != nil {
		t.Fatal(err)
	}
	oid.Seq += 100
	oid.Organ = 1
	return oid
}

// regrant authorizes centre A to procure organ.
func regrant(ctx context.Context, t *testing.T, w *ruleWorld, organ string) {
	t.Helper()
	if _, err := w.svc.AuthorizeCentre(ctx, w.regulator, w.CentreA, transplant.NewCentreAuthorization{Activity: "procurement", Organ: organ, ValidFrom: "2020-01-01"}); err != nil {
		t.Fatal(err)
	}
}

// TestActivityCountsDonations checks that the dashboards' donations are
// donations, not procurements, on SQLite and PostgreSQL: w's deceased donor
// procured three times (a second procurement under the donor's number, and
// one an older release gave a number of its own, written as it wrote it)
// is one donation; a living donor who
// gave twice is two. The organs procured are all of them.
func TestActivityCountsDonations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newRuleWorld(t, dsn)
		s := w.svc
		olderProcurement(ctx, t, w)
		regrant(ctx, t, w, "heart")
		procure := func(donor, at string, organs ...string) {
			t.Helper()
			if _, err := s.RecordProcurement(ctx, w.coordA, transplant.NewProcurement{DonorID: donor, ProcuredAt: at, Organs: organs}); err != nil {
				t.Fatal(err)
			}
		}
		procure(w.donor, apptest.Hours(8), "heart")
		if _, err := s.RecordConsent(ctx, w.coordA, w.living, transplant.NewConsent{Kind: transplant.ConsentLiving, GivenOn: daysAgo(1),
			AssessedBy: "Ethics board", AssessorIndependent: true, Voluntary: true, Informed: true}); err != nil {
			t.Fatal(err)
		}
		procure(w.living, apptest.Hours(7), "kidney")
		procure(w.living, apptest.Hours(6), "liver")

		now := time.Now().UTC()
		a, err := s.Activity(ctx, w.regulator, now.AddDate(-1, 0, 0).Format("2006-01"), now.AddDate(0, 1, 0).Format("2006-01"))
		if err != nil {
			t.Fatal(err)
		}
		sum := func(m map[string]int) (n int) {
			for _, v := range m {
				n += v
			}
			return n
		}
		// The six procurements' times fall in today's month or the one
		// before: the sums do not depend on which.
		if got := sum(a.Donations); got != 3 {
			t.Errorf("donations by month %v: %d in all, want 3 (one deceased donor procured three times, a living donor twice)", a.Donations, got)
		}
		if !maps.Equal(a.CentreDonations, map[string]int{w.CentreA: 3}) {
			t.Errorf("donations by centre %v, want %s: 3", a.CentreDonations, w.CentreA)
		}
		if got := sum(a.Organs); got != 7 {
			t.Errorf("organs procured by month %v: %d in all, want 7", a.Organs, got)
		}
	})
}

// olderProcurement records a second procurement of w's deceased donor (a
// lung) as an older release wrote it, under a donation number of its own,
// and returns that number.
func olderProcurement(ctx context.Context, t *testing.T, w *ruleWorld) transplant.OrganID {
	t.Helper()
	old := newerSeq(t, w)
	at := ledger.FormatTime(time.Now().UTC().Add(-9 * time.Hour).Truncate(time.Second))
	legacy := transplant.Procurement{ID: "PC-OLDER", DonorID: w.donor, CentreID: w.CentreA, ProcuredAt: at,
		DonationYear: old.Year, DonationSeq: old.Seq, Organs: []transplant.ProcuredOrgan{{ID: old.String(), Organ: "lung"}}}
	if _, err := ledger.SubmitAs[transplant.Procurement](ctx, w.svc.W, w.coordA.Actor(), "record procurement",
		func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
			return ledger.NewEntry(transplant.TypeProcurementRecorded, legacy)
		}); err != nil {
		t.Fatal(err)
	}
	return old
}
