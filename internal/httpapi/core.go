package httpapi

import (
	"context"
	"crypto/rand"
	"net/http"
	"reflect"
	"strconv"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/transplant"
)

// openAPIRoute serves the document of every route of the API; New adds it.
func (a *API) openAPIRoute() Route {
	return Route{Method: "GET", Path: "/api/v1/openapi.json", Public: true, Summary: "This OpenAPI document",
		Handler: func(r *http.Request, _ *auth.Principal) (int, any, error) {
			return http.StatusOK, a.OpenAPI(), nil
		}}
}

type principalOut struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Role        auth.Role `json:"role"`
	AuthorityID string    `json:"authority_id"`
	Token       string    `json:"token"`
}

// Core lists the routes of the core: the signed-in principal, principals,
// alerts and the tamper-evident log. alerts reads the alerts (today
// transplant.Service.Alerts, until reading them moves to the core).
func Core(env Env, alerts func(ctx context.Context, p *auth.Principal, limit int) ([]transplant.Alert, error)) []Route {
	roles := []Enum{{Type: reflect.TypeFor[auth.Role](), Values: env.Catalogue.RoleNames()}}
	return []Route{
		{Method: "GET", Path: "/api/v1/me", Summary: "The signed-in principal", Out: auth.Principal{}, Enums: roles,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				return http.StatusOK, p, nil
			}},
		{Method: "POST", Path: "/api/v1/principals", Summary: "Create a principal and its token, shown once (admin)",
			In: auth.NewPrincipal{}, Out: principalOut{}, Status: 201, Enums: roles,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[auth.NewPrincipal](r)
				if err != nil {
					return 0, nil, err
				}
				if err := p.Require(auth.ManageAuthorities); err != nil {
					return 0, nil, err
				}
				cmd, token, err := auth.CreatePrincipal(in, env.Writer.IDs(), rand.Reader)
				if err != nil {
					return 0, nil, err
				}
				res, err := env.Writer.Submit(r.Context(), p.Actor(), "create principal", cmd)
				if err != nil {
					return 0, nil, err
				}
				var out struct {
					ID          string    `json:"id"`
					Name        string    `json:"name"`
					Role        auth.Role `json:"role"`
					AuthorityID string    `json:"authority_id"`
					TokenHash   string    `json:"token_hash"`
				}
				if err := res.Entry.Decode(&out); err != nil {
					return 0, nil, err
				}
				return http.StatusCreated, map[string]any{"id": out.ID, "name": out.Name, "role": out.Role,
					"authority_id": out.AuthorityID, "token": token}, nil
			}},

		// Oversight.
		{Method: "GET", Path: "/api/v1/alerts", Summary: "Alerts raised by refusals that matter to oversight (regulator, auditor, admin)",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				n, err := intParam(r, "limit", 200)
				if err != nil {
					return 0, nil, err
				}
				as, err := alerts(r.Context(), p, n)
				return http.StatusOK, map[string]any{"alerts": as}, err
			}},

		// The tamper-evident log.
		{Method: "GET", Path: "/api/v1/log/checkpoint", Public: true, Summary: "The latest signed checkpoint of the log",
			Handler: func(r *http.Request, _ *auth.Principal) (int, any, error) {
				h, cp, err := ledger.ReadHead(r.Context(), env.DB.Read())
				return http.StatusOK, map[string]any{"size": h.Size, "root": h.Root, "checkpoint": cp}, err
			}},
		{Method: "GET", Path: "/api/v1/log/entries/{index}", Summary: "A log leaf with its inclusion proof",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				if err := p.Require(auth.ReadAlerts); err != nil {
					return 0, nil, err
				}
				idx, err := strconv.ParseUint(r.PathValue("index"), 10, 63)
				if err != nil {
					return 0, nil, errs.New(errs.Malformed, "path", "index", "the leaf index must be a non-negative integer")
				}
				return leaf(env, r, idx)
			}},
		{Method: "GET", Path: "/api/v1/log/consistency", Public: true, Summary: "A consistency proof between two tree sizes (query from, to)",
			Handler: func(r *http.Request, _ *auth.Principal) (int, any, error) {
				from, err := intParam(r, "from", 0)
				if err != nil {
					return 0, nil, err
				}
				to, err := intParam(r, "to", 0)
				if err != nil {
					return 0, nil, err
				}
				h, _, err := ledger.ReadHead(r.Context(), env.DB.Read())
				if err != nil {
					return 0, nil, err
				}
				if from == 0 || from > to || uint64(to) > h.Size {
					return 0, nil, errs.New(errs.Invalid, "range", "to", "need 0 < from <= to <= %d (the current size)", h.Size)
				}
				pr, err := ledger.ConsistencyProof(r.Context(), env.DB.Read(), uint64(from), uint64(to))
				return http.StatusOK, map[string]any{"from": from, "to": to, "proof": pr}, err
			}},
	}
}

// leaf returns a leaf with its inclusion proof against the current head.
func leaf(env Env, r *http.Request, idx uint64) (int, any, error) {
	ctx := r.Context()
	q := env.DB.Read()
	h, cp, err := ledger.ReadHead(ctx, q)
	if err != nil {
		return 0, nil, err
	}
	if idx >= h.Size {
		return 0, nil, errs.New(errs.NotFound, "reference", "index", "the log has %d leaves", h.Size)
	}
	var data string
	if err := q.QueryRow(ctx, "SELECT data FROM log_leaves WHERE idx = ?", int64(idx)).Scan(&data); err != nil {
		return 0, nil, err
	}
	pr, err := ledger.InclusionProof(ctx, q, idx, h.Size)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"index": idx, "data": data, "leaf_hash": ledger.LeafHash([]byte(data)),
		"tree_size": h.Size, "root": h.Root, "checkpoint": cp, "inclusion_proof": pr}, nil
}
