package httpapi_test

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// ids lists the id field of the rows of a list response's key.
func ids(r *apptest.Response, key string) []string {
	var out []string
	rows, _ := r.Body[key].([]any)
	for _, row := range rows {
		if id, ok := row.(map[string]any)["id"].(string); ok {
			out = append(out, id)
		}
	}
	return out
}

// lister is a test server of any world (apptest.World, HashmatchWorld).
type lister interface {
	Must(t testing.TB, want int, method, path, token string, body any) *apptest.Response
}

// walk reads every page of a list from path, following next, and returns
// the ids in order; between pages it calls between (when not nil).
func walk(t *testing.T, w lister, token, path, key string, between func()) []string {
	t.Helper()
	all, _ := walkRows(t, w, token, path, key, between)
	return all
}

// walkRows is walk that also returns the rows.
func walkRows(t *testing.T, w lister, token, path, key string, between func()) ([]string, []map[string]any) {
	t.Helper()
	var all []string
	var rows []map[string]any
	base, _, _ := strings.Cut(path, "?")
	for pages := 0; path != ""; pages++ {
		if pages > 1000 {
			t.Fatalf("%s: more than 1000 pages", path)
		}
		r := w.Must(t, 200, "GET", path, token, nil)
		all = append(all, ids(r, key)...)
		for _, row := range r.Body[key].([]any) {
			rows = append(rows, row.(map[string]any))
		}
		next, _ := r.Body["next"].(string)
		if next != "" && !strings.HasPrefix(next, base+"?") {
			t.Fatalf("next %q is not a page of %s", next, base)
		}
		path = next
		if between != nil {
			between()
		}
	}
	return all, rows
}

// donorAt registers a deceased donor of blood group bg at centre.
func donorAt(t *testing.T, w *apptest.World, token, centre, bg string) *apptest.Response {
	d := apptest.DeceasedDonor(centre)
	d["blood_group"] = bg
	return w.Do(t, "POST", "/api/v1/transplant/donors", token, d)
}

// TestListsPageUnderWrites walks filtered lists a few rows a page while
// another goroutine records donors and procures organs, and checks that every
// row that was there when the walk began is listed exactly once, and that
// no row of another filter value is. The organs of one procurement share a
// log index, so the organs' pages also cut through ties.
func TestListsPageUnderWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		for i := range 9 {
			if r := donorAt(t, w, w.CoordA, w.CentreA, "O"); r.Status != 201 {
				t.Fatalf("donor %d: %s", i, r.Raw)
			}
			if r := donorAt(t, w, w.CoordB, w.CentreB, "O"); r.Status != 201 {
				t.Fatalf("donor %d: %s", i, r.Raw)
			}
		}
		var kidneys []string
		for range 4 {
			_, organs := procured(t, w)
			kidneys = append(kidneys, organs[0], organs[1])
		}
		before := ids(w.Must(t, 200, "GET", "/api/v1/transplant/donors?centre_id="+w.CentreA+"&limit=500", w.Regulator, nil), "donors")
		if len(before) != 9+4 {
			t.Fatalf("%d donors at centre A, want 13", len(before))
		}

		// The writer records donors at both centres until the walks end.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		var written int
		var failed []string
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, c := range []struct{ token, centre string }{{w.CoordA, w.CentreA}, {w.CoordB, w.CentreB}} {
					r := donorAt(t, w, c.token, c.centre, "O")
					mu.Lock()
					if r.Status != 201 {
						failed = append(failed, string(r.Raw))
					}
					written++
					mu.Unlock()
				}
			}
		}()
		// Each page waits for a write, so writes fall between the pages.
		waitWrite := func() {
			mu.Lock()
			n := written
			mu.Unlock()
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
				mu.Lock()
				m := written
				mu.Unlock()
				if m > n {
					return
				}
			}
			t.Error("no write between two pages")
		}
		donors := walk(t, w, w.Regulator, "/api/v1/transplant/donors?centre_id="+w.CentreA+"&limit=3", "donors", waitWrite)
		// Organs, with a second writer procuring more between pages.
		organs, organRows := walkRows(t, w, w.Regulator, "/api/v1/transplant/organs?organ=kidney&limit=3", "organs", func() {
			procured(t, w)
			waitWrite()
		})
		close(stop)
		wg.Wait()
		if len(failed) > 0 {
			t.Fatalf("writes refused: %v", failed)
		}

		once := func(name string, got, want []string) {
			t.Helper()
			seen := map[string]int{}
			for _, id := range got {
				seen[id]++
				if seen[id] == 2 {
					t.Errorf("%s: %s listed twice", name, id)
				}
			}
			for _, id := range want {
				if seen[id] == 0 {
					t.Errorf("%s: %s missing", name, id)
				}
			}
		}
		once("donors of centre A", donors, before)
		once("kidneys", organs, kidneys)
		// The walk saw no donor of centre B and no liver.
		all := w.Must(t, 200, "GET", "/api/v1/transplant/donors?centre_id="+w.CentreA+"&limit=500", w.Regulator, nil)
		atA := map[string]bool{}
		for _, id := range ids(all, "donors") {
			atA[id] = true
		}
		for _, id := range donors {
			if !atA[id] {
				t.Errorf("donor %s of another centre listed", id)
			}
		}
		for _, o := range organRows {
			if o["organ"] != "kidney" {
				t.Errorf("organ %v is a %v", o["id"], o["organ"])
			}
		}
		// Organs procured during the walk are newer than its first page: they
		// belong before it, and the walk lists exactly the kidneys it began with.
		if len(organs) != len(kidneys) {
			t.Errorf("%d kidneys listed, want the %d procured before the walk", len(organs), len(kidneys))
		}
	})
}

// TestListFilters checks each filter of each list, the next link's
// parameters, the old paths and the last page's missing next.
func TestListFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		dA := donorAt(t, w, w.CoordA, w.CentreA, "A").Str("id")
		dB := donorAt(t, w, w.CoordB, w.CentreB, "B").Str("id")
		donor, organs := procured(t, w)
		rcLiver := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "liver")).Str("id")
		rcKidney := transplanted(t, w, w.CoordA, w.CentreA, organs[0], "kidney")
		ta := w.Must(t, 201, "POST", "/api/v1/transplant/transplant-authorizations", w.CoordA, map[string]any{"organ_id": organs[2], "recipient_id": rcLiver,
			"centre_id": w.CentreA, "authorized_by": "Medical director", "compatibility_documented": true, "consent_verified": true, "no_payment_declared": true}).Str("id")
		today := time.Now().UTC().Format("2006-01-02")
		yesterday := time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")

		for _, c := range []struct {
			path, key string
			want      []string // newest first
		}{
			{"/api/v1/transplant/donors", "donors", []string{donor, dB, dA}},
			{"/api/v1/transplant/donors?centre_id=" + w.CentreB, "donors", []string{dB}},
			{"/api/v1/transplant/donors?blood_group=A", "donors", []string{dA}},
			{"/api/v1/transplant/donors?blood_group=AB", "donors", nil},
			{"/api/v1/transplant/donors?id=" + dB, "donors", []string{dB}},
			{"/api/v1/transplant/donors?from=" + today + "&to=" + today, "donors", []string{donor, dB, dA}},
			{"/api/v1/transplant/donors?to=" + yesterday, "donors", nil},
			{"/api/v1/transplant/donors?from=2999-01-01", "donors", nil},
			{"/api/v1/transplant/donors?to=9999-12-31", "donors", []string{donor, dB, dA}},
			{"/api/v1/transplant/recipients?from=1900-01-01&to=9999-12-31", "recipients", []string{rcKidney, rcLiver}},
			{"/api/v1/transplant/organs?to=9999-12-31", "organs", []string{organs[1], organs[2]}},
			{"/api/v1/transplant/transplant-authorizations?to=9999-12-31", "authorizations", []string{ta}},
			{"/api/v1/transplant/recipients", "recipients", []string{rcKidney, rcLiver}},
			{"/api/v1/transplant/recipients?status=waiting", "recipients", []string{rcLiver}},
			{"/api/v1/transplant/recipients?status=transplanted", "recipients", []string{rcKidney}},
			{"/api/v1/transplant/recipients?organ=kidney", "recipients", []string{rcKidney}},
			{"/api/v1/transplant/recipients?centre_id=" + w.CentreB, "recipients", nil},
			{"/api/v1/transplant/recipients?blood_group=O&from=2024-01-01&to=2024-01-01", "recipients", []string{rcKidney, rcLiver}},
			{"/api/v1/transplant/recipients?from=2024-01-02", "recipients", nil},
			{"/api/v1/transplant/recipients?id=" + rcLiver, "recipients", []string{rcLiver}},
			{"/api/v1/transplant/organs", "organs", []string{organs[1], organs[2]}},
			{"/api/v1/transplant/organs?organ=liver", "organs", []string{organs[2]}},
			{"/api/v1/transplant/organs?blood_group=O&centre_id=" + w.CentreA, "organs", []string{organs[1], organs[2]}},
			{"/api/v1/transplant/organs?blood_group=A", "organs", nil},
			{"/api/v1/transplant/organs?centre_id=" + w.CentreB, "organs", nil},
			{"/api/v1/transplant/organs?id=" + url.QueryEscape(strings.ToLower(strings.ReplaceAll(organs[2], "-", " "))), "organs", []string{organs[2]}},
			{"/api/v1/transplant/organs?from=" + yesterday + "&to=" + today, "organs", []string{organs[1], organs[2]}},
			{"/api/v1/transplant/transplant-authorizations", "authorizations", []string{ta}},
			{"/api/v1/transplant/transplant-authorizations?organ=kidney", "authorizations", nil},
			{"/api/v1/transplant/transplant-authorizations?organ=liver&centre_id=" + w.CentreA + "&id=" + ta, "authorizations", []string{ta}},
		} {
			got := walk(t, w, w.Regulator, c.path, c.key, nil)
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("%s: %v, want %v", c.path, got, c.want)
			}
			// One row a page gives the same rows, each page linking to the next
			// with the same filters.
			sep := "?"
			if strings.Contains(c.path, "?") {
				sep = "&"
			}
			if got := walk(t, w, w.Regulator, c.path+sep+"limit=1", c.key, nil); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("%s, a row a page: %v, want %v", c.path, got, c.want)
			}
		}

		// The next link keeps the filters and the limit; the last page has none;
		// the old path pages at its own path.
		r := w.Must(t, 200, "GET", "/api/v1/transplant/donors?from="+today+"&limit=1", w.Regulator, nil)
		next, _ := url.Parse(fmt.Sprint(r.Body["next"]))
		if q := next.Query(); next.Path != "/api/v1/transplant/donors" || q.Get("from") != today || q.Get("limit") != "1" || q.Get("cursor") == "" {
			t.Errorf("next %s", next)
		}
		if r := w.Must(t, 200, "GET", "/api/v1/transplant/donors?limit=3", w.Regulator, nil); r.Body["next"] != nil {
			t.Errorf("the last page has a next: %v", r.Body["next"])
		}
		if r := w.Must(t, 200, "GET", "/api/v1/donors?limit=1", w.Regulator, nil); !strings.HasPrefix(fmt.Sprint(r.Body["next"]), "/api/v1/donors?") {
			t.Errorf("next of the old path: %v", r.Body["next"])
		}
		// The OpenAPI document names each list's parameters.
		doc := w.Must(t, 200, "GET", "/api/v1/openapi.json", "", nil)
		op := doc.Body["paths"].(map[string]any)["/api/v1/transplant/recipients"].(map[string]any)["get"].(map[string]any)
		var names []string
		for _, p := range op["parameters"].([]any) {
			p := p.(map[string]any)
			if p["in"] == "query" {
				names = append(names, p["name"].(string))
			}
			if p["name"] == "status" && fmt.Sprint(p["schema"].(map[string]any)["enum"]) != "[waiting transplanted]" {
				t.Errorf("status parameter: %v", p)
			}
		}
		if fmt.Sprint(names) != "[centre_id status organ blood_group from to id limit cursor format]" {
			t.Errorf("recipients' query parameters: %v", names)
		}
	})
}

// TestListParametersRefused: a bad limit, cursor or filter is refused with
// the rule and field that refused it, never read as something else.
func TestListParametersRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		for range 2 {
			donorAt(t, w, w.CoordA, w.CentreA, "O")
		}
		next := w.Must(t, 200, "GET", "/api/v1/transplant/donors?limit=1", w.Regulator, nil).Body["next"].(string)
		cursor, _ := url.Parse(next)
		good := cursor.Query().Get("cursor")
		tampered := []byte(good)
		tampered[2] ^= 1
		for _, c := range []struct {
			path       string
			status     int
			code, rule string
			field      string
		}{
			{"/api/v1/transplant/donors?limit=1000", 422, "invalid", "range", "limit"},
			{"/api/v1/transplant/donors?limit=0", 422, "invalid", "range", "limit"},
			{"/api/v1/transplant/donors?limit=10abc", 400, "malformed", "query", "limit"},
			{"/api/v1/transplant/donors?limit=-1", 400, "malformed", "query", "limit"},
			{"/api/v1/donors?limit=1000", 422, "invalid", "range", "limit"},
			{"/api/v1/transplant/organs?limit=501", 422, "invalid", "range", "limit"},
			{"/api/v1/transplant/transplant-authorizations?limit=1001", 422, "invalid", "range", "limit"},
			{"/api/v1/transplant/recipients?limit=1e3", 400, "malformed", "query", "limit"},
			{"/api/v1/transplant/donors?cursor=abc", 400, "malformed", "cursor", "cursor"},
			{"/api/v1/transplant/donors?cursor=" + string(tampered), 400, "malformed", "cursor", "cursor"},
			{"/api/v1/transplant/donors?cursor=" + good + "&cursor=" + good, 422, "invalid", "query", "cursor"},
			{"/api/v1/transplant/donors?offset=100", 422, "invalid", "query", "offset"},
			{"/api/v1/transplant/donors?centre=" + w.CentreA, 422, "invalid", "query", "centre"},
			{"/api/v1/transplant/donors?status=waiting", 422, "invalid", "query", "status"},
			{"/api/v1/transplant/donors?blood_group=Z", 422, "invalid", "enum", "blood_group"},
			{"/api/v1/transplant/donors?from=2024-13-01", 422, "invalid", "date_format", "from"},
			{"/api/v1/transplant/donors?to=yesterday", 422, "invalid", "date_format", "to"},
			{"/api/v1/transplant/donors?from=2024-02-01&to=2024-01-01", 422, "invalid", "dates_in_order", "to"},
			{"/api/v1/transplant/recipients?status=pending", 422, "invalid", "enum", "status"},
			{"/api/v1/transplant/recipients?organ=spleen", 422, "invalid", "enum", "organ"},
			{"/api/v1/transplant/organs?id=not-an-organ", 422, "invalid", "organ_id_format", "id"},
			{"/api/v1/transplant/organs?status=procured", 422, "invalid", "query", "status"},
			{"/api/v1/transplant/transplant-authorizations?blood_group=O", 422, "invalid", "query", "blood_group"},
			{"/api/v1/alerts?limit=10abc", 400, "malformed", "query", "limit"},
			{"/api/v1/alerts?limit=5000", 422, "invalid", "range", "limit"},
			// the regulator may not read the cases and reports: refused
			// before the query is read (TestRoleBeforeInput)
			{"/api/v1/hashmatch/cases?limit=10abc", 403, "forbidden", "role", ""},
			{"/api/v1/hashmatch/reports?limit=1001", 403, "forbidden", "role", ""},
			{"/api/v1/log/consistency?from=1abc&to=2", 400, "malformed", "query", "from"},
			// the refusal names the size out of range, not always "to"
			{"/api/v1/log/consistency?from=0&to=2", 422, "invalid", "range", "from"},
			{"/api/v1/log/consistency?from=3&to=2", 422, "invalid", "range", "from"},
			{"/api/v1/log/consistency?from=1&to=99999999", 422, "invalid", "range", "to"},
			// a size missing is a missing parameter, not one out of range
			{"/api/v1/log/consistency?from=1", 422, "invalid", "required", "to"},
			{"/api/v1/log/consistency?from=1&to=", 422, "invalid", "required", "to"},
			{"/api/v1/log/consistency?to=2", 422, "invalid", "required", "from"},
			{"/api/v1/log/consistency", 422, "invalid", "required", "from"},
		} {
			r := w.Do(t, "GET", c.path, w.Regulator, nil)
			if r.Status != c.status || r.Str("error.code") != c.code || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
				t.Errorf("%s: %d %s, want %d %s rule %s field %s", c.path, r.Status, r.Raw, c.status, c.code, c.rule, c.field)
			}
		}
		// The cursor itself pages: the second page is the older donor.
		if r := w.Must(t, 200, "GET", next, w.Regulator, nil); len(ids(r, "donors")) != 1 || r.Body["next"] != nil {
			t.Errorf("second page: %s", r.Raw)
		}
	})
}
