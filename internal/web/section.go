package web

import (
	"context"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/chart"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/i18n"
)

// ---- Sections: a registry's part of the UI ----
//
// The UI is built from a list of sections, one per registry; the core's own
// pages (sign-in, home, people, authorities, alerts, the log) are the UI's.
// A section is a plain value and may come from any package: its handlers reach the UI only through
// what this file exports — the Session they are given (View, Show, Fail),
// the View and Form their templates read, Refusal and Redirect.

// Section is a registry's part of the UI.
type Section struct {
	// Name is the URL segment of the section's pages: /<Name>/...
	Name string
	// Title names the registry in the header of its principals' pages.
	Title string
	// Roles are the roles whose principals act in this section: the header
	// of their pages shows Title. A principal of no section's roles (the
	// core's: administrator, regulator, auditor) sees the first section's.
	Roles []auth.Role
	// Nav lists the section's entries in the navigation of p, in order;
	// nil for none.
	Nav func(p *auth.Principal) []Link
	// Home returns the section's card on the home page of p, nil for none.
	Home func(p *auth.Principal) *Card
	// Dashboard returns the section's figures for the home page of s over
	// the period p, each a chart.Panel whose ID starts with <Name>-: nil
	// for a principal who reads none. Its panels' CSV is served at
	// /figures/<ID>.csv. The panels' texts are in s's language: write
	// them with s.T, the period with p.Words(s.L()).
	Dashboard func(ctx context.Context, s *Session, p chart.Period) ([]chart.Panel, error)
	// Pages are the section's routes, each under /<Name>.
	Pages []Page
	// Templates holds the section's templates at its root, NAME.html, each
	// defining "content": the page shown inside the layout, or a home card.
	// They may use the core's templates ("field", "check", "csrf",
	// "form-error", "personal-form") and functions ("t", "tn", "tag",
	// "link", "num", "field", "req", "hint", "rng", "list", "opts",
	// "choices", "optionsOf", "label", "roleLabel", "when", "zone", "fmtf",
	// "deref", "personalForm"). Text is written with "t" (a message, its
	// arguments fmt verbs) and "tn" (with a count); a sentence with markup
	// takes it as arguments made by "tag" ({{t "Rule %s" (tag "code" .Rule)}}),
	// "link" or "when", so that a language may put it anywhere. Times are shown with
	// "when" (in the session's zone, the zone named) and the labels of
	// datetime-local inputs name "zone"; a handler reads such an input in
	// the session's zone (Session.Zone) and hands the registry UTC.
	Templates fs.FS
	// Lists are the value lists of the section's selects, by the name its
	// templates give "opts" and "optionsOf".
	Lists map[string][]string
	// Labels are the words the section's templates ("label", and the
	// options of its lists) show for values; a value without one is shown
	// capitalised, its underscores as spaces.
	Labels map[string]string
	// Legacy also serves every page at its path without the /<Name>
	// prefix, where the releases before sections served it: a GET there is
	// redirected permanently (308) to the page's own path, query kept; a
	// POST is answered by the page's handler itself.
	Legacy bool
}

// Page is one route of a section.
type Page struct {
	Method string // GET or POST
	// Path is under /<Name>: "/" then what net/http.ServeMux patterns take,
	// e.g. "/donors/{id}".
	Path    string
	Handler Handler
	// Upload is the largest multipart form (one with a file) a POST reads,
	// in bytes; 0 reads urlencoded forms only, of at most 64 KiB.
	Upload int64
	// File is the name of the file input of a page that takes an Upload:
	// a form whose part header cannot be read (a file name with a control
	// character) is refused naming it (check.PartHeader). Such a page
	// without one is refused at start.
	File string
	// Allow are the actions the page serves, as httpapi.Route's: a
	// principal whose role may take none of them is refused (403, rule
	// role) once signed in, before the path, the query or the form is
	// read. Every page declares them but those every signed-in principal
	// may open (their own account) or whose right is the record's (a
	// received message's readers), which leave the check to the handler:
	// TestEveryPageRole asks every page as every role, and lists those.
	Allow []auth.Action
	// signsOut marks the core's Sign out: asked without a live session (a
	// second click, another tab) it has nothing to end, and answers as it
	// does once it has ended one (signedIn).
	signsOut bool
}

// Allowed returns the page served only to the principals whose role may
// take one of actions.
func (pg Page) Allowed(actions ...auth.Action) Page {
	pg.Allow = actions
	return pg
}

// Link is an entry of the navigation.
type Link struct{ Href, Label string }

// Card is what a section shows a principal on the home page: the "content"
// of one of its templates, given a View whose Data is Data.
type Card struct {
	Template string
	Data     any
}

// Handler answers a signed-in principal's request to a section's page.
// Before it runs, the UI has authenticated the session (sending whoever is
// not signed in back to sign in) and, for a POST, read the form into
// r.PostForm (and a multipart form's files into r.MultipartForm) and checked
// its CSRF token, refusing the request otherwise.
type Handler func(w http.ResponseWriter, r *http.Request, s *Session)

// Session is the signed-in principal of a request, and how the request's
// handler answers it.
type Session struct {
	P         *auth.Principal
	Authority string // the name of the principal's authority
	// CSRF is the token every form of this session carries as its "csrf"
	// field (the "csrf" template writes it).
	CSRF string

	ui     *UI
	sec    *Section        // the section of the page; nil for the core's
	zone   *time.Location  // the principal's time zone, else the registry's
	l      *i18n.Localizer // the principal's language, else the browser's
	ref    string          // the session's public ref (auth.Sessions)
	secret string          // the session's secret, from its cookie
}

// L is the language of s's pages: the principal's preference, else the
// browser's.
func (s *Session) L() *i18n.Localizer { return s.l }

// options are values as the options of a select, each with its label in
// s's language: the words of the page's section (the core's on the core's
// pages). The values are those of one of the section's Lists, or some of
// them, where TestEveryListValueHasALabel holds each labelled; list gives
// a whole list.
func (s *Session) options(values []string) []Option {
	labels := coreLabels
	if s.sec != nil {
		labels = s.sec.Labels
	}
	return localOptions(s.l, labels, values)
}

// list is the options of the list name of the page's section (the core's
// coreLists on the core's pages).
func (s *Session) list(name string) []Option {
	lists := coreLists
	if s.sec != nil {
		lists = s.sec.Lists
	}
	values, ok := lists[name]
	if !ok {
		panic("web: no value list " + name)
	}
	return s.options(values)
}

// T writes the message id in s's language (i18n.Localizer.T): a flash
// message, a label made in a handler.
func (s *Session) T(id string, args ...any) string { return s.l.T(id, args...) }

// Now is the time on the pages' clock (UI.Now, the services' own): what a
// section's page reads "today" and "now" from, for its defaults and
// bounds.
func (s *Session) Now() time.Time {
	if s == nil || s.ui == nil {
		return time.Now()
	}
	return s.ui.now()
}

// Zone is the time zone s's pages show times in and read the times typed
// in forms in: the principal's choice, else the registry's (UI.Zone).
func (s *Session) Zone() *time.Location {
	if s == nil || s.zone == nil {
		return time.UTC
	}
	return s.zone
}

// View starts the page of a request: its title, the header, the
// navigation of the principal.
func (s *Session) View(r *http.Request, title string) *View { return s.ui.newView(r, s, title) }

// Show renders the template of the section (the one whose page this is)
// inside the layout. With ref, the form it names is shown again with the
// values posted, the refusal and the field it concerns highlighted, under
// the refusal's HTTP status; an error that is not a refusal of the
// registry is shown as an internal error.
func (s *Session) Show(w http.ResponseWriter, r *http.Request, template string, v *View, ref *Refusal) {
	s.ui.show(w, r, s.sec, template, v, ref)
}

// Fail shows an error page: the refusal, or a generic message for an
// internal error, whose detail goes to the server log only.
func (s *Session) Fail(w http.ResponseWriter, r *http.Request, err error) { s.ui.fail(w, r, s, err) }

// Export answers the request with the export req (export.Serve): the file,
// streamed as it is written, its words for people in s's language; or,
// when it is refused before its first byte (a bad filter, a principal who
// may not export it), the error page.
func (s *Session) Export(w http.ResponseWriter, r *http.Request, req export.Request) {
	if s.ui.Writer == nil {
		s.Fail(w, r, errs.New(errs.Unavailable, "export", "", "this server makes no exports"))
		return
	}
	if req.Language == nil {
		req.Language = s.l
	}
	if err := export.Serve(w, r, s.ui.DB, s.ui.Writer, s.P.Actor(), req); err != nil {
		s.Fail(w, r, err)
	}
}

// Downloads are the links of a list page that export the list it shows, in
// each format: path (the page that answers with Session.Export) with the
// page's query, its filters, less its cursor and limit, its notice (what a
// form just did) and the parameters named in drop.
func Downloads(r *http.Request, path string, drop ...string) []Link {
	q := r.URL.Query()
	for _, d := range append([]string{"cursor", "limit", "format", noticeParam}, drop...) {
		q.Del(d)
	}
	for k, vs := range q {
		if len(vs) == 1 && vs[0] == "" {
			q.Del(k)
		}
	}
	var out []Link
	for _, f := range export.Formats {
		q.Set("format", f)
		out = append(out, Link{Href: path + "?" + q.Encode(), Label: strings.ToUpper(f)})
	}
	return out
}

// Redirect answers a POST that succeeded: 303 See Other to path, with the
// query q when it has any. A page that says what the form did is reached by
// Session.RedirectDone instead, never by a query of Redirect's: a page reads
// its message only from a notice.
func Redirect(w http.ResponseWriter, r *http.Request, path string, q url.Values) {
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// View is what every template gets.
type View struct {
	Title    string
	Registry string   // the registry's name, in the header
	S        *Session // nil when not signed in
	Nav      []NavItem
	Flash    string      // what just succeeded
	Refused  *errs.Error // what the registry just refused
	Anchor   string      // the id of the form it refused
	Data     any         // the page's own data
	Refresh  int         // when over 0, the page reloads itself after so many seconds
	Reason   string      // why the sign-in form is shown (signInReasons), which its language switch carries
	// L is the page's language; Languages those the switch offers; Here
	// the page's path and query, where the switch returns (UI.here: for a
	// page answering a POST, the nearest address served for GET).
	L         *i18n.Localizer
	Languages []i18n.Language
	Here      string
	forms     map[string]*Form
}

// zone is the time zone of v's times: its session's, else the registry's.
func (v *View) zone() *time.Location {
	if v.S != nil {
		return v.S.Zone()
	}
	return nil
}

// NavItem is an entry of the navigation, Current on its own pages.
type NavItem struct {
	Link
	Current bool
}

// Form returns the named form of the page: its values and, when the
// registry refused it, the refusal. It is never nil.
func (v *View) Form(name string) *Form {
	if f, ok := v.forms[name]; ok {
		return f
	}
	f := &Form{}
	v.forms[name] = f
	return f
}

// SetForm gives a form its initial values.
func (v *View) SetForm(name string, values url.Values) { v.forms[name] = &Form{Values: values} }

// Form is one HTML form's values and refusal.
type Form struct {
	Values    url.Values
	Err       *errs.Error
	Highlight string // the input the refusal concerns
}

// V returns a field's value.
func (f *Form) V(name string) string { return f.Values.Get(name) }

// Is tells whether a field has the value v.
func (f *Form) Is(name, v string) bool { return f.Values.Get(name) == v }

// Checked tells whether a checkbox is ticked.
func (f *Form) Checked(name string) bool { return checked(f.Values, name) }

// Bad tells whether the refusal concerns the field.
func (f *Form) Bad(name string) bool { return f.Err != nil && f.Highlight == name }

// Refusal is a form the registry refused, to show again.
type Refusal struct {
	Form   string     // the form's name (and HTML id)
	Values url.Values // what was posted; its CSRF token is not shown again
	Err    error
	// Highlight is the input to highlight; the error's field when empty.
	Highlight string
}

// Option is one choice of a select ("choices").
type Option struct{ Value, Label string }

// get and post are the pages of this package's sections.
func get(path string, h Handler) Page  { return Page{Method: http.MethodGet, Path: path, Handler: h} }
func post(path string, h Handler) Page { return Page{Method: http.MethodPost, Path: path, Handler: h} }

// subFS is the folder dir of an embedded file system: a section's templates.
func subFS(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// rolesOf lists the roles a module adds: its section's principals.
func rolesOf(specs []auth.RoleSpec) []auth.Role {
	out := make([]auth.Role, len(specs))
	for i, s := range specs {
		out[i] = s.Role
	}
	return out
}
