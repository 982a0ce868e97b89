package httpapi

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/custos-project/custos/internal/alerts"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/store"
)

// openAPIRoute serves the document of every route of the API; New adds it.
func (a *API) openAPIRoute() Route {
	return Route{Method: "GET", Path: "/api/v1/openapi.json", Public: true, Summary: "This OpenAPI document",
		Handler: func(r *http.Request, _ *auth.Principal) (int, any, error) {
			return http.StatusOK, a.OpenAPI(), nil
		}}
}

// Answers of the core's routes: a page of a list holds its items under
// the list's name and next, the link to the following page, unless it is
// the last.
type (
	authoritiesOut struct {
		Authorities []auth.Authority `json:"authorities"`
		Next        string           `json:"next,omitempty"`
	}
	principalsOut struct {
		Principals []auth.PrincipalRecord `json:"principals"`
		Next       string                 `json:"next,omitempty"`
	}
	alertsOut struct {
		Alerts []ledger.RaisedAlert `json:"alerts"`
		Next   string               `json:"next,omitempty"`
	}
	exportsOut struct {
		Exports []export.Listed `json:"exports"`
		Next    string          `json:"next,omitempty"`
	}
	consistencyOut struct {
		From  int      `json:"from"`
		To    int      `json:"to"`
		Proof [][]byte `json:"proof"`
	}
)

// Core lists the routes of the core: the signed-in principal, principals,
// alerts and the tamper-evident log.
func Core(env Env) []Route {
	roles := []Enum{{Type: reflect.TypeFor[auth.Role](), Values: env.Catalogue.RoleNames()}}
	kinds := []Enum{{Type: reflect.TypeFor[auth.NewAuthority](), Field: "Kind", Values: env.Catalogue.KindNames()}}
	outcomes := []Enum{{Type: reflect.TypeFor[alerts.Closing](), Field: "Outcome", Values: ledger.AlertOutcomes},
		{Type: reflect.TypeFor[ledger.RaisedAlert](), Field: "State", Values: ledger.AlertStates}}
	work := &alerts.Service{W: env.Writer, DB: env.DB}
	return []Route{
		{Method: "POST", Path: "/api/v1/authorities", Allow: []auth.Action{auth.ManageAuthorities}, Summary: "Register an authority of any kind the deployment's modules declare (admin)",
			In: auth.NewAuthority{}, Out: auth.Authority{}, Status: 201, Enums: kinds,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[auth.NewAuthority](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := env.Authorities.CreateAuthority(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/authorities", Allow: []auth.Action{auth.ReadAuthorities}, Summary: "List authorities, newest first, a page at a time, or as a file (query kind, jurisdiction, name, limit, cursor, format; admin, regulator, auditor)",
			Query: append(pageQuery(page.Lists, auth.AuthorityFilters, map[string]Param{
				"kind":         {Doc: "the authority's kind", Values: env.Catalogue.KindNames()},
				"jurisdiction": {Doc: "the authority's jurisdiction, an ISO 3166-1 alpha-2 code such as FR"},
				"name":         {Doc: "a part of the authority's name, in any case"},
			}), formatParam),
			Out: authoritiesOut{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				list := func(ctx context.Context, p *auth.Principal, f auth.AuthorityFilter) (page.Of[auth.Authority], error) {
					return auth.AuthorityPage(ctx, env.DB.Read(), env.Catalogue.KindNames(), f)
				}
				return listOrExport(env, r, p, "authorities", auth.AuthorityFilterOf, list, authoritiesExport(p, list))
			}},
		{Method: "POST", Path: "/api/v1/authorities/{id}/contact", Allow: []auth.Action{auth.ManageAuthorities}, Summary: "Set an authority's notification contact: email, the functional address its notifications are e-mailed to " +
			"(\"\" for none: the web UI only), and language, the e-mails' (\"\" for the registry's). A log entry (admin)",
			In: auth.Contact{}, Out: auth.Authority{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[auth.Contact](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := env.Authorities.SetContact(r.Context(), p, r.PathValue("id"), in)
				return http.StatusOK, out, err
			}},
		{Method: "GET", Path: "/api/v1/me", Summary: "The signed-in principal; time_zone is their own preference, empty for the registry's", Out: auth.Principal{}, Enums: roles,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				return http.StatusOK, p, nil
			}},
		{Method: "POST", Path: "/api/v1/me/preferences", Summary: "Set your own preferences: time_zone, the IANA zone the web pages show and read times in " +
			"(\"\" for the registry's); the API keeps UTC. A log entry",
			In: auth.Preferences{}, Out: auth.Principal{}, Enums: roles,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[auth.Preferences](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := env.Authorities.SetPreferences(r.Context(), p, in)
				return http.StatusOK, out, err
			}},
		{Method: "POST", Sealed: true, Path: "/api/v1/principals", Allow: []auth.Action{auth.ManageAuthorities}, Summary: "Create a principal and its token, shown once (admin)",
			In: auth.NewPrincipal{}, Out: auth.CreatedPrincipal{}, Status: 201, Enums: roles,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[auth.NewPrincipal](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := env.Authorities.CreatePrincipal(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/principals", Allow: []auth.Action{auth.ManageAuthorities}, Summary: "List principals, revoked ones included, newest first, a page at a time; " +
			"never a token nor its hash (query authority_id, role, name, state, limit, cursor; admin)",
			Query: pageQuery(page.Lists, auth.PrincipalFilters, map[string]Param{
				"authority_id": {Doc: "the principal's authority"},
				"role":         {Doc: "the principal's role", Values: env.Catalogue.RoleNames()},
				"name":         {Doc: "a part of the principal's name, in any case"},
				"state":        {Doc: "active: tokens that sign in; revoked: those that sign in no more", Values: auth.PrincipalStates},
			}),
			Out: principalsOut{}, Enums: roles,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				return pagedList(r, p, "principals", auth.PrincipalFilterOf,
					func(ctx context.Context, _ *auth.Principal, f auth.PrincipalFilter) (page.Of[auth.PrincipalRecord], error) {
						return auth.PrincipalPage(ctx, env.DB.Read(), env.Catalogue.RoleNames(), f)
					})
			}},
		{Method: "POST", Path: "/api/v1/principals/{id}/revoke", Allow: []auth.Action{auth.ManageAuthorities}, Summary: "Revoke a principal's token: it signs in no more, " +
			"in the API and every browser, at once; never your own. A log entry (admin)",
			Out: auth.PrincipalRecord{}, Enums: roles,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				id := strings.TrimSpace(r.PathValue("id"))
				if err := env.Authorities.RevokePrincipal(r.Context(), p, id); err != nil {
					return 0, nil, err
				}
				out, err := auth.PrincipalRecordOf(r.Context(), env.DB.Read(), id)
				return http.StatusOK, out, err
			}},

		// Oversight.
		{Method: "GET", Path: "/api/v1/alerts", Allow: []auth.Action{auth.ReadAlerts}, Summary: "Alerts raised by refusals that matter to oversight, newest first, a page at a time, or as a file " +
			"(query rule, authority_id, state, from, to (raised), limit, cursor, format; regulator, auditor, admin)",
			Query: append(pageQuery(alerts.Size, alerts.Filters, map[string]Param{
				"rule":         {Doc: "the rule that refused, as the alerts name it"},
				"authority_id": {Doc: "the centre or authority of the principal refused"},
				"state":        {Doc: "the alert's state", Values: ledger.AlertStates},
				"from":         {Doc: "first day raised, YYYY-MM-DD (UTC)"},
				"to":           {Doc: "last day raised, YYYY-MM-DD (UTC), included"},
			}), formatParam),
			Out: alertsOut{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				return listOrExport(env, r, p, "alerts", alerts.FilterOf, work.List,
					func(q url.Values) (export.Request, error) { return work.Export(p, q) })
			}},
		{Method: "GET", Path: "/api/v1/alerts/{id}", Allow: []auth.Action{auth.ReadAlerts}, Summary: "An alert with its comments (regulator, auditor, admin)", Out: ledger.RaisedAlert{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				a, err := work.Get(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, a, err
			}},
		{Method: "POST", Path: "/api/v1/alerts/{id}/acknowledge", Allow: []auth.Action{auth.WorkAlerts}, Summary: "Acknowledge an open alert (regulator)", Out: ledger.RaisedAlert{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				a, err := work.Acknowledge(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, a, err
			}},
		{Method: "POST", Path: "/api/v1/alerts/{id}/assign", Allow: []auth.Action{auth.WorkAlerts}, Summary: "Assign an alert to a regulator (regulator)",
			In: alerts.Assignment{}, Out: ledger.RaisedAlert{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[alerts.Assignment](r)
				if err != nil {
					return 0, nil, err
				}
				a, err := work.Assign(r.Context(), p, r.PathValue("id"), in)
				return http.StatusOK, a, err
			}},
		{Method: "POST", Path: "/api/v1/alerts/{id}/comment", Allow: []auth.Action{auth.WorkAlerts}, Summary: "Comment on an alert (regulator)",
			In: alerts.Comment{}, Out: ledger.RaisedAlert{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[alerts.Comment](r)
				if err != nil {
					return 0, nil, err
				}
				a, err := work.Comment(r.Context(), p, r.PathValue("id"), in)
				return http.StatusOK, a, err
			}},
		{Method: "POST", Path: "/api/v1/alerts/{id}/close", Allow: []auth.Action{auth.WorkAlerts}, Summary: "Close an alert with an outcome and a note; a closed alert stays closed (regulator)",
			In: alerts.Closing{}, Out: ledger.RaisedAlert{}, Enums: outcomes,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[alerts.Closing](r)
				if err != nil {
					return 0, nil, err
				}
				a, err := work.Close(r.Context(), p, r.PathValue("id"), in)
				return http.StatusOK, a, err
			}},

		// The tamper-evident log.
		{Method: "GET", Path: "/api/v1/log/checkpoint", Public: true, Out: Checkpoint{},
			Summary: "The latest signed checkpoint of the log, the key it records with its fingerprint, and the latest checkpoint its witnesses cosigned",
			Handler: func(r *http.Request, _ *auth.Principal) (int, any, error) {
				cp, err := readCheckpoint(r.Context(), env.DB, env.Log)
				return http.StatusOK, cp, err
			}},
		{Method: "GET", Path: "/api/v1/log/entries/{index}", Allow: []auth.Action{auth.ReadLog}, Summary: "A log leaf with its inclusion proof",
			Out: ledger.ProvenLeaf{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				idx, err := strconv.ParseUint(r.PathValue("index"), 10, 63)
				if err != nil {
					return 0, nil, errs.New(errs.Malformed, "path", "index", "the leaf index must be a non-negative integer")
				}
				q, err := env.DB.Snapshot(r.Context())
				if err != nil {
					return 0, nil, err
				}
				defer q.Rollback()
				l, err := ledger.ReadLeaf(r.Context(), q, idx)
				return http.StatusOK, l, err
			}},
		{Method: "GET", Path: "/api/v1/log/exports", Allow: []auth.Action{auth.ReadLog}, Summary: "The exports made, newest first, a page at a time: " +
			"each export.made entry (entry, its leaf index; at; by and authority, as the leaf names them; registry, list, filter, format, the checkpoint) " +
			"with what its export.completed entry says was sent (entry, rows, bytes, sha256), null when it has none (cut short) " +
			"(query registry, list, from, to (made), limit, cursor; regulator, auditor, admin: who read the log's entries)",
			Query: pageQuery(export.Size, export.Filters, map[string]Param{
				"registry": {Doc: "the registry exported from, as the entry names it (transplant, hashmatch, core, ...); one no export was made of is refused (rule enum, naming those there are)"},
				"list":     {Doc: "the list exported, as the entry names it (donors, bank, transplant-months, ...); one no export was made of (of the registry given) is refused (rule enum)"},
				"from":     {Doc: "first day made, YYYY-MM-DD (UTC)"},
				"to":       {Doc: "last day made, YYYY-MM-DD (UTC), included"},
			}),
			Out: exportsOut{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				return pagedList(r, p, "exports", export.FilterOf, func(ctx context.Context, _ *auth.Principal, f export.Filter) (page.Of[export.Listed], error) {
					return export.List(ctx, env.DB.Read(), f)
				})
			}},
		{Method: "GET", Path: "/api/v1/log/consistency", Public: true, Summary: "A consistency proof between two tree sizes (query from, to)",
			Out: consistencyOut{},
			// Both sizes are required: one missing is refused as every
			// missing parameter is (rule required), not as a size out of
			// range.
			Query: []Param{{Name: "from", Doc: "the older tree size", Required: true}, {Name: "to", Doc: "the newer tree size", Required: true}},
			Handler: func(r *http.Request, _ *auth.Principal) (int, any, error) {
				from, err := page.Int(r.URL.Query(), "from", 0)
				if err != nil {
					return 0, nil, err
				}
				to, err := page.Int(r.URL.Query(), "to", 0)
				if err != nil {
					return 0, nil, err
				}
				h, _, err := ledger.ReadHead(r.Context(), env.DB.Read())
				if err != nil {
					return 0, nil, err
				}
				if from == 0 || from > to || uint64(to) > h.Size {
					// Name the size out of range: to when it is 0 or past
					// the log, else from.
					field := "from"
					if to == 0 || uint64(to) > h.Size {
						field = "to"
					}
					return 0, nil, errs.New(errs.Invalid, "range", field, "need 0 < from <= to <= %d (the current size)", h.Size)
				}
				pr, err := ledger.ConsistencyProof(r.Context(), env.DB.Read(), uint64(from), uint64(to))
				return http.StatusOK, consistencyOut{From: from, To: to, Proof: pr}, err
			}},
	}
}

// authoritiesExport reads the export of the authorities list, filtered as
// the query says (export.Query, auth.AuthorityFilterOf).
func authoritiesExport(p *auth.Principal, list func(context.Context, *auth.Principal, auth.AuthorityFilter) (page.Of[auth.Authority], error)) func(url.Values) (export.Request, error) {
	return func(q url.Values) (export.Request, error) {
		format, q, err := export.Query(q)
		if err != nil {
			return export.Request{}, err
		}
		f, err := auth.AuthorityFilterOf(q)
		if err != nil {
			return export.Request{}, err
		}
		return export.Request{Registry: store.CoreSchema().Module, List: "authorities", Filter: q, Format: format,
			Columns: []string{"id", "name", "kind", "jurisdiction", "city", "created_at"},
			Rows: func(ctx context.Context) iter.Seq2[[]any, error] {
				pages := export.Pages(ctx, page.Lists.Max, func(ctx context.Context, r page.Request) (page.Of[auth.Authority], error) {
					f.Request = r
					return list(ctx, p, f)
				})
				return export.Rows(pages, func(a *auth.Authority) []any { return []any{a.ID, a.Name, a.Kind, a.Jurisdiction, a.City, a.CreatedAt} })
			}}, nil
	}
}
