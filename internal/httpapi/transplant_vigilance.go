package httpapi

import (
	"net/http"
	"reflect"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/transplant"
)

// transplantVigilance lists the vigilance routes of the transplant registry
// (docs/vigilance.md): final dispositions of organs, serious adverse events
// and reactions, and their notifications. They are new, so they have no
// path from before the registries' prefix.
func transplantVigilance(env Env, t *transplant.Service) []Route {
	dispositionEnums := []Enum{
		{reflect.TypeFor[transplant.NewDisposition](), "Outcome", transplant.DispositionOutcomes},
		{reflect.TypeFor[transplant.NewDisposition](), "Reason", transplant.DispositionReasons},
		{reflect.TypeFor[transplant.Disposition](), "Outcome", transplant.DispositionOutcomes},
		{reflect.TypeFor[transplant.Disposition](), "Reason", transplant.DispositionReasons},
	}
	saeEnums := []Enum{
		{reflect.TypeFor[transplant.NewSAE](), "Kind", transplant.SAEKinds},
		{reflect.TypeFor[transplant.SAE](), "Kind", transplant.SAEKinds},
		{reflect.TypeFor[transplant.SAE](), "Conclusion", transplant.SAEConclusions},
		{reflect.TypeFor[transplant.SAEDestination](), "Organ", transplant.OrganTypes},
	}
	finalEnums := append([]Enum{{reflect.TypeFor[transplant.FinalReport](), "Conclusion", transplant.SAEConclusions}}, saeEnums...)
	return []Route{
		{Method: "POST", Path: "/api/v1/transplant/dispositions", Allow: []auth.Action{transplant.Record},
			Summary: "Record that an organ not transplanted was discarded or used for research (coordinator of the centre that procured or holds it)",
			In:      transplant.NewDisposition{}, Out: transplant.Disposition{}, Status: 201, Enums: dispositionEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewDisposition](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.RecordDisposition(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/transplant/organs/awaiting-disposition", Allow: []auth.Action{transplant.Read},
			Summary: "Organs procured longer ago than --disposition-after with neither a transplantation nor a final disposition, and organs received from abroad longer ago that a centre here holds with no outcome (status received, origin_registry, origin_country, received_at), newest first, a page at a time (query limit, cursor, centre_id (procuring, or holding), organ, blood_group, from, to (procured, or received), id)",
			Query:   listQuery(page.Lists, transplant.OrganFilters, "procured"), Out: awaitingDispositionOut{},
			Handler: listHandler(env, t, transplant.ListAwaitingDisposition, page.Lists, transplant.OrganFilters, t.OrgansAwaitingDisposition)},
		{Method: "POST", Path: "/api/v1/transplant/sae", Allow: []auth.Action{transplant.ReportVigilance},
			Summary: "Make the initial report of a serious adverse event or reaction; it notifies every centre that procured or transplanted an organ of the donor (coordinator, regulator)",
			In:      transplant.NewSAE{}, Out: transplant.SAE{}, Status: 201, Enums: saeEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewSAE](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.ReportSAE(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/transplant/sae", Allow: []auth.Action{transplant.Read},
			Summary: "Reports of serious adverse events and reactions, newest first, a page at a time (query limit, cursor, centre_id (reporting), status (open, overdue, closed), from, to (reported), id (id or report id))",
			Query:   vigilanceQuery(transplant.SAEFilters, transplant.SAEStates, "reported", "the reporting authority"), Out: saesOut{}, Enums: saeEnums,
			Handler: listHandler(env, t, transplant.ListSAEs, page.Lists, transplant.SAEFilters, t.SAEs)},
		{Method: "GET", Path: "/api/v1/transplant/sae/{id}", Allow: []auth.Action{transplant.Read}, Summary: "A report of a serious adverse event or reaction (by id or report id) with its notifications",
			Out: transplant.SAE{}, Enums: saeEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := t.SAE(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/transplant/sae/{id}/final-report", Allow: []auth.Action{transplant.ReportVigilance},
			Summary: "Make the final report of a serious adverse event or reaction, which closes it (coordinator of the reporting centre, regulator)",
			In:      transplant.FinalReport{}, Out: transplant.SAE{}, Enums: finalEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.FinalReport](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.RecordFinalReport(r.Context(), p, r.PathValue("id"), in)
				return http.StatusOK, out, err
			}},
		{Method: "GET", Path: "/api/v1/transplant/notifications", Allow: []auth.Action{transplant.Read},
			Summary: "Notifications of serious adverse events and reactions to centres, newest first, a page at a time (query limit, cursor, centre_id (notified), status (open, escalated, acknowledged), from, to (sent), id (notification, its report's id or report id))",
			Query:   vigilanceQuery(transplant.NotificationFilters, transplant.NotificationStates, "sent", "the notified centre"), Out: notificationsOut{},
			Handler: listHandler(env, t, transplant.ListNotifications, page.Lists, transplant.NotificationFilters, t.Notifications)},
		{Method: "POST", Path: "/api/v1/transplant/notifications/{id}/acknowledge", Allow: []auth.Action{transplant.Acknowledge},
			Summary: "Acknowledge receipt of a notification (coordinator of the notified centre)",
			Out:     transplant.Notification{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := t.AcknowledgeNotification(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, out, err
			}},
	}
}

// vigilanceQuery documents the query parameters of a vigilance list.
func vigilanceQuery(filters, states []string, when, centre string) []Param {
	return append(pageQuery(page.Lists, filters, map[string]Param{
		"centre_id": {Doc: centre},
		"status":    {Doc: "the state", Values: states},
		"from":      {Doc: "first day " + when + ", YYYY-MM-DD (UTC)"},
		"to":        {Doc: "last day " + when + ", YYYY-MM-DD (UTC), included"},
		"id":        {Doc: "exactly one record, by its identifier"},
	}), formatParam)
}
