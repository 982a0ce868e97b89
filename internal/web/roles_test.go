package web_test

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

var authorityCreated = regexp.MustCompile(`^/authorities\?notice=[^&#]+#authority-([A-Z]{2}-[0-9A-Z]{10})$`)

// TestAuthoritiesPage: the administrator registers an authority of each
// kind the catalogue declares and sees it listed under its kind; refusals
// come back on the form; no other role reaches the page.
func TestAuthoritiesPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		ad := newBrowser(t, w.URL)
		ad.signIn(w.Admin)
		p := ad.get("/authorities")
		wantStatus(t, "authorities", p, http.StatusOK)
		mustContain(t, "authorities", p, `<a href="/authorities" aria-current="page">Authorities</a>`,
			`<h2 id="kind-transplant_centre">Transplant centre</h2>`, `<h2 id="kind-competent_authority">Competent authority</h2>`,
			`<h2 id="kind-service_provider">Service provider</h2>`, `<h2 id="kind-regulator">Regulator</h2>`,
			`id="authority-`+w.CentreA+`"`, `id="authority-`+w.RegulatorAuthority+`"`,
			`<option value="service_provider">Service provider</option>`, `<form method="post" action="/authorities" id="authority" novalidate>`)
		mustContain(t, "admin home", ad.get("/"), `<a href="/authorities">Authorities</a>`)

		for _, c := range []struct {
			form         url.Values
			status       int
			rule, field  string
			kept, hlight string
		}{
			{url.Values{"name": {""}, "kind": {"service_provider"}}, 422, "required", "name", `<option value="service_provider" selected>`, "authority-name-error"},
			{url.Values{"name": {"Photo service"}, "kind": {"bakery"}}, 422, "enum", "kind", `value="Photo service"`, "authority-kind-error"},
			{url.Values{"name": {"Photo service"}, "kind": {"service_provider"}, "jurisdiction": {"France"}}, 422, "iso3166", "jurisdiction", `value="France"`, "authority-jurisdiction-error"},
			{url.Values{"name": {"Photo service"}, "kind": {"service_provider"}, "city": {strings.Repeat("x", 101)}}, 422, "too_long", "city", `value="Photo service"`, "authority-city-error"},
		} {
			p := ad.post("/authorities", c.form)
			wantStatus(t, c.rule, p, c.status)
			mustContain(t, c.rule, p, `id="refusal-rule">`+c.rule+`<`, `id="refusal-field">`+c.field+`<`, c.kept, `id="`+c.hlight+`"`)
		}

		ids := map[string]string{}
		for _, k := range []string{"service_provider", "competent_authority", "transplant_centre", "regulator"} {
			p := ad.post("/authorities", url.Values{"name": {"New " + k}, "kind": {k}, "city": {"Port Aster"}, "jurisdiction": {"FR"}})
			wantStatus(t, "create "+k, p, http.StatusSeeOther)
			m := authorityCreated.FindStringSubmatch(p.Header.Get("Location"))
			if m == nil {
				t.Fatalf("create %s: redirect to %q", k, p.Header.Get("Location"))
			}
			ids[k] = m[1]
			p = ad.get(p.Header.Get("Location"))
			mustContain(t, "created "+k, p, "Authority "+m[1]+" created.", `id="authority-`+m[1]+`"`)
			// Listed under its kind's heading, before the next kind's.
			at := strings.Index(p.Body, `id="authority-`+m[1]+`"`)
			if h := strings.Index(p.Body, `id="authorities-`+k+`"`); h < 0 || h > at {
				t.Errorf("%s is not listed under its kind", k)
			}
		}
		// The new provider takes a service principal on the People page.
		p = ad.post("/people", url.Values{"name": {"Pipeline"}, "role": {"service"}, "authority_id": {ids["service_provider"]}})
		wantStatus(t, "service of the new provider", p, http.StatusCreated)
		got := w.Must(t, 200, "GET", "/api/v1/authorities", w.Admin, nil).Raw
		if !strings.Contains(string(got), `"FR"`) || !strings.Contains(string(got), ids["competent_authority"]) {
			t.Errorf("the API does not list the authorities created: %s", got)
		}

		r := newBrowser(t, w.URL)
		r.signIn(w.Regulator)
		p = r.get("/authorities")
		wantStatus(t, "regulator authorities", p, http.StatusForbidden)
		mustContain(t, "regulator authorities", p, `id="refusal-rule">role<`)
		p = r.post("/authorities", url.Values{"name": {"X"}, "kind": {"regulator"}})
		wantStatus(t, "regulator creates", p, http.StatusForbidden)
		if strings.Contains(r.get("/").Body, `href="/authorities"`) {
			t.Error("the regulator's navigation shows Authorities")
		}
	})
}

// TestLogPage: the auditor reads the checkpoint, a leaf with its inclusion
// proof, runs a verify on the server and reads its result; a table changed
// behind the log's back is found; refusals stay on the leaf form; a
// coordinator does not reach the page.
func TestLogPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		au := newBrowser(t, w.URL)
		au.signIn(w.Auditor)
		mustContain(t, "auditor home", au.get("/"), `<a href="/log">Log</a>`, `id="log-card"`)
		cp := w.ServedRoot(t)
		size := cp.Size
		p := au.get("/log")
		wantStatus(t, "log", p, http.StatusOK)
		mustContain(t, "log", p, `<a href="/log" aria-current="page">Log</a>`, `id="log-size">`+itoa(size)+` leaves<`,
			`<pre class="note-text" id="log-checkpoint">`, "\n— ", `<form method="get" action="/log" id="leaf" novalidate>`,
			`<form method="post" action="/log/verify" id="verify" novalidate>`)
		// Each root the page shows is the signed checkpoint's root line, as
		// the auditor compares it, then its hex.
		wantCode(t, "log root", p, "log-root", cp.Text())

		p = au.get("/log?index=1")
		wantStatus(t, "leaf 1", p, http.StatusOK)
		mustContain(t, "leaf 1", p, `id="leaf-1"`, "The inclusion proof checks against this root.", `id="leaf-proof"`,
			`id="leaf-data">`, `authority.created`, `value="1"`)
		wantCode(t, "leaf 1 root", p, "leaf-root", w.ServedRoot(t).Text())
		for _, c := range []struct {
			q, rule string
			status  int
		}{{"abc", "integer", 422}, {"-1", "integer", 422}, {"", "integer", 422}, {itoa(int(size) + 5), "reference", 404}} {
			p := au.get("/log?index=" + url.QueryEscape(c.q))
			wantStatus(t, "leaf "+c.q, p, c.status)
			mustContain(t, "leaf "+c.q, p, `id="refusal-rule">`+c.rule+`<`, `id="refusal-field">index<`, `id="leaf-index-error"`)
		}

		p = au.get("/log/verify")
		mustContain(t, "no verify yet", p, `id="verify-none"`)
		p = au.post("/log/verify", url.Values{})
		wantStatus(t, "start verify", p, http.StatusSeeOther)
		p = waitVerify(t, au)
		wantCode(t, "verified root", p, "verify-root", w.ServedRoot(t).Text())
		mustContain(t, "verified", p, "No problem found", `id="verify-ok"`, `id="verify-size">`, "published key",
			`id="verify-sealed">`, " sealed rows checked against the log<", `<ul id="verify-covered">`,
			"<li>stats_columns: 0 records in 0 chunks of 0 imports, each chunk against the digests its import&#39;s entry carries</li>",
			"<li>exchange_refusals: 0 refusals of 0 commitments")
		mustContain(t, "log after verify", au.get("/log"), `id="verify-last"`, "no problem found")

		// A projected row changed behind the log's back is found.
		ctx := context.Background()
		tx, err := w.App.DB.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "UPDATE authorities SET name = 'Tampered' WHERE id = ?", w.CentreB); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		au.post("/log/verify", url.Values{})
		p = waitVerify(t, au)
		mustContain(t, "tampered", p, "Problems found", `id="verify-problems"`, "authorities")

		c := newBrowser(t, w.URL)
		c.signIn(w.CoordA)
		for _, path := range []string{"/log", "/log/verify"} {
			p := c.get(path)
			wantStatus(t, "coordinator "+path, p, http.StatusForbidden)
			mustContain(t, "coordinator "+path, p, `id="refusal-rule">role<`)
		}
		wantStatus(t, "coordinator verify", c.post("/log/verify", url.Values{}), http.StatusForbidden)
		for _, tok := range []string{w.Regulator, w.Admin} {
			b := newBrowser(t, w.URL)
			b.signIn(tok)
			wantStatus(t, "log", b.get("/log"), http.StatusOK)
		}
	})
}

// waitVerify follows the verify's page, which refreshes itself while the
// verify runs, until it shows the result.
func waitVerify(t *testing.T, b *browser) *page {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		p := b.get("/log/verify")
		wantStatus(t, "verify page", p, http.StatusOK)
		if strings.Contains(p.Body, `id="verify-result"`) {
			if strings.Contains(p.Body, `http-equiv="refresh"`) {
				t.Error("the result page refreshes itself")
			}
			return p
		}
		mustContain(t, "verify running", p, `id="verify-progress"`, `<meta http-equiv="refresh" content="2">`)
		if time.Now().After(deadline) {
			t.Fatal("the verify did not finish in a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// wantCode fails t unless the page's <code id="id"> reads want.
func wantCode(t *testing.T, what string, p *page, id, want string) {
	t.Helper()
	m := regexp.MustCompile(`<code id="` + id + `">([^<]*)</code>`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Errorf("%s: the page has no <code id=%q>", what, id)
	} else if got := html.UnescapeString(m[1]); got != want {
		t.Errorf("%s: the page shows %q, want %q", what, got, want)
	}
}

// TestHashmatchSubscribeAndMatchPages: the service subscribes its provider
// to banks from the bank list and a bank's page (refusals on the form),
// sees them on its subscriptions page with how to pull, and matches a batch
// of images, one result per file; other roles are refused.
func TestHashmatchSubscribeAndMatchPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{MaxUpload: 100 << 10, MaxBatchUpload: 2 << 20})
		a := apptest.BlocksPNG(t, 1)
		h, err := hashmatch.HashImage(bytes.NewReader(a), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		bank, other := w.Bank(t, "Known images"), w.Bank(t, "Second list")
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": []any{
			map[string]any{"entry_id": "img-a", "pdq": h.PDQ.String(), "classification": "A1"}}})

		sv := newBrowser(t, w.URL)
		sv.signIn(w.Service)
		mustContain(t, "service home", sv.get("/"), `href="/hashmatch/banks"`, `href="/hashmatch/match"`)
		p := sv.get("/hashmatch/subscriptions")
		mustContain(t, "no subscription", p, "Your service subscribes to no bank.", `href="/hashmatch/banks"`, `id="pull"`)
		p = sv.get("/hashmatch/banks")
		wantStatus(t, "banks", p, http.StatusOK)
		mustContain(t, "banks", p, `id="subscribe-`+bank+`"`, `id="subscribe-`+other+`"`, `action="/hashmatch/banks/`+bank+`/subscriptions"`)

		// From the list; then the same again from a stale list is refused there.
		p = sv.post("/hashmatch/banks/"+bank+"/subscriptions", url.Values{"from": {"list"}})
		wantStatus(t, "subscribe", p, http.StatusSeeOther)
		p = sv.get(noticed(t, "subscribe", p, "/hashmatch/subscriptions"))
		mustContain(t, "subscribed", p, "Your service now subscribes to "+bank, `id="subscriptions"`, "Known images",
			"custos hashmatch pull --url http://", "--bank BANK_ID")
		p = sv.post("/hashmatch/banks/"+bank+"/subscriptions", url.Values{"from": {"list"}})
		wantStatus(t, "subscribe twice", p, http.StatusConflict)
		mustContain(t, "subscribe twice", p, `id="refusal-rule">already_subscribed<`, `<a href="#subscribe-`+bank+`">Go to the form</a>`,
			`<form method="post" action="/hashmatch/banks/`+bank+`/subscriptions" id="subscribe-`+bank+`"`)
		p = sv.get("/hashmatch/banks")
		if strings.Contains(p.Body, `id="subscribe-`+bank+`"`) {
			t.Error("the list offers to subscribe to a bank subscribed to")
		}

		// From the bank's page.
		p = sv.get("/hashmatch/banks/" + other)
		mustContain(t, "other bank", p, `<form method="post" action="/hashmatch/banks/`+other+`/subscriptions" id="subscribe" novalidate>`)
		wantStatus(t, "subscribe other", sv.post("/hashmatch/banks/"+other+"/subscriptions", url.Values{}), http.StatusSeeOther)
		p = sv.get("/hashmatch/banks/" + other)
		mustContain(t, "other subscribed", p, `id="subscribed"`)
		mustNotContain(t, "other subscribed", p, `id="subscribe" novalidate`)
		p = sv.post("/hashmatch/banks/"+other+"/subscriptions", url.Values{})
		wantStatus(t, "other twice", p, http.StatusConflict)
		mustContain(t, "other twice", p, `id="refusal-rule">already_subscribed<`, `id="subscribe" novalidate`)
		p = sv.post("/hashmatch/banks/HB-0000000000/subscriptions", url.Values{})
		wantStatus(t, "unknown bank", p, http.StatusNotFound)

		// Only a service subscribes.
		rv := newBrowser(t, w.URL)
		rv.signIn(w.Reviewer)
		p = rv.post("/hashmatch/banks/"+bank+"/subscriptions", url.Values{"from": {"list"}})
		wantStatus(t, "reviewer subscribes", p, http.StatusForbidden)
		mustContain(t, "reviewer subscribes", p, `id="refusal-rule">role<`)
		mustNotContain(t, "reviewer subscriptions", rv.get("/hashmatch/subscriptions"), `id="pull"`)

		// Batch upload: a match, a rotated copy, no match, not an image, too big.
		p = sv.get("/hashmatch/match")
		wantStatus(t, "match form", p, http.StatusOK)
		mustContain(t, "match form", p, `enctype="multipart/form-data"`, `name="files" type="file" accept="image/*" multiple`, "1 to 100 images")
		big := make([]byte, 150<<10)
		copy(big, a)
		p = sv.postFiles("/hashmatch/match", url.Values{}, "files",
			upFile{"a.png", a}, upFile{"other.png", apptest.BlocksPNG(t, 3)}, upFile{"notes.txt", []byte("not an image")}, upFile{"big.png", big})
		wantStatus(t, "batch", p, http.StatusOK)
		mustContain(t, "batch", p, "4 files hashed and matched: 1 matched.", `id="result-0" class="status-match"`,
			`id="result-1" class="status-no_match"`, `id="result-2" class="status-error"`, `id="result-3" class="status-error"`,
			"img-a", ">notes.txt<", "files[2]", "files[3]")
		m := regexp.MustCompile(`href="/hashmatch/cases/(HC-[0-9A-Z]{10})"`).FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatal("the match links to no case")
		}
		mustContain(t, "case", rv.get("/hashmatch/cases/"+m[1]), "a.png")

		// Refusals of the whole batch come back on the form.
		p = sv.postFiles("/hashmatch/match", url.Values{}, "files")
		wantStatus(t, "no file", p, http.StatusUnprocessableEntity)
		mustContain(t, "no file", p, `id="refusal-rule">batch_size<`, `id="match-files-error"`, `aria-invalid="true"`)
		var many []upFile
		for i := range 101 {
			many = append(many, upFile{"x" + strconv.Itoa(i) + ".png", []byte("x")})
		}
		p = sv.postFiles("/hashmatch/match", url.Values{}, "files", many...)
		wantStatus(t, "101 files", p, http.StatusUnprocessableEntity)
		mustContain(t, "101 files", p, `id="refusal-rule">batch_size<`, "send 1 to 100 images")
		huge := make([]byte, 3<<20)
		p = sv.postFiles("/hashmatch/match", url.Values{}, "files", upFile{"huge.png", huge})
		wantStatus(t, "over the limit", p, http.StatusRequestEntityTooLarge)
		mustContain(t, "over the limit", p, `id="refusal-rule">form_size<`)
		p = rv.postFiles("/hashmatch/match", url.Values{}, "files", upFile{"a.png", a})
		wantStatus(t, "reviewer matches", p, http.StatusForbidden)
		mustContain(t, "reviewer matches", p, `id="refusal-rule">role<`)
		wantStatus(t, "reviewer match form", rv.get("/hashmatch/match"), http.StatusForbidden)
	})
}
