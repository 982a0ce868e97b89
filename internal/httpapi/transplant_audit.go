package httpapi

import (
	"net/http"
	"reflect"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/transplant"
)

// Bodies and answers of the oversight routes.
type (
	reimbursementList struct {
		Reimbursements []transplant.Reimbursement `json:"reimbursements"`
	}
	auditList struct {
		Audits []transplant.Audit `json:"audits"`
	}
	actionList struct {
		Actions []transplant.CorrectiveAction `json:"actions"`
	}
	standingList struct {
		Centres []transplant.CentreStanding `json:"centres"`
		// UnheldImports are the organs from abroad past the disposition
		// deadline that no centre holds, which no centre's standing counts.
		UnheldImports []transplant.AwaitingImport `json:"unheld_imports"`
	}
	actionDoneIn struct {
		DoneOn string `json:"done_on" api:"required"`
		Note   string `json:"note" api:"required"`
	}
	caseLinkIn struct {
		TransplantID string `json:"transplant_id" api:"required"`
	}
	payerCheckList struct {
		Checks []transplant.PayerCheckRecord `json:"checks"`
	}
)

// listSize is the size of the oversight lists: 200 unless the query's limit says.
var listSize = page.Size{Default: 200, Max: 1000}

// oversightRoutes are the routes of donor reimbursements, audits and their
// packs, and the payer check (docs/oversight.md).
func auditRoutes(env Env, t *transplant.Service) []Route {
	const base = "/api/v1/transplant"
	enums := []Enum{
		{reflect.TypeFor[transplant.NewReimbursement](), "Payee", transplant.Payees},
		{reflect.TypeFor[transplant.NewReimbursement](), "Category", transplant.ExpenseCategories},
		{reflect.TypeFor[transplant.Reimbursement](), "Payee", transplant.Payees},
		{reflect.TypeFor[transplant.Reimbursement](), "Category", transplant.ExpenseCategories},
	}
	severity := []Enum{{reflect.TypeFor[transplant.NewFinding](), "Severity", transplant.FindingSeverities},
		{reflect.TypeFor[transplant.AuditFinding](), "Severity", transplant.FindingSeverities}}
	return []Route{
		{Method: "POST", Path: base + "/reimbursements", Allow: []auth.Action{transplant.Record}, Summary: "Record a reimbursement of a reasonable, verifiable expense to a living donor or a donor's family: category, evidence, exact amount " +
			"(decimal text) and ISO 4217 currency (coordinator of the donor's centre); anything else is refused and alerted as a possible payment for an organ",
			In: transplant.NewReimbursement{}, Out: transplant.Reimbursement{}, Status: http.StatusCreated, Enums: enums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewReimbursement](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.RecordReimbursement(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: base + "/reimbursements", Allow: []auth.Action{transplant.ReadReimbursements}, Summary: "The reimbursements, newest first (query centre_id, limit; a coordinator reads their centre's, the regulator and an auditor all)",
			Out: reimbursementList{}, Enums: enums,
			Query: []Param{{Name: "centre_id", Doc: "the reimbursements of one centre"}, {Name: "limit", Doc: "at most this many (1 to 1000, 200 by default)"}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				n, err := page.Limit(r.URL.Query(), "limit", listSize)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.Reimbursements(r.Context(), p, r.URL.Query().Get("centre_id"), n)
				return http.StatusOK, reimbursementList{out}, err
			}},
		{Method: "POST", Path: base + "/audits", Allow: []auth.Action{transplant.WorkAudits}, Summary: "Plan an audit of a centre, or of one of its professionals by a professional reference (regulator)",
			In: transplant.NewAudit{}, Out: transplant.Audit{}, Status: http.StatusCreated, Enums: severity,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewAudit](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.PlanAudit(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: base + "/audits", Allow: []auth.Action{transplant.ReadAudits}, Summary: "The audits with their findings and corrective actions, the latest planned first (query centre_id; regulator, auditor)",
			Out: auditList{}, Enums: severity, Query: []Param{{Name: "centre_id", Doc: "the audits of one centre"}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := t.Audits(r.Context(), p, r.URL.Query().Get("centre_id"))
				return http.StatusOK, auditList{out}, err
			}},
		{Method: "POST", Path: base + "/audits/{id}/findings", Allow: []auth.Action{transplant.WorkAudits}, Summary: "Record what a held audit found (regulator)",
			In: transplant.NewFinding{}, Out: transplant.AuditFinding{}, Status: http.StatusCreated, Enums: severity,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewFinding](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.RecordFinding(r.Context(), p, r.PathValue("id"), in)
				return http.StatusCreated, out, err
			}},
		{Method: "POST", Path: base + "/audit-findings/{id}/actions", Allow: []auth.Action{transplant.WorkAudits}, Summary: "Set a corrective action a finding asks of the centre, due today or later (regulator)",
			In: transplant.NewCorrectiveAction{}, Out: transplant.CorrectiveAction{}, Status: http.StatusCreated,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewCorrectiveAction](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.SetCorrectiveAction(r.Context(), p, r.PathValue("id"), in)
				return http.StatusCreated, out, err
			}},
		{Method: "POST", Path: base + "/corrective-actions/{id}/done", Allow: []auth.Action{transplant.WorkAudits}, Summary: "Record a corrective action done, with what was verified (regulator)",
			In: actionDoneIn{}, Out: transplant.CorrectiveAction{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[actionDoneIn](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.CloseCorrectiveAction(r.Context(), p, r.PathValue("id"), in.DoneOn, in.Note)
				return http.StatusOK, out, err
			}},
		{Method: "GET", Path: base + "/corrective-actions/overdue", Allow: []auth.Action{transplant.ReadAudits}, Summary: "The corrective actions past their deadline and not done, the longest overdue first (query centre_id; regulator, auditor)",
			Out: actionList{}, Query: []Param{{Name: "centre_id", Doc: "the actions of one centre"}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := t.OverdueActions(r.Context(), p, r.URL.Query().Get("centre_id"))
				return http.StatusOK, actionList{out}, err
			}},
		{Method: "GET", Path: base + "/centre-standings", Allow: []auth.Action{transplant.ReadAudits}, Summary: "Every transplant centre with what flags it: authorizations lapsed and not renewed, reporting behind, corrective actions overdue; the flagged first; " +
			"and the organs received from abroad past the disposition deadline with no outcome that no centre holds (regulator, auditor)",
			Out: standingList{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := t.CentreStandings(r.Context(), p)
				if err != nil {
					return 0, nil, err
				}
				unheld, err := t.UnheldImports(r.Context(), p)
				return http.StatusOK, standingList{out, unheld}, err
			}},
		{Method: "GET", Path: base + "/audit-pack", Allow: []auth.Action{transplant.ReadAudits}, Summary: "A centre's audit pack for a period: activity, alerts, refusals, overdue follow-ups, unreconciled organs (its own and those from abroad it holds), audits, overdue actions, flags " +
			"(query centre_id, from, to; format csv or xlsx for the file, every export a log entry; regulator, auditor)",
			Out: transplant.AuditPack{},
			Query: []Param{{Name: "centre_id", Doc: "the centre (required)"}, {Name: "from", Doc: "the first day (YYYY-MM-DD, required)"}, {Name: "to", Doc: "the last day (YYYY-MM-DD, required)"},
				{Name: "format", Doc: "csv or xlsx: the pack as a file", Values: export.Formats}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				q := r.URL.Query()
				if q.Get("format") == "" {
					out, err := t.AuditPack(r.Context(), p, q.Get("centre_id"), q.Get("from"), q.Get("to"))
					return http.StatusOK, out, err
				}
				req, err := t.AuditPackExport(p, q)
				if err != nil {
					return 0, nil, err
				}
				return serveFile(env, r, p, req)
			}},
		{Method: "POST", Path: base + "/trafficking/reports/{id}/transplants", Allow: []auth.Action{transplant.WorkTraffickingReports}, Summary: "Link a report's case to a transplantation it concerns (designated authority, while the report is under assessment or referred); " +
			"once the assessment confirms trafficking, the procedure is not reimbursable",
			In: caseLinkIn{}, Status: http.StatusNoContent,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[caseLinkIn](r)
				if err != nil {
					return 0, nil, err
				}
				return http.StatusNoContent, nil, t.LinkTraffickingCase(r.Context(), p, r.PathValue("id"), in.TransplantID)
			}},
		{Method: "POST", Path: base + "/trafficking/reports/{id}/transplants/{transplant}/withdraw", Allow: []auth.Action{transplant.WorkTraffickingReports},
			Summary: "Withdraw a report's link to a transplantation, made in error, with a reason (designated authority): the report no longer lists it, and the procedure is " +
				"reimbursable again unless another confirmed case is linked to it; the link and its withdrawal stay in the log",
			In: transplant.LinkWithdrawal{}, Out: transplant.TraffickingLinkWithdrawn{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.LinkWithdrawal](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.WithdrawTraffickingCaseLink(r.Context(), p, r.PathValue("id"), r.PathValue("transplant"), in)
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: base + "/payer-check", Allow: []auth.Action{transplant.CheckPayment}, Summary: "Whether a transplant procedure may be reimbursed, by transplant_id or by recipient_pseudonym and date: not when it is linked to a confirmed " +
			"trafficking case (reason trafficking_confirmed); care after it and medicines stay payable. Every question is a log entry (payer)",
			In: transplant.PayerQuery{}, Out: transplant.PayerAnswer{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.PayerQuery](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.CheckPayer(r.Context(), p, in)
				return http.StatusOK, out, err
			}},
		{Method: "GET", Path: base + "/payer-checks", Allow: []auth.Action{transplant.ReadPayerChecks}, Summary: "The payers' questions with the answers given, newest first (query limit; regulator, auditor)",
			Out: payerCheckList{}, Query: []Param{{Name: "limit", Doc: "at most this many (1 to 1000, 200 by default)"}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				n, err := page.Limit(r.URL.Query(), "limit", listSize)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.PayerChecks(r.Context(), p, n)
				return http.StatusOK, payerCheckList{out}, err
			}},
	}
}
