// Package web serves custos's server-rendered user interface: plain HTML forms
// that post and redirect, no JavaScript, one stylesheet. A person signs in with
// their bearer token or through the deployment's OpenID Connect identity
// provider; the browser then holds only the secret of a server-side session
// (auth.Sessions) in an HttpOnly, SameSite=Strict cookie, Secure over TLS,
// checked on every request; every form carries a token derived from the
// session that is checked when it is posted. Each refusal of
// the registry re-renders the form with the rule and the field that refused.
//
// The UI holds the core's pages (sign-in, home, people, authorities, alerts,
// the log) and is built from a list of sections, one per registry, each under /<name>/ (section.go).
package web

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/zone"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// CookieName is the session cookie; it holds the session's secret
// (auth.Sessions), never the bearer token.
const CookieName = "custos_session"

// maxForm is the largest urlencoded form body read.
const maxForm = 64 << 10

// UI holds what the pages need: the core's, and the list of sections.
type UI struct {
	DB *store.DB
	// Authorities creates authorities and principals; its catalogue of
	// authority kinds and roles gives the people page its roles and the
	// words for kinds.
	Authorities *auth.Authorities
	// Sections are the registries' parts of the UI, in the order of the
	// navigation and the home page.
	Sections []Section
	Log      *slog.Logger
	// FormKey keys the forms' CSRF tokens. Servers that share a database should
	// share it (the server derives it from the master key), so that a form
	// rendered by one is accepted by another; when empty, a random key is made.
	FormKey []byte
	// Projections are the deployment's projectors and tables: the log
	// page's verify replays the log into them. Without them the log page
	// offers no verify.
	Projections *ledger.Projections
	// VerifierKey is the log's published verifier key, which the log
	// page's verify checks the checkpoint with; when empty, the key the
	// log records is used (which proves consistency, not who signed).
	VerifierKey string
	// Writer writes the log entry of each export (Session.Export); without
	// it the UI makes none.
	Writer *ledger.Writer

	// Languages are the message catalogues: the languages the pages speak
	// (internal/i18n). Nil is the core's alone.
	Languages *i18n.Catalogue

	// Sessions keeps the sessions of the pages (timeouts, the list of My
	// account); nil makes one with the defaults on DB.
	Sessions *auth.Sessions
	// BehindTLSProxy says that a reverse proxy terminates TLS in front of
	// the server (custos serve --behind-tls-proxy): the session cookie is
	// then marked Secure though the server sees plain HTTP, and a
	// session's coarse network is read from the proxy's X-Forwarded-For.
	BehindTLSProxy bool
	// OIDC is the sign-in through the deployment's OpenID Connect identity
	// provider, nil when it has none (sign-in with tokens only).
	OIDC *OIDC

	// Now is the clock the pages read "today" and "now" from: the date
	// inputs' max, the forms' defaults, the default periods. It is the
	// services' and the log writer's (server.Config.Now), so that a page
	// offers no day the rules then refuse as ahead. Nil is time.Now.
	Now func() time.Time

	// Zone is the registry's time zone: the pages show times in it and
	// read the times typed in forms in it, for principals who chose none
	// (auth.Principal's TimeZone). Nil is UTC.
	Zone *time.Location

	verify verifyJob // the log page's verify, one at a time
	// running are the forms being answered, so that one sent twice waits
	// for the first's answer; pruner deletes the keys past their window.
	running ledger.Running
	pruner  ledger.KeyPruner
	key     []byte         // the key in use
	pages   pageSet        // in the registry's zone, in English
	zoned   sync.Map       // zone name and language -> pageSet, for the others principals chose
	mux     *http.ServeMux // where Register added the pages, which here asks
}

// LanguageCookie keeps the language chosen with the switch of the pages by
// whoever is not signed in (a principal's choice is their preference).
const LanguageCookie = "custos_language"

// pageSet is every page's template, by page name (a section's as
// <name>/<page>), with the functions of one time zone and one language.
type pageSet map[string]*template.Template

// Register adds the pages to mux. It panics on a UI without its database or
// authorities, and on a section that cannot be served: no name, a name
// taken, a page without a method, path or handler, a template that does not
// parse.
func (u *UI) Register(mux *http.ServeMux) {
	if u.DB == nil || u.Authorities == nil || u.Authorities.Catalogue == nil {
		panic("web: the UI needs its database, and the authorities service with its catalogue")
	}
	u.setup()
	u.mux = mux
	if u.Log == nil {
		u.Log = slog.Default()
	}
	cop := http.NewCrossOriginProtection()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/{file}", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /{$}", u.home)
	mux.Handle("/", u.notFound(mux))
	mux.Handle("POST /signin", cop.Handler(http.HandlerFunc(u.signIn)))
	if u.OIDC != nil {
		mux.HandleFunc("GET /signin/oidc", u.oidcStart)
		mux.HandleFunc("GET /signin/oidc/callback", u.oidcCallback)
	}
	mux.Handle("POST /language", cop.Handler(http.HandlerFunc(u.setLanguage)))

	for _, sp := range u.served() {
		pg := sp.Page
		h := u.signedIn(sp.sec, pg)
		switch pg.Method {
		case http.MethodGet:
			mux.Handle("GET "+pg.Path, h)
		case http.MethodPost:
			mux.Handle("POST "+pg.Path, cop.Handler(h))
		default:
			panic("web: page " + pg.Path + ": method " + pg.Method + " is not GET or POST")
		}
	}
	for _, sec := range u.Sections {
		if !sec.Legacy {
			continue
		}
		for _, pg := range sec.Pages {
			if pg.Method == http.MethodGet {
				mux.Handle("GET "+pg.Path, legacyRedirect(sec.Name))
			}
		}
	}
}

// ValueLists are the value lists the pages offer and show, each with the
// words of its values, as Sections that hold only a Name, Lists and
// Labels: the core's (Name ""), then each section's.
func (u *UI) ValueLists() []Section {
	out := []Section{{Lists: coreLists, Labels: coreLabels}}
	for _, sec := range u.Sections {
		out = append(out, Section{Name: sec.Name, Lists: sec.Lists, Labels: sec.Labels})
	}
	return out
}

// corePages are the core's pages for a signed-in principal. Those without
// Allow are every principal's own: signing out, their account and
// sessions, and the figures of their own dashboard (which shows only what
// they may read).
func (u *UI) corePages() []Page {
	return []Page{
		Page{Method: http.MethodPost, Path: "/signout", Handler: u.signOut, signsOut: true},
		get("/alerts", u.alerts).Allowed(auth.ReadAlerts),
		get("/alerts/export", u.alertsExport).Allowed(auth.ReadAlerts),
		get("/alerts/{id}", u.alert).Allowed(auth.ReadAlerts),
		post("/alerts/{id}/{cmd}", u.workAlert).Allowed(auth.WorkAlerts),
		get("/people", u.people).Allowed(auth.ManageAuthorities),
		post("/people", u.createPrincipal).Allowed(auth.ManageAuthorities),
		post("/people/{id}/revoke", u.revokePrincipal).Allowed(auth.ManageAuthorities),
		get("/authorities", u.authorities).Allowed(auth.ManageAuthorities),
		post("/authorities", u.createAuthority).Allowed(auth.ManageAuthorities),
		post("/authorities/contact", u.setContact).Allowed(auth.ManageAuthorities),
		get("/account", u.account),
		post("/account", u.setAccount),
		post("/account/sessions/end-all", u.endAllSessions),
		post("/account/sessions/{ref}/end", u.endSession),
		get("/log", u.logPage).Allowed(auth.ReadLog),
		get("/log/verify", u.verifyPage).Allowed(auth.ReadLog),
		post("/log/verify", u.startVerify).Allowed(auth.ReadLog),
		get("/figures/{file}", u.figureFile),
	}
}

// servedPage is a page as the UI serves it, its path whole, and its
// section (nil for the core's).
type servedPage struct {
	Page
	sec *Section
}

// served lists every page the UI serves a signed-in principal: the core's,
// then each section's under /<Name>, and a Legacy section's POSTs at their
// old paths too (its GETs there are redirects). It panics on a page
// without a path starting with / or a handler.
func (u *UI) served() []servedPage {
	var out []servedPage
	for _, pg := range u.corePages() {
		out = append(out, servedPage{pg, nil})
	}
	for i := range u.Sections {
		sec := &u.Sections[i]
		for _, pg := range sec.Pages {
			if !strings.HasPrefix(pg.Path, "/") || pg.Handler == nil {
				panic("web: section " + sec.Name + ": page " + pg.Method + " " + pg.Path + " needs a path starting with / and a handler")
			}
			if pg.Upload > 0 && pg.File == "" {
				panic("web: section " + sec.Name + ": page " + pg.Method + " " + pg.Path + " takes an upload and names no file input (Page.File)")
			}
			if sec.Legacy && pg.Method == http.MethodPost {
				out = append(out, servedPage{pg, sec})
			}
			pg.Path = "/" + sec.Name + pg.Path
			out = append(out, servedPage{pg, sec})
		}
	}
	return out
}

// Pages lists every page the UI serves a signed-in principal, each with its
// whole path (the core's, each section's, a Legacy section's POSTs at their
// old paths), so that a test may ask each as every role (a page's Allow).
func (u *UI) Pages() []Page {
	var out []Page
	for _, sp := range u.served() {
		out = append(out, sp.Page)
	}
	return out
}

// notFound answers the paths no page of mux serves with the UI's own 404
// page, in the layout with a way home, and a path that is served for
// another method with 405 as before. /api/ has its own JSON answer.
func (u *UI) notFound(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allow := httpapi.OtherMethods(mux, r, "/", http.MethodGet, http.MethodPost); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		s, err := u.session(r)
		if err != nil {
			s = nil
		}
		v := u.newView(r, s, "Page not found")
		v.Refused = errs.New(errs.NotFound, "page", "", "there is no page at %s", r.URL.Path)
		u.render(w, r, http.StatusNotFound, nil, "error", v)
	})
}

// legacyRedirect sends a GET of a page's old path, without its section's
// prefix, to its path: 308 Permanent Redirect, the query kept.
func legacyRedirect(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		to := "/" + name + r.URL.EscapedPath()
		if r.URL.RawQuery != "" {
			to += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, to, http.StatusPermanentRedirect)
	})
}

// coreNames are the first path segments of the core's pages, which no
// section may take.
var coreNames = []string{"", "static", "favicon.ico", "signin", "signout", "language", "alerts", "people", "authorities", "log", "api", "account"}

func (u *UI) setup() {
	u.key = u.FormKey
	if len(u.key) == 0 {
		u.key = make([]byte, 32)
		if _, err := rand.Read(u.key); err != nil {
			panic("web: no randomness for the CSRF key: " + err.Error())
		}
	}
	if u.Zone == nil {
		u.Zone = time.UTC
	}
	if u.Languages == nil {
		u.Languages = i18n.CoreOnly()
	}
	if u.Sessions == nil {
		u.Sessions = &auth.Sessions{DB: u.DB, W: u.Writer, Log: u.Log}
	}
	seen := map[string]bool{}
	for _, sec := range u.Sections {
		if sec.Name == "" || strings.ContainsAny(sec.Name, "/{}?#% ") || slices.Contains(coreNames, sec.Name) || seen[sec.Name] {
			panic("web: section name " + strconv.Quote(sec.Name) + " is empty, not one path segment, the core's or taken")
		}
		seen[sec.Name] = true
	}
	u.pages = u.parseAll(u.Zone, u.Languages.English())
}

// parseAll parses every page, the core's and the sections', with the
// functions of the zone loc and the language of l.
func (u *UI) parseAll(loc *time.Location, l *i18n.Localizer) pageSet {
	set := pageSet{}
	core, err := fs.Sub(templateFS, "templates")
	if err != nil {
		panic(err)
	}
	set.parse("", core, coreLists, coreLabels, loc, l, u.now)
	for _, sec := range u.Sections {
		if sec.Templates != nil {
			set.parse(sec.Name+"/", sec.Templates, sec.Lists, sec.Labels, loc, l, u.now)
		}
	}
	return set
}

// pagesIn returns the pages with the functions of the zone loc and the
// language of l: the registry's zone in English, parsed at start, or
// another pair's, parsed the first time someone reading them asks for a
// page and kept (a few hundred zones, a few languages).
func (u *UI) pagesIn(loc *time.Location, l *i18n.Localizer) pageSet {
	if loc == nil {
		loc = u.Zone
	}
	if l == nil {
		l = u.Languages.English()
	}
	if loc.String() == u.Zone.String() && l.Code() == i18n.Default {
		return u.pages
	}
	key := loc.String() + "\x00" + l.Code()
	if set, ok := u.zoned.Load(key); ok {
		return set.(pageSet)
	}
	set, _ := u.zoned.LoadOrStore(key, u.parseAll(loc, l))
	return set.(pageSet)
}

// parse adds the templates at the root of fsys (but the layout's and the
// fields') as pages named prefix+name, each with the layout, the fields,
// fsys's partials and the functions, whose lists and labels are those given
// and whose "today" reads the clock now. A partial (a name starting with
// "_") is no page: it defines what several pages of fsys write alike, in
// the words of fsys's module.
func (set pageSet) parse(prefix string, fsys fs.FS, lists map[string][]string, labels map[string]string, loc *time.Location, l *i18n.Localizer, now func() time.Time) {
	base := template.Must(template.New("").Funcs(funcs(lists, labels, loc, l, now)).ParseFS(templateFS, "templates/layout.html", "templates/fields.html"))
	partials, err := fs.Glob(fsys, "_*.html")
	if err != nil {
		panic(err)
	}
	if len(partials) > 0 {
		base = template.Must(base.ParseFS(fsys, partials...))
	}
	names, err := fs.Glob(fsys, "*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		name := strings.TrimSuffix(n, ".html")
		if prefix == "" && (name == "layout" || name == "fields") || strings.HasPrefix(name, "_") {
			continue
		}
		set[prefix+name] = template.Must(template.Must(base.Clone()).ParseFS(fsys, n))
	}
}

// ---- Sessions ----

func (u *UI) csrf(token string) string {
	m := hmac.New(sha256.New, u.key)
	m.Write([]byte("custos web form\x00"))
	m.Write([]byte(token))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// session reads the cookie and resumes its session. A missing cookie is
// errs.Unauthorized with rule "signin"; a session that has ended (signed
// out, timed out, its principal revoked) the Unauthorized error of
// auth.Sessions.Resume.
func (u *UI) session(r *http.Request) (*Session, error) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return nil, errs.New(errs.Unauthorized, "signin", "", "sign in with your token")
	}
	p, ref, err := u.Sessions.Resume(r.Context(), c.Value)
	if err != nil {
		return nil, err
	}
	s := &Session{P: p, Authority: p.AuthorityID, CSRF: u.csrf(c.Value), ui: u, zone: u.Zone, l: u.localizer(r, p), ref: ref, secret: c.Value}
	if loc, err := zone.Load(zone.Field, p.TimeZone); err == nil && p.TimeZone != "" {
		s.zone = loc
	}
	if a, err := auth.GetAuthority(r.Context(), u.DB.Read(), p.AuthorityID); err == nil {
		s.Authority = a.Name
	}
	return s, nil
}

// checkForm refuses a posted form that does not carry s's CSRF token.
func (s *Session) checkForm(r *http.Request) error {
	if !hmac.Equal([]byte(r.PostForm.Get("csrf")), []byte(s.CSRF)) {
		return errs.New(errs.Forbidden, "csrf", "csrf",
			"this form does not come from your current session (it is old, or from another site): reload the page and submit it again")
	}
	return nil
}

// setSession sets (maxAge > 0) or clears (maxAge < 0) the session cookie.
func (u *UI) setSession(w http.ResponseWriter, r *http.Request, secret string, maxAge int) {
	u.setStrict(w, r, CookieName, secret, maxAge)
}

// setStrict sets (maxAge > 0) or clears (maxAge < 0) a cookie of the whole
// site that no script reads and no other site's link or form sends:
// HttpOnly, SameSite=Strict, and Secure whenever the request came over
// TLS, to the server or to the proxy in front of it (BehindTLSProxy).
func (u *UI) setStrict(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: u.secure(r), SameSite: http.SameSiteStrictMode})
}

// ---- Why the sign-in form is shown ----
//
// The sign-in form says why it is shown (sign in to continue, signed out,
// the session ended) only when custos sent the browser there: the redirect
// sets ReasonCookie, and the form reads it once and clears it. The address
// says nothing (a ?reason= in it is ignored): a link anyone can send, to
// /?reason=expired say, would otherwise make a person believe their session
// had ended and sign in again wherever the sender then leads them. The
// language switch of the form carries the reason it showed back to the form
// (setLanguage, same-origin forms only), which says it again in the new
// language.

// ReasonCookie carries why the sign-in form is shown, one of
// signInReasons, from custos's redirect to the form.
const ReasonCookie = "custos_signin_reason"

// reasonMaxAge is how long, in seconds, the reason waits for the form the
// redirect leads to.
const reasonMaxAge = 60

// redirectSignIn sends the browser to the sign-in form, which then says
// why (reason, one of signInReasons) and, after sign-in, returns to next
// when it is a local page (safeNext).
func (u *UI) redirectSignIn(w http.ResponseWriter, r *http.Request, reason, next string) {
	u.setReason(w, r, reason)
	target := "/"
	if safeNext(next) {
		target += "?" + url.Values{"next": {next}}.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// setReason sets the reason cookie for the next sign-in form; a reason
// not among signInReasons sets none.
func (u *UI) setReason(w http.ResponseWriter, r *http.Request, reason string) {
	if _, ok := signInReasons[reason]; ok {
		u.setStrict(w, r, ReasonCookie, reason, reasonMaxAge)
	}
}

// takeReason is the reason cookie's reason ("" when none), cleared as it
// is read so that a reload of the form says nothing.
func (u *UI) takeReason(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(ReasonCookie)
	if err != nil {
		return ""
	}
	u.setStrict(w, r, ReasonCookie, "", -1)
	return c.Value
}

// secure tells whether r came over TLS, to the server or to the proxy.
func (u *UI) secure(r *http.Request) bool { return r.TLS != nil || u.BehindTLSProxy }

// startSession opens a session for p, signed in by method, and sets its
// cookie; false when it could not (the error page is written). The
// sign-in goes to the server log with the session's public ref, never its
// secret nor the address.
func (u *UI) startSession(w http.ResponseWriter, r *http.Request, p *auth.Principal, method string) bool {
	st, err := u.Sessions.Start(r.Context(), p, method, u.network(r), agentOf(r.UserAgent()))
	if err != nil {
		u.fail(w, r, nil, err)
		return false
	}
	u.setSession(w, r, st.Secret, int(u.Sessions.MaxAge().Seconds()))
	u.Log.Info("web sign-in", "principal", p.ID, "role", string(p.Role), "method", method, "session", st.Ref)
	return true
}

// signedIn authenticates the session, reads and checks posted forms (of at
// most pg.Upload bytes when multipart, with a file; 0 takes no multipart
// form), and sends whoever is not signed in back to the sign-in form (Sign
// out, to the sign-in form saying they are signed out). sec is the section
// of the page, nil for the core's.
func (u *UI) signedIn(sec *Section, pg Page) http.Handler {
	h, upload, allow := pg.Handler, pg.Upload, pg.Allow
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		s, err := u.session(r)
		if err != nil {
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Unauthorized {
				u.fail(w, r, nil, err)
				return
			}
			reason := "signin"
			if e.Rule != "signin" {
				reason = "expired"
				u.setSession(w, r, "", -1)
			}
			if pg.signsOut {
				// Signed out already (another tab, the back button, a
				// session ended meanwhile): nothing to end, so the answer
				// of a sign-out, with no form read and no writer asked.
				// There is no session whose CSRF token the form could
				// carry, and none is needed: a forged request from another
				// site reaches this only with a dead cookie or none (a live
				// one takes the checks below), and changes nothing but a
				// dead cookie cleared.
				u.redirectSignIn(w, r, "signedout", "")
				return
			}
			if r.Method == http.MethodGet {
				u.redirectSignIn(w, r, reason, r.URL.RequestURI())
				return
			}
			u.showSignIn(w, r, http.StatusUnauthorized, reason, "", nil)
			return
		}
		s.sec = sec
		if err := s.P.RequireAny(allow...); err != nil {
			u.fail(w, r, s, err)
			return
		}
		if err := httpapi.CheckQuery(r.URL.RawQuery); err != nil {
			u.fail(w, r, s, err)
			return
		}
		if r.Method == http.MethodPost {
			if err := readForm(w, r, upload, pg.File); err != nil {
				u.fail(w, r, s, err)
				return
			}
			if err := s.checkForm(r); err != nil {
				u.fail(w, r, s, err)
				return
			}
			u.answerOnce(w, r, s, h)
			return
		}
		h(w, r, s)
	})
}

// readForm reads a posted form into r.PostForm. With upload > 0 a
// multipart form of at most upload bytes is read too, its values into
// r.PostForm and its files into r.MultipartForm, file naming its file input
// in the refusal of a part header that cannot be read; otherwise a
// multipart body is not read (and its CSRF token is missing).
func readForm(w http.ResponseWriter, r *http.Request, upload int64, file string) error {
	limit := int64(maxForm)
	multipart := upload > 0 && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
	if multipart {
		limit = upload
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	var err error
	if multipart {
		err = r.ParseMultipartForm(1 << 20)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		if strings.Contains(err.Error(), "too large") {
			return errs.New(errs.TooLarge, "form_size", "", "the form is over %d bytes", limit)
		}
		if e := check.PartHeader(err, file); e != nil {
			return e
		}
		return errs.New(errs.Malformed, "form", "", "the form could not be read")
	}
	// ParseForm keeps bytes that are not UTF-8 as they are; refuse them
	// here, once for every page, before any handler sees them.
	for k, vs := range r.PostForm {
		if !utf8.ValidString(k) {
			return errs.New(errs.Malformed, "utf8", "", "the form is not valid UTF-8")
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return errs.New(errs.Malformed, "utf8", k, "%s is not valid UTF-8", k)
			}
		}
	}
	return nil
}

// safeNext tells whether next is a local path to return to after sign-in:
// one slash then a path, with no backslash and no control character
// (browsers drop a tab or a newline from a URL, so "/\t/host" would be
// read as "//host", another site).
func safeNext(next string) bool {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || next == "/" {
		return false
	}
	return !strings.ContainsFunc(next, func(r rune) bool { return r == '\\' || r < 0x20 || r == 0x7f })
}

var signInReasons = map[string]i18n.Msg{
	"signin":    i18n.M("Sign in to continue."),
	"expired":   i18n.M("Your session has ended: you signed out, were inactive too long, or your access was revoked. Sign in again."),
	"signedout": i18n.M("You are signed out."),
	"allout":    i18n.M("You are signed out of all your sessions, in every browser."),
}

func (u *UI) home(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	s, err := u.session(r)
	if err != nil {
		e, ok := errs.As(err)
		if !ok || e.Code != errs.Unauthorized {
			u.fail(w, r, nil, err)
			return
		}
		reason := u.takeReason(w, r)
		if e.Rule != "signin" {
			reason = "expired"
			u.setSession(w, r, "", -1)
		}
		u.showSignIn(w, r, http.StatusOK, reason, r.URL.Query().Get("next"), nil)
		return
	}
	v := u.newView(r, s, "Home")
	data := homeData{CanManage: s.P.Can(auth.ManageAuthorities), CanReadLog: s.P.Can(auth.ReadLog)}
	for i := range u.Sections {
		sec := &u.Sections[i]
		if sec.Home == nil {
			continue
		}
		c := sec.Home(s.P)
		if c == nil {
			continue
		}
		cv := *v
		cv.Data = c.Data
		card, err := u.fragment(sec.Name+"/"+c.Template, &cv)
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
		data.Cards = append(data.Cards, card)
	}
	fig, ref, err := u.homeDashboard(r, s, v)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	data.Figures = fig
	v.Data = data
	u.show(w, r, nil, "home", v, ref)
}

// homeData is the home page's: the core's cards, and the sections'.
type homeData struct {
	CanManage  bool
	CanReadLog bool
	Cards      []template.HTML
	Figures    *dashboardData // nil when the principal reads no figures
}

func (u *UI) showSignIn(w http.ResponseWriter, r *http.Request, status int, reason, next string, refused *errs.Error) {
	v := u.newView(r, nil, "Sign in")
	if m, ok := signInReasons[reason]; ok {
		v.Flash = v.L.T(m)
		v.Reason = reason
	}
	v.Refused = refused
	if !safeNext(next) {
		next = ""
	}
	v.Data = struct {
		Next string
		OIDC string // the identity provider's name, "" without one
	}{next, u.OIDC.name()}
	if refused != nil {
		v.forms["signin"] = &Form{Err: refused, Highlight: "token"}
	}
	u.render(w, r, status, nil, "signin", v)
}

func (u *UI) signIn(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if err := readForm(w, r, 0, ""); err != nil {
		u.fail(w, r, nil, err)
		return
	}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	next := r.PostForm.Get("next")
	p, err := auth.Authenticate(r.Context(), u.DB.Read(), token)
	if err != nil {
		if e, ok := errs.As(err); ok {
			e := *e
			e.Field = "token"
			u.showSignIn(w, r, http.StatusUnauthorized, "", next, &e)
			return
		}
		u.fail(w, r, nil, err)
		return
	}
	if !u.startSession(w, r, p, auth.MethodToken) {
		return
	}
	if !safeNext(next) {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signOut ends the session, in this browser and on the server, so that a
// copy of the cookie no longer signs anyone in.
func (u *UI) signOut(w http.ResponseWriter, r *http.Request, s *Session) {
	if _, err := u.Sessions.End(r.Context(), s.P, s.secret); err != nil {
		u.fail(w, r, s, err)
		return
	}
	u.Log.Info("web sign-out", "principal", s.P.ID, "session", s.ref)
	u.setSession(w, r, "", -1)
	u.redirectSignIn(w, r, "signedout", "")
}

// ---- Pages ----

// localizer is the language of a request: the principal's preference (p
// nil when not signed in), else the one chosen with the pages' switch,
// else the browser's (Accept-Language), else English.
func (u *UI) localizer(r *http.Request, p *auth.Principal) *i18n.Localizer {
	chosen := ""
	if p != nil {
		chosen = p.Language
	}
	if c, err := r.Cookie(LanguageCookie); err == nil && chosen == "" {
		chosen = c.Value
	}
	return u.Languages.Match(chosen, r.Header.Get("Accept-Language"))
}

// newView starts a page: the header and navigation of s (nil when not
// signed in), in the language of the request; title is a message.
func (u *UI) newView(r *http.Request, s *Session, title string) *View {
	l := u.localizer(r, nil)
	if s != nil {
		l = s.l
	}
	v := &View{Title: l.T(title), S: s, L: l, Languages: u.Languages.Languages(),
		Here: u.here(r), forms: map[string]*Form{}}
	if t := u.title(s); t != "" {
		v.Registry = l.T(t)
	}
	if s != nil {
		v.Nav = u.nav(s.P, r.URL.Path)
	}
	return v
}

// here is the address of r's page that its links back to it (the language
// switch's next) send the browser to with a GET: r's own for a GET. A page
// answering another method (a refused form, answered at its POST-only
// address) is at the nearest address the mux serves for GET: the path
// itself, with its query, where it serves GET too, else its parent's, and
// so on up to the home page; the catch-all (the 404 page) serves none.
func (u *UI) here(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead || u.mux == nil {
		return r.URL.RequestURI()
	}
	probe := &http.Request{Method: http.MethodGet, Host: r.Host, URL: &url.URL{Path: r.URL.Path}}
	for {
		if _, pattern := u.mux.Handler(probe); pattern != "" && pattern != "/" {
			break
		}
		if probe.URL.Path == "/" {
			return "/"
		}
		probe.URL.Path = path.Dir(strings.TrimSuffix(probe.URL.Path, "/"))
	}
	if probe.URL.Path == r.URL.Path {
		return r.URL.RequestURI()
	}
	return probe.URL.EscapedPath()
}

// title is the registry's name in the header of s's pages: the title of the
// section of its principal's role; else, signed out or in a role of no one
// section (an administrator, an auditor), the one section's title, or none
// where custos serves several registries (the header says custos alone).
func (u *UI) title(s *Session) string {
	if s != nil {
		for _, sec := range u.Sections {
			if slices.Contains(sec.Roles, s.P.Role) {
				return sec.Title
			}
		}
	}
	if len(u.Sections) == 1 {
		return u.Sections[0].Title
	}
	return ""
}

// nav is the navigation of p: the core's entries, then each section's.
func (u *UI) nav(p *auth.Principal, path string) []NavItem {
	var links []Link
	if p.Can(auth.ReadAlerts) {
		links = append(links, Link{"/alerts", i18n.M("Alerts")})
	}
	if p.Can(auth.ManageAuthorities) {
		links = append(links, Link{"/authorities", i18n.M("Authorities")}, Link{"/people", i18n.M("People")})
	}
	if p.Can(auth.ReadLog) {
		links = append(links, Link{"/log", i18n.M("Log")})
	}
	for _, sec := range u.Sections {
		if sec.Nav != nil {
			links = append(links, sec.Nav(p)...)
		}
	}
	items := make([]NavItem, len(links))
	for i, l := range links {
		items[i] = NavItem{Link: l, Current: path == l.Href || strings.HasPrefix(path, l.Href+"/")}
	}
	return items
}

// show renders a page of sec (nil: the core's), with a refused form when ref
// is set. Errors that are not refusals are internal and shown as such.
func (u *UI) show(w http.ResponseWriter, r *http.Request, sec *Section, name string, v *View, ref *Refusal) {
	status := http.StatusOK
	if ref != nil {
		e, ok := errs.As(ref.Err)
		if !ok || e.Code == errs.Internal {
			u.fail(w, r, v.S, ref.Err)
			return
		}
		vals := url.Values{}
		for k, vs := range ref.Values {
			if k != "csrf" && k != onceField {
				vals[k] = vs
			}
		}
		hl := ref.Highlight
		if hl == "" {
			hl = e.Field
		}
		v.forms[ref.Form] = &Form{Values: vals, Err: e, Highlight: hl}
		v.Refused, v.Anchor = e, ref.Form
		status = e.Code.HTTPStatus()
	}
	u.render(w, r, status, sec, name, v)
}

// fail shows an error page: the refusal, or a generic message for internal
// errors, whose detail goes to the log only. A request whose client went
// away is no failure of custos: it is logged and counted as the API's are
// (httpapi.ClientGone), with no page.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, s *Session, err error) {
	if httpapi.ClientGone(u.Log, r, err) {
		w.WriteHeader(httpapi.StatusClientGone)
		return
	}
	e, ok := errs.As(err)
	if !ok || e.Code == errs.Internal {
		// The log gets the error, never the form: it may hold personal data.
		u.Log.Error("web request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = errs.New(errs.Internal, "", "", "internal error; the operator can find it in the server log")
	}
	v := u.newView(r, s, "Refused")
	v.Refused = e
	u.render(w, r, e.Code.HTTPStatus(), nil, "error", v)
}

// render writes the page name of sec (nil: the core's) inside the layout.
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, sec *Section, name string, v *View) {
	if sec != nil {
		name = sec.Name + "/" + name
	}
	if v.Refused != nil {
		v.Refused = v.L.Localize(v.Refused)
	}
	for _, f := range v.forms {
		if f.Err != nil {
			f.Err = v.L.Localize(f.Err)
		}
	}
	if v.L != nil {
		w.Header().Set("Content-Language", v.L.Code())
	}
	t, ok := u.pagesIn(v.zone(), v.L)[name]
	if !ok {
		u.Log.Error("web: no template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		u.Log.Error("web: template failed", "name", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fragment renders the "content" of the page name alone: a home card.
func (u *UI) fragment(name string, v *View) (template.HTML, error) {
	t, ok := u.pagesIn(v.zone(), v.L)[name]
	if !ok {
		return "", fmt.Errorf("web: no template %s", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "content", v); err != nil {
		return "", fmt.Errorf("web: template %s: %w", name, err)
	}
	return template.HTML(buf.String()), nil
}

// ---- Small helpers ----

// nowLocal is the current time in s's zone as a datetime-local input
// writes it.
func nowLocal(s *Session) string { return zone.Input(s.Now(), s.Zone()) }

// now is the time on the UI's clock (UI.Now).
func (u *UI) now() time.Time {
	if u.Now != nil {
		return u.Now()
	}
	return time.Now()
}

func checked(v url.Values, name string) bool {
	switch v.Get(name) {
	case "on", "yes", "true", "1":
		return true
	}
	return false
}

func optInt(v url.Values, name string) (*int, error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, errs.Invalidf("integer", name, "%s must be a whole number", name)
	}
	return &n, nil
}

// optFloat reads an optional decimal number (a dot or a comma before the
// decimals).
func optFloat(v url.Values, name string) (*float64, error) {
	s := strings.ReplaceAll(strings.TrimSpace(v.Get(name)), ",", ".")
	if s == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, errs.Invalidf("number", name, "%s must be a number", name)
	}
	return &f, nil
}

// localTime reads a datetime-local value, a local time in s's zone, and
// writes it in RFC 3339 UTC, as the registry keeps it (zone.ParseInput: a
// time the clocks skip is refused, a repeated one is the first). An empty
// value stays empty, for the registry to refuse as required.
func localTime(s *Session, field, value string) (string, error) {
	t, err := zone.ParseInput(field, value, s.Zone())
	if err != nil || t.IsZero() {
		return "", err
	}
	return t.Format(time.RFC3339), nil
}
