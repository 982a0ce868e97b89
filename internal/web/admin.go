package web

import (
	"net/http"
	"net/url"

	"github.com/custos-project/custos/internal/auth"
)

// ---- Centres (administrator): register ----

func (u *UI) registerCentre(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.PostForm
	a, err := u.createCentre(r, s, v)
	if err != nil {
		u.showCentres(w, r, s, &refusal{form: "centre", values: v, err: err})
		return
	}
	http.Redirect(w, r, "/centres?done=centre#centre-"+url.PathEscape(a.ID), http.StatusSeeOther)
}

// createCentre runs the command of POST /api/v1/centres: a transplant centre
// in the registry's jurisdiction.
func (u *UI) createCentre(r *http.Request, s *session, v url.Values) (*auth.Authority, error) {
	return u.Authorities.CreateAuthority(r.Context(), s.P, auth.NewAuthority{Name: v.Get("name"), City: v.Get("city"), Kind: auth.KindCentre})
}

// ---- People (administrator): principals and their tokens ----

// roleChoices are the roles an administrator may give, those the registry
// knows, with what each may do.
var roleChoices = []struct {
	Role auth.Role
	Does string
}{
	{auth.Coordinator, "records for one transplant centre"},
	{auth.Regulator, "authorizes centres, reads alerts and everything else"},
	{auth.Auditor, "reads everything, changes nothing"},
	{auth.Admin, "registers centres and manages people"},
	{"analyst", "publishes hash banks for a competent authority"},
	{"service", "an online service's system account"},
	{"reviewer", "reviews matches for an online service"},
}

var roleLabels = map[auth.Role]string{auth.Admin: "Administrator"}

func roleLabel(r auth.Role) string {
	if l, ok := roleLabels[r]; ok {
		return l
	}
	return label(string(r))
}

func roleOptions(catalogue *auth.Catalogue) []option {
	var out []option
	for _, c := range roleChoices {
		if _, ok := catalogue.Role(c.Role); ok {
			out = append(out, option{Value: string(c.Role), Label: roleLabel(c.Role) + ": " + c.Does})
		}
	}
	return out
}

type peopleData struct {
	People      []auth.PrincipalRecord
	Authorities []option
	Roles       []option
	Self        string // the signed-in principal's id, whose token is not revoked here
}

func (u *UI) people(w http.ResponseWriter, r *http.Request, s *session) { u.showPeople(w, r, s, nil) }

func (u *UI) showPeople(w http.ResponseWriter, r *http.Request, s *session, ref *refusal) {
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
	data := peopleData{People: ps, Roles: roleOptions(u.Authorities.Catalogue), Self: s.P.ID}
	for _, a := range as {
		data.Authorities = append(data.Authorities, option{Value: a.ID, Label: a.Name + " (" + label(a.Kind) + ")"})
	}
	pg := u.newPage(r, s, "People")
	pg.Data = data
	if q := r.URL.Query(); q.Get("done") == "revoke" && idRE.MatchString(q.Get("id")) {
		pg.Flash = "The token of " + q.Get("id") + " is revoked: it no longer signs in."
	}
	u.show(w, r, "people", pg, ref)
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
func (u *UI) createPrincipal(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	v := r.PostForm
	var out tokenData
	c, err := u.Authorities.CreatePrincipal(ctx, s.P, auth.NewPrincipal{Name: v.Get("name"), Role: auth.Role(v.Get("role")),
		AuthorityID: v.Get("authority_id")})
	if err == nil {
		out.ID, out.Name, out.Role, out.Authority, out.Token = c.ID, c.Name, roleLabel(c.Role), c.AuthorityID, c.Token
	}
	if err != nil {
		u.showPeople(w, r, s, &refusal{form: "principal", values: v, err: err})
		return
	}
	if a, err := auth.GetAuthority(ctx, u.DB.Read(), out.Authority); err == nil {
		out.Authority = a.Name
	}
	pg := u.newPage(r, s, "Token of a new principal")
	pg.Data = out
	u.render(w, r, http.StatusCreated, "token", pg)
}

func (u *UI) revokePrincipal(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	if err := u.Authorities.RevokePrincipal(r.Context(), s.P, id); err != nil {
		u.showPeople(w, r, s, &refusal{form: "revoke-" + id, values: r.PostForm, err: err})
		return
	}
	redirect(w, r, "/people", url.Values{"done": {"revoke"}, "id": {id}})
}
