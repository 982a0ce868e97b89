package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/transplant"
)

// Request bodies of the transplant routes that are not domain types.
type centreIn struct {
	Name         string `json:"name"`
	City         string `json:"city"`
	Jurisdiction string `json:"jurisdiction"`
}

type revokeIn struct {
	Reason string `json:"reason"`
}

type personalIn struct {
	ID      string `json:"id"`
	Purpose string `json:"purpose"`
}

// Transplant lists the routes of the transplant registry, under
// /api/v1/transplant/. Each also answers at its path of the releases before
// registries had their own prefix (/api/v1/donors, ...), a deprecated alias.
func Transplant(env Env, t *transplant.Service) []Route {
	authorizationEnums := []Enum{
		{reflect.TypeFor[transplant.NewCentreAuthorization](), "Activity", transplant.Activities},
		{reflect.TypeFor[transplant.NewCentreAuthorization](), "Organ", transplant.OrganTypes},
		{reflect.TypeFor[transplant.CentreAuthorization](), "Activity", transplant.Activities},
		{reflect.TypeFor[transplant.CentreAuthorization](), "Organ", transplant.OrganTypes},
	}
	var donorEnums []Enum
	for _, typ := range []reflect.Type{reflect.TypeFor[transplant.NewDonor](), reflect.TypeFor[transplant.Donor]()} {
		donorEnums = append(donorEnums, Enum{typ, "Kind", transplant.DonorKinds}, Enum{typ, "Sex", transplant.Sexes}, Enum{typ, "BloodGroup", transplant.BloodGroups},
			Enum{typ, "IVDrugUse", transplant.YesNo}, Enum{typ, "Malignancy", transplant.YesNo}, Enum{typ, "TransmissibleDisease", transplant.YesNo},
			Enum{typ, "HIV", transplant.TestResults}, Enum{typ, "HCV", transplant.TestResults}, Enum{typ, "HBV", transplant.TestResults})
	}
	var recipientEnums []Enum
	for _, typ := range []reflect.Type{reflect.TypeFor[transplant.NewRecipient](), reflect.TypeFor[transplant.Recipient]()} {
		recipientEnums = append(recipientEnums, Enum{typ, "Sex", transplant.Sexes}, Enum{typ, "BloodGroup", transplant.BloodGroups},
			Enum{typ, "OrganNeeded", transplant.OrganTypes})
	}
	procurementEnums := []Enum{
		{reflect.TypeFor[transplant.NewProcurement](), "Organs", transplant.OrganTypes},
		{reflect.TypeFor[transplant.ProcuredOrgan](), "Organ", transplant.OrganTypes},
	}
	traceEnums := []Enum{
		{reflect.TypeFor[transplant.TraceDonor](), "BloodGroup", transplant.BloodGroups},
		{reflect.TypeFor[transplant.TraceOrgan](), "Organ", transplant.OrganTypes},
		{reflect.TypeOf(transplant.TraceTransplant{}.Recipient), "BloodGroup", transplant.BloodGroups},
		{reflect.TypeFor[transplant.TraceProcedure](), "Kind", transplant.ProcedureKinds},
	}
	routes := []Route{
		// Centres and their authorizations.
		{Method: "POST", Path: "/api/v1/transplant/centres", Allow: []auth.Action{auth.ManageAuthorities}, Summary: "Register a transplant centre (admin)",
			In: centreIn{}, Out: auth.Authority{}, Status: 201,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[centreIn](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := env.Authorities.CreateAuthority(r.Context(), p, auth.NewAuthority{Name: in.Name, City: in.City, Jurisdiction: in.Jurisdiction, Kind: transplant.KindCentre})
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/transplant/centres", Allow: []auth.Action{transplant.Read}, Summary: "List transplant centres",
			Out: centresOut{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				cs, err := auth.ListAuthorities(r.Context(), env.DB.Read(), transplant.KindCentre)
				return http.StatusOK, centresOut{Centres: cs}, err
			}},
		{Method: "GET", Path: "/api/v1/transplant/centres/{id}", Allow: []auth.Action{transplant.Read}, Summary: "A centre with its authorizations",
			Out: centreOut{}, Enums: authorizationEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				c, err := auth.GetAuthority(r.Context(), env.DB.Read(), r.PathValue("id"))
				if err != nil {
					return 0, nil, err
				}
				as, err := t.CentreAuthorizations(r.Context(), p, c.ID)
				return http.StatusOK, centreOut{Centre: *c, Authorizations: as}, err
			}},
		{Method: "POST", Path: "/api/v1/transplant/centres/{id}/authorizations", Allow: []auth.Action{transplant.AuthorizeCentres}, Summary: "Authorize a centre for an activity and organ type (regulator)",
			In: transplant.NewCentreAuthorization{}, Out: transplant.CentreAuthorization{}, Status: 201, Enums: authorizationEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewCentreAuthorization](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.AuthorizeCentre(r.Context(), p, r.PathValue("id"), in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/transplant/centres/{id}/authorizations", Allow: []auth.Action{transplant.Read}, Summary: "A centre's authorizations",
			Out: centreAuthorizationsOut{}, Enums: authorizationEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				as, err := t.CentreAuthorizations(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, centreAuthorizationsOut{Authorizations: as}, err
			}},
		{Method: "POST", Path: "/api/v1/transplant/centres/{id}/authorizations/{aid}/revoke", Allow: []auth.Action{transplant.AuthorizeCentres}, Summary: "Revoke a centre authorization (regulator)",
			In: revokeIn{}, Out: transplant.CentreAuthorization{}, Enums: authorizationEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[revokeIn](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.RevokeCentreAuthorization(r.Context(), p, r.PathValue("id"), r.PathValue("aid"), in.Reason)
				return http.StatusOK, out, err
			}},
		// Donors, consent, recipients.
		{Method: "POST", Path: "/api/v1/transplant/donors", Allow: []auth.Action{transplant.Record}, Summary: "Register a donor (coordinator)",
			In: transplant.NewDonor{}, Out: transplant.Donor{}, Status: 201, Enums: donorEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewDonor](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.RegisterDonor(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/transplant/donors", Allow: []auth.Action{transplant.Read}, Replica: true, Summary: "List donors, newest first, a page at a time (query limit, cursor, centre_id, blood_group, from, to (recorded), id)",
			Query: listQuery(page.Lists, transplant.DonorFilters, "recorded"), Out: donorsOut{}, Enums: donorEnums,
			Handler: listHandler(env, t, "donors", page.Lists, transplant.DonorFilters, t.Donors)},
		{Method: "GET", Path: "/api/v1/transplant/donors/{id}", Allow: []auth.Action{transplant.Read}, Summary: "A donor with their consents",
			Out: donorOut{}, Enums: donorEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				d, err := t.Donor(r.Context(), p, r.PathValue("id"))
				if err != nil {
					return 0, nil, err
				}
				cs, err := t.Consents(r.Context(), p, d.ID)
				if err != nil {
					return 0, nil, err
				}
				out := donorOut{Donor: *d, Consents: cs}
				out.PersonalDataErased, err = t.Erased(r.Context(), d.ID)
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/transplant/donors/{id}/consents", Allow: []auth.Action{transplant.Record}, Summary: "Record consent or authorization of donation (coordinator)",
			In: transplant.NewConsent{}, Out: transplant.Consent{}, Status: 201,
			Enums: []Enum{{reflect.TypeFor[transplant.NewConsent](), "Kind", transplant.ConsentKinds}, {reflect.TypeFor[transplant.Consent](), "Kind", transplant.ConsentKinds}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewConsent](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.RecordConsent(r.Context(), p, r.PathValue("id"), in)
				return http.StatusCreated, out, err
			}},
		{Method: "POST", Path: "/api/v1/transplant/recipients", Allow: []auth.Action{transplant.Record}, Summary: "Register a recipient on the waiting list (coordinator)",
			In: transplant.NewRecipient{}, Out: transplant.Recipient{}, Status: 201, Enums: recipientEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewRecipient](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.RegisterRecipient(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/transplant/recipients", Allow: []auth.Action{transplant.Read}, Replica: true, Summary: "List recipients, newest first, a page at a time (query limit, cursor, centre_id, status, organ, blood_group, from, to (listed), id)",
			Query: listQuery(page.Lists, transplant.RecipientFilters, "listed"), Out: recipientsOut{}, Enums: recipientEnums,
			Handler: listHandler(env, t, "recipients", page.Lists, transplant.RecipientFilters, t.Recipients)},
		{Method: "GET", Path: "/api/v1/transplant/recipients/{id}", Allow: []auth.Action{transplant.Read}, Summary: "A recipient",
			Out: recipientOut{}, Enums: recipientEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				rc, err := t.Recipient(r.Context(), p, r.PathValue("id"))
				if err != nil {
					return 0, nil, err
				}
				out := recipientOut{Recipient: *rc}
				out.PersonalDataErased, err = t.Erased(r.Context(), rc.ID)
				return http.StatusOK, out, err
			}},
		{Method: "POST", Sealed: true, Path: "/api/v1/transplant/persons/search", Allow: []auth.Action{transplant.ReadPersonalData},
			Summary: "Find the donors and recipients of a person by national identifier, or by name with date of birth, without opening sealed data; the search is logged (coordinator, regulator)",
			In:      transplant.PersonQuery{}, Out: personMatches{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.PersonQuery](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.FindPerson(r.Context(), p, in)
				if out == nil {
					out = []transplant.PersonMatch{}
				}
				return http.StatusOK, personMatches{Matches: out}, err
			}},
		{Method: "POST", Sealed: true, Path: "/api/v1/transplant/personal-data", Allow: []auth.Action{transplant.ReadPersonalData}, Summary: "Open a donor's or recipient's sealed personal data; the read is logged",
			In: personalIn{}, Out: privacy.Person{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[personalIn](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.PersonalData(r.Context(), p, in.ID, in.Purpose)
				return http.StatusOK, out, err
			}},

		// Procurement, authorization, transplantation.
		{Method: "POST", Path: "/api/v1/transplant/procurements", Allow: []auth.Action{transplant.Record}, Summary: "Record a procurement; each organ gets its identifier (coordinator)",
			In: transplant.NewProcurement{}, Out: transplant.Procurement{}, Status: 201, Enums: procurementEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewProcurement](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.RecordProcurement(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/transplant/organs", Allow: []auth.Action{transplant.Read}, Replica: true, Summary: "Procured organs not yet transplanted, newest first, a page at a time (query limit, cursor, centre_id, organ, blood_group, from, to (procured), id)",
			Query: listQuery(page.Lists, transplant.OrganFilters, "procured"), Out: organsOut{}, Enums: procurementEnums,
			Handler: listHandler(env, t, "organs", page.Lists, transplant.OrganFilters, t.AvailableOrgans)},
		{Method: "POST", Path: "/api/v1/transplant/transplant-authorizations", Allow: []auth.Action{transplant.Record}, Summary: "Authorize one organ for one recipient (coordinator)",
			In: transplant.NewTransplantAuthorization{}, Out: transplant.TransplantAuthorization{}, Status: 201,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewTransplantAuthorization](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.AuthorizeTransplant(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/transplant/transplant-authorizations", Allow: []auth.Action{transplant.Read}, Replica: true,
			Summary: "Authorizations of organs not yet transplanted, newest first, a page at a time (query limit up to 1000, cursor, centre_id, organ, from, to (authorized), id)",
			Query:   listQuery(transplant.PendingSize, transplant.AuthorizationFilters, "authorized"),
			Out:     pendingAuthorizationsOut{},
			Handler: listHandler(env, t, "authorizations", transplant.PendingSize, transplant.AuthorizationFilters, t.PendingAuthorizations)},
		{Method: "POST", Path: "/api/v1/transplant/transplants", Allow: []auth.Action{transplant.Record}, Summary: "Record a transplantation (coordinator)",
			In: transplant.NewTransplant{}, Out: transplant.Transplant{}, Status: 201,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewTransplant](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.RecordTransplant(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},

		// Trace.
		{Method: "GET", Path: "/api/v1/transplant/trace/organs/{id}", Allow: []auth.Action{transplant.Read}, Replica: true, Summary: "Trace from an organ to its donor and every recipient of the donor's organs; an organ received from abroad, under imported, with its assignments to centres here",
			Out: transplant.Trace{}, Enums: traceEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := t.TraceOrgan(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, out, err
			}},
		{Method: "GET", Path: "/api/v1/transplant/trace/donors/{id}", Allow: []auth.Action{transplant.Read}, Replica: true, Summary: "Trace from a donor to every recipient of their organs",
			Out: transplant.Trace{}, Enums: traceEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := t.TraceDonor(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, out, err
			}},
		{Method: "GET", Path: "/api/v1/transplant/trace/recipients/{id}", Allow: []auth.Action{transplant.Read}, Replica: true, Summary: "Trace from a recipient back to their donors and on to the other recipients; the organs from abroad they received, under imported, with their assignments to centres here",
			Out: transplant.Trace{}, Enums: traceEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := t.TraceRecipient(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, out, err
			}},
	}
	for i := range routes {
		routes[i].Aliases = []string{strings.Replace(routes[i].Path, "/api/v1/transplant/", "/api/v1/", 1)}
	}
	// Routes added since the prefix have no alias.
	routes = append(routes, Route{Method: "GET", Path: "/api/v1/transplant/trace/donations/{number}", Allow: []auth.Action{transplant.Read}, Replica: true,
		Summary: "Trace from a donation number (XA-26-000123: an organ identifier's first ten characters) to its donor, every organ of the donor and every recipient of them",
		Out:     transplant.Trace{}, Enums: traceEnums,
		Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
			out, err := t.TraceDonation(r.Context(), p, r.PathValue("number"))
			return http.StatusOK, out, err
		}})
	routes = append(routes, subjectRightsRoutes(t)...)
	routes = append(append(append(append(append(routes, transplantVigilance(env, t)...), traffickingRoutes(t)...), transplantHandoffs(t)...), unodcRoutes(env, t)...), crossBorderRoutes(t)...)
	return append(append(append(routes, godtRoutes(env, t)...), oversightRoutes(env, t)...), auditRoutes(env, t)...)
}

// personMatches is the answer of a person search.
// Answers of the transplant registry's lists and records (a page's next:
// core's lists). A donor's or recipient's personal_data_erased is the
// erasure of their personal data, when it was erased (transplant.Erased).
type (
	centresOut struct {
		Centres []auth.Authority `json:"centres"`
	}
	centreOut struct {
		Centre         auth.Authority                   `json:"centre"`
		Authorizations []transplant.CentreAuthorization `json:"authorizations"`
	}
	centreAuthorizationsOut struct {
		Authorizations []transplant.CentreAuthorization `json:"authorizations"`
	}
	donorsOut struct {
		Donors []transplant.Donor `json:"donors"`
		Next   string             `json:"next,omitempty"`
	}
	donorOut struct {
		Donor              transplant.Donor     `json:"donor"`
		Consents           []transplant.Consent `json:"consents"`
		PersonalDataErased *privacy.Erasure     `json:"personal_data_erased,omitempty"`
	}
	recipientsOut struct {
		Recipients []transplant.Recipient `json:"recipients"`
		Next       string                 `json:"next,omitempty"`
	}
	recipientOut struct {
		Recipient          transplant.Recipient `json:"recipient"`
		PersonalDataErased *privacy.Erasure     `json:"personal_data_erased,omitempty"`
	}
	organsOut struct {
		Organs []transplant.Organ `json:"organs"`
		Next   string             `json:"next,omitempty"`
	}
	awaitingDispositionOut struct {
		Organs []transplant.Organ `json:"awaiting-disposition"`
		Next   string             `json:"next,omitempty"`
	}
	pendingAuthorizationsOut struct {
		Authorizations []transplant.TransplantAuthorization `json:"authorizations"`
		Next           string                               `json:"next,omitempty"`
	}
	saesOut struct {
		SAEs []transplant.SAE `json:"sae"`
		Next string           `json:"next,omitempty"`
	}
	notificationsOut struct {
		Notifications []transplant.Notification `json:"notifications"`
		Next          string                    `json:"next,omitempty"`
	}
)

type personMatches struct {
	Matches []transplant.PersonMatch `json:"matches"`
}

// listQuery documents the query parameters of a paged list: its filters
// (dates are those of the event named when), limit and cursor.
func listQuery(size page.Size, filters []string, when string) []Param {
	return append(pageQuery(size, filters, map[string]Param{
		"centre_id":   {Doc: "one centre's records"},
		"status":      {Doc: "the recipient's status", Values: transplant.RecipientStatuses},
		"organ":       {Doc: "the organ type", Values: transplant.OrganTypes},
		"blood_group": {Doc: "the blood group (of the donor, for organs)", Values: transplant.BloodGroups},
		"from":        {Doc: "first day " + when + ", YYYY-MM-DD (UTC)"},
		"to":          {Doc: "last day " + when + ", YYYY-MM-DD (UTC), included"},
		"id":          {Doc: "exactly one record, by its identifier"},
	}), formatParam)
}

// exportFile documents the answer of an export as a file, CSV or XLSX
// (export.Format.ContentType).
var exportFile = fileBody{Media: []string{"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}}

// formatParam documents the format parameter of a list that exports.
var formatParam = Param{Name: "format", Doc: "csv or xlsx: the whole filtered list as a file, with a header naming the log checkpoint it reflects (no limit or cursor); every export is a log entry", Values: export.Formats}

// listHandler answers a paged list of the registry (pagedList); with the
// parameter format, the export of the whole filtered list as a file instead
// (transplant.Service.Export, export.Serve).
func listHandler[T any](env Env, t *transplant.Service, key string, size page.Size, filters []string,
	list func(context.Context, *auth.Principal, transplant.ListFilter) (page.Of[T], error)) Handler {
	return func(r *http.Request, p *auth.Principal) (int, any, error) {
		return listOrExport(env, r, p, key, func(q url.Values) (transplant.ListFilter, error) { return transplant.FilterOf(q, size, filters) }, list,
			func(q url.Values) (export.Request, error) { return t.Export(p, key, q) })
	}
}
