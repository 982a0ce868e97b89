package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/transplant"
)

// ---- The data subjects' rights: erasure, subject access, rectification ----
// (docs/personal-data.md). Each is a command of the registry, logged; these
// pages confirm and explain.

// subjectRights is the card of a donor's or recipient's page: the erasure
// when there was one, and what the principal may do.
type subjectRights struct {
	ID         string
	Erasure    *privacy.Erasure
	CanErase   bool
	CanExport  bool
	CanRectify bool
}

// rightsOf is the rights card of the donor or recipient id of centre.
func (t *transplantPages) rightsOf(ctx context.Context, p *auth.Principal, id, centre string) (subjectRights, error) {
	own := p.Role != transplant.RoleCoordinator || p.AuthorityID == centre
	er, err := t.svc.Erased(ctx, id)
	return subjectRights{ID: id, Erasure: er, CanErase: p.Can(transplant.ErasePersonalData) && er == nil,
		CanExport: p.Can(transplant.ExportSubjectData) && own, CanRectify: p.Can(transplant.RectifyPersonalData) && own && er == nil}, err
}

// groundLabels are the words of the erasure grounds.
var groundLabels = func() map[string]string {
	m := map[string]string{}
	for _, g := range privacy.Grounds {
		m[g.Ground] = g.Label
	}
	return m
}()

// subjectRightsPages are the section's pages of the rights.
func (t *transplantPages) subjectRightsPages() []Page {
	return []Page{
		get("/subjects/{id}/erase", t.erasePage).Allowed(transplant.ErasePersonalData),
		post("/subjects/{id}/erase", t.erase).Allowed(transplant.ErasePersonalData),
		get("/subjects/{id}/access", t.accessPage).Allowed(transplant.ExportSubjectData),
		post("/subjects/{id}/access", t.access).Allowed(transplant.ExportSubjectData),
		get("/subjects/{id}/rectify", t.rectifyPage).Allowed(transplant.RectifyPersonalData),
		post("/subjects/{id}/rectify", t.rectify).Allowed(transplant.RectifyPersonalData),
	}
}

// recordPath is the page of the donor or recipient id.
func recordPath(id string) string {
	if strings.HasPrefix(id, "RC-") {
		return "/transplant/recipients/" + id
	}
	return "/transplant/donors/" + id
}

type erasureData struct {
	Plan *transplant.ErasurePlan
	Back string
}

func (t *transplantPages) erasePage(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showErase(w, r, s, nil)
}

// showErase is the confirmation of an erasure: it names what becomes
// unreadable (every sealed value of the subject, and the index of its
// name), what stays (the records, their pseudonym, the trace), and the
// retention that applies.
func (t *transplantPages) showErase(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	id := r.PathValue("id")
	plan, err := t.svc.PlanErasure(r.Context(), s.P, id)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Erase personal data")
	pg.Data = erasureData{Plan: plan, Back: recordPath(id)}
	s.Show(w, r, "subject_erase", pg, ref)
}

func (t *transplantPages) erase(w http.ResponseWriter, r *http.Request, s *Session) {
	id := r.PathValue("id")
	v := r.PostForm
	if _, err := t.svc.EraseSubject(r.Context(), s.P, id, transplant.Erase{Ground: v.Get("ground"), Reference: v.Get("reference")}); err != nil {
		t.showErase(w, r, s, &Refusal{Form: "erase", Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, recordPath(id), url.Values{"done": {"erased"}})
}

type accessData struct {
	ID     string
	Back   string
	Report *transplant.SubjectReport
	People people // who made the corrections and who read (who)
}

func (t *transplantPages) accessPage(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showAccess(w, r, s, nil)
}

func (t *transplantPages) showAccess(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	showSubjectForm(w, r, s, ref, transplant.ExportSubjectData, i18n.M("Subject access"), "subject_access")
}

// showSubjectForm is the form page of a right (subject access,
// rectification) for the donor or recipient of the path, to whoever may
// exercise it: the record's id and the way back to its page.
func showSubjectForm(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal, a auth.Action, title, template string) {
	id := r.PathValue("id")
	if err := s.P.Require(a); err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, title)
	pg.Data = accessData{ID: id, Back: recordPath(id)}
	s.Show(w, r, template, pg, ref)
}

// access answers the POST of a subject-access export: the printable page,
// or the JSON file, never kept by the browser.
func (t *transplantPages) access(w http.ResponseWriter, r *http.Request, s *Session) {
	id := r.PathValue("id")
	v := r.PostForm
	format := v.Get("format")
	rep, err := t.svc.SubjectAccess(r.Context(), s.P, id, format, v.Get("purpose"))
	if err != nil {
		t.showAccess(w, r, s, &Refusal{Form: "access", Values: v, Err: err})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if format == transplant.AccessJSON {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="subject-access-`+id+`.json"`)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
		return
	}
	// The page names who corrected and who read as any page does (who):
	// the exporter's own authority and the regulator by name, another
	// authority's staff as someone there. The JSON file keeps the ids, as
	// the API does.
	var ids []string
	for _, c := range rep.Corrections {
		ids = append(ids, c.CorrectedBy)
	}
	for _, rd := range rep.Reads {
		ids = append(ids, rd.PrincipalID)
	}
	people, err := principalNames(r.Context(), t.svc.DB.Read(), s.P, ids...)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Subject access")
	pg.Data = accessData{ID: id, Back: recordPath(id), Report: rep, People: people}
	s.Show(w, r, "subject_report", pg, nil)
}

func (t *transplantPages) rectifyPage(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showRectify(w, r, s, nil)
}

func (t *transplantPages) showRectify(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	showSubjectForm(w, r, s, ref, transplant.RectifyPersonalData, i18n.M("Rectify personal data"), "subject_rectify")
}

func (t *transplantPages) rectify(w http.ResponseWriter, r *http.Request, s *Session) {
	id := r.PathValue("id")
	v := r.PostForm
	in := transplant.Rectification{Name: v.Get("name"), NationalID: v.Get("national_id"), Reason: v.Get("reason")}
	if _, err := t.svc.Rectify(r.Context(), s.P, id, in); err != nil {
		// The corrected values are not shown again: a refused form
		// keeps the reason only.
		t.showRectify(w, r, s, &Refusal{Form: "rectify", Values: url.Values{"reason": {v.Get("reason")}}, Err: err})
		return
	}
	s.RedirectDone(w, r, recordPath(id), url.Values{"done": {"rectified"}})
}

// rightsFlash are the flash messages of a record's page after a right was
// exercised.
var rightsFlash = map[string]string{
	"erased":    i18n.M("Personal data erased. The records keep their pseudonym and trace; the log records the erasure."),
	"rectified": i18n.M("Personal data rectified. The old value stays sealed; the log records what was corrected and why."),
}
