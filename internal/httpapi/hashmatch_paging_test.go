package httpapi_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// publish publishes a version of bank adding the entries named, entry
// "e<n>" with the hash apptest.PDQHex(n).
func publish(t *testing.T, w *apptest.HashmatchWorld, bank string, ns ...int) {
	t.Helper()
	var adds []map[string]any
	for _, n := range ns {
		adds = append(adds, map[string]any{"entry_id": fmt.Sprintf("e%d", n), "pdq": apptest.PDQHex(n), "classification": "A1"})
	}
	w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": adds})
}

// matched matches the hashes of entries ns as the service, and returns the
// cases they opened.
func matched(t *testing.T, w *apptest.HashmatchWorld, ns ...int) []string {
	t.Helper()
	return matchedAs(t, w, w.Service, ns...)
}

// matchedAs is matched as the service of token.
func matchedAs(t *testing.T, w *apptest.HashmatchWorld, token string, ns ...int) []string {
	t.Helper()
	var items []any
	for _, n := range ns {
		items = append(items, item(apptest.PDQHex(n), 90))
	}
	var cases []string
	for _, r := range results(t, w.Must(t, 200, "POST", "/api/v1/hashmatch/match", token, map[string]any{"items": items})) {
		if r["status"] != "match" {
			t.Fatalf("no match: %v", r)
		}
		cases = append(cases, r["case_id"].(string))
	}
	return cases
}

// column lists one field of rows.
func column(rows []map[string]any, name string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprint(r[name]))
	}
	return out
}

// once checks that got holds each of want exactly once, and, when exact,
// nothing else.
func once(t *testing.T, name string, got, want []string, exact bool) {
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
	if exact && len(got) != len(want) {
		t.Errorf("%s: %d listed, want the %d there when the walk began", name, len(got), len(want))
	}
}

// TestHashmatchListsPageUnderWrites walks the cases of one bank and a bank's
// entries a few rows a page while the service opens cases and the analyst
// publishes versions, and checks that every row there when the walk began is
// listed exactly once, and nothing newer or of another bank. The entries of
// one version share a log index, so their pages cut through ties.
func TestHashmatchListsPageUnderWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bankA, bankB := w.Bank(t, "A"), w.Bank(t, "B")
		publish(t, w, bankA, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
		publish(t, w, bankB, 21, 22)
		w.Subscribe(t, bankA)
		w.Subscribe(t, bankB)
		before := matched(t, w, 1, 2, 3, 4, 5, 6, 7)
		matched(t, w, 21)

		stop := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		written := 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, n := range []int{8, 22} {
					r := w.Do(t, "POST", "/api/v1/hashmatch/match", w.Service, map[string]any{"items": []any{item(apptest.PDQHex(n), 90)}})
					mu.Lock()
					if r.Status != 200 {
						t.Errorf("match during the walk: %s", r.Raw)
					}
					written++
					mu.Unlock()
				}
			}
		}()
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
		cases, caseRows := walkRows(t, w, w.Reviewer, "/api/v1/hashmatch/cases?bank_id="+bankA+"&limit=2", "cases", waitWrite)
		close(stop)
		wg.Wait()
		// Cases opened after the walk began but before its first page was
		// read are on that page, newer than every case there before.
		once(t, "cases of bank A", cases, before, false)
		old := map[string]bool{}
		for _, id := range before {
			old[id] = true
		}
		for i, id := range cases {
			if !old[id] && i > 0 && old[cases[i-1]] {
				t.Errorf("case %s, opened during the walk, listed after older cases: %v", id, cases)
			}
		}
		for _, r := range caseRows {
			if r["best_bank_id"] != bankA || r["bank_name"] != "A" {
				t.Errorf("case %v of bank %v (%v) listed", r["id"], r["best_bank_id"], r["bank_name"])
			}
		}

		// Entries, a version published between each two pages.
		next := 100
		_, entryRows := walkRows(t, w, w.Analyst, "/api/v1/hashmatch/banks/"+bankA+"/entries?limit=3", "entries", func() {
			publish(t, w, bankA, next, next+1)
			next += 2
		})
		once(t, "entries of bank A", column(entryRows, "entry_id"), strings.Fields("e1 e2 e3 e4 e5 e6 e7 e8 e9 e10"), true)
		// Versions, newest first: those published before the walk, each
		// once, though one more is published between each two pages.
		v := int(w.Must(t, 200, "GET", "/api/v1/hashmatch/banks/"+bankA, w.Reviewer, nil).Body["bank"].(map[string]any)["version"].(float64))
		var want []string
		for i := v; i >= 1; i-- {
			want = append(want, fmt.Sprint(i))
		}
		_, versionRows := walkRows(t, w, w.Reviewer, "/api/v1/hashmatch/banks/"+bankA+"/versions?limit=2", "versions", func() {
			publish(t, w, bankA, next)
			next++
		})
		if got := column(versionRows, "version"); v < 5 || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("versions %v, want %v", got, want)
		}
	})
}

// TestHashmatchListFilters checks each filter of each hash-matching list,
// at once and a row a page, and that a list is its owner's whatever it asks.
func TestHashmatchListFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		// An entry is quarantined at its second match when another service
		// made it: e4, matched twice by the service, then by the other.
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{QuarantineLimit: 2})
		bankA, bankB := w.Bank(t, "A"), w.Bank(t, "B")
		publish(t, w, bankA, 1, 2, 3, 4)
		publish(t, w, bankB, 21)
		w.Subscribe(t, bankA)
		w.Subscribe(t, bankB)
		w.SubscribeOther(t, bankA)
		q1, q2 := matched(t, w, 4)[0], matched(t, w, 4)[0]
		q3 := matchedAs(t, w, w.OtherService, 4)[0]
		c1, c2, c3, c4 := matched(t, w, 1)[0], matched(t, w, 2)[0], matched(t, w, 3)[0], matched(t, w, 21)[0]
		for id, d := range map[string]string{c1: "confirm", c2: "reject", c3: "confirm"} {
			w.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+id+"/review", w.Reviewer, map[string]any{"decision": d})
		}
		r1 := w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+c1+"/report", w.Reviewer, map[string]any{"incident_type": "other"}).Str("id")
		r3 := w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+c3+"/report", w.Reviewer, map[string]any{"incident_type": "other", "authority_id": w.Other}).Str("id")
		w.Must(t, 200, "POST", "/api/v1/hashmatch/reports/"+r1+"/acknowledge", w.Analyst, map[string]any{"reference": "CT-1"})
		today := time.Now().UTC().Format("2006-01-02")
		yesterday := time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")
		cases, entries, versions := "/api/v1/hashmatch/cases", "/api/v1/hashmatch/banks/"+bankA+"/entries", "/api/v1/hashmatch/banks/"+bankA+"/versions"
		for _, c := range []struct {
			token, path, key, col string
			want                  []string // newest first
		}{
			{w.Reviewer, cases, "cases", "id", []string{c4, c3, c2, c1, q2, q1}},
			{w.Reviewer, cases + "?status=open", "cases", "id", []string{c4, q2, q1}},
			{w.Reviewer, cases + "?status=confirmed", "cases", "id", []string{c3, c1}},
			{w.Reviewer, cases + "?status=rejected", "cases", "id", []string{c2}},
			{w.Reviewer, cases + "?bank_id=" + bankB, "cases", "id", []string{c4}},
			{w.Reviewer, cases + "?bank_id=" + bankA + "&status=confirmed", "cases", "id", []string{c3, c1}},
			{w.Reviewer, cases + "?id=" + c2, "cases", "id", []string{c2}},
			{w.Reviewer, cases + "?from=" + today + "&to=" + today, "cases", "id", []string{c4, c3, c2, c1, q2, q1}},
			{w.Reviewer, cases + "?to=" + yesterday, "cases", "id", nil},
			{w.Reviewer, cases + "?from=2999-01-01", "cases", "id", nil},
			{w.Service, cases + "?status=open&bank_id=" + bankA, "cases", "id", []string{q2, q1}},
			{w.OtherReviewer, cases, "cases", "id", []string{q3}}, // its own case only
			{w.Reviewer, "/api/v1/hashmatch/reports", "reports", "id", []string{r3, r1}},
			{w.Reviewer, "/api/v1/hashmatch/reports?authority_id=" + w.Other, "reports", "id", []string{r3}},
			{w.Reviewer, "/api/v1/hashmatch/reports?status=sent", "reports", "id", []string{r3}},
			{w.Reviewer, "/api/v1/hashmatch/reports?status=acknowledged&provider_id=" + w.Provider, "reports", "id", []string{r1}},
			{w.Reviewer, "/api/v1/hashmatch/reports?id=" + r1 + "&from=" + today, "reports", "id", []string{r1}},
			{w.Reviewer, "/api/v1/hashmatch/reports?to=" + yesterday, "reports", "id", nil},
			{w.Analyst, "/api/v1/hashmatch/reports", "reports", "id", []string{r1}},
			{w.Analyst, "/api/v1/hashmatch/reports?provider_id=" + w.OtherProvider, "reports", "id", nil},
			{w.OtherAnalyst, "/api/v1/hashmatch/reports?status=sent", "reports", "id", []string{r3}},
			{w.Analyst, entries, "entries", "entry_id", []string{"e1", "e2", "e3", "e4"}},
			{w.Analyst, entries + "?status=quarantined", "entries", "entry_id", []string{"e4"}},
			{w.Analyst, entries + "?status=active", "entries", "entry_id", []string{"e1", "e2", "e3"}},
			{w.Analyst, entries + "?id=e2", "entries", "entry_id", []string{"e2"}},
			{w.Analyst, "/api/v1/hashmatch/banks/" + bankB + "/entries", "entries", "entry_id", []string{"e21"}},
			{w.Reviewer, versions, "versions", "version", []string{"1"}},
			{w.Reviewer, versions + "?from=" + today + "&to=" + today, "versions", "version", []string{"1"}},
			{w.Reviewer, versions + "?to=" + yesterday, "versions", "version", nil},
		} {
			for _, limit := range []string{"", "limit=1"} {
				path := c.path
				if limit != "" {
					path += map[bool]string{true: "&", false: "?"}[strings.Contains(path, "?")] + limit
				}
				_, rows := walkRows(t, w, c.token, path, c.key, nil)
				if got := column(rows, c.col); fmt.Sprint(got) != fmt.Sprint(c.want) {
					t.Errorf("%s: %v, want %v", path, got, c.want)
				}
			}
		}
		// A list's row carries what triage needs; the bank lists its newest
		// versions first (a page of them: versions_next links to the rest).
		row := w.Must(t, 200, "GET", cases+"?id="+c1, w.Reviewer, nil).Body["cases"].([]any)[0].(map[string]any)
		if row["bank_name"] != "A" || row["classification"] != "A1" || row["status"] != "confirmed" {
			t.Errorf("case row %v", row)
		}
		publish(t, w, bankA, 5)
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bankA+"/versions", w.Analyst, map[string]any{"deletes": []string{"e5"}})
		publish(t, w, bankA, 6)
		b := w.Must(t, 200, "GET", "/api/v1/hashmatch/banks/"+bankA, w.Reviewer, nil)
		if vs := column(toRows(b.Body["versions"]), "version"); fmt.Sprint(vs) != "[4 3 2 1]" || b.Body["versions_next"] != nil {
			t.Errorf("bank's versions %v, next %v", vs, b.Body["versions_next"])
		}
	})
}

// toRows reads a list of JSON objects.
func toRows(v any) []map[string]any {
	var out []map[string]any
	for _, r := range v.([]any) {
		out = append(out, r.(map[string]any))
	}
	return out
}

// TestHashmatchListParametersRefused: a bad filter of a hash-matching list,
// or one the list does not have, is refused with its rule and field.
func TestHashmatchListParametersRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := w.Bank(t, "A")
		entries, versions := "/api/v1/hashmatch/banks/"+bank+"/entries", "/api/v1/hashmatch/banks/"+bank+"/versions"
		for _, c := range []struct {
			token, path string
			status      int
			code, rule  string
			field       string
		}{
			{w.Reviewer, "/api/v1/hashmatch/cases?status=pending", 422, "invalid", "enum", "status"},
			{w.Reviewer, "/api/v1/hashmatch/cases?status=all", 422, "invalid", "enum", "status"},
			{w.Reviewer, "/api/v1/hashmatch/cases?provider_id=" + w.OtherProvider, 422, "invalid", "query", "provider_id"},
			{w.Reviewer, "/api/v1/hashmatch/cases?from=2024-13-01", 422, "invalid", "date_format", "from"},
			{w.Reviewer, "/api/v1/hashmatch/cases?from=2024-02-01&to=2024-01-01", 422, "invalid", "dates_in_order", "to"},
			{w.Reviewer, "/api/v1/hashmatch/cases?limit=501", 422, "invalid", "range", "limit"},
			{w.Reviewer, "/api/v1/hashmatch/cases?cursor=abc", 400, "malformed", "cursor", "cursor"},
			{w.Reviewer, "/api/v1/hashmatch/cases?status=open&status=confirmed", 422, "invalid", "query", "status"},
			{w.Reviewer, "/api/v1/hashmatch/reports?status=open", 422, "invalid", "enum", "status"},
			{w.Reviewer, "/api/v1/hashmatch/reports?bank_id=" + bank, 422, "invalid", "query", "bank_id"},
			{w.Analyst, "/api/v1/hashmatch/reports?to=tomorrow", 422, "invalid", "date_format", "to"},
			{w.Analyst, entries + "?status=open", 422, "invalid", "enum", "status"},
			{w.Analyst, entries + "?from=2024-01-01", 422, "invalid", "query", "from"},
			{w.Analyst, entries + "?limit=0", 422, "invalid", "range", "limit"},
			{w.OtherAnalyst, entries, 403, "forbidden", "own_bank", "bank_id"},
			{w.Reviewer, entries, 403, "forbidden", "role", ""},
			{w.Reviewer, versions + "?id=1", 422, "invalid", "query", "id"},
			{w.Reviewer, versions + "?status=open", 422, "invalid", "query", "status"},
			{w.Analyst, "/api/v1/hashmatch/cases", 403, "forbidden", "role", ""},
		} {
			r := w.Do(t, "GET", c.path, c.token, nil)
			if r.Status != c.status || r.Str("error.code") != c.code || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
				t.Errorf("%s: %d %s, want %d %s rule %s field %s", c.path, r.Status, r.Raw, c.status, c.code, c.rule, c.field)
			}
		}
	})
}
