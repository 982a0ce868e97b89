package web

import (
	"net/http"
	"net/url"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/transplant"
)

// ---- Oversight: reimbursements, audits and their packs, the payer check
// (docs/oversight.md) ----
//
// The regulator's oversight page lists the centres with their flags, the
// overdue corrective actions and the audits, with the forms that plan and
// record them; an auditor reads it. A centre's audit pack is a page made
// to be printed (the print stylesheet drops the navigation), in the
// reader's language and script, with its files. Coordinators record
// reimbursements on their own page; the payer's one page asks the payer
// check and is all a payer sees.

func withAudits(sec *Section, t *transplantPages) {
	sec.Pages = append(sec.Pages,
		get("/oversight", t.oversight).Allowed(transplant.ReadAudits),
		post("/audits", t.planAudit).Allowed(transplant.WorkAudits),
		post("/audits/{id}/findings", t.recordFinding).Allowed(transplant.WorkAudits),
		post("/audit-findings/{id}/actions", t.setAction).Allowed(transplant.WorkAudits),
		post("/corrective-actions/{id}/done", t.closeAction).Allowed(transplant.WorkAudits),
		get("/oversight/pack", t.auditPack).Allowed(transplant.ReadAudits),
		get("/oversight/pack/export", t.auditPackExport).Allowed(transplant.ReadAudits),
		get("/reimbursements", t.reimbursements).Allowed(transplant.ReadReimbursements),
		post("/reimbursements", t.recordReimbursement).Allowed(transplant.Record),
		get("/payer", t.payer).Allowed(transplant.CheckPayment),
		post("/payer", t.payerCheck).Allowed(transplant.CheckPayment),
	)
	sec.Lists = withVigilance(sec.Lists, map[string][]string{"expense": transplant.ExpenseCategories, "payee": transplant.Payees,
		"severity": transplant.FindingSeverities})
	sec.Labels = withVigilance(sec.Labels, auditLabels)
	nav := sec.Nav
	sec.Nav = func(p *auth.Principal) []Link {
		if p.Role == transplant.RolePayer {
			return []Link{{"/transplant/payer", i18n.M("Payer check")}}
		}
		links := nav(p)
		if p.Can(transplant.ReadAudits) {
			links = append(links, Link{"/transplant/oversight", i18n.M("Audits and oversight")})
		}
		if p.Can(transplant.ReadReimbursements) {
			links = append(links, Link{"/transplant/reimbursements", i18n.M("Reimbursements")})
		}
		return links
	}
	home := sec.Home
	sec.Home = func(p *auth.Principal) *Card {
		if p.Can(transplant.CheckPayment) {
			return &Card{Template: "payer_home"}
		}
		return home(p)
	}
}

var auditLabels = map[string]string{
	transplant.ExpenseTravel:              i18n.M("Travel"),
	transplant.ExpenseAccommodation:       i18n.M("Accommodation"),
	transplant.ExpenseSubsistence:         i18n.M("Meals and subsistence"),
	transplant.ExpenseLostIncome:          i18n.M("Lost income"),
	transplant.ExpenseMedical:             i18n.M("Medical costs"),
	transplant.ExpenseDependantCare:       i18n.M("Care of children or dependants"),
	transplant.ExpenseInsurance:           i18n.M("Insurance of the donation's risks"),
	transplant.ExpenseFuneral:             i18n.M("Funeral"),
	transplant.PayeeDonor:                 i18n.M("The living donor"),
	transplant.PayeeFamily:                i18n.M("The donor's family"),
	"minor":                               i18n.M("Minor"),
	"major":                               i18n.M("Major"),
	"critical":                            i18n.M("Critical"),
	transplant.FlagAuthorizationLapsed:    i18n.M("Authorization lapsed"),
	transplant.FlagReportingBehind:        i18n.M("Reporting behind"),
	transplant.FlagActionsOverdue:         i18n.M("Corrective actions overdue"),
	transplant.ReasonPayable:              i18n.M("Payable"),
	transplant.ReasonTraffickingConfirmed: i18n.M("Linked to a confirmed case of trafficking for organ removal"),
}

type oversightData struct {
	Standings []transplant.CentreStanding
	// Unheld are the organs from abroad past the deadline no centre holds.
	Unheld    []transplant.AwaitingImport
	Overdue   []transplant.CorrectiveAction
	Audits    []transplant.Audit
	Centres   map[string]string
	CentreOpt []Option
	CanWork   bool
	Today     string
	MonthAgo  string
	// DueMin and DueMax bound a corrective action's due_on set today
	// (transplant.ActionDueBounds).
	DueMin, DueMax string
}

func (t *transplantPages) oversight(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showOversight(w, r, s, nil)
}

func (t *transplantPages) showOversight(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	st, err := t.svc.CentreStandings(r.Context(), s.P)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	d := oversightData{Standings: st, CanWork: s.P.Can(transplant.WorkAudits), Today: today(s.Now()),
		MonthAgo: s.Now().UTC().AddDate(0, -1, 0).Format(transplant.DateLayout)}
	d.DueMin, d.DueMax = transplant.ActionDueBounds(s.Now())
	if d.Unheld, err = t.svc.UnheldImports(r.Context(), s.P); err == nil {
		d.Overdue, err = t.svc.OverdueActions(r.Context(), s.P, "")
	}
	if err == nil {
		d.Audits, err = t.svc.Audits(r.Context(), s.P, "")
	}
	if err == nil {
		d.Centres, d.CentreOpt, err = centreChoices(r.Context(), t.svc.DB)
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Audits and oversight")
	pg.Data = d
	s.Show(w, r, "oversight", pg, ref)
}

func (t *transplantPages) planAudit(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	a, err := t.svc.PlanAudit(r.Context(), s.P, transplant.NewAudit{CentreID: v.Get("centre_id"), ProfessionalRef: v.Get("professional_ref"),
		PlannedOn: v.Get("planned_on"), Scope: v.Get("scope")})
	if err != nil {
		t.showOversight(w, r, s, &Refusal{Form: "audit", Values: v, Err: err})
		return
	}
	// To the record on the page, which shows it: these pages have no
	// message of what a form did, so no notice.
	http.Redirect(w, r, "/transplant/oversight#audit-"+url.PathEscape(a.ID), http.StatusSeeOther)
}

func (t *transplantPages) recordFinding(w http.ResponseWriter, r *http.Request, s *Session) {
	v, id := r.PostForm, r.PathValue("id")
	f, err := t.svc.RecordFinding(r.Context(), s.P, id, transplant.NewFinding{Severity: v.Get("severity"), Description: v.Get("description")})
	if err != nil {
		t.showOversight(w, r, s, &Refusal{Form: "finding-" + id, Values: v, Err: err})
		return
	}
	http.Redirect(w, r, "/transplant/oversight#finding-"+url.PathEscape(f.ID), http.StatusSeeOther)
}

func (t *transplantPages) setAction(w http.ResponseWriter, r *http.Request, s *Session) {
	v, id := r.PostForm, r.PathValue("id")
	a, err := t.svc.SetCorrectiveAction(r.Context(), s.P, id, transplant.NewCorrectiveAction{Action: v.Get("action"), DueOn: v.Get("due_on")})
	if err != nil {
		t.showOversight(w, r, s, &Refusal{Form: "action-" + id, Values: v, Err: err})
		return
	}
	http.Redirect(w, r, "/transplant/oversight#action-"+url.PathEscape(a.ID), http.StatusSeeOther)
}

func (t *transplantPages) closeAction(w http.ResponseWriter, r *http.Request, s *Session) {
	v, id := r.PostForm, r.PathValue("id")
	if _, err := t.svc.CloseCorrectiveAction(r.Context(), s.P, id, v.Get("done_on"), v.Get("note")); err != nil {
		t.showOversight(w, r, s, &Refusal{Form: "done-" + id, Values: v, Err: err})
		return
	}
	http.Redirect(w, r, "/transplant/oversight#action-"+url.PathEscape(id), http.StatusSeeOther)
}

type auditPackData struct {
	Pack      *transplant.AuditPack
	Downloads []Link
}

// auditPack is a centre's pack for a period, a page made to be printed.
func (t *transplantPages) auditPack(w http.ResponseWriter, r *http.Request, s *Session) {
	q := r.URL.Query()
	pk, err := t.svc.AuditPack(r.Context(), s.P, q.Get("centre_id"), q.Get("from"), q.Get("to"))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Audit pack")
	pg.Data = auditPackData{Pack: pk, Downloads: Downloads(r, "/transplant/oversight/pack/export")}
	s.Show(w, r, "audit_pack", pg, nil)
}

func (t *transplantPages) auditPackExport(w http.ResponseWriter, r *http.Request, s *Session) {
	req, err := t.svc.AuditPackExport(s.P, r.URL.Query())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.Export(w, r, req)
}

type reimbursementsData struct {
	List      []transplant.Reimbursement
	CanRecord bool
	Today     string
}

func (t *transplantPages) reimbursements(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showReimbursements(w, r, s, nil)
}

func (t *transplantPages) showReimbursements(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	list, err := t.svc.Reimbursements(r.Context(), s.P, r.URL.Query().Get("centre_id"), 0)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Reimbursements to donors")
	pg.Data = reimbursementsData{List: list, CanRecord: s.P.Can(transplant.Record), Today: today(s.Now())}
	s.Show(w, r, "reimbursements", pg, ref)
}

func (t *transplantPages) recordReimbursement(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	rb, err := t.svc.RecordReimbursement(r.Context(), s.P, transplant.NewReimbursement{DonorID: v.Get("donor_id"), Payee: v.Get("payee"),
		Category: v.Get("category"), Amount: v.Get("amount"), Currency: v.Get("currency"), IncurredOn: v.Get("incurred_on"), EvidenceRef: v.Get("evidence_ref")})
	if err != nil {
		t.showReimbursements(w, r, s, &Refusal{Form: "reimbursement", Values: v, Err: err})
		return
	}
	http.Redirect(w, r, "/transplant/reimbursements#reimbursement-"+url.PathEscape(rb.ID), http.StatusSeeOther)
}

type payerData struct {
	Answer *transplant.PayerAnswer
}

func (t *transplantPages) payer(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showPayer(w, r, s, nil, nil)
}

func (t *transplantPages) showPayer(w http.ResponseWriter, r *http.Request, s *Session, a *transplant.PayerAnswer, ref *Refusal) {
	if err := s.P.Require(transplant.CheckPayment); err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Payer check")
	pg.Data = payerData{Answer: a}
	w.Header().Set("Cache-Control", "no-store")
	s.Show(w, r, "payer", pg, ref)
}

func (t *transplantPages) payerCheck(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	a, err := t.svc.CheckPayer(r.Context(), s.P, transplant.PayerQuery{TransplantID: v.Get("transplant_id"),
		RecipientPseudonym: v.Get("recipient_pseudonym"), Date: v.Get("date")})
	if err != nil {
		t.showPayer(w, r, s, nil, &Refusal{Form: "payer", Values: v, Err: err})
		return
	}
	t.showPayer(w, r, s, a, nil)
}
