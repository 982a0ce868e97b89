package transplant_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/transplant"
)

// FuzzFollowUpMonths feeds custos serve's --followup-months: what it takes
// is ascending months from 1 to 120, and each is an occasion of the
// schedule it makes.
func FuzzFollowUpMonths(f *testing.F) {
	for _, s := range []string{"6,12,24", "3", " 6 , 12 ", "12,6", "0", "6,,12", "121", "-6", "6,12,24,36,48,60,72,84,96,108,120", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := transplant.ParseFollowUpMonths(s)
		if err != nil {
			return
		}
		if len(ms) == 0 || !slices.IsSorted(ms) || ms[0] < 1 || ms[len(ms)-1] > 120 {
			t.Fatalf("%q gave %v", s, ms)
		}
		sc := transplant.FollowUpSchedule{Months: ms, Window: time.Hour}
		for _, m := range ms {
			if !sc.Scheduled(m) || !sc.Scheduled(ms[len(ms)-1]+12) {
				t.Fatalf("%v: month %d is not on the schedule", ms, m)
			}
		}
	})
}

// FuzzEquityQuery feeds the equity report's query string: it is refused,
// or read into a filter whose parameters are those given.
func FuzzEquityQuery(f *testing.F) {
	for _, s := range []string{"from=2024-01-01&end=2025-01-01", "organ=kidney", "", "x=1", "from=%zz", "from=a&from=b"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		q, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		e, err := transplant.EquityQuery(q, now)
		if err != nil {
			return
		}
		if v := strings.TrimSpace(q.Get("organ")); v != "" && e.Organ == "" { // blanks are no organ
			t.Fatalf("%q lost its organ", s)
		}
		if e.From == "" || e.End == "" {
			t.Fatalf("%q gave an empty period %+v", s, e)
		}
	})
}
