package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/transplant"
)

// ---- The assessment of a trafficking report, and the UNODC return
// (docs/trafficking.md) ----
//
// On a report's page, while it is under assessment or referred, the
// designated authority records its assessment (the form's fields are named
// as the API's, donor.nationality …, so that a refusal marks its input).
// The UNODC return's page explains it and offers its files, to the
// designated authority and the regulator.

func (t *transplantPages) unodcPages() []Page {
	return []Page{
		post("/trafficking/reports/{id}/assessment", t.traffickingAssess).Allowed(transplant.WorkTraffickingReports),
		get("/trafficking/unodc", t.unodc).Allowed(transplant.ExportUNODC),
		get("/trafficking/unodc/export", t.unodcExport).Allowed(transplant.ExportUNODC),
	}
}

// unodcNav is the regulator's link to the UNODC return (the designated
// authority's is on its queue).
func unodcNav(p *auth.Principal) []Link {
	if p.Can(transplant.ExportUNODC) && !p.Can(transplant.WorkTraffickingReports) {
		return []Link{{"/transplant/trafficking/unodc", i18n.M("UNODC return")}}
	}
	return nil
}

// assessmentForm is the assessment's form on a report's page.
type assessmentForm struct {
	// Open tells whether the report may be assessed now.
	Open                                 bool
	Current                              *transplant.TraffickingAssessment
	Conclusions, Organs, Sexes, AgeBands []Option
}

// assessmentLabels are the words of the age bands (the other values of
// the assessment's lists are the section's).
var assessmentLabels = map[string]string{
	"0-17": i18n.M("0 to 17 years"), "18-24": i18n.M("18 to 24 years"), "25-34": i18n.M("25 to 34 years"),
	"35-44": i18n.M("35 to 44 years"), "45-54": i18n.M("45 to 54 years"), "55-64": i18n.M("55 to 64 years"),
	"65+": i18n.M("65 years and over"),
}

// assessmentLists are the value lists of the assessment's form (its sexes
// are the section's "sex").
var assessmentLists = map[string][]string{"assessment_conclusion": transplant.AssessmentConclusions,
	"case_organ": transplant.CaseOrgans, "age_band": transplant.AgeBands}

// assessment fills the assessment's form of report r, its values the
// assessment recorded when there is one.
func (t *transplantPages) assessment(req *http.Request, s *Session, r *transplant.TraffickingReport, v *View) (assessmentForm, error) {
	f := assessmentForm{Open: r.Status == transplant.TraffickingUnderAssessment || r.Status == transplant.TraffickingReferred,
		Conclusions: s.list("assessment_conclusion"),
		Organs:      s.list("case_organ"),
		Sexes:       s.list("sex"),
		AgeBands:    s.list("age_band")}
	a, err := t.svc.TraffickingAssessment(req.Context(), s.P, r.ID)
	if errs.CodeOf(err) == errs.NotFound {
		v.SetForm("assessment", url.Values{"year": {strconv.Itoa(s.Now().Year())}})
		return f, nil
	}
	if err != nil {
		return f, err
	}
	f.Current = a
	v.SetForm("assessment", url.Values{"conclusion": {a.Conclusion}, "year": {strconv.Itoa(a.Year)}, "organ": {a.Organ},
		"donor.nationality": {a.Donor.Nationality}, "donor.sex": {a.Donor.Sex}, "donor.age_band": {a.Donor.AgeBand},
		"recipient.nationality": {a.Recipient.Nationality}, "recipient.sex": {a.Recipient.Sex}, "recipient.age_band": {a.Recipient.AgeBand}})
	return f, nil
}

func (t *transplantPages) traffickingAssess(w http.ResponseWriter, r *http.Request, s *Session) {
	id, v := r.PathValue("id"), r.PostForm
	in := transplant.TraffickingAssessment{Conclusion: v.Get("conclusion"), Organ: v.Get("organ"),
		Donor:     transplant.CasePerson{Nationality: v.Get("donor.nationality"), Sex: v.Get("donor.sex"), AgeBand: v.Get("donor.age_band")},
		Recipient: transplant.CasePerson{Nationality: v.Get("recipient.nationality"), Sex: v.Get("recipient.sex"), AgeBand: v.Get("recipient.age_band")}}
	var err error
	if in.Year, err = strconv.Atoi(strings.TrimSpace(v.Get("year"))); err != nil {
		// Not a number: refused as the service refuses a year out of range.
		in.Year = -1
	}
	if _, err := t.svc.AssessTraffickingReport(r.Context(), s.P, id, in); err != nil {
		t.showTraffickingCase(w, r, s, &Refusal{Form: "assessment", Values: v, Err: err}, traffickingCaseData{})
		return
	}
	s.RedirectDone(w, r, "/transplant/trafficking/reports/"+id, url.Values{"done": {"assessment"}})
}

type unodcData struct {
	Max       int // the largest count suppressed
	Downloads []Link
}

// unodc is the UNODC return's page: what it counts, how it is protected,
// and its files.
func (t *transplantPages) unodc(w http.ResponseWriter, r *http.Request, s *Session) {
	if err := s.P.Require(transplant.ExportUNODC); err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "UNODC return")
	pg.Data = unodcData{Max: t.svc.DisclosureThreshold() - 1, Downloads: Downloads(r, "/transplant/trafficking/unodc/export")}
	s.Show(w, r, "trafficking_unodc", pg, nil)
}

// unodcExport answers the UNODC return's download links with the file.
func (t *transplantPages) unodcExport(w http.ResponseWriter, r *http.Request, s *Session) {
	req, err := t.svc.UNODCExport(s.P, r.URL.Query())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.Export(w, r, req)
}
