package moduletest_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/web"
	"github.com/custos-project/custos/internal/web/moduletest"
)

// client is a browser of one server: it keeps its cookies and follows no
// redirect, so the test sees each answer.
type client struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(method, path string, form url.Values) (int, http.Header, string) {
	c.t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodPost {
		resp, err = c.c.PostForm(c.base+path, form)
	} else {
		resp, err = c.c.Get(c.base + path)
	}
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

func (c *client) signIn(token string) {
	c.t.Helper()
	if status, _, body := c.do("POST", "/signin", url.Values{"token": {token}}); status != http.StatusSeeOther {
		c.t.Fatalf("sign in: status %d: %s", status, body)
	}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func contains(t *testing.T, what, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("%s: page lacks %q", what, s)
		}
	}
}

// inLayout checks that a page is rendered inside the core's layout: its
// stylesheet, header with the signed-in principal, navigation and footer.
func inLayout(t *testing.T, what, body, name string) {
	t.Helper()
	contains(t, what, body, `<link rel="stylesheet" href="/static/custos.css">`, `<header class="top">`,
		`<span class="name">`+name+`</span>`, `<nav aria-label="Main">`, `action="/signout"`, `<footer class="foot">`)
}

// TestExampleSection mounts a section defined outside package web, with a
// registry's own section, in a server of a real registry, and reaches its
// navigation entry, home card, page and form as a signed-in browser does.
func TestExampleSection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.Start(t, dsn)
		authority := e.Must(t, 200, "GET", "/api/v1/me", e.Admin, nil).Str("authority_id")
		auditor := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin,
			map[string]any{"name": "Auditor", "role": "auditor", "authority_id": authority}).Str("token")

		ui := &web.UI{DB: e.App.DB, Authorities: e.App.Authorities, Log: slog.New(slog.DiscardHandler),
			Sections: []web.Section{web.Transplant(e.App.Transplant, e.App.Authorities), moduletest.Section()}}
		mux := http.NewServeMux()
		ui.Register(mux)
		srv := httptest.NewServer(mux)
		defer srv.Close()

		// Not signed in: sent to sign in, and back.
		anon := newClient(t, srv.URL)
		status, h, _ := anon.do("GET", "/example/notes", nil)
		if loc, _ := url.Parse(h.Get("Location")); status != http.StatusSeeOther || loc.Path != "/" || loc.Query().Get("next") != "/example/notes" {
			t.Errorf("anonymous: %d to %s", status, h.Get("Location"))
		}

		b := newClient(t, srv.URL)
		b.signIn(e.Admin)

		// The home page: the section's navigation entry and card, beside
		// the other section's.
		status, _, body := b.do("GET", "/", nil)
		if status != http.StatusOK {
			t.Fatalf("home: status %d", status)
		}
		inLayout(t, "home", body, "Administrator")
		contains(t, "home", body, `<a href="/example/notes">Notes</a>`, `<a href="/transplant/donors">Donors</a>`,
			`id="example-card"`, "0 so far, for Administrator.", `id="administration"`)
		if strings.Contains(body, `class="registry"`) {
			t.Errorf("home: the administrator of two sections sees one named in the header")
		}

		// Its page, in the layout, its entry current, its list's options
		// with its labels.
		status, _, body = b.do("GET", "/example/notes", nil)
		if status != http.StatusOK {
			t.Fatalf("notes: status %d: %s", status, body)
		}
		inLayout(t, "notes", body, "Administrator")
		contains(t, "notes", body, `<title>Notes · custos</title>`, `<a href="/example/notes" aria-current="page">Notes</a>`,
			`<h1 id="example-notes">Notes</h1>`, "No note.", `<form method="post" action="/example/notes" id="note" novalidate>`,
			`<option value="sea_green" selected>Sea green</option>`, `<option value="amber">Amber, from the section&#39;s labels</option>`)
		m := csrfRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatal("the form carries no CSRF token")
		}
		csrf := m[1]

		// The form: without its CSRF token, refused before the handler.
		status, _, body = b.do("POST", "/example/notes", url.Values{"text": {"unchecked"}, "colour": {"amber"}})
		if status != http.StatusForbidden || !strings.Contains(body, `id="refusal-rule">csrf<`) {
			t.Errorf("no CSRF token: status %d", status)
		}
		// Refused by the section: shown again with the rule, the field
		// highlighted, the values kept.
		status, _, body = b.do("POST", "/example/notes", url.Values{"csrf": {csrf}, "text": {"  "}, "colour": {"amber"}})
		if status != http.StatusUnprocessableEntity {
			t.Fatalf("empty note: status %d: %s", status, body)
		}
		inLayout(t, "refused note", body, "Administrator")
		contains(t, "refused note", body, `id="refusal-rule">required<`, `id="refusal-field">text<`, `<a href="#note">Go to the form</a>`,
			`id="note-text-error"`, `aria-invalid="true"`, `<option value="amber" selected>`)
		// Accepted: redirected to the page, which shows it.
		status, h, body = b.do("POST", "/example/notes", url.Values{"csrf": {csrf}, "text": {"first note"}, "colour": {"amber"}})
		if status != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/example/notes?notice=") {
			t.Fatalf("add note: %d to %q: %s", status, h.Get("Location"), body)
		}
		_, _, body = b.do("GET", h.Get("Location"), nil)
		contains(t, "added", body, `id="flash">Note added.<`, "first note", `<span class="colour">Amber, from the section&#39;s labels</span>`)
		// The address edited by hand says nothing.
		_, _, body = b.do("GET", "/example/notes?done=note", nil)
		if strings.Contains(body, `id="flash"`) {
			t.Errorf("?done=note shows a message")
		}
		_, _, body = b.do("GET", "/", nil)
		contains(t, "home after", body, "1 so far")

		// The section's principals see its title in the header.
		a := newClient(t, srv.URL)
		a.signIn(auditor)
		_, _, body = a.do("GET", "/example/notes", nil)
		contains(t, "auditor's notes", body, `<span class="registry">`+moduletest.Title+`</span>`)
	})
}
