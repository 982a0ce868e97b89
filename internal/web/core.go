package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/custos-project/custos/internal/alerts"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/store"
)

// ---- The core's pages: alerts, and people (principals and their tokens) ----
//
// Sign-in and the home page are in web.go.

// alertsData is the alerts page: the filter, its choices, and the list.
type alertsData struct {
	Alerts      []ledger.RaisedAlert
	Rules       []Option
	Authorities []Option
	States      []Option
	Filtered    bool
	Next        string // the link to the next page; empty on the last
	Downloads   []Link // the filtered list as files
}

func (u *UI) alertService() *alerts.Service { return &alerts.Service{W: u.Authorities.W, DB: u.DB} }

// alerts lists alerts, filtered by rule, authority, state and the dates
// raised, a page at a time; a filter that names what does not exist is
// refused on the filter form, with every alert listed under it.
func (u *UI) alerts(w http.ResponseWriter, r *http.Request, s *Session) {
	ctx := r.Context()
	if err := s.P.Require(auth.ReadAlerts); err != nil {
		u.fail(w, r, s, err)
		return
	}
	v := u.newView(r, s, "Alerts")
	var ref, fref *Refusal
	f, err := alerts.FilterOf(r.URL.Query())
	if err != nil {
		fref = &Refusal{Form: "filter", Values: r.URL.Query(), Err: err}
	}
	as, err := listed(r, s, v, &ref, f, fref, alerts.Filter{}, u.alertService().List)
	data := alertsData{Alerts: as.Items, Next: nextPage(r, as.Next), States: s.list("alert_state"), Downloads: Downloads(r, "/alerts/export"),
		Filtered: ref == nil && (f.Rule != "" || f.AuthorityID != "" || f.State != "" || f.From != "" || f.To != "")}
	var rules []string
	if err == nil {
		rules, err = u.alertService().Rules(ctx)
	}
	var auths []auth.Authority
	if err == nil {
		auths, err = auth.ListAuthorities(ctx, u.DB.Read(), "")
	}
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	for _, rl := range rules {
		data.Rules = append(data.Rules, Option{Value: rl, Label: rl})
	}
	for _, a := range auths {
		data.Authorities = append(data.Authorities, Option{Value: a.ID, Label: a.Name})
	}
	v.Data = data
	u.show(w, r, nil, "alerts", v, ref)
}

// alertsExport answers the alerts page's download link: the whole filtered
// list as a file (alerts.Service.Export).
func (u *UI) alertsExport(w http.ResponseWriter, r *http.Request, s *Session) {
	req, err := u.alertService().Export(s.P, r.URL.Query())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	s.Export(w, r, req)
}

// alertData is an alert's page: the alert, and what its forms need.
type alertData struct {
	Alert     *ledger.RaisedAlert
	CanWork   bool
	Assignees []Option
	Outcomes  []Option
	Names     people // the principals the alert names (who)
}

func (u *UI) alert(w http.ResponseWriter, r *http.Request, s *Session) { u.showAlert(w, r, s, nil) }

func (u *UI) showAlert(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	ctx := r.Context()
	a, err := u.alertService().Get(ctx, s.P, r.PathValue("id"))
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	data := alertData{Alert: a, CanWork: s.P.Can(auth.WorkAlerts), Outcomes: s.list("alert_outcome")}
	ps, err := auth.ListPrincipals(ctx, u.DB.Read())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	ids := []string{a.PrincipalID, a.AcknowledgedBy, a.AssigneeID, a.ClosedBy}
	for _, c := range a.Comments {
		ids = append(ids, c.PrincipalID)
	}
	data.Names = namesOf(ps, s.P, ids...)
	for _, p := range ps {
		if p.RevokedAt == "" && (&auth.Principal{Role: p.Role}).Can(auth.WorkAlerts) {
			data.Assignees = append(data.Assignees, Option{Value: p.ID, Label: p.Name + " (" + p.Authority + ")"})
		}
	}
	v := u.newView(r, s, "Alerts")
	v.Title = s.T("Alert %s", a.ID)
	v.Data = data
	if done := s.Notice(r).Get("done"); alertDone[done] != "" {
		v.Flash = s.T(alertDone[done])
	}
	u.show(w, r, nil, "alert", v, ref)
}

// alertDone are the flash messages after each command on an alert.
var alertDone = map[string]i18n.Msg{
	"acknowledge": i18n.M("The alert is acknowledged."),
	"assign":      i18n.M("The alert is assigned."),
	"comment":     i18n.M("The comment is added."),
	"close":       i18n.M("The alert is closed."),
}

// coreLists are the value lists of the core's selects, as a section's
// Lists are its own: the alerts' states and outcomes.
var coreLists = map[string][]string{"alert_state": ledger.AlertStates, "alert_outcome": ledger.AlertOutcomes}

// coreLabels are the words the core's pages show for values ("label", the
// options of their selects): the alerts' states and outcomes.
var coreLabels = map[string]i18n.Msg{
	ledger.StateOpen: i18n.M("Open"), ledger.StateAcknowledged: i18n.M("Acknowledged"), ledger.StateClosed: i18n.M("Closed"),
	"no_action": i18n.M("No action"), "corrected": i18n.M("Corrected"), "referred": i18n.M("Referred"), "false_alarm": i18n.M("False alarm"),
}

// workAlert runs one command on an alert posted from its page: on success
// back to the page, on a refusal the page with the refusal on the form.
func (u *UI) workAlert(w http.ResponseWriter, r *http.Request, s *Session) {
	ctx, id, v, svc := r.Context(), r.PathValue("id"), r.PostForm, u.alertService()
	cmd := r.PathValue("cmd")
	var err error
	switch cmd {
	case "acknowledge":
		_, err = svc.Acknowledge(ctx, s.P, id)
	case "assign":
		_, err = svc.Assign(ctx, s.P, id, alerts.Assignment{AssigneeID: v.Get("assignee_id")})
	case "comment":
		_, err = svc.Comment(ctx, s.P, id, alerts.Comment{Text: v.Get("text")})
	case "close":
		_, err = svc.Close(ctx, s.P, id, alerts.Closing{Outcome: v.Get("outcome"), Note: v.Get("note")})
	default:
		u.fail(w, r, s, errs.New(errs.NotFound, "page", "", "no such page"))
		return
	}
	if err != nil {
		if e, ok := errs.As(err); ok && e.Code == errs.NotFound && e.Rule == "alert" {
			u.fail(w, r, s, err)
			return
		}
		u.showAlert(w, r, s, &Refusal{Form: cmd, Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/alerts/"+id, url.Values{"done": {cmd}})
}

// ---- People (administrator): principals and their tokens ----

// authorityNames maps authority ids to names.
func authorityNames(ctx context.Context, db *store.DB) (map[string]string, error) {
	as, err := auth.ListAuthorities(ctx, db.Read(), "")
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(as))
	for _, a := range as {
		m[a.ID] = a.Name
	}
	return m, nil
}

// roleLabels name the core's roles for people; another role is named by
// its code, capitalised.
var roleLabels = map[auth.Role]i18n.Msg{auth.Admin: i18n.M("Administrator"), auth.Regulator: i18n.M("Regulator"), auth.Auditor: i18n.M("Auditor")}

// roleLabel names a role for people, in English: a message, translated
// where it is shown.
func roleLabel(r auth.Role) string {
	if l, ok := roleLabels[r]; ok {
		return l
	}
	return labelOf(nil, string(r))
}

// roleOptions are the roles an administrator may give: the catalogue's, each
// with what it does, in s's language.
func (u *UI) roleOptions(s *Session) []Option {
	var out []Option
	for _, r := range u.Authorities.Catalogue.Roles() {
		out = append(out, Option{Value: string(r.Role), Label: s.T(r.Label)})
	}
	return out
}

// kindLabel is the catalogue's word for an authority kind, in s's language.
func (u *UI) kindLabel(s *Session, kind string) string {
	if k, ok := u.Authorities.Catalogue.Kind(kind); ok && k.Label != "" {
		return s.T(k.Label)
	}
	return s.T(labelOf(nil, kind))
}

type peopleData struct {
	People      []auth.PrincipalRecord
	Authorities []Option
	Roles       []Option
	Self        string // the signed-in principal's id, whose token is not revoked here
}

func (u *UI) people(w http.ResponseWriter, r *http.Request, s *Session) { u.showPeople(w, r, s, nil) }

func (u *UI) showPeople(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	ctx := r.Context()
	if err := s.P.Require(auth.ManageAuthorities); err != nil {
		u.fail(w, r, s, err)
		return
	}
	ps, err := auth.ListPrincipals(ctx, u.DB.Read())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	as, err := auth.ListAuthorities(ctx, u.DB.Read(), "")
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	data := peopleData{People: ps, Roles: u.roleOptions(s), Self: s.P.ID}
	for _, a := range as {
		data.Authorities = append(data.Authorities, Option{Value: a.ID, Label: a.Name + " (" + u.kindLabel(s, a.Kind) + ")"})
	}
	v := u.newView(r, s, "People")
	v.Data = data
	if n := s.Notice(r); n.Get("done") == "revoke" {
		// the principal the notice names, revoked as the registry says now
		for _, p := range ps {
			if p.ID == n.Get("id") && p.RevokedAt != "" {
				v.Flash = s.T("The token of %s is revoked: it no longer signs in.", p.ID)
			}
		}
	}
	u.show(w, r, nil, "people", v, ref)
}

// tokenData is the page that shows a new principal's token, once.
type tokenData struct {
	ID, Name  string
	Role      string
	Authority string
	Token     string
}

// createPrincipal creates a principal and shows its token on the answer to
// the POST itself: the token is never in a URL, a redirect or a log line, and
// custos keeps only its hash, so this page is the only time it is shown.
func (u *UI) createPrincipal(w http.ResponseWriter, r *http.Request, s *Session) {
	ctx := r.Context()
	v := r.PostForm
	var out tokenData
	c, err := u.Authorities.CreatePrincipal(ctx, s.P, auth.NewPrincipal{Name: v.Get("name"), Role: auth.Role(v.Get("role")),
		AuthorityID: v.Get("authority_id")})
	if err == nil {
		out.ID, out.Name, out.Role, out.Authority, out.Token = c.ID, c.Name, s.T(roleLabel(c.Role)), c.AuthorityID, c.Token
	}
	if err != nil {
		u.showPeople(w, r, s, &Refusal{Form: "principal", Values: v, Err: err})
		return
	}
	if a, err := auth.GetAuthority(ctx, u.DB.Read(), out.Authority); err == nil {
		out.Authority = a.Name
	}
	pg := u.newView(r, s, "Token of a new principal")
	pg.Data = out
	u.render(w, r, http.StatusCreated, nil, "token", pg)
}

func (u *UI) revokePrincipal(w http.ResponseWriter, r *http.Request, s *Session) {
	id := r.PathValue("id")
	if err := u.Authorities.RevokePrincipal(r.Context(), s.P, id); err != nil {
		u.showPeople(w, r, s, &Refusal{Form: "revoke-" + id, Values: r.PostForm, Err: err})
		return
	}
	s.RedirectDone(w, r, "/people#person-"+url.PathEscape(id), url.Values{"done": {"revoke"}, "id": {id}})
}

// ---- Authorities (administrator): of every kind the catalogue declares ----

// authorityKind is one kind's authorities, as the authorities page lists them.
type authorityKind struct {
	Kind, Label string
	Authorities []auth.Authority
}

type authoritiesData struct {
	Kinds   []authorityKind // the catalogue's, in its order
	Options []Option        // the kinds to choose from
	// All and Languages are the choices of the contact form: the
	// authorities the page lists, and the registry's language then each
	// one spoken.
	All, Languages []Option
	Next           string // the link to the next page; empty on the last
	Filtered       bool
}

func (u *UI) authorities(w http.ResponseWriter, r *http.Request, s *Session) {
	u.showAuthorities(w, r, s, nil)
}

// showAuthorities lists a page of the authorities, the newest first, under
// their kinds' headings, filtered by kind, jurisdiction and name.
func (u *UI) showAuthorities(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	if err := s.P.Require(auth.ManageAuthorities); err != nil {
		u.fail(w, r, s, err)
		return
	}
	v := u.newView(r, s, "Authorities")
	q := r.URL.Query()
	q.Del(noticeParam)
	var fref *Refusal
	f, err := auth.AuthorityFilterOf(q)
	if err != nil {
		fref = &Refusal{Form: "filter", Values: q, Err: err}
	}
	kinds := u.Authorities.Catalogue.KindNames()
	as, err := listed(r, s, v, &ref, f, fref, auth.AuthorityFilter{}, func(ctx context.Context, _ *auth.Principal, f auth.AuthorityFilter) (page.Of[auth.Authority], error) {
		return auth.AuthorityPage(ctx, u.DB.Read(), kinds, f)
	})
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	v.SetForm("filter", q)
	data := authoritiesData{Next: nextPage(r, as.Next), Filtered: fref == nil && (f.Kind != "" || f.Jurisdiction != "" || f.Name != "")}
	for _, k := range u.Authorities.Catalogue.Kinds() {
		ak := authorityKind{Kind: k.Name, Label: u.kindLabel(s, k.Name)}
		for _, a := range as.Items {
			if a.Kind == k.Name {
				ak.Authorities = append(ak.Authorities, a)
			}
		}
		data.Kinds = append(data.Kinds, ak)
		data.Options = append(data.Options, Option{Value: k.Name, Label: ak.Label})
	}
	for _, a := range as.Items {
		data.All = append(data.All, Option{Value: a.ID, Label: a.Name + " (" + a.ID + ")"})
	}
	data.Languages = []Option{{Value: "", Label: s.T("The registry's language")}}
	for _, l := range u.Languages.Languages() {
		data.Languages = append(data.Languages, Option{Value: l.Code, Label: l.Name})
	}
	v.Data = data
	// the authority the notice names, as the registry holds it now
	if n := s.Notice(r); n.Get("id") != "" {
		if a, err := auth.GetAuthority(r.Context(), u.DB.Read(), n.Get("id")); err == nil {
			switch n.Get("done") {
			case "authority":
				v.Flash = s.T("Authority %s created. Give it principals on the People page.", a.ID)
			case "contact":
				v.Flash = s.T("The notification e-mail of authority %s is recorded in the log.", a.ID)
			}
		}
	}
	u.show(w, r, nil, "authorities", v, ref)
}

func (u *UI) createAuthority(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	a, err := u.Authorities.CreateAuthority(r.Context(), s.P, auth.NewAuthority{Name: v.Get("name"), Kind: v.Get("kind"),
		Jurisdiction: strings.TrimSpace(v.Get("jurisdiction")), City: v.Get("city")})
	if err != nil {
		u.showAuthorities(w, r, s, &Refusal{Form: "authority", Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/authorities#authority-"+url.PathEscape(a.ID), url.Values{"done": {"authority"}, "id": {a.ID}})
}

// setContact records an authority's notification e-mail and its language
// (auth.Authorities.SetContact).
func (u *UI) setContact(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	a, err := u.Authorities.SetContact(r.Context(), s.P, v.Get("id"), auth.Contact{Email: v.Get("email"), Language: v.Get("language")})
	if err != nil {
		u.showAuthorities(w, r, s, &Refusal{Form: "contact", Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/authorities#authority-"+url.PathEscape(a.ID), url.Values{"done": {"contact"}, "id": {a.ID}})
}
