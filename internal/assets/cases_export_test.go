package assets_test

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/storetest"
)

// TestCasesExport: the list of cases downloads as CSV or XLSX, through the
// API and the cases' page, with each asset's measure ledger, a line per
// step in the currency the order was written in (the file a prosecutor
// takes to court); a case without an asset is one line. The file holds no
// name and no free text (the case's title, a legal person's name, an
// asset's description stay on the case's page), says it holds no personal
// data, and is logged; another state's officer finds none of the cases in
// its file, and a prosecutor's filter naming another state is refused
// before anything is logged.
func TestCasesExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		c, a := w.caseWithAsset(t, "EXP-1")
		owner, err := w.S.AddPerson(ctx, w.Prosecutor, c.ID, assets.NewPerson{Kind: "legal", Role: "owner", Country: "XB", Name: "Harbour Holdings Ltd", Registration: "XB-123"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.S.RecordRate(ctx, w.CA, assets.Rate{Currency: "EUR", To: "USD", Year: 2024, Rate: "1.1", Source: "central bank"}); err != nil {
			t.Fatal(err)
		}
		for _, m := range []assets.NewMeasure{measure("frozen", "2024-04-01", "1000000.50"),
			{Step: "confiscated", Confiscation: "criminal", DecidedOn: "2024-09-01", Instrument: "Judgment 88", Amount: "1000000", Currency: "USD", Authority: "Otherland High Court"}} {
			if _, err := w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, m); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.S.IdentifyAsset(ctx, w.Prosecutor, c.ID, assets.NewAsset{Type: "vessel", Jurisdiction: "XA", Description: "Yacht Synthia", Value: "300000",
			Currency: "GBP", HolderID: owner.ID, IdentifiedOn: "2024-05-02", Instrument: "Port register", Authority: "Harbour master"}); err != nil {
			t.Fatal(err)
		}
		empty, err := w.S.OpenCase(ctx, w.Prosecutor, assets.NewCase{Reference: "EXP-2", Title: "Kickbacks", Kind: assets.CaseDomestic, Offences: []string{"07031"}, OpenedOn: "2025-01-02"})
		if err != nil {
			t.Fatal(err)
		}

		r := w.Do(t, "GET", "/api/v1/assets/cases?format=csv", w.ProsecToken, nil)
		if r.Status != 200 || r.Header.Get("Custos-Export-Log-Entry") == "" || !strings.Contains(r.Header.Get("Content-Disposition"), "assets-cases-") {
			t.Fatalf("the cases as CSV: %d %v %s", r.Status, r.Header, r.Raw)
		}
		file := string(r.Raw)
		for _, want := range []string{"list,cases", "personal data,no",
			"\n" + strings.Join(assets.CasesColumns, ",") + "\n",
			c.ID + ",XA," + c.AuthorityID + ",EXP-1,outgoing,07032 07041,2024-03-01," + a.ID + ",bank_account,XB,1250000.50,EUR,,confiscated,0,identified,,2024-03-10,Tracing order 2024/17,1250000.50,EUR,Demoland Asset Recovery Office,\n",
			",confiscated,1,frozen,,2024-04-01,Order frozen,1000000.50,EUR,Otherland District Court,\n",
			",confiscated,2,confiscated,criminal,2024-09-01,Judgment 88,1000000.00,USD,Otherland High Court,\n",
			",vessel,XA,300000.00,GBP," + owner.ID + ",identified,0,identified,,2024-05-02,Port register,300000.00,GBP,Harbour master,\n",
			empty.ID + ",XA," + empty.AuthorityID + ",EXP-2,domestic,07031,2025-01-02" + strings.Repeat(",", len(assets.CasesColumns)-7) + "\n",
			"rows,5\n"} {
			if !strings.Contains(file, want) {
				t.Errorf("the file lacks %q:\n%s", want, file)
			}
		}
		for _, secret := range []string{"Harbour Holdings", "XB-123", "Synthia", "Embezzlement", "Kickbacks", "Current account"} {
			if strings.Contains(file, secret) {
				t.Errorf("the file holds %q:\n%s", secret, file)
			}
		}
		if r := w.Do(t, "GET", "/api/v1/assets/cases?format=xlsx&kind=domestic", w.CAToken, nil); r.Status != 200 || !strings.HasPrefix(string(r.Raw), "PK") {
			t.Errorf("the domestic cases as XLSX: %d %.200s", r.Status, r.Raw)
		}
		if r := w.Do(t, "GET", "/api/v1/assets/cases?format=csv", w.CABToken, nil); r.Status != 200 || strings.Contains(string(r.Raw), "EXP-") || !strings.Contains(string(r.Raw), "rows,0") {
			t.Errorf("Otherland's officer exports Demoland's cases: %d %s", r.Status, r.Raw)
		}
		refusedExports(t, w, w.ProsecToken, "/api/v1/assets/cases?format=csv&state=XB", "/api/v1/assets/cases?format=pdf", "/api/v1/assets/cases?format=csv&kind=any")
		// The cases' page links the file with its filters, and answers it.
		dl := pageDownload(t, w, w.ProsecToken, "/assets/cases?kind=domestic", `href="/assets/cases?format=csv&amp;kind=domestic"`)
		if !strings.Contains(dl, "list,cases") || !strings.Contains(dl, "filter,kind=domestic") || !strings.Contains(dl, ",EXP-2,") || strings.Contains(dl, ",EXP-1,") {
			t.Errorf("the page's download:\n%s", dl)
		}
	})
}

// refusedExports checks that each export of paths is refused (422) to
// token and writes nothing to the log.
func refusedExports(t *testing.T, w *world, token string, paths ...string) {
	t.Helper()
	before := leavesOf(t, w)
	for _, path := range paths {
		if r := w.Do(t, "GET", path, token, nil); r.Status != 422 {
			t.Errorf("GET %s: %d %s, want 422", path, r.Status, r.Raw)
		}
	}
	if n := leavesOf(t, w); n != before {
		t.Errorf("refused exports wrote %d entries", n-before)
	}
}

// pageDownload signs in with token, reads the list page path, checks that
// it holds link (a download of the list with its filters) and returns the
// CSV file of that page's list.
func pageDownload(t *testing.T, w *world, token, path, link string) string {
	t.Helper()
	b := w.signin(t, token)
	get := func(url string) string {
		resp, err := b.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		return readAll(t, resp)
	}
	if page := get(w.URL + path); !strings.Contains(page, link) {
		t.Errorf("%s has no download of its list (%s):\n%s", path, link, page)
	}
	return get(w.URL + path + "&format=csv")
}

// TestRequestsExport: the list of requests between states downloads as
// CSV or XLSX, through the API and the requests' page, each request as
// its reader reads it: the requesting state its sent requests and its
// drafts with their cases; the requested state the requests sent to it,
// without the requesting side's cases, authority and drafts. No free text
// that may name a person (the facts, the purpose) is in the file.
func TestRequestsExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, caseID, central, _ := requestWorld(t, dsn)
		sent, err := w.S.DraftRequest(ctx, w.CA, "", complete(caseID, central))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.S.SendRequest(ctx, w.CA, sent.ID); err != nil {
			t.Fatal(err)
		}
		draft, err := w.S.DraftRequest(ctx, w.Prosecutor, "", complete(caseID, central))
		if err != nil {
			t.Fatal(err)
		}
		r := w.Do(t, "GET", "/api/v1/assets/requests?format=csv", w.CAToken, nil)
		file := string(r.Raw)
		if r.Status != 200 || !strings.Contains(file, "list,requests") || !strings.Contains(file, "\n"+strings.Join(assets.RequestsColumns, ",")+"\n") ||
			!strings.Contains(file, sent.ID+",outgoing,requesting,sent,mla,XA,") || !strings.Contains(file, draft.ID+",outgoing,requesting,draft,mla,XA,") ||
			!strings.Contains(file, ","+caseID+","+w.CA.AuthorityID+",") || !strings.Contains(file, "rows,2\n") {
			t.Errorf("Demoland's requests as CSV: %d\n%s", r.Status, file)
		}
		r = w.Do(t, "GET", "/api/v1/assets/requests?format=csv", w.CABToken, nil)
		file = string(r.Raw)
		if r.Status != 200 || !strings.Contains(file, sent.ID+",outgoing,requested,sent,mla,XA,") || strings.Contains(file, draft.ID) ||
			strings.Contains(file, caseID) || strings.Contains(file, w.CA.AuthorityID) || !strings.Contains(file, "rows,1\n") {
			t.Errorf("Otherland's requests as CSV: %d\n%s", r.Status, file)
		}
		for _, token := range []string{w.CAToken, w.CABToken} {
			if r := w.Do(t, "GET", "/api/v1/assets/requests?format=xlsx&status=sent", token, nil); r.Status != 200 || !strings.HasPrefix(string(r.Raw), "PK") {
				t.Errorf("the requests sent as XLSX: %d %.200s", r.Status, r.Raw)
			}
			for _, secret := range []string{"embezzled", "Evidence for the prosecution", "moving funds"} {
				if r := w.Do(t, "GET", "/api/v1/assets/requests?format=csv", token, nil); strings.Contains(string(r.Raw), secret) {
					t.Errorf("the file holds %q:\n%s", secret, r.Raw)
				}
			}
		}
		refusedExports(t, w, w.ProsecToken, "/api/v1/assets/requests?format=csv&state=XB", "/api/v1/assets/requests?format=csv&overdue=yes", "/api/v1/assets/requests?format=ods")
		dl := pageDownload(t, w, w.CABToken, "/assets/requests?status=sent", `href="/assets/requests?format=xlsx&amp;status=sent"`)
		if !strings.Contains(dl, "filter,status=sent") || !strings.Contains(dl, sent.ID+",outgoing,requested,") || !strings.Contains(dl, "rows,1\n") {
			t.Errorf("the page's download:\n%s", dl)
		}
	})
}
