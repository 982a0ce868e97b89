package httpapi

import (
	"net/http"
	"reflect"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/transplant"
)

// unodcRoutes are the routes of the designated authority's assessment of a
// suspected-trafficking report and of the UNODC return it feeds
// (docs/trafficking.md).
func unodcRoutes(env Env, t *transplant.Service) []Route {
	const base = "/api/v1/transplant/trafficking"
	enums := []Enum{
		{reflect.TypeFor[transplant.TraffickingAssessment](), "Conclusion", transplant.AssessmentConclusions},
		{reflect.TypeFor[transplant.TraffickingAssessment](), "Organ", transplant.CaseOrgans},
		{reflect.TypeFor[transplant.CasePerson](), "Sex", transplant.Sexes},
		{reflect.TypeFor[transplant.CasePerson](), "AgeBand", transplant.AgeBands},
	}
	return []Route{
		{Method: "POST", Path: base + "/assessments/{id}", Allow: []auth.Action{transplant.WorkTraffickingReports}, Summary: "Record the assessment of a report, replacing the one before: conclusion, and for the UNODC return " +
			"the year of the removal, the organ, the donor's and the recipient's nationality, sex and age band; no direct identifier (designated authority, while the report is under assessment or referred)",
			In: transplant.TraffickingAssessment{}, Out: transplant.TraffickingAssessment{}, Enums: enums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.TraffickingAssessment](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.AssessTraffickingReport(r.Context(), p, r.PathValue("id"), in)
				return http.StatusOK, out, err
			}},
		{Method: "GET", Path: base + "/assessments/{id}", Allow: []auth.Action{transplant.WorkTraffickingReports}, Summary: "The assessment of a report (designated authority)",
			Out: transplant.TraffickingAssessment{}, Enums: enums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := t.TraffickingAssessment(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, out, err
			}},
		{Method: "GET", Path: base + "/unodc", Allow: []auth.Action{transplant.ExportUNODC}, Summary: "The anonymized return to UNODC as a file: confirmed cases of trafficking for organ removal counted by year and by organ, " +
			"nationality, sex and age band of donor and recipient, small counts suppressed (x) by the disclosure control (query format; regulator, designated authority)",
			Query: []Param{{Name: "format", Doc: "csv or xlsx (required): the return as a file, with a header naming the log checkpoint it reflects; every export is a log entry", Values: export.Formats}}, Out: exportFile,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				req, err := t.UNODCExport(p, r.URL.Query())
				if err != nil {
					return 0, nil, err
				}
				return serveFile(env, r, p, req)
			}},
	}
}
