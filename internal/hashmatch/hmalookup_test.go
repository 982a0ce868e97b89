package hashmatch_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHMALookupOpensCases: an HMA lookup is how a platform acts on an
// upload, so a match goes where custos's own match sends it (detect,
// report, remove): a case for review, which a reviewer confirms and
// reports, and which counts towards the entry's quarantine; a lookup that
// matches nothing, and a raw lookup (a diagnostic), leave no trace.
func TestHMALookupOpensCases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{QuarantineLimit: 2})
		bank := newBank(t, w, "Known")
		known := apptest.PDQHex(1)
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, hashmatch.NewVersion{Adds: []hashmatch.DocEntry{{EntryID: "img-1", PDQ: known, Classification: "A1"}}})
		w.Subscribe(t, bank)
		size := func() any { return w.Must(t, 200, "GET", "/api/v1/log/checkpoint", "", nil).Body["size"] }
		lookup := func(route, h string) string {
			return string(w.Must(t, 200, "GET", "/hma"+route+"?"+url.Values{"signal_type": {"pdq"}, "signal": {h}}.Encode(), w.Service, nil).Raw)
		}
		cases := func() []any {
			cs, _ := w.Must(t, 200, "GET", "/api/v1/hashmatch/cases", w.Service, nil).Body["cases"].([]any)
			return cs
		}

		before := size()
		if got := lookup("/m/lookup", apptest.PDQHex(2)); strings.TrimSpace(got) != "{}" {
			t.Errorf("unlisted hash: %s", got)
		}
		if got := lookup("/m/raw_lookup", known); !strings.Contains(got, strconv.FormatInt(hashmatch.HMAContentID(bank, "img-1"), 10)) {
			t.Errorf("raw lookup: %s", got)
		}
		if size() != before || len(cases()) != 0 {
			t.Fatalf("a lookup without a match or a raw lookup left a trace: log %v, was %v; %d cases", size(), before, len(cases()))
		}

		// A match opens a case carrying the signal, which goes on to a report.
		if got := lookup("/m/lookup", known); !strings.Contains(got, bank) {
			t.Fatalf("lookup: %s", got)
		}
		cs := cases()
		if len(cs) != 1 {
			t.Fatalf("cases after a match: %d", len(cs))
		}
		c := cs[0].(map[string]any)
		if c["source"] != "hash" || c["pdq"] != known || c["best_entry_id"] != "img-1" || c["status"] != "open" {
			t.Errorf("case %v", c)
		}
		id := c["id"].(string)
		w.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+id+"/review", w.Reviewer, map[string]any{"decision": "confirm", "note": "known image"})
		if rep := w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+id+"/report", w.Reviewer, map[string]any{"incident_type": "child_sexual_abuse_material"}); rep.Str("pdq") != known || rep.Str("authority_id") != w.Authority {
			t.Errorf("report %s", rep.Raw)
		}

		// The second match within the window reaches the quarantine limit
		// (2): the entry stops matching, lookups included.
		lookup("/m/lookup", known)
		if got := lookup("/m/lookup", known); strings.TrimSpace(got) != "{}" {
			t.Errorf("lookup of a quarantined entry: %s", got)
		}
		if q := w.Must(t, 200, "GET", "/api/v1/hashmatch/banks/"+bank+"/entries?status=quarantined", w.Analyst, nil); !strings.Contains(string(q.Raw), "img-1") {
			t.Errorf("entry not quarantined: %s", q.Raw)
		}
	})
}
