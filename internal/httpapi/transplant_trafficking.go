package httpapi

import (
	"net/http"
	"net/url"
	"reflect"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/transplant"
)

// Bodies and answers of the suspected-trafficking routes.
type (
	traffickingIndicators struct {
		Categories []string               `json:"categories"`
		Indicators []transplant.Indicator `json:"indicators"`
	}
	traffickingReceipts struct {
		Reports []transplant.TraffickingReceipt `json:"reports"`
	}
	traffickingQueue struct {
		Reports []transplant.TraffickingReport `json:"reports"`
		Next    string                         `json:"next,omitempty"`
	}
	traffickingScreenings struct {
		Alerts []transplant.TraffickingScreening `json:"alerts"`
		Next   string                            `json:"next,omitempty"`
	}
	traffickingStatusIn struct {
		Status string `json:"status" api:"required"`
	}
	screeningRun struct {
		Raised int `json:"raised"`
	}
	purposeIn struct {
		Purpose string `json:"purpose" api:"required"`
	}
)

// traffickingRoutes are the routes of suspected-trafficking reports
// (docs/trafficking.md): a health professional of a transplant centre files
// and follows their own; the designated authority works the queue.
func traffickingRoutes(t *transplant.Service) []Route {
	const base = "/api/v1/transplant/trafficking"
	statusEnums := []Enum{
		{reflect.TypeFor[transplant.TraffickingReceipt](), "Status", transplant.TraffickingStatuses},
		{reflect.TypeFor[transplant.TraffickingReport](), "Status", transplant.TraffickingStatuses},
		{reflect.TypeFor[transplant.TraffickingStatusChange](), "Status", transplant.TraffickingStatuses},
		{reflect.TypeFor[traffickingStatusIn](), "Status", transplant.TraffickingStatuses},
		{reflect.TypeFor[transplant.TraffickingReport](), "Indicators", transplant.TraffickingIndicatorCodes()},
	}
	return []Route{
		{Method: "GET", Path: base + "/indicators", Allow: []auth.Action{transplant.ReportTrafficking, transplant.WorkTraffickingReports},
			Summary: "The indicators a suspected-trafficking report chooses from, by category (HOTT project, DICG)",
			Out:     traffickingIndicators{}, Enums: []Enum{{reflect.TypeFor[transplant.Indicator](), "Category", transplant.TraffickingCategories}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				return http.StatusOK, traffickingIndicators{transplant.TraffickingCategories, transplant.TraffickingIndicators}, nil
			}},
		{Method: "POST", Path: base + "/reports", Allow: []auth.Action{transplant.ReportTrafficking}, Summary: "File a confidential suspected-trafficking report with the designated authority (a health professional of a transplant centre); the answer's reference is how the reporter follows it",
			In: transplant.NewTraffickingReport{}, Out: transplant.TraffickingReceipt{}, Status: 201, Enums: append(statusEnums,
				Enum{reflect.TypeFor[transplant.NewTraffickingReport](), "Indicators", transplant.TraffickingIndicatorCodes()}),
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewTraffickingReport](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.FileTraffickingReport(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: base + "/reports/mine", Allow: []auth.Action{transplant.ReportTrafficking}, Summary: "The reports the caller filed, newest first: reference and status only",
			Out: traffickingReceipts{}, Enums: statusEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := t.MyTraffickingReports(r.Context(), p)
				return http.StatusOK, traffickingReceipts{out}, err
			}},
		{Method: "GET", Path: base + "/reports/mine/{reference}", Allow: []auth.Action{transplant.ReportTrafficking}, Summary: "The status of one report the caller filed",
			Out: transplant.TraffickingReceipt{}, Enums: statusEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := t.MyTraffickingReport(r.Context(), p, r.PathValue("reference"))
				return http.StatusOK, out, err
			}},
		{Method: "GET", Path: base + "/reports", Allow: []auth.Action{transplant.WorkTraffickingReports}, Summary: "The designated authority's queue, newest first, a page at a time (query status, limit, cursor); no report names its reporter",
			Out: traffickingQueue{}, Enums: statusEnums,
			Query: pageQuery(page.Lists, []string{"status"}, map[string]Param{"status": {Doc: "the reports of one status", Values: transplant.TraffickingStatuses}}),
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				return pagedList(r, p, "reports", transplant.TraffickingFilterOf, t.TraffickingQueue)
			}},
		{Method: "GET", Path: base + "/reports/{id}", Allow: []auth.Action{transplant.WorkTraffickingReports}, Summary: "One report with the history of its status and the transplantations its case is linked to, the links in force (designated authority)",
			Out: transplant.TraffickingReport{}, Enums: statusEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := t.GetTraffickingReport(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: base + "/reports/{id}/status", Allow: []auth.Action{transplant.WorkTraffickingReports}, Summary: "Move a report on: received, under_assessment, then referred_to_law_enforcement or closed_unfounded (designated authority)",
			In: traffickingStatusIn{}, Out: transplant.TraffickingReport{}, Enums: statusEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[traffickingStatusIn](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.SetTraffickingStatus(r.Context(), p, r.PathValue("id"), in.Status)
				return http.StatusOK, out, err
			}},
		{Method: "POST", Sealed: true, Path: base + "/reports/{id}/content", Allow: []auth.Action{transplant.WorkTraffickingReports}, Summary: "Open what a report says, its text and linked records (designated authority; recorded in the log with the purpose)",
			In: purposeIn{}, Out: transplant.TraffickingContent{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[purposeIn](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.TraffickingReportContent(r.Context(), p, r.PathValue("id"), in.Purpose)
				return http.StatusOK, out, err
			}},
		{Method: "POST", Sealed: true, Path: base + "/reports/{id}/reporter", Allow: []auth.Action{transplant.WorkTraffickingReports}, Summary: "Open who filed a report (designated authority only; recorded in the log with the purpose)",
			In: purposeIn{}, Out: transplant.TraffickingReporter{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[purposeIn](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.TraffickingReportReporter(r.Context(), p, r.PathValue("id"), in.Purpose)
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: base + "/screenings", Allow: []auth.Action{transplant.WorkTraffickingReports, auth.WorkAlerts}, Summary: "Screen every transplantation from a living donor the registry holds, raising the alerts not raised yet (designated authority, regulator)",
			Out: screeningRun{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				n, err := t.ScreenTrafficking(r.Context(), p)
				return http.StatusOK, screeningRun{Raised: n}, err
			}},
		{Method: "GET", Path: base + "/screenings", Allow: []auth.Action{transplant.WorkTraffickingReports, auth.ReadAlerts}, Summary: "The alerts the screening of registry data raised on trafficking indicators, newest first, a page at a time (query limit, cursor; designated authority, regulator, auditor)",
			Out: traffickingScreenings{}, Query: pageQuery(page.Lists, nil, nil),
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				return pagedList(r, p, "alerts", func(q url.Values) (page.Request, error) { return page.Parse(q, page.Lists) }, t.TraffickingScreenings)
			}},
	}
}
