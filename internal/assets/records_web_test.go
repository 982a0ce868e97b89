package assets_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/storetest"
)

// TestRecordForms: on a case's page a central authority officer adds a
// person, records an asset held by it and links another case; a refused
// form shows its rule and field and keeps what was typed, and records
// nothing; another state's officer sees none of it. On the exchange rates
// page the officer records a rate, filters the list, and a refused rate
// records nothing.
func TestRecordForms(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		c, _ := w.caseWithAsset(t, "FORM-1")
		other, _ := w.caseWithAsset(t, "FORM-2")
		signin := func(token string) *http.Client { return w.signin(t, token) }
		browser := signin(w.CAToken)
		get := func(b *http.Client, path string) (int, string) {
			t.Helper()
			resp, err := b.Get(w.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(body)
		}
		_, page := get(browser, "/assets/cases/"+c.ID)
		m := csrfRE.FindStringSubmatch(page)
		if m == nil || !strings.Contains(page, `id="person"`) || !strings.Contains(page, `id="asset"`) || !strings.Contains(page, `id="link"`) {
			t.Fatalf("the case page lacks its forms:\n%s", page)
		}
		post := func(path string, v url.Values) (string, string) {
			t.Helper()
			v.Set("csrf", m[1])
			resp, err := browser.PostForm(w.URL+path, v)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return string(body), resp.Request.URL.RawQuery
		}
		leaves := leavesOf(t, w)
		b, _ := post("/assets/cases/"+c.ID+"/persons", url.Values{"kind": {"natural"}, "role": {"suspect"}, "country": {"xa"}, "name": {"Typed Name"}, "registration": {"R-1"}})
		if !strings.Contains(b, "natural_person") || !strings.Contains(b, `class="form-error"`) || !strings.Contains(b, "Typed Name") {
			t.Fatalf("a refused person:\n%s", b)
		}
		if n := leavesOf(t, w); n != leaves {
			t.Fatalf("a refused form wrote %d leaves", n-leaves)
		}
		b, q := post("/assets/cases/"+c.ID+"/persons", url.Values{"kind": {"legal"}, "role": {"owner"}, "country": {"xa"}, "name": {"Harbour Holdings Ltd"}, "registration": {"HR-77"}})
		if !strings.HasPrefix(q, "notice=") || !strings.Contains(b, "Harbour Holdings Ltd") || !strings.Contains(b, "The person is added to the case.") {
			t.Fatalf("a person added (%s):\n%s", q, b)
		}
		f, err := w.S.CaseFile(ctx, w.CA, c.ID)
		if err != nil || len(f.Persons) != 1 {
			t.Fatalf("persons after the form: %v %+v", err, f)
		}
		holder := f.Persons[0].ID
		if !strings.Contains(b, `value="`+holder+`"`) {
			t.Errorf("the asset form does not offer the person %s as holder", holder)
		}
		b, q = post("/assets/cases/"+c.ID+"/assets", url.Values{"type": {"real_estate"}, "jurisdiction": {"xb"}, "description": {"Villa on the coast"},
			"value": {"1200000.00"}, "currency": {"eur"}, "holder_id": {holder}, "identified_on": {"2024-03-01"}, "instrument": {"Land registry extract 12"}, "authority": {"ARO"}})
		if !strings.HasPrefix(q, "notice=") || !strings.Contains(b, "Villa on the coast") {
			t.Fatalf("an asset recorded (%s):\n%s", q, b)
		}
		f, _ = w.S.CaseFile(ctx, w.CA, c.ID)
		villa := 0
		for _, a := range f.Assets {
			if a.Description == "Villa on the coast" && a.HolderID == holder && a.Jurisdiction == "XB" && a.Currency == "EUR" {
				villa++
			}
		}
		if len(f.Assets) != 2 || villa != 1 {
			t.Fatalf("assets after the form: %+v", f.Assets)
		}
		b, q = post("/assets/cases/"+c.ID+"/links", url.Values{"other_id": {other.ID}, "reason": {"Same villa"}})
		if !strings.HasPrefix(q, "notice=") || !strings.Contains(b, `href="/assets/cases/`+other.ID+`"`) {
			t.Fatalf("a link recorded (%s):\n%s", q, b)
		}
		b, _ = post("/assets/cases/"+c.ID+"/links", url.Values{"other_id": {other.ID}, "reason": {"Again"}})
		if !strings.Contains(b, "link_exists") || !strings.Contains(b, `class="form-error"`) {
			t.Fatalf("a second link:\n%s", b)
		}
		// The persons across the cases, searched and filtered.
		if _, l := get(browser, "/assets/persons?q=harbour"); !strings.Contains(l, `id="person-`+holder+`"`) {
			t.Errorf("the persons found by harbour lack %s:\n%s", holder, l)
		}
		if code, l := get(browser, "/assets/persons?q="+strings.Repeat("a", 50001)); code != 422 || !strings.Contains(l, "too_long") {
			t.Errorf("the persons searched for 50,001 characters: %d\n%s", code, l)
		}
		if _, l := get(browser, "/assets/persons?kind=natural"); strings.Contains(l, `id="person-`+holder+`"`) {
			t.Errorf("the natural persons hold the company %s", holder)
		}
		// Otherland's central authority sees neither the case, its forms nor its persons.
		cab := signin(w.CABToken)
		if code, _ := get(cab, "/assets/cases/"+c.ID); code != 404 {
			t.Errorf("another state's officer gets the case page: %d", code)
		}
		if _, l := get(cab, "/assets/persons"); strings.Contains(l, holder) || !strings.Contains(l, "No person matches.") {
			t.Errorf("another state's officer sees Demoland's persons")
		}

		// Exchange rates.
		leaves = leavesOf(t, w)
		b, _ = post("/assets/rates", url.Values{"currency": {"eur"}, "to": {"EUR"}, "year": {"2024"}, "rate": {"1"}, "source": {"ECB"}})
		if !strings.Contains(b, "rate_currencies") || !strings.Contains(b, `class="form-error"`) || leavesOf(t, w) != leaves {
			t.Fatalf("a refused rate:\n%s", b)
		}
		b, q = post("/assets/rates", url.Values{"currency": {"eur"}, "to": {"usd"}, "year": {"2024"}, "rate": {"1.0821"}, "source": {"ECB reference rates"}})
		if !strings.HasPrefix(q, "notice=") || !strings.Contains(b, `id="rate-EUR-USD-2024"`) || !strings.Contains(b, "1.0821") {
			t.Fatalf("a rate recorded (%s):\n%s", q, b)
		}
		// A year that is not a number, or not written in digits alone, is
		// refused naming it, not read as 0 or 2024; the rate opposite to
		// one recorded for the year is refused as its inverse.
		leaves = leavesOf(t, w)
		for _, y := range []string{"twenty", "+2024", " 2024", ""} {
			b, q = post("/assets/rates", url.Values{"currency": {"GBP"}, "to": {"USD"}, "year": {y}, "rate": {"1.27"}, "source": {"BoE"}})
			if q != "" || !strings.Contains(b, "year must be a year from 1900 to 9999") || !strings.Contains(b, `class="form-error"`) {
				t.Errorf("a rate for the year %q (%s):\n%s", y, q, b)
			}
		}
		b, q = post("/assets/rates", url.Values{"currency": {"usd"}, "to": {"eur"}, "year": {"2024"}, "rate": {"0.92"}, "source": {"ECB"}})
		if q != "" || !strings.Contains(b, "rate_inverse") || !strings.Contains(b, `class="form-error"`) {
			t.Errorf("USD to EUR for 2024, which holds EUR to USD (%s):\n%s", q, b)
		}
		if leavesOf(t, w) != leaves {
			t.Errorf("refused rates wrote leaves")
		}
		if _, l := get(browser, "/assets/rates?currency=GBP"); strings.Contains(l, `id="rate-EUR-USD-2024"`) {
			t.Errorf("the rates filtered on GBP hold EUR->USD")
		}
		if _, home := get(browser, "/"); !strings.Contains(home, `href="/assets/rates"`) {
			t.Errorf("the navigation lacks the exchange rates")
		}
	})
}

func leavesOf(t *testing.T, w *world) int {
	t.Helper()
	var n int
	if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM log_leaves").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMeasureFormOwnCase: the form of one case's page that records a step
// takes the asset's id from the form body; a post naming an asset of
// another case of the same state is refused (asset_case, on asset_id) and
// records nothing, on the page as in the service.
func TestMeasureFormOwnCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		c, mine := w.caseWithAsset(t, "OWN-1")
		other, theirs := w.caseWithAsset(t, "OWN-2")
		browser := w.signin(t, w.CAToken)
		resp, err := browser.Get(w.URL + "/assets/cases/" + c.ID)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := csrfRE.FindStringSubmatch(string(page))
		if m == nil {
			t.Fatalf("no CSRF token on the case page:\n%s", page)
		}
		leaves := leavesOf(t, w)
		form := url.Values{"csrf": {m[1]}, "asset_id": {theirs.ID}, "step": {"frozen"}, "decided_on": {"2024-04-01"}, "instrument": {"Freezing order 1"},
			"amount": {"1000.00"}, "currency": {"EUR"}, "authority": {"Otherland District Court"}}
		resp, err = browser.PostForm(w.URL+"/assets/cases/"+c.ID+"/measures", form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 422 || !strings.Contains(string(body), "asset_case") || !strings.Contains(string(body), "asset_id") ||
			strings.Contains(resp.Request.URL.RawQuery, "notice=") {
			t.Fatalf("a step posted on case %s for an asset of case %s: %d %s\n%s", c.ID, other.ID, resp.StatusCode, resp.Request.URL, body)
		}
		if n := leavesOf(t, w); n != leaves {
			t.Fatalf("the refused step wrote %d leaves", n-leaves)
		}
		if n := w.measures(t, other.ID); n != 1 {
			t.Fatalf("the other case's asset has %d steps, want its identification alone", n)
		}
		_, err = w.S.RecordCaseMeasure(ctx, w.Prosecutor, c.ID, theirs.ID, measure(assets.StepFrozen, "2024-04-01", "1000.00"))
		refused(t, "the service, an asset of another case", err, "asset_case", "asset_id")
		if _, err := w.S.RecordCaseMeasure(ctx, w.Prosecutor, c.ID, mine.ID, measure(assets.StepFrozen, "2024-04-01", "1000.00")); err != nil {
			t.Fatalf("a step on the case's own asset: %v", err)
		}
		// Its own asset, from the form, is recorded.
		form.Set("asset_id", mine.ID)
		form.Set("step", "seized")
		form.Set("amount", "900.00")
		resp, err = browser.PostForm(w.URL+"/assets/cases/"+c.ID+"/measures", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !strings.HasPrefix(resp.Request.URL.RawQuery, "notice=") {
			t.Fatalf("a step on the case's own asset from the form: %d %s", resp.StatusCode, resp.Request.URL)
		}
	})
}
