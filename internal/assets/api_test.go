package assets_test

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/storetest"
)

// TestAPI walks the registry's routes: a directory import refused line by
// line, then recorded; a case opened, an asset identified and frozen, an
// illegal step refused naming rule and field; the case file; another
// state's central authority answered not found.
func TestAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		r := w.Upload(t, "/api/v1/assets/directory/import?source=bad.csv", w.Admin, "text/csv", []byte(directoryCSV+"XA,central_authority,No contact,uncac_46,,en,,,,no,\n"))
		if r.Status != 422 || r.Str("error.rule") != "contact" || !strings.Contains(strings.ReplaceAll(string(r.Raw), " ", ""), `"line":4`) {
			t.Fatalf("a refused file: %d %s", r.Status, r.Raw)
		}
		if r := w.Upload(t, "/api/v1/assets/directory/import?source=directory.csv", w.Admin, "text/csv", []byte(directoryCSV)); r.Status != 201 {
			t.Fatalf("import: %d %s", r.Status, r.Raw)
		}
		// A line naming an entry that is not there is a refused line, as
		// the others are: 422 with its line, not a 404 for the file.
		r = w.Upload(t, "/api/v1/assets/directory/import?source=by-id.csv", w.CAToken, "text/csv",
			[]byte("id,state,kind,name,legal_bases,languages,email\nDI-NOTHERE,XA,central_authority,Unknown,uncac_46,en,a@b.example\n"))
		if r.Status != 422 || r.Str("error.rule") != "reference" || r.Str("error.field") != "id" ||
			!strings.Contains(strings.Join(strings.Fields(string(r.Raw)), ""), `"refused":[{"line":2,"rule":"reference","field":"id","message":"nodirectoryentryDI-NOTHERE"}]`) {
			t.Errorf("a file naming no entry: %d %s", r.Status, r.Raw)
		}
		if es := w.Must(t, 200, "GET", "/api/v1/assets/directory?state=XB", w.ProsecToken, nil).Body["entries"].([]any); len(es) != 1 {
			t.Errorf("XB's entries: %v", es)
		}
		c := w.Must(t, 201, "POST", "/api/v1/assets/cases", w.ProsecToken, map[string]any{"reference": "API-1", "title": "Bribery", "kind": "domestic",
			"offences": []string{"070311"}, "opened_on": "2024-01-05"}).Str("id")
		a := w.Must(t, 201, "POST", "/api/v1/assets/cases/"+c+"/assets", w.ProsecToken, map[string]any{"type": "real_estate", "jurisdiction": "XA",
			"description": "Villa", "value": "750000", "currency": "EUR", "identified_on": "2024-01-10", "instrument": "Land registry search", "authority": "ARO"}).Str("id")
		w.Must(t, 201, "POST", "/api/v1/assets/assets/"+a+"/measures", w.ProsecToken, map[string]any{"step": "seized", "decided_on": "2024-02-01",
			"instrument": "Seizure order 12", "amount": "750000", "currency": "EUR", "authority": "Investigating judge"})
		r = w.Do(t, "POST", "/api/v1/assets/assets/"+a+"/measures", w.ProsecToken, map[string]any{"step": "returned", "returned_to": "XA", "decided_on": "2024-03-01",
			"instrument": "x", "amount": "1", "currency": "EUR", "authority": "y"})
		if r.Status != 409 || r.Str("error.rule") != "measure_transition" || r.Str("error.field") != "step" {
			t.Errorf("a seized asset returned: %d %s", r.Status, r.Raw)
		}
		f := w.Must(t, 200, "GET", "/api/v1/assets/cases/"+c, w.CAToken, nil)
		if as := f.Body["assets"].([]any); len(as) != 1 || as[0].(map[string]any)["status"] != "seized" || len(as[0].(map[string]any)["measures"].([]any)) != 2 {
			t.Errorf("the case file: %s", f.Raw)
		}
		if cs := w.Must(t, 200, "GET", "/api/v1/assets/cases?status=seized&q=brib", w.CAToken, nil).Body["cases"].([]any); len(cs) != 1 {
			t.Errorf("cases with a seized asset: %v", cs)
		}
		// A search text is a text, not a pattern: % and _ find themselves;
		// one too long to be a search is refused (SQLite's LIKE refuses a
		// pattern over 50,000 bytes with an internal error).
		for _, q := range []string{"%25", "b_ibery"} {
			if cs := w.Must(t, 200, "GET", "/api/v1/assets/cases?q="+q, w.CAToken, nil).Body["cases"].([]any); len(cs) != 0 {
				t.Errorf("cases holding %q: %v", q, cs)
			}
		}
		for _, list := range []string{"cases", "directory", "requests"} {
			r := w.Do(t, "GET", "/api/v1/assets/"+list+"?q="+strings.Repeat("a", 50001), w.CAToken, nil)
			if r.Status != 422 || r.Str("error.rule") != "too_long" || r.Str("error.field") != "q" {
				t.Errorf("%s searched for 50,001 characters: %d %s", list, r.Status, r.Raw)
			}
		}
		cab := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "B2", "role": "central_authority_officer", "authority_id": w.CAB.AuthorityID}).Str("token")
		if r := w.Do(t, "GET", "/api/v1/assets/cases/"+c, cab, nil); r.Status != 404 {
			t.Errorf("Otherland reads Demoland's case: %d", r.Status)
		}
		r = w.Do(t, "GET", "/api/v1/assets/statistics?currency=EUR&format=csv", w.CAToken, nil)
		if r.Status != 200 || !strings.Contains(string(r.Raw), "year,case_kind,measure,cases,amount,currency") {
			t.Errorf("the statistics as CSV: %d %s", r.Status, r.Raw)
		}
	})
}

// TestStateFilterRefused: a state filter that is no ISO 3166-1 code (xb
// typed in small letters, XBB, a control character) is refused naming the
// rule country and the field state, as the requests' and the statistics'
// filters refuse it, not answered with an empty list that reads as "no
// case", "no person" or "no central authority" of that state.
func TestStateFilterRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		if r := w.Upload(t, "/api/v1/assets/directory/import?source=directory.csv", w.Admin, "text/csv", []byte(directoryCSV)); r.Status != 201 {
			t.Fatalf("import: %d %s", r.Status, r.Raw)
		}
		w.Must(t, 201, "POST", "/api/v1/assets/cases", w.ProsecToken, map[string]any{"reference": "ST-1", "title": "Bribery", "kind": "domestic",
			"offences": []string{"070311"}, "opened_on": "2024-01-05"})
		audit := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Court of Audit", "kind": "regulator", "jurisdiction": "XA"}).Str("id")
		auditor := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Auditor", "role": "auditor", "authority_id": audit}).Str("token")
		for _, bad := range []string{"xb", "XBB", "X%00"} {
			for _, c := range []struct{ path, token string }{
				{"/api/v1/assets/directory?state=" + bad, w.ProsecToken},
				{"/api/v1/assets/directory?state=" + bad, w.CAToken},
				{"/api/v1/assets/cases?state=" + bad, auditor},
			} {
				if r := w.Do(t, "GET", c.path, c.token, nil); r.Status != 422 || r.Str("error.rule") != "country" || r.Str("error.field") != "state" {
					t.Errorf("GET %s: %d %s, want 422 country on state", c.path, r.Status, r.Raw)
				}
			}
		}
		_, err := w.S.Persons(ctx, w.Auditor, assets.PersonFilter{State: "xa"})
		refused(t, "the persons of state xa", err, "country", "state")
		// A code well written is a filter, as before.
		if es := w.Must(t, 200, "GET", "/api/v1/assets/directory?state=XB", w.ProsecToken, nil).Body["entries"].([]any); len(es) != 1 {
			t.Errorf("XB's entries: %v", es)
		}
		if cs := w.Must(t, 200, "GET", "/api/v1/assets/cases?state=XA", auditor, nil).Body["cases"].([]any); len(cs) != 1 {
			t.Errorf("XA's cases for the auditor: %v", cs)
		}
		if ps, err := w.S.Persons(ctx, w.Auditor, assets.PersonFilter{State: "XA"}); err != nil || len(ps) != 0 {
			t.Errorf("XA's persons for the auditor: %v, %v", ps, err)
		}
	})
}

// TestStateFilterOwnState: a central authority or prosecutor, who reads
// its own state's cases, persons, requests and statistics only, is refused
// a filter naming another state (422, rule state_filter, field state), not
// answered with its own state's rows under the other state's name: a
// prosecutor of Demoland asking Otherland's statistics was given
// Demoland's amounts, and the CSV file wrote state=XB above them. Its own
// state named is a filter, as before; a filter badly written is refused
// as the regulator's is (country).
func TestStateFilterOwnState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		w.caseWithAsset(t, "XA-1")
		for _, path := range []string{"/api/v1/assets/cases?state=XB", "/api/v1/assets/requests?state=XB",
			"/api/v1/assets/statistics?currency=EUR&state=XB", "/api/v1/assets/statistics?currency=EUR&state=XB&format=csv"} {
			r := w.Do(t, "GET", path, w.ProsecToken, nil)
			if r.Status != 422 || r.Str("error.rule") != "state_filter" || r.Str("error.field") != "state" {
				t.Errorf("Demoland's prosecutor: GET %s: %d %s, want 422 state_filter on state", path, r.Status, r.Raw)
			}
			if strings.Contains(string(r.Raw), "07032") || strings.Contains(string(r.Raw), "outgoing") {
				t.Errorf("GET %s answered Demoland's rows: %s", path, r.Raw)
			}
		}
		_, err := w.S.Persons(ctx, w.CAB, assets.PersonFilter{State: "XA"})
		refused(t, "Otherland's officer asks Demoland's persons", err, "state_filter", "state")
		_, err = w.S.Cases(ctx, w.CAB, assets.CaseFilter{State: "xa"})
		refused(t, "a filter badly written", err, "country", "state")
		// Its own state named reads its own, as no filter does.
		if cs := w.Must(t, 200, "GET", "/api/v1/assets/cases?state=XA", w.ProsecToken, nil).Body["cases"].([]any); len(cs) != 1 {
			t.Errorf("Demoland's cases for its prosecutor: %v", cs)
		}
		own := w.Must(t, 200, "GET", "/api/v1/assets/statistics?currency=EUR&state=XA", w.ProsecToken, nil)
		all := w.Must(t, 200, "GET", "/api/v1/assets/statistics?currency=EUR", w.ProsecToken, nil)
		if string(own.Raw) != string(all.Raw) || !strings.Contains(string(own.Raw), "outgoing") {
			t.Errorf("Demoland's statistics named: %s, unnamed: %s", own.Raw, all.Raw)
		}
		// The regulator and the auditor filter by any state.
		if _, err := w.S.Persons(ctx, w.Auditor, assets.PersonFilter{State: "XB"}); err != nil {
			t.Errorf("the auditor asks Otherland's persons: %v", err)
		}
	})
}

// TestPersonsAPI: GET /api/v1/assets/persons lists the persons of the
// cases the principal may see, as `custos assets persons list` and the
// persons' page do: filtered by kind, role and text, a natural person's
// name sealed (in no answer, found by no search); another state's officer
// lists none of them; a filter outside its list is refused naming it.
func TestPersonsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		c := w.Must(t, 201, "POST", "/api/v1/assets/cases", w.ProsecToken, map[string]any{"reference": "API-P", "title": "Harbour", "kind": "domestic",
			"offences": []string{"070311"}, "opened_on": "2024-01-05"}).Str("id")
		nat := w.Must(t, 201, "POST", "/api/v1/assets/cases/"+c+"/persons", w.ProsecToken, map[string]any{"kind": "natural", "role": "suspect", "country": "XA",
			"name": "Synthia Example", "birth_date": "1970-01-02"}).Str("id")
		leg := w.Must(t, 201, "POST", "/api/v1/assets/cases/"+c+"/persons", w.ProsecToken, map[string]any{"kind": "legal", "role": "owner", "country": "XA",
			"name": "Harbour Holdings Ltd", "registration": "HR-77"}).Str("id")
		ids := func(r map[string]any) string {
			var out []string
			for _, p := range r["persons"].([]any) {
				out = append(out, p.(map[string]any)["id"].(string))
			}
			return strings.Join(out, " ")
		}
		all := w.Must(t, 200, "GET", "/api/v1/assets/persons", w.CAToken, nil)
		if got, want := ids(all.Body), strings.Join([]string{nat, leg}, " "); got != want && got != leg+" "+nat {
			t.Fatalf("the persons: %s, want %s", got, want)
		}
		if strings.Contains(string(all.Raw), "Synthia") {
			t.Fatalf("a natural person's name in the list: %s", all.Raw)
		}
		if got := ids(w.Must(t, 200, "GET", "/api/v1/assets/persons?kind=legal&q=harbour", w.ProsecToken, nil).Body); got != leg {
			t.Errorf("legal persons holding harbour: %q, want %s", got, leg)
		}
		if got := ids(w.Must(t, 200, "GET", "/api/v1/assets/persons?q=synthia", w.ProsecToken, nil).Body); got != "" {
			t.Errorf("a sealed name found by a search: %q", got)
		}
		if got := ids(w.Must(t, 200, "GET", "/api/v1/assets/persons?role=suspect", w.ProsecToken, nil).Body); got != nat {
			t.Errorf("suspects: %q, want %s", got, nat)
		}
		if got := ids(w.Must(t, 200, "GET", "/api/v1/assets/persons", w.CABToken, nil).Body); got != "" {
			t.Errorf("Otherland lists Demoland's persons: %q", got)
		}
		if r := w.Do(t, "GET", "/api/v1/assets/persons?kind=alien", w.ProsecToken, nil); r.Status != 422 || r.Str("error.field") != "kind" {
			t.Errorf("an unknown kind: %d %s", r.Status, r.Raw)
		}
		if r := w.Do(t, "GET", "/api/v1/assets/persons?state=XB", w.ProsecToken, nil); r.Status != 422 || r.Str("error.rule") != "state_filter" {
			t.Errorf("another state's filter: %d %s", r.Status, r.Raw)
		}
	})
}
