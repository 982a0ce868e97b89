package hashmatch_test

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestQuarantineTakesTwoServices: one service's matches of an entry count
// towards its quarantine up to half the limit, so that one service (or a
// stolen service token) cannot switch an entry off for every service. A
// service that alone reaches the limit quarantines nothing, the entry
// still matches for it and for the others, and the bank's owner is alerted
// once (hashmatch_flood), the service named; a second service's matches
// then reach the limit together with it, and the entry is quarantined for
// both. The log replays.
func TestQuarantineTakesTwoServices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{QuarantineLimit: 4})
		bank := w.SubscribedBank(t, "Known images")
		w.SubscribeOther(t, bank)
		match := func(token string) string {
			t.Helper()
			r := w.Must(t, 200, "POST", "/api/v1/hashmatch/match", token, map[string]any{"items": []any{map[string]any{"pdq": apptest.PDQHex(1), "quality": 90}}})
			return r.Body["results"].([]any)[0].(map[string]any)["status"].(string)
		}
		alerts := func(rule string) []map[string]any {
			t.Helper()
			var out []map[string]any
			for _, a := range w.Must(t, 200, "GET", "/api/v1/alerts?rule="+rule, w.Regulator, nil).Body["alerts"].([]any) {
				out = append(out, a.(map[string]any))
			}
			return out
		}
		quarantined := func() bool {
			t.Helper()
			return strings.Contains(string(w.Must(t, 200, "GET", "/api/v1/hashmatch/banks/"+bank+"/entries?status=quarantined", w.Analyst, nil).Raw), "img-1")
		}

		// The flood: six matches by one service, past the limit (4).
		for i := range 6 {
			if s := match(w.Service); s != "match" {
				t.Fatalf("match %d by the flooding service: %s", i+1, s)
			}
		}
		if quarantined() || len(alerts("hashmatch_quarantine")) != 0 {
			t.Fatalf("one service's matches quarantined the entry")
		}
		if s := match(w.OtherService); s != "match" {
			t.Fatalf("the other service's match after the flood: %s, want match", s)
		}
		floods := alerts("hashmatch_flood")
		if len(floods) != 1 {
			t.Fatalf("flood alerts %v, want one", floods)
		}
		if a := floods[0]; a["authority_id"] != w.Authority || !strings.Contains(a["message"].(string), w.Provider) || !strings.Contains(a["message"].(string), "img-1") {
			t.Errorf("the flood alert %v: want it addressed to the bank's owner %s, naming the service %s and the entry", a, w.Authority, w.Provider)
		}

		// The other service's second match: 2 (the flooding service's,
		// counted up to half the limit) + 2 reach the limit together.
		if s := match(w.OtherService); s != "match" {
			t.Fatalf("the other service's second match: %s", s)
		}
		if !quarantined() || len(alerts("hashmatch_quarantine")) != 1 {
			t.Fatalf("two services' matches at the limit did not quarantine the entry")
		}
		for _, token := range []string{w.Service, w.OtherService} {
			if s := match(token); s != "no_match" {
				t.Errorf("a match of the quarantined entry: %s, want no_match", s)
			}
		}
		if n := len(alerts("hashmatch_flood")); n != 1 {
			t.Errorf("%d flood alerts after the quarantine, want still one", n)
		}
		verifyLog(t, w)
	})
}
