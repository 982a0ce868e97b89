package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestAlertsPage walks the alerts of one centre two a page while alerts are
// raised between the pages, and checks that each alert raised before the
// walk is listed once and none raised during it; then each filter (a rule
// the registry declares and no alert has yet: an empty page), and the
// refused parameters (a rule no module declares: the declared listed).
func TestAlertsPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		// Every refusal raises its own alert, retried or not.
		w := apptest.NewWorldWith(t, dsn, func(c *server.Config) { c.AlertWindow = -1 })
		misfiledBy := func(token, centre string) {
			t.Helper()
			if r := w.Must(t, 403, "POST", "/api/v1/transplant/donors", token, apptest.DeceasedDonor(centre)); r.Body["error"].(map[string]any)["alert"] != true {
				t.Fatalf("no alert: %s", r.Raw)
			}
		}
		for range 7 {
			misfiledBy(w.CoordA, w.CentreB)
		}
		misfiledBy(w.CoordB, w.CentreA)
		atA := "/api/v1/alerts?authority_id=" + w.CentreA
		before := walk(t, w, w.Regulator, atA, "alerts", nil)
		if len(before) != 7 {
			t.Fatalf("%d alerts of centre A, want 7", len(before))
		}
		got := walk(t, w, w.Regulator, atA+"&limit=2", "alerts", func() {
			misfiledBy(w.CoordA, w.CentreB)
			misfiledBy(w.CoordB, w.CentreA)
		})
		if fmt.Sprint(got) != fmt.Sprint(before) {
			t.Errorf("alerts of centre A walked under writes: %v, want %v", got, before)
		}

		all := walk(t, w, w.Regulator, "/api/v1/alerts", "alerts", nil)
		w.Must(t, 200, "POST", "/api/v1/alerts/"+all[0]+"/acknowledge", w.Regulator, nil)
		w.Must(t, 200, "POST", "/api/v1/alerts/"+all[1]+"/close", w.Regulator, map[string]any{"outcome": "no_action", "note": "n"})
		atB := walk(t, w, w.Regulator, "/api/v1/alerts?authority_id="+w.CentreB, "alerts", nil)
		today := time.Now().UTC().Format("2006-01-02")
		yesterday := time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")
		for _, c := range []struct {
			query string
			want  []string
		}{
			{"?state=acknowledged", all[:1]},
			{"?state=closed", all[1:2]},
			{"?state=open&limit=3", all[2:]},
			{"?rule=own_centre&from=" + today + "&to=" + today, all},
			{"?authority_id=" + w.CentreB + "&rule=own_centre&limit=1", atB},
			{"?to=" + yesterday, nil},
			{"?from=2999-01-01", nil},
			// Rules the registry declares, none raised yet: a monitor asks
			// for them before the first (an empty page, not a refusal).
			{"?rule=no_payment", nil},
			{"?rule=bad_signature&state=open", nil},
		} {
			if got := walk(t, w, w.Auditor, "/api/v1/alerts"+c.query, "alerts", nil); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("alerts%s: %v, want %v", c.query, got, c.want)
			}
		}
		if len(atB) != 1+4 {
			t.Errorf("%d alerts of centre B, want 5: one before the walk, one between each two of its four pages", len(atB))
		}

		for _, c := range []struct {
			query      string
			status     int
			code, rule string
			field      string
		}{
			{"?state=pending", 422, "invalid", "enum", "state"},
			{"?rule=no_such_rule", 422, "invalid", "enum", "rule"},
			{"?authority_id=AU-NOSUCH", 422, "invalid", "reference", "authority_id"},
			{"?centre_id=" + w.CentreA, 422, "invalid", "query", "centre_id"},
			{"?from=2024-02-30", 422, "invalid", "date_format", "from"},
			{"?from=2024-02-01&to=2024-01-01", 422, "invalid", "dates_in_order", "to"},
			{"?limit=1001", 422, "invalid", "range", "limit"},
			{"?cursor=abc", 400, "malformed", "cursor", "cursor"},
		} {
			r := w.Do(t, "GET", "/api/v1/alerts"+c.query, w.Regulator, nil)
			if c.rule == "enum" && c.field == "rule" && !strings.Contains(r.Str("error.message"), "no_payment, onward_sharing") {
				t.Errorf("%s: %s, want the rules declared listed", c.query, r.Raw)
			}
			if r.Status != c.status || r.Str("error.code") != c.code || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
				t.Errorf("%s: %d %s, want %d %s rule %s field %s", c.query, r.Status, r.Raw, c.status, c.code, c.rule, c.field)
			}
		}
		w.Must(t, 403, "GET", "/api/v1/alerts?limit=1", w.CoordA, nil)
	})
}

// TestAuthoritiesList pages the authorities and filters them by kind,
// jurisdiction and a part of the name; bad parameters are refused.
func TestAuthoritiesList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		mk := func(name, jurisdiction string) string {
			return w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": name, "kind": "transplant_centre", "jurisdiction": jurisdiction}).Str("id")
		}
		lyon, lille, pct := mk("Hôpital Édouard Herriot, Lyon", "FR"), mk("CHU de LILLE", "FR"), mk("Centre 100% greffe", "BE")
		all := walk(t, w, w.Regulator, "/api/v1/authorities", "authorities", nil)
		if len(all) < 5 || fmt.Sprint(all[:3]) != fmt.Sprint([]string{pct, lille, lyon}) {
			t.Fatalf("authorities %v, want the newest first", all)
		}
		for _, c := range []struct {
			query string
			want  []string
		}{
			{"?limit=1", all},
			{"?jurisdiction=FR&kind=transplant_centre&name=l", []string{lille, lyon}},
			{"?name=lille", []string{lille}},
			{"?name=100%25", []string{pct}},
			{"?name=_", nil},
			{"?jurisdiction=BE&limit=1", []string{pct}},
			{"?kind=regulator&name=greffe", nil},
		} {
			if got := walk(t, w, w.Auditor, "/api/v1/authorities"+c.query, "authorities", nil); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("authorities%s: %v, want %v", c.query, got, c.want)
			}
		}
		for _, c := range []struct {
			query      string
			status     int
			code, rule string
			field      string
		}{
			{"?kind=bakery", 422, "invalid", "enum", "kind"},
			{"?city=Lyon", 422, "invalid", "query", "city"},
			{"?limit=501", 422, "invalid", "range", "limit"},
			{"?cursor=x", 400, "malformed", "cursor", "cursor"},
		} {
			r := w.Do(t, "GET", "/api/v1/authorities"+c.query, w.Regulator, nil)
			if r.Status != c.status || r.Str("error.code") != c.code || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
				t.Errorf("%s: %d %s, want %d %s rule %s field %s", c.query, r.Status, r.Raw, c.status, c.code, c.rule, c.field)
			}
		}
		w.Must(t, 403, "GET", "/api/v1/authorities", w.CoordA, nil)
	})
}
