package httpapi

import (
	"net/http"
	"reflect"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/transplant"
)

// oversightRoutes are the routes of residents treated abroad, long-term
// follow-up and the waiting list (docs/oversight.md): records for the
// coordinators of their own centre, worklists and reports for the
// regulator and the auditor.
func oversightRoutes(env Env, t *transplant.Service) []Route {
	const base = "/api/v1/transplant"
	abroadEnums := []Enum{
		{reflect.TypeFor[transplant.NewAbroad](), "Kind", transplant.AbroadKinds},
		{reflect.TypeFor[transplant.NewAbroad](), "KnownThrough", transplant.KnownThrough},
		{reflect.TypeFor[transplant.NewAbroad](), "DonorType", transplant.AbroadDonorTypes},
		{reflect.TypeFor[transplant.NewAbroad](), "DonorRelation", transplant.DonorRelations},
		{reflect.TypeFor[transplant.NewAbroad](), "Organ", transplant.OrganTypes},
		{reflect.TypeFor[transplant.NewAbroad](), "Sex", transplant.Sexes},
		{reflect.TypeFor[transplant.NewAbroad](), "PaymentReported", transplant.YesNo},
		{reflect.TypeFor[transplant.NewAbroad](), "MedicalRecords", transplant.RecordsReturned},
	}
	fuEnums := []Enum{
		{reflect.TypeFor[transplant.NewFollowUp](), "VitalStatus", transplant.VitalStatuses},
		{reflect.TypeFor[transplant.NewFollowUp](), "GraftStatus", transplant.GraftStatuses},
		{reflect.TypeFor[transplant.NewFollowUp](), "PsychosocialCare", transplant.PsychosocialCare},
		{reflect.TypeFor[transplant.NewFollowUp](), "Complications", transplant.Complications},
	}
	file := func(req func(p *auth.Principal, r *http.Request) (export.Request, error)) func(r *http.Request, p *auth.Principal) (int, any, error) {
		return func(r *http.Request, p *auth.Principal) (int, any, error) {
			x, err := req(p, r)
			if err != nil {
				return 0, nil, err
			}
			return serveFile(env, r, p, x)
		}
	}
	format := Param{Name: "format", Doc: "csv or xlsx (required): the report as a file, with a header naming the log checkpoint it reflects; every export is a log entry", Values: export.Formats}
	return []Route{
		{Method: "POST", Path: base + "/abroad", Allow: []auth.Action{transplant.Record}, Summary: "Record a resident's transplant or living donation performed in another jurisdiction, with the DICG 2018 items on travel for transplantation; name and national identifier are sealed (coordinator, for the centre that follows the patient up)",
			In: transplant.NewAbroad{}, Out: transplant.Abroad{}, Status: 201, Enums: abroadEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewAbroad](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.RecordAbroad(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: base + "/abroad", Allow: []auth.Action{transplant.Read}, Summary: "The records of treatment abroad a centre follows up (a coordinator's own; every centre's for the regulator and the auditor)",
			Query: []Param{{Name: "centre_id", Doc: "one centre"}}, Out: []transplant.Abroad{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := t.AbroadRecords(r.Context(), p, r.URL.Query().Get("centre_id"))
				return http.StatusOK, out, err
			}},
		{Method: "GET", Path: base + "/travel", Allow: []auth.Action{transplant.ReadOversight}, Summary: "The per-country report of travel for transplantation as a file: residents' transplants abroad by organ, living donations abroad and payments reported, by country, small counts suppressed (x) (regulator, auditor)",
			Query: []Param{format, {Name: "from", Doc: "first year (default: last year)"}, {Name: "end", Doc: "the year after the last (default: this year)"}}, Out: exportFile,
			Handler: file(func(p *auth.Principal, r *http.Request) (export.Request, error) {
				return t.TravelExport(p, r.URL.Query())
			})},
		{Method: "POST", Path: base + "/followups", Allow: []auth.Action{transplant.Record}, Summary: "Record a follow-up of a recipient, a living donor or a resident treated abroad at one occasion of the schedule (coordinator of the centre that follows them up)",
			In: transplant.NewFollowUp{}, Out: transplant.FollowUp{}, Status: 201, Enums: fuEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewFollowUp](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.RecordFollowUp(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: base + "/followups/worklist", Allow: []auth.Action{transplant.Read}, Summary: "The follow-ups due and overdue of a centre, oldest first (a coordinator's own; one centre or every centre for the regulator and the auditor); with format, the worklist as a file",
			Query: []Param{{Name: "centre_id", Doc: "one centre"}, {Name: "format", Doc: "csv or xlsx: the worklist as a file", Values: export.Formats}}, Out: transplant.Worklist{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				if r.URL.Query().Get("format") != "" {
					return file(func(p *auth.Principal, r *http.Request) (export.Request, error) {
						return t.WorklistExport(p, r.URL.Query())
					})(r, p)
				}
				out, err := t.FollowUpWorklist(r.Context(), p, r.URL.Query().Get("centre_id"))
				return http.StatusOK, out, err
			}},
		{Method: "GET", Path: base + "/followups/timeliness", Allow: []auth.Action{transplant.Read}, Summary: "The share of follow-ups done on time per centre, among those whose window closed in the period",
			Query: []Param{{Name: "from", Doc: "first day (YYYY-MM-DD)"}, {Name: "end", Doc: "the day after the last"}, {Name: "centre_id", Doc: "one centre"}}, Out: transplant.Timeliness{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				q := r.URL.Query()
				out, err := t.FollowUpTimeliness(r.Context(), p, q.Get("centre_id"), q.Get("from"), q.Get("end"))
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: base + "/recipients/{id}/waitlist", Allow: []auth.Action{transplant.Record}, Summary: "Record a status change (active, suspended) or an outcome (died waiting, removed) of a registration on the waiting list (coordinator of its centre)",
			In: transplant.NewWaitlistChange{}, Out: transplant.WaitlistChange{}, Status: 201,
			Enums: []Enum{{reflect.TypeFor[transplant.NewWaitlistChange](), "Status", transplant.WaitlistStatuses},
				{reflect.TypeFor[transplant.NewWaitlistChange](), "Reason", transplant.WaitlistReasons}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewWaitlistChange](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.ChangeWaitlistStatus(r.Context(), p, r.PathValue("id"), in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: base + "/equity", Allow: []auth.Action{transplant.ReadOversight}, Summary: "The equity report as a file: registrations on the waiting list by sex, age band, region and residency, and by outcome, with the median wait in months, small counts suppressed (x) (regulator, auditor)",
			Query: []Param{format, {Name: "from", Doc: "first listing day (YYYY-MM-DD; default: twelve months ago)"}, {Name: "end", Doc: "the day after the last"}, {Name: "organ", Doc: "one organ", Values: transplant.OrganTypes}}, Out: exportFile,
			Handler: file(func(p *auth.Principal, r *http.Request) (export.Request, error) {
				return t.EquityExport(p, r.URL.Query())
			})},
	}
}
