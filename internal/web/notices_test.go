package web_test

import (
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/web"
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

// TestSignInReasons: the sign-in form says why it is shown only when
// custos sent the browser there. Each reason comes through its real
// redirect (a page asked for signed out, a session ended behind the
// cookie, Sign out, Sign out everywhere) in a cookie that no script reads
// and no other site sends, read once: the address names no reason, and a
// reload says nothing. An address typed or sent by hand (?reason=expired)
// says nothing either, nor does a cookie with a reason custos does not
// give. The form's language switch says the reason again in the new
// language; a switch posted from another site plants none.
func TestSignInReasons(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		flash := func(message string) string { return `id="flash">` + template.HTMLEscapeString(message) + `<` }
		for _, c := range []struct {
			reason, message string
			redirect        func(b *browser) *page // custos's own redirect to the form
		}{
			{"signin", "Sign in to continue.", func(b *browser) *page { return b.get("/transplant/donors") }},
			{"expired", "Your session has ended: you signed out, were inactive too long, or your access was revoked. Sign in again.",
				func(b *browser) *page {
					b.cookie = &http.Cookie{Name: web.CookieName, Value: "cst_endedlongago"}
					return b.get("/transplant/donors")
				}},
			{"signedout", "You are signed out.", func(b *browser) *page { b.signIn(w.CoordA); return b.post("/signout", url.Values{}) }},
			{"allout", "You are signed out of all your sessions, in every browser.",
				func(b *browser) *page { b.signIn(w.CoordA); return b.post("/account/sessions/end-all", url.Values{}) }},
		} {
			b := newBrowser(t, w.URL)
			p := c.redirect(b)
			wantStatus(t, c.reason, p, http.StatusSeeOther)
			loc := p.Header.Get("Location")
			if u, err := url.Parse(loc); err != nil || u.Path != "/" || u.Query().Has("reason") {
				t.Errorf("%s: redirect to %q, want the sign-in form with no reason in its address", c.reason, loc)
			}
			var set *http.Cookie
			for _, k := range (&http.Response{Header: p.Header}).Cookies() {
				switch {
				case k.Name == web.ReasonCookie:
					set = k
				case k.Name == web.CookieName && k.MaxAge < 0:
					b.cookie = nil // as a browser clears it
				}
			}
			if c.reason != "signin" && b.cookie != nil {
				t.Errorf("%s: the redirect left the session cookie", c.reason)
			}
			if set == nil || set.Value != c.reason || !set.HttpOnly || set.SameSite != http.SameSiteStrictMode || set.Path != "/" ||
				set.MaxAge <= 0 || set.MaxAge > 300 || set.Secure {
				t.Errorf("%s: the reason cookie is %+v, want %q, HttpOnly, SameSite=Strict, short-lived, not Secure over plain HTTP", c.reason, set, c.reason)
			}
			p = b.get(loc)
			wantStatus(t, c.reason, p, http.StatusOK)
			mustContain(t, c.reason, p, flash(c.message), `<input type="hidden" name="reason" value="`+c.reason+`">`)
			if b.reason != nil {
				t.Errorf("%s: the form left the reason cookie: %+v", c.reason, b.reason)
			}
			p = b.get(loc)
			mustNotContain(t, c.reason+", the form reloaded", p, `id="flash"`, `name="reason"`)
		}

		// Typed or sent by hand: nothing, whatever the reason.
		for _, typed := range []string{"expired", "signin", "signedout", "allout", "Your token leaked: call +1 555 0100", "<script>alert(1)</script>"} {
			p := newBrowser(t, w.URL).get("/?reason=" + url.QueryEscape(typed))
			wantStatus(t, typed, p, http.StatusOK)
			mustNotContain(t, "the address's reason "+typed, p, `id="flash"`, `name="reason"`, "call +1 555", "alert(1)")
		}
		planted := newBrowser(t, w.URL)
		planted.reason = &http.Cookie{Name: web.ReasonCookie, Value: "Your token leaked: call +1 555 0100"}
		mustNotContain(t, "a reason custos does not give", planted.get("/"), `id="flash"`, "call +1 555")

		// The language switch of the form: the reason again, in French.
		b := newBrowser(t, w.URL)
		b.signIn(w.CoordA)
		loc := b.post("/signout", url.Values{}).Header.Get("Location")
		b.cookie = nil // cleared by the answer, as above
		mustContain(t, "signed out", b.get(loc), flash("You are signed out."))
		p := b.do("POST", "/language", url.Values{"language": {"fr"}, "next": {loc}, "reason": {"signedout"}})
		wantStatus(t, "the language switch", p, http.StatusSeeOther)
		// The test's browser keeps no language cookie: send the switch's.
		var fr *http.Cookie
		for _, k := range (&http.Response{Header: p.Header}).Cookies() {
			if k.Name == web.LanguageCookie {
				fr = k
			}
		}
		req, err := http.NewRequest("GET", w.URL+p.Header.Get("Location"), nil)
		if err != nil || fr == nil || b.reason == nil {
			t.Fatalf("the language switch: %v, language cookie %v, reason cookie %v", err, fr, b.reason)
		}
		req.AddCookie(fr)
		req.AddCookie(b.reason)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		mustContain(t, "signed out, in French", &page{Status: resp.StatusCode, Body: string(body)}, flash("Vous êtes déconnecté."))
		b.reason = nil // read and cleared by that page
		// Without a reason (the form showed none), or one custos does not
		// give: nothing.
		for _, reason := range []string{"", "Your token leaked"} {
			p = b.do("POST", "/language", url.Values{"language": {"fr"}, "next": {"/"}, "reason": {reason}})
			mustNotContain(t, "the switch with reason "+reason, b.get(p.Header.Get("Location")), `id="flash"`)
		}
		// The same form posted from another site is refused, and plants
		// nothing.
		req, err = http.NewRequest("POST", w.URL+"/language", strings.NewReader(url.Values{"language": {"en"}, "next": {"/"}, "reason": {"expired"}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://phish.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("a language switch from another site: status %d, want 403", resp.StatusCode)
		}
		for _, k := range resp.Cookies() {
			if k.Name == web.ReasonCookie {
				t.Errorf("a language switch from another site set the reason cookie: %+v", k)
			}
		}
	})
}
