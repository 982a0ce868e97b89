package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/custos-project/custos/internal/transplant"
)

// ---- Procedures: several organs into one recipient, and the domino liver ----
//
// The form of transplant.Service.RecordProcedure: the kind, the organs'
// identifiers (one a line, or separated by commas or spaces), the
// recipient, when, and with a domino liver the first recipient's consent to
// donating it, as a living donor's (docs/oversight.md).

func (t *transplantPages) procedurePages() []Page {
	return []Page{
		get("/procedures/new", t.procedureForm).Allowed(transplant.Record),
		post("/procedures", t.recordProcedure).Allowed(transplant.Record),
	}
}

func (t *transplantPages) procedureForm(w http.ResponseWriter, r *http.Request, s *Session) {
	q := r.URL.Query()
	vals := url.Values{"performed_at": {nowLocal(s)}, "kind": {transplant.ProcedureSingle}}
	for _, k := range []string{"organ_ids", "recipient_id", "kind"} {
		if v := q.Get(k); v != "" {
			vals.Set(k, v)
		}
	}
	t.showProcedure(w, r, s, vals, nil)
}

func (t *transplantPages) showProcedure(w http.ResponseWriter, r *http.Request, s *Session, vals url.Values, ref *Refusal) {
	if err := s.P.Require(transplant.Record); err != nil {
		s.Fail(w, r, err)
		return
	}
	rs, err := t.waiting(r.Context(), s.P)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	var data transplantData
	for _, rc := range rs.Items {
		data.Recipients = append(data.Recipients, Option{Value: rc.ID,
			Label: s.T("%s, blood group %s", s.T(labelOf(transplantLabels, rc.OrganNeeded)), rc.BloodGroup)})
	}
	pg := s.View(r, "Record a procedure")
	pg.Data = data
	pg.SetForm("procedure", vals)
	s.Show(w, r, "procedure", pg, ref)
}

// procedureOrganIDs splits the organs' field: one identifier a line, or
// separated by commas or semicolons (an identifier may hold spaces).
func procedureOrganIDs(v string) []string {
	var ids []string
	for _, line := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ';' }) {
		if id := strings.TrimSpace(line); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

func (t *transplantPages) recordProcedure(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	at, err := localTime(s, "performed_at", v.Get("performed_at"))
	var done *transplant.Procedure
	if err == nil {
		in := transplant.NewProcedure{Kind: v.Get("kind"), OrganIDs: procedureOrganIDs(v.Get("organ_ids")),
			RecipientID: strings.ToUpper(strings.TrimSpace(v.Get("recipient_id"))), PerformedAt: at, DominoLiver: checked(v, "domino_liver")}
		// The consent's fields are sent only with a domino liver: the form
		// keeps them, filled or not, whatever the box.
		if in.DominoLiver {
			in.DominoConsent = &transplant.NewConsent{Kind: transplant.ConsentLiving, GivenOn: strings.TrimSpace(v.Get("domino_consent.given_on")),
				AssessedBy: v.Get("domino_consent.assessed_by"), AssessorIndependent: checked(v, "domino_consent.assessor_independent"),
				Voluntary: checked(v, "domino_consent.voluntary"), Informed: checked(v, "domino_consent.informed")}
		}
		done, err = t.svc.RecordProcedure(r.Context(), s.P, in)
	}
	if err != nil {
		t.showProcedure(w, r, s, v, &Refusal{Form: "procedure", Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/transplant/trace?"+url.Values{"q": {done.RecipientID}}.Encode(), url.Values{"done": {"procedure"}, "id": {done.RecipientID}, "procedure": {done.ID}})
}
