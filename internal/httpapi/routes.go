package httpapi

import (
	"net/http"
	"strconv"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/transplant"
)

// Routes is the table of every API endpoint.
func (a *API) Routes() []Route {
	t := a.Transplant
	return append([]Route{
		{"GET", "/api/v1/openapi.json", true, func(r *http.Request, _ *auth.Principal) (int, any, error) {
			return http.StatusOK, a.OpenAPI(), nil
		}},
		{"GET", "/api/v1/me", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			return http.StatusOK, p, nil
		}},

		// Authorities and principals.
		{"POST", "/api/v1/centres", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			in, err := decode[struct {
				Name         string `json:"name"`
				City         string `json:"city"`
				Jurisdiction string `json:"jurisdiction"`
			}](r)
			if err != nil {
				return 0, nil, err
			}
			out, err := a.Authorities.CreateAuthority(r.Context(), p, auth.NewAuthority{Name: in.Name, City: in.City, Jurisdiction: in.Jurisdiction, Kind: auth.KindCentre})
			return http.StatusCreated, out, err
		}},
		{"GET", "/api/v1/centres", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			if err := p.Require(auth.Read); err != nil {
				return 0, nil, err
			}
			cs, err := auth.ListAuthorities(r.Context(), a.DB.Read(), auth.KindCentre)
			return http.StatusOK, map[string]any{"centres": cs}, err
		}},
		{"GET", "/api/v1/centres/{id}", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			if err := p.Require(auth.Read); err != nil {
				return 0, nil, err
			}
			c, err := auth.GetAuthority(r.Context(), a.DB.Read(), r.PathValue("id"))
			if err != nil {
				return 0, nil, err
			}
			as, err := t.CentreAuthorizations(r.Context(), p, c.ID)
			return http.StatusOK, map[string]any{"centre": c, "authorizations": as}, err
		}},
		{"POST", "/api/v1/centres/{id}/authorizations", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			in, err := decode[transplant.NewCentreAuthorization](r)
			if err != nil {
				return 0, nil, err
			}
			out, err := t.AuthorizeCentre(r.Context(), p, r.PathValue("id"), in)
			return http.StatusCreated, out, err
		}},
		{"GET", "/api/v1/centres/{id}/authorizations", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			as, err := t.CentreAuthorizations(r.Context(), p, r.PathValue("id"))
			return http.StatusOK, map[string]any{"authorizations": as}, err
		}},
		{"POST", "/api/v1/centres/{id}/authorizations/{aid}/revoke", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			in, err := decode[struct {
				Reason string `json:"reason"`
			}](r)
			if err != nil {
				return 0, nil, err
			}
			out, err := t.RevokeCentreAuthorization(r.Context(), p, r.PathValue("id"), r.PathValue("aid"), in.Reason)
			return http.StatusOK, out, err
		}},
		{"POST", "/api/v1/principals", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			in, err := decode[auth.NewPrincipal](r)
			if err != nil {
				return 0, nil, err
			}
			out, err := a.Authorities.CreatePrincipal(r.Context(), p, in)
			return http.StatusCreated, out, err
		}},

		// Donors, consent, recipients.
		{"POST", "/api/v1/donors", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			in, err := decode[transplant.NewDonor](r)
			if err != nil {
				return 0, nil, err
			}
			out, err := t.RegisterDonor(r.Context(), p, in)
			return http.StatusCreated, out, err
		}},
		{"GET", "/api/v1/donors", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			f, err := listFilter(r)
			if err != nil {
				return 0, nil, err
			}
			ds, err := t.Donors(r.Context(), p, f)
			return http.StatusOK, map[string]any{"donors": ds}, err
		}},
		{"GET", "/api/v1/donors/{id}", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			d, err := t.Donor(r.Context(), p, r.PathValue("id"))
			if err != nil {
				return 0, nil, err
			}
			cs, err := t.Consents(r.Context(), p, d.ID)
			return http.StatusOK, map[string]any{"donor": d, "consents": cs}, err
		}},
		{"POST", "/api/v1/donors/{id}/consents", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			in, err := decode[transplant.NewConsent](r)
			if err != nil {
				return 0, nil, err
			}
			out, err := t.RecordConsent(r.Context(), p, r.PathValue("id"), in)
			return http.StatusCreated, out, err
		}},
		{"POST", "/api/v1/recipients", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			in, err := decode[transplant.NewRecipient](r)
			if err != nil {
				return 0, nil, err
			}
			out, err := t.RegisterRecipient(r.Context(), p, in)
			return http.StatusCreated, out, err
		}},
		{"GET", "/api/v1/recipients", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			f, err := listFilter(r)
			if err != nil {
				return 0, nil, err
			}
			rs, err := t.Recipients(r.Context(), p, f)
			return http.StatusOK, map[string]any{"recipients": rs}, err
		}},
		{"GET", "/api/v1/recipients/{id}", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			out, err := t.Recipient(r.Context(), p, r.PathValue("id"))
			return http.StatusOK, map[string]any{"recipient": out}, err
		}},
		{"POST", "/api/v1/personal-data", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			in, err := decode[struct {
				ID      string `json:"id"`
				Purpose string `json:"purpose"`
			}](r)
			if err != nil {
				return 0, nil, err
			}
			out, err := t.PersonalData(r.Context(), p, in.ID, in.Purpose)
			return http.StatusOK, out, err
		}},

		// Procurement, authorization, transplantation.
		{"POST", "/api/v1/procurements", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			in, err := decode[transplant.NewProcurement](r)
			if err != nil {
				return 0, nil, err
			}
			out, err := t.RecordProcurement(r.Context(), p, in)
			return http.StatusCreated, out, err
		}},
		{"GET", "/api/v1/organs", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			n, err := intParam(r, "limit", 100)
			if err != nil {
				return 0, nil, err
			}
			os, err := t.AvailableOrgans(r.Context(), p, n)
			return http.StatusOK, map[string]any{"organs": os}, err
		}},
		{"POST", "/api/v1/transplant-authorizations", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			in, err := decode[transplant.NewTransplantAuthorization](r)
			if err != nil {
				return 0, nil, err
			}
			out, err := t.AuthorizeTransplant(r.Context(), p, in)
			return http.StatusCreated, out, err
		}},
		{"POST", "/api/v1/transplants", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			in, err := decode[transplant.NewTransplant](r)
			if err != nil {
				return 0, nil, err
			}
			out, err := t.RecordTransplant(r.Context(), p, in)
			return http.StatusCreated, out, err
		}},

		// Trace.
		{"GET", "/api/v1/trace/organs/{id}", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			out, err := t.TraceOrgan(r.Context(), p, r.PathValue("id"))
			return http.StatusOK, out, err
		}},
		{"GET", "/api/v1/trace/donors/{id}", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			out, err := t.TraceDonor(r.Context(), p, r.PathValue("id"))
			return http.StatusOK, out, err
		}},
		{"GET", "/api/v1/trace/recipients/{id}", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			out, err := t.TraceRecipient(r.Context(), p, r.PathValue("id"))
			return http.StatusOK, out, err
		}},

		// Oversight.
		{"GET", "/api/v1/alerts", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			n, err := intParam(r, "limit", 200)
			if err != nil {
				return 0, nil, err
			}
			if err := p.Require(auth.ReadAlerts); err != nil {
				return 0, nil, err
			}
			as, err := ledger.Alerts(r.Context(), a.DB.Read(), n)
			return http.StatusOK, map[string]any{"alerts": as}, err
		}},

		// The tamper-evident log.
		{"GET", "/api/v1/log/checkpoint", true, func(r *http.Request, _ *auth.Principal) (int, any, error) {
			h, cp, err := ledger.ReadHead(r.Context(), a.DB.Read())
			return http.StatusOK, map[string]any{"size": h.Size, "root": h.Root, "checkpoint": cp}, err
		}},
		{"GET", "/api/v1/log/entries/{index}", false, func(r *http.Request, p *auth.Principal) (int, any, error) {
			if err := p.Require(auth.ReadAlerts); err != nil {
				return 0, nil, err
			}
			idx, err := strconv.ParseUint(r.PathValue("index"), 10, 63)
			if err != nil {
				return 0, nil, errs.New(errs.Malformed, "path", "index", "the leaf index must be a non-negative integer")
			}
			return a.leaf(r, idx)
		}},
		{"GET", "/api/v1/log/consistency", true, func(r *http.Request, _ *auth.Principal) (int, any, error) {
			from, err := intParam(r, "from", 0)
			if err != nil {
				return 0, nil, err
			}
			to, err := intParam(r, "to", 0)
			if err != nil {
				return 0, nil, err
			}
			h, _, err := ledger.ReadHead(r.Context(), a.DB.Read())
			if err != nil {
				return 0, nil, err
			}
			if from == 0 || from > to || uint64(to) > h.Size {
				return 0, nil, errs.New(errs.Invalid, "range", "to", "need 0 < from <= to <= %d (the current size)", h.Size)
			}
			pr, err := ledger.ConsistencyProof(r.Context(), a.DB.Read(), uint64(from), uint64(to))
			return http.StatusOK, map[string]any{"from": from, "to": to, "proof": pr}, err
		}},
	}, a.hashmatchRoutes()...)
}

// leaf returns a leaf with its inclusion proof against the current head.
func (a *API) leaf(r *http.Request, idx uint64) (int, any, error) {
	ctx := r.Context()
	q := a.DB.Read()
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

func listFilter(r *http.Request) (transplant.ListFilter, error) {
	n, err := intParam(r, "limit", 100)
	return transplant.ListFilter{CentreID: r.URL.Query().Get("centre_id"), Status: r.URL.Query().Get("status"), Limit: n}, err
}
