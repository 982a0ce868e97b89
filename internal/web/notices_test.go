package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// noticed is where p, a form's answer, sends the browser: a 303 to the page
// at path with a notice of what the form did. The test fails when it is not.
func noticed(t *testing.T, what string, p *page, path string) string {
	t.Helper()
	loc := p.Header.Get("Location")
	u, err := url.Parse(loc)
	if p.Status != http.StatusSeeOther || err != nil || u.Path != path || u.Query().Get("notice") == "" {
		t.Fatalf("%s: %d to %q, want a notice for %s\n%s", what, p.Status, loc, path, p.Body)
	}
	return loc
}

// recordOf is the record a form's answer sends the browser to: the last
// segment of its path, under prefix, with a notice.
func recordOf(t *testing.T, what string, p *page, prefix string) string {
	t.Helper()
	loc := p.Header.Get("Location")
	path, _, _ := strings.Cut(loc, "?")
	id, ok := strings.CutPrefix(path, prefix)
	if !ok || id == "" || strings.Contains(id, "/") {
		t.Fatalf("%s: %d to %q, want a record under %s", what, p.Status, loc, prefix)
	}
	noticed(t, what, p, path)
	return id
}

// TestNoticesUnforgeable: what a page says a form just did comes from the
// server, never from the address. On each page, the real form's answer
// shows its message; the bare ?done=… address that pages once read, the
// notice altered, the notice carried to another page (another donor's) and
// the notice opened by another principal show none.
func TestNoticesUnforgeable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		ad, coordA, coordB, reg := newBrowser(t, w.URL), newBrowser(t, w.URL), newBrowser(t, w.URL), newBrowser(t, w.URL)
		ad.signIn(w.Admin)
		coordA.signIn(w.CoordA)
		coordB.signIn(w.CoordB)
		reg.signIn(w.Regulator)
		spare := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Spare", "role": "auditor", "authority_id": w.RegulatorAuthority}).Str("id")
		otherForm := donorForm(yesterday())
		otherForm.Set("national_id", "XA999000111")
		otherForm.Set("date_of_birth", "1961-07-08")
		otherDonor := recordOf(t, "another donor", coordA.post("/transplant/donors", otherForm), "/transplant/donors/")

		for _, c := range []struct {
			name      string
			by        *browser
			form      string
			values    url.Values
			page      string // the page the answer goes to
			message   string
			forged    []string // addresses edited by hand
			other     *browser // another principal who reads the page
			elsewhere string   // another page of the same kind, "" for none
		}{
			{"preferences", coordA, "/account", url.Values{"time_zone": {"Europe/Paris"}}, "/account",
				"Your preferences are saved", []string{"/account?done=preferences"}, coordB, ""},
			{"donor", coordA, "/transplant/donors", donorForm(yesterday()), "/transplant/donors/",
				"Donor registered.", []string{"?done=donor"}, reg, "/transplant/donors/" + otherDonor},
			{"recipient", coordA, "/transplant/recipients", url.Values{"name": {"Test Recipient (synthetic)"}, "national_id": {"XA777000111"},
				"sex": {"male"}, "blood_group": {"A"}, "date_of_birth": {"1981-02-03"}, "residence": {"XA"}, "organ_needed": {"kidney"},
				"listed_on": {yesterday()}}, "/transplant/recipients", "is on the waiting list",
				[]string{"/transplant/recipients?done=recipient&id=RC-0000000000"}, coordB, ""},
			{"trafficking report", coordA, "/transplant/trafficking/reports", url.Values{"text": {"A broker (synthetic) was paid"},
				"indicators": {"documents.held_by_other"}}, "/transplant/trafficking/mine", "was sent to the designated authority",
				[]string{"/transplant/trafficking/mine?done=TR-0000000000"}, coordB, ""},
			{"centre authorization", reg, "/transplant/centres/" + w.CentreB + "/authorizations", url.Values{"activity": {"transplantation"},
				"organ": {"liver"}, "valid_from": {"2026-01-01"}}, "/transplant/centres", "Authorization granted.",
				[]string{"/transplant/centres?done=grant", "/transplant/centres?done=centre"}, ad, ""},
			{"authority", ad, "/authorities", url.Values{"name": {"Notices Office"}, "kind": {"regulator"}, "city": {"Port Aster"},
				"jurisdiction": {"XA"}}, "/authorities", "created.", []string{"/authorities?done=authority&id=" + w.CentreA}, nil, ""},
			{"revocation", ad, "/people/" + spare + "/revoke", url.Values{}, "/people", "is revoked",
				[]string{"/people?done=revoke&id=" + spare}, nil, ""},
		} {
			p := c.by.post(c.form, c.values)
			loc := p.Header.Get("Location")
			path, _, _ := strings.Cut(loc, "?")
			if strings.HasSuffix(c.page, "/") {
				recordOf(t, c.name, p, c.page)
			} else {
				noticed(t, c.name, p, c.page)
			}
			shown := c.by.get(loc)
			wantStatus(t, c.name, shown, http.StatusOK)
			mustContain(t, c.name, shown, `id="flash"`, c.message)

			none := func(what string, b *browser, addr string) {
				t.Helper()
				p := b.get(addr)
				wantStatus(t, c.name+", "+what, p, http.StatusOK)
				mustNotContain(t, c.name+", "+what+" "+addr, p, `id="flash"`)
			}
			for _, f := range c.forged {
				if strings.HasPrefix(f, "?") {
					f = path + f
				}
				// A list page refuses done, no filter of its own, by name.
				if p := c.by.get(f); p.Status == http.StatusUnprocessableEntity {
					mustContain(t, c.name+", the bare address "+f, p, "this list has no parameter done")
					mustNotContain(t, c.name+", the bare address "+f, p, `id="flash"`)
					continue
				}
				none("the bare address", c.by, f)
			}
			u, _ := url.Parse(loc)
			q := u.Query()
			token := q.Get("notice")
			last := "A"
			if strings.HasSuffix(token, last) {
				last = "B"
			}
			for i, altered := range []string{token[:len(token)-1] + last, "X" + token[1:], token + "0", ""} {
				q.Set("notice", altered)
				none("notice altered "+string(rune('a'+i)), c.by, u.Path+"?"+q.Encode())
			}
			if c.other != nil {
				none("another principal's notice", c.other, loc)
			}
			if c.elsewhere != "" {
				none("the notice on another page", c.by, c.elsewhere+"?notice="+url.QueryEscape(token))
			}
		}
	})
}

// TestSignInReasons: the sign-in page's ?reason= is read unsigned (whoever
// is signed out has no key to a notice), so it only chooses among the
// page's fixed messages (signInReasons): a known reason shows its message,
// anything else, text typed into the address included, shows nothing.
func TestSignInReasons(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		b := newBrowser(t, w.URL)
		for reason, message := range map[string]string{"signin": "Sign in to continue.", "signedout": "You are signed out.",
			"allout": "You are signed out of all your sessions, in every browser."} {
			p := b.get("/?reason=" + reason)
			wantStatus(t, reason, p, http.StatusOK)
			mustContain(t, reason, p, `id="flash">`+message+`<`)
		}
		for _, forged := range []string{"Your token leaked: call +1 555 0100", "<script>alert(1)</script>", "SIGNIN", "signin ", "expired2"} {
			p := b.get("/?reason=" + url.QueryEscape(forged))
			wantStatus(t, forged, p, http.StatusOK)
			mustNotContain(t, "the reason "+forged, p, `id="flash"`, "call +1 555", "alert(1)")
		}
	})
}
