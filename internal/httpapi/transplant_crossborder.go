package httpapi

import (
	"net/http"
	"reflect"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/transplant"
)

// exportList, importList and foreignSAEList are the answers of the lists of
// organs and reports across borders.
type exportList struct {
	Exports []transplant.Export `json:"exports"`
}

type importList struct {
	Imports []transplant.Import `json:"imports"`
}

type foreignSAEList struct {
	Reports []transplant.ForeignSAE `json:"reports"`
}

// crossBorderRoutes are the routes of organs and vigilance across borders
// (docs/vigilance.md, "Across borders").
func crossBorderRoutes(t *transplant.Service) []Route {
	outcomeEnums := []Enum{{reflect.TypeFor[transplant.NewImportOutcome](), "Outcome", transplant.ImportOutcomes}}
	saeEnums := []Enum{{reflect.TypeFor[transplant.NewImportSAE](), "Kind", transplant.SAEKinds}}
	return []Route{
		{Method: "POST", Path: "/api/v1/transplant/exports", Allow: []auth.Action{transplant.Record},
			Summary: "Send an organ to a foreign registry (a registered exchange peer): its characterization, then its traceability message (coordinator of the procuring centre)",
			In:      transplant.NewExport{}, Out: transplant.Export{}, Status: 201,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewExport](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.ExportOrgan(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/transplant/exports", Allow: []auth.Action{transplant.Read}, Summary: "Organs sent to foreign registries and what became of them there, newest first (at most 500)",
			Out: exportList{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := t.Exports(r.Context(), p)
				return http.StatusOK, exportList{Exports: out}, err
			}},
		{Method: "GET", Path: "/api/v1/transplant/imports", Allow: []auth.Action{transplant.Read}, Summary: "Organs received from foreign registries, newest first (at most 500), each with its assignments to centres here, oldest first, from the centre the registry of origin named",
			Out: importList{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := t.Imports(r.Context(), p)
				return http.StatusOK, importList{Imports: out}, err
			}},
		{Method: "GET", Path: "/api/v1/transplant/imports/{id}", Allow: []auth.Action{transplant.Read}, Summary: "An organ received from a foreign registry: its origin, characterization, traceability, outcome here, and its assignments to centres here, oldest first (the centre the registry of origin named, by_origin; then each regulator's, with the centre before, the reason, when and by whom)",
			Out: transplant.Import{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := t.Import(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/transplant/imports/{id}/outcome", Allow: []auth.Action{transplant.Record},
			Summary: "Record what became of an organ received from abroad (transplanted, discarded, research); it is sent to the registry of origin (coordinator)",
			In:      transplant.NewImportOutcome{}, Out: transplant.Import{}, Status: 201, Enums: outcomeEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewImportOutcome](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.RecordImportOutcome(r.Context(), p, r.PathValue("id"), in)
				return http.StatusCreated, out, err
			}},
		{Method: "POST", Path: "/api/v1/transplant/imports/{id}/assignment", Allow: []auth.Action{transplant.AssignImports},
			Summary: "Assign an organ received from abroad that no centre here holds (the registry of origin named none) to a transplant centre, whose coordinators then record its outcome (regulator)",
			In:      transplant.NewAssignment{}, Out: transplant.Import{}, Status: 201,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewAssignment](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.AssignImport(r.Context(), p, r.PathValue("id"), in)
				return http.StatusCreated, out, err
			}},
		{Method: "POST", Path: "/api/v1/transplant/imports/{id}/reassignment", Allow: []auth.Action{transplant.AssignImports},
			Summary: "Move an organ received from abroad that a centre holds and that has no outcome yet to another transplant centre, with the reason; the import's assignments keep the centre that held it before (regulator)",
			In:      transplant.NewReassignment{}, Out: transplant.Import{}, Status: 201,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewReassignment](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.ReassignImport(r.Context(), p, r.PathValue("id"), in)
				return http.StatusCreated, out, err
			}},
		{Method: "POST", Path: "/api/v1/transplant/foreign-sae", Allow: []auth.Action{transplant.ReportVigilance},
			Summary: "Report a serious adverse event or reaction on an organ received from abroad; it is sent to the registry of origin (coordinator of the holding centre, regulator)",
			In:      transplant.NewImportSAE{}, Out: transplant.ForeignSAE{}, Status: 201, Enums: saeEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewImportSAE](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.ReportImportSAE(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/transplant/foreign-sae", Allow: []auth.Action{transplant.Read},
			Summary: "Reports of serious adverse events and reactions from foreign registries, and those raised here on organs from abroad, with the notifications of the centres here, newest first (at most 500)",
			Out:     foreignSAEList{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := t.ForeignSAEs(r.Context(), p)
				return http.StatusOK, foreignSAEList{Reports: out}, err
			}},
		{Method: "GET", Path: "/api/v1/transplant/foreign-sae/{id}", Allow: []auth.Action{transplant.Read}, Summary: "A report of a foreign registry (by its id here or a report id) with the notifications of the centres here",
			Out: transplant.ForeignSAE{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := t.ForeignSAE(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/transplant/foreign-notifications/{id}/acknowledge", Allow: []auth.Action{transplant.Acknowledge},
			Summary: "Acknowledge a foreign registry's report passed on to your centre (coordinator of the notified centre); the last centre's acknowledgement is sent to that registry",
			Out:     transplant.ForeignNotification{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := t.AcknowledgeForeignNotification(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, out, err
			}},
	}
}
