// Package web serves custos's server-rendered user interface: plain HTML forms
// that post and redirect, no JavaScript, one stylesheet. A person signs in with
// their bearer token, which is kept in an HttpOnly, SameSite=Strict cookie and
// checked against the registry on every request; every form carries a token
// derived from the session that is checked when it is posted. Each refusal of
// the registry re-renders the form with the rule and the field that refused.
package web

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/transplant"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// RegistryName is shown in every page's header.
const RegistryName = "Organ donation and transplantation registry"

// HashRegistryName is shown instead to the principals of the hash-matching
// registry (analysts, services and their reviewers).
const HashRegistryName = "Known-image hash registry"

// CookieName is the session cookie; it holds the bearer token.
const CookieName = "custos_session"

// maxForm is the largest form body read.
const maxForm = 64 << 10

// maxUpload is the largest multipart form body read, on the routes that take
// a file (hash lists).
const maxUpload = 16 << 20

// UI holds what the pages need.
type UI struct {
	DB         *store.DB
	Writer     *ledger.Writer
	Transplant *transplant.Service
	Hashmatch  *hashmatch.Service // nil: no hash-matching pages
	// Authorities creates authorities and principals.
	Authorities *auth.Authorities
	Log         *slog.Logger
	// FormKey keys the forms' CSRF tokens. Servers that share a database should
	// share it (the server derives it from the master key), so that a form
	// rendered by one is accepted by another; when empty, a random key is made.
	FormKey []byte

	key   []byte                        // the key in use
	pages map[string]*template.Template // by page name
}

// handler answers a request of a signed-in principal.
type handler func(w http.ResponseWriter, r *http.Request, s *session)

// Register adds the pages to mux.
func (u *UI) Register(mux *http.ServeMux) {
	u.setup()
	if u.Log == nil {
		u.Log = slog.Default()
	}
	cop := http.NewCrossOriginProtection()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/{file}", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /{$}", u.home)
	mux.Handle("POST /signin", cop.Handler(http.HandlerFunc(u.signIn)))

	get := func(path string, h handler) { mux.Handle("GET "+path, u.signedIn(h)) }
	post := func(path string, h handler) { mux.Handle("POST "+path, cop.Handler(u.signedIn(h))) }
	post("/signout", u.signOut)
	get("/donors", u.donors)
	post("/donors", u.registerDonor)
	get("/donors/{id}", u.donor)
	post("/donors/{id}/consents", u.recordConsent)
	post("/donors/{id}/procurements", u.recordProcurement)
	post("/donors/{id}/personal-data", u.donorPersonalData)
	get("/recipients", u.recipients)
	post("/recipients", u.registerRecipient)
	get("/recipients/{id}", u.recipient)
	post("/recipients/{id}/personal-data", u.recipientPersonalData)
	get("/organs", u.organs)
	post("/transplant-authorizations", u.authorizeTransplant)
	get("/transplants/new", u.transplantForm)
	post("/transplants", u.recordTransplant)
	get("/trace", u.trace)
	get("/centres", u.centres)
	post("/centres", u.registerCentre)
	post("/centres/{id}/authorizations", u.grantCentre)
	post("/centres/{id}/authorizations/{aid}/revoke", u.revokeCentre)
	get("/alerts", u.alerts)
	get("/people", u.people)
	post("/people", u.createPrincipal)
	post("/people/{id}/revoke", u.revokePrincipal)
	if u.Hashmatch != nil {
		upload := func(path string, h handler) { mux.Handle("POST "+path, cop.Handler(u.signedInUpload(h, maxUpload))) }
		u.registerHashmatch(get, post, upload)
	}
}

func (u *UI) setup() {
	u.key = u.FormKey
	if len(u.key) == 0 {
		u.key = make([]byte, 32)
		if _, err := rand.Read(u.key); err != nil {
			panic("web: no randomness for the CSRF key: " + err.Error())
		}
	}
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/fields.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	u.pages = map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || name == "fields" {
			continue
		}
		u.pages[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
	}
}

// ---- Sessions ----

// session is the signed-in principal of a request.
type session struct {
	P         *auth.Principal
	Authority string // the name of the principal's authority
	CSRF      string // the token every form of this session carries
}

func (u *UI) csrf(token string) string {
	m := hmac.New(sha256.New, u.key)
	m.Write([]byte("custos web form\x00"))
	m.Write([]byte(token))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// session reads the cookie and authenticates its token. A missing cookie is
// errs.Unauthorized with rule "signin"; an unknown or revoked token the
// Unauthorized error of auth.Authenticate.
func (u *UI) session(r *http.Request) (*session, error) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return nil, errs.New(errs.Unauthorized, "signin", "", "sign in with your token")
	}
	p, err := auth.Authenticate(r.Context(), u.DB.Read(), c.Value)
	if err != nil {
		return nil, err
	}
	s := &session{P: p, Authority: p.AuthorityID, CSRF: u.csrf(c.Value)}
	if a, err := auth.GetAuthority(r.Context(), u.DB.Read(), p.AuthorityID); err == nil {
		s.Authority = a.Name
	}
	return s, nil
}

func setSession(w http.ResponseWriter, r *http.Request, token string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// signedIn authenticates the session, reads and checks posted forms, and
// sends whoever is not signed in back to the sign-in form.
func (u *UI) signedIn(h handler) http.Handler { return u.signedInUpload(h, 0) }

// signedInUpload is signedIn for a route whose form may be multipart, with a
// file, of at most upload bytes; 0 takes no multipart form.
func (u *UI) signedInUpload(h handler, upload int64) http.Handler {
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
				setSession(w, r, "", -1)
			}
			if r.Method == http.MethodGet {
				q := url.Values{"reason": {reason}}
				if next := r.URL.RequestURI(); safeNext(next) {
					q.Set("next", next)
				}
				http.Redirect(w, r, "/?"+q.Encode(), http.StatusSeeOther)
				return
			}
			u.showSignIn(w, r, http.StatusUnauthorized, reason, "", nil)
			return
		}
		if r.Method == http.MethodPost {
			if err := readForm(w, r, upload); err != nil {
				u.fail(w, r, s, err)
				return
			}
			if !hmac.Equal([]byte(r.PostForm.Get("csrf")), []byte(s.CSRF)) {
				u.fail(w, r, s, errs.New(errs.Forbidden, "csrf", "csrf",
					"this form does not come from your current session (it is old, or from another site): reload the page and submit it again"))
				return
			}
		}
		h(w, r, s)
	})
}

// readForm reads a posted form into r.PostForm. With upload > 0 a
// multipart form of at most upload bytes is read too, its values into
// r.PostForm and its files into r.MultipartForm; otherwise a multipart body
// is not read (and its CSRF token is missing).
func readForm(w http.ResponseWriter, r *http.Request, upload int64) error {
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
		return errs.New(errs.Malformed, "form", "", "the form could not be read")
	}
	return nil
}

// safeNext tells whether next is a local path to return to after sign-in.
func safeNext(next string) bool {
	return strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") && next != "/"
}

var signInReasons = map[string]string{
	"signin":    "Sign in to continue.",
	"expired":   "Your session has ended: the token is unknown or has been revoked. Sign in again with a valid token.",
	"signedout": "You are signed out.",
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
		reason := r.URL.Query().Get("reason")
		if e.Rule != "signin" {
			reason = "expired"
			setSession(w, r, "", -1)
		}
		u.showSignIn(w, r, http.StatusOK, reason, r.URL.Query().Get("next"), nil)
		return
	}
	pg := u.newPage(r, s, "Home")
	hm := u.Hashmatch != nil
	pg.Data = struct {
		CanRecord, CanRead, CanGrant, CanManage       bool
		CanPublish, CanReview, CanReadCases, CanBanks bool
	}{s.P.Can(auth.Record), s.P.Can(auth.Read), s.P.Can(auth.AuthorizeCentres), s.P.Can(auth.ManageAuthorities),
		hm && s.P.Can(auth.PublishBanks), hm && s.P.Can(auth.ReviewCases), hm && s.P.Can(auth.ReadCases), hm && s.P.Can(auth.ReadBankMetadata)}
	u.render(w, r, http.StatusOK, "home", pg)
}

func (u *UI) showSignIn(w http.ResponseWriter, r *http.Request, status int, reason, next string, refused *errs.Error) {
	pg := u.newPage(r, nil, "Sign in")
	pg.Flash = signInReasons[reason]
	pg.Refused = refused
	if !safeNext(next) {
		next = ""
	}
	pg.Data = struct{ Next string }{next}
	if refused != nil {
		pg.forms["signin"] = &form{Err: refused, Highlight: "token"}
	}
	u.render(w, r, status, "signin", pg)
}

func (u *UI) signIn(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if err := readForm(w, r, 0); err != nil {
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
	setSession(w, r, token, 12*60*60)
	u.Log.Info("web sign-in", "principal", p.ID, "role", string(p.Role))
	if !safeNext(next) {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (u *UI) signOut(w http.ResponseWriter, r *http.Request, s *session) {
	setSession(w, r, "", -1)
	http.Redirect(w, r, "/?reason=signedout", http.StatusSeeOther)
}

// ---- Pages ----

// page is what every template gets.
type page struct {
	Title    string
	Registry string
	S        *session // nil when not signed in
	Nav      []navItem
	Flash    string      // what just succeeded
	Refused  *errs.Error // what the registry just refused
	Anchor   string      // the id of the form it refused
	Data     any         // the page's own data
	forms    map[string]*form
}

type navItem struct {
	Href, Label string
	Current     bool
}

func (u *UI) newPage(r *http.Request, s *session, title string) *page {
	pg := &page{Title: title, Registry: RegistryName, S: s, forms: map[string]*form{}}
	if s != nil {
		pg.Nav = navFor(s.P, r.URL.Path, u.Hashmatch != nil)
		if hashRole(s.P) {
			pg.Registry = HashRegistryName
		}
	}
	return pg
}

// hashRole tells whether p acts only in the hash-matching registry.
func hashRole(p *auth.Principal) bool {
	return p.Can(auth.PublishBanks) || p.Can(auth.ReadCases)
}

func navFor(p *auth.Principal, path string, hm bool) []navItem {
	var items []navItem
	add := func(ok bool, href, label string) {
		if ok {
			items = append(items, navItem{Href: href, Label: label, Current: path == href || strings.HasPrefix(path, href+"/")})
		}
	}
	read := p.Can(auth.Read)
	if p.Can(auth.Record) {
		add(read, "/donors", "Donors")
		add(read, "/recipients", "Recipients")
		add(read, "/organs", "Organs available")
		add(read, "/trace", "Trace")
		return items
	}
	if hm && hashRole(p) {
		add(p.Can(auth.PublishBanks), "/hashmatch/banks", "Hash banks")
		add(p.Can(auth.ReceiveReports), "/hashmatch/reports", "Reports received")
		add(p.Can(auth.ReadCases), "/hashmatch/cases", "Review queue")
		add(p.Can(auth.ReadCases), "/hashmatch/subscriptions", "Subscriptions")
		add(p.Can(auth.ReadCases), "/hashmatch/reports", "Reports sent")
		return items
	}
	add(p.Can(auth.ReadAlerts), "/alerts", "Alerts")
	add(read, "/centres", "Centres")
	add(p.Can(auth.ManageAuthorities), "/people", "People")
	add(read, "/trace", "Trace")
	add(read, "/donors", "Donors")
	add(read, "/recipients", "Recipients")
	add(read, "/organs", "Organs available")
	add(hm && p.Can(auth.ReadBankMetadata), "/hashmatch/banks", "Hash banks")
	return items
}

// Form returns the named form of the page: its values and, when the registry
// refused it, the refusal. It is never nil.
func (pg *page) Form(name string) *form {
	if f, ok := pg.forms[name]; ok {
		return f
	}
	f := &form{}
	pg.forms[name] = f
	return f
}

// setForm gives a form its initial values.
func (pg *page) setForm(name string, v url.Values) { pg.forms[name] = &form{Values: v} }

// form is one HTML form's values and refusal.
type form struct {
	Values    url.Values
	Err       *errs.Error
	Highlight string // the input the refusal concerns
}

// V returns a field's value.
func (f *form) V(name string) string { return f.Values.Get(name) }

// Is tells whether a field has the value v.
func (f *form) Is(name, v string) bool { return f.Values.Get(name) == v }

// Checked tells whether a checkbox is ticked.
func (f *form) Checked(name string) bool { return checked(f.Values, name) }

// Bad tells whether the refusal concerns the field.
func (f *form) Bad(name string) bool { return f.Err != nil && f.Highlight == name }

// refusal is a form the registry refused, to show again.
type refusal struct {
	form      string
	values    url.Values
	err       error
	highlight string // the input to highlight; the error's field when empty
}

// show renders a page, with a refused form when ref is set. Errors that are
// not refusals are internal and shown as such.
func (u *UI) show(w http.ResponseWriter, r *http.Request, name string, pg *page, ref *refusal) {
	status := http.StatusOK
	if ref != nil {
		e, ok := errs.As(ref.err)
		if !ok || e.Code == errs.Internal {
			u.fail(w, r, pg.S, ref.err)
			return
		}
		vals := url.Values{}
		for k, v := range ref.values {
			if k != "csrf" {
				vals[k] = v
			}
		}
		hl := ref.highlight
		if hl == "" {
			hl = e.Field
		}
		pg.forms[ref.form] = &form{Values: vals, Err: e, Highlight: hl}
		pg.Refused, pg.Anchor = e, ref.form
		status = e.Code.HTTPStatus()
	}
	u.render(w, r, status, name, pg)
}

// fail shows an error page: the refusal, or a generic message for internal
// errors, whose detail goes to the log only.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	e, ok := errs.As(err)
	if !ok || e.Code == errs.Internal {
		// The log gets the error, never the form: it may hold personal data.
		u.Log.Error("web request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = errs.New(errs.Internal, "", "", "internal error; the operator can find it in the server log")
	}
	pg := u.newPage(r, s, "Refused")
	pg.Refused = e
	u.render(w, r, e.Code.HTTPStatus(), "error", pg)
}

func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name string, pg *page) {
	t, ok := u.pages[name]
	if !ok {
		u.Log.Error("web: no template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", pg); err != nil {
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

func redirect(w http.ResponseWriter, r *http.Request, path string, q url.Values) {
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// ---- Small helpers ----

func today() string { return time.Now().UTC().Format(transplant.DateLayout) }

// nowLocal is the current UTC time as a datetime-local input writes it.
func nowLocal() string { return time.Now().UTC().Format("2006-01-02T15:04") }

func checked(v url.Values, name string) bool {
	switch v.Get(name) {
	case "on", "yes", "true", "1":
		return true
	}
	return false
}
