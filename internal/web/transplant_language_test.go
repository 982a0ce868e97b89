package web_test

import (
	"html"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/web"
)

// TestTransplantInEveryLanguage: in each language custos speaks, the
// registry's pages (a donor's, the trace of an organ, the organs available,
// the regulator's figures) are written in it: its words, its plural of a
// count, none of the English ones; identifiers stay in elements that keep
// them left to right (class "id"); a date without a time is in the
// language's layout and a list is joined with its separator.
func TestTransplantInEveryLanguage(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	donor := w.Must(t, 201, "POST", "/api/v1/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
	w.Must(t, 201, "POST", "/api/v1/donors/"+donor+"/consents", w.CoordA, map[string]any{"kind": "family_authorization",
		"given_on": yesterday(), "assessed_by": "Dr Test", "voluntary": true, "informed": true})
	pr := w.Must(t, 201, "POST", "/api/v1/procurements", w.CoordA, map[string]any{"donor_id": donor, "procured_at": apptest.Hours(2),
		"organs": []string{"kidney"}})
	kidney := pr.Body["organs"].([]any)[0].(map[string]any)["id"].(string)

	coord, reg := newBrowser(t, w.URL), newBrowser(t, w.URL)
	coord.signIn(w.CoordA)
	reg.signIn(w.Regulator)
	// in reads a page in the language of the switch's cookie (the
	// principals have no preference of their own).
	in := func(b *browser, code, path string) *page {
		t.Helper()
		req, err := http.NewRequest("GET", b.base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.AddCookie(b.cookie)
		req.AddCookie(&http.Cookie{Name: web.LanguageCookie, Value: code})
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		p := &page{Status: resp.StatusCode, Header: resp.Header, Body: string(raw)}
		wantStatus(t, code+" "+path, p, http.StatusOK)
		checkPage(t, code+" "+path, p.Body)
		return p
	}
	english := w.App.Languages.English()
	for _, code := range w.App.Languages.Codes() {
		l := w.App.Languages.Localizer(code)
		// has: the page carries the message in the language; in another
		// language than English, not in English.
		has := func(what string, p *page, ids ...string) {
			t.Helper()
			for _, id := range ids {
				if s := html.EscapeString(l.T(id)); !strings.Contains(p.Body, s) {
					t.Errorf("%s, %s: page lacks %q (%q)", code, what, s, id)
				}
				if code != i18n.Default && l.T(id) != english.T(id) && strings.Contains(p.Body, ">"+english.T(id)+"<") {
					t.Errorf("%s, %s: page has the English %q", code, what, id)
				}
			}
		}

		p := in(coord, code, "/transplant/donors/"+donor)
		has("donor", p, "Characterisation", "Consent and authorization", "Organs procured", "Record procurement",
			"Organ identifier", "Family authorization", "Kidney", "Deceased, after brain death (DBD)", "Blood group")
		mustContain(t, code+" donor", p, `<span class="id" id="donor-id">`+donor+`</span>`, `<a class="id organ-id" href="/transplant/trace?q=`+kidney+`">`)
		// the consent's day in the language's layout, not as stored; what it
		// attests joined in the language's way (Arabic "، ", not ", ").
		given, _ := time.Parse(time.DateOnly, yesterday())
		mustContain(t, code+" donor", p, `<td class="nowrap">`+l.Date(given)+`</td>`,
			"<td>"+l.T("voluntary")+l.ListSeparator()+l.T("informed")+"</td>")

		p = in(coord, code, "/transplant/trace?q="+kidney)
		has("trace", p, "From organ", "Procured by", "Transplant centre", "procured")
		if s := html.EscapeString(l.N("%d donors.", 1)); !strings.Contains(p.Body, s) {
			t.Errorf("%s, trace: page lacks %q", code, s)
		}

		p = in(coord, code, "/transplant/organs")
		has("organs", p, "Organs available", "Authorize for a recipient", "Donor–recipient compatibility is documented")

		p = in(reg, code, "/")
		has("figures", p, "Donation and transplantation by month", "Activity by centre", "Organs by type")
	}
}
