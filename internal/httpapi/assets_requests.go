package httpapi

import (
	"net/http"
	"reflect"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
)

// Bodies of the request routes that are not domain types.
type (
	assetsRequestsOut struct {
		Requests []assets.Request `json:"requests"`
	}
	assetsIncompleteOut struct {
		Error   *errs.Error      `json:"error"`
		Missing []assets.Missing `json:"missing"`
	}
	assetsMissingOut struct {
		Missing []assets.Missing `json:"missing"`
	}
	assetsQuestionIn struct {
		Question string `json:"question" api:"required"`
	}
	assetsAnswerIn struct {
		Answer string `json:"answer" api:"required"`
	}
	assetsRequestPeersOut struct {
		Peers []assets.RequestPeer `json:"peers"`
	}
)

// AssetsRequests lists the routes of the requests between states, under
// /api/v1/assets/requests.
func AssetsRequests(env Env, s *assets.Service) []Route {
	created := func(v any, err error) (int, any, error) { return http.StatusCreated, v, err }
	ok := func(v any, err error) (int, any, error) { return http.StatusOK, v, err }
	// A request's closed lists, as checkDraft, checkStatus and RecordUse
	// check them; Request embeds NewRequest and shows them too.
	draft := reflect.TypeFor[assets.NewRequest]()
	requestEnums := []Enum{{draft, "Type", assets.RequestTypes}, {draft, "LegalBasis", assets.LegalBases}, {draft, "Assistance", assets.AssistanceKinds},
		{draft, "Confidentiality", assets.Confidentialities}, {draft, "UsePurposes", assets.UsePurposes}}
	return []Route{
		{Method: "GET", Path: "/api/v1/assets/requests", Allow: []auth.Action{assets.ReadRequests}, Summary: "The requests the principal may see, newest first: its state's and those sent to its state; every one for the regulator and the auditor (query type, status, direction, state, overdue, q)",
			Out: assetsRequestsOut{},
			Query: []Param{{Name: "type", Doc: "the type of request", Values: assets.RequestTypes}, {Name: "status", Doc: "the status", Values: assets.RequestStatuses},
				{Name: "direction", Doc: "made here or received from another registry", Values: []string{assets.DirectionOutgoing, assets.DirectionIncoming}},
				{Name: "state", Doc: "a state either party is (regulator, auditor)"}, {Name: "overdue", Doc: "1: only those whose deadline passed and that are not finished", Values: []string{"1"}},
				{Name: "q", Doc: "a text of its id, facts, purpose or authorities"},
				{Name: "format", Doc: "a file's format: every request the filters select, not the newest 500", Values: export.Formats}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				q := r.URL.Query()
				overdue, err := assets.OverdueFilter(q.Get("overdue"))
				if err != nil {
					return 0, nil, err
				}
				f := assets.RequestFilter{Type: q.Get("type"), Status: q.Get("status"), Direction: q.Get("direction"), State: q.Get("state"), Overdue: overdue, Q: q.Get("q")}
				if q.Has("format") {
					return serveExport(env, r, p, func(format export.Format) (export.Request, error) { return s.RequestsExport(p, f, format) })
				}
				rs, err := s.Requests(r.Context(), p, f)
				return http.StatusOK, assetsRequestsOut{Requests: rs}, err
			}},
		{Method: "POST", Path: "/api/v1/assets/requests", Allow: []auth.Action{assets.DraftRequests}, Summary: "Draft a request of the principal's state to another state: what is given is checked, what is missing is named when it is sent (central authority officer, prosecutor)",
			In: assets.NewRequest{}, Out: assets.Request{}, Status: 201, Enums: requestEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[assets.NewRequest](r)
				if err != nil {
					return 0, nil, err
				}
				return created(s.DraftRequest(r.Context(), p, "", in))
			}},
		{Method: "GET", Path: "/api/v1/assets/requests/peers", Allow: []auth.Action{assets.ReadRequests}, Summary: "The registries requests may travel to over the exchange (peers taking legal_assistance)",
			Out: assetsRequestPeersOut{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				ps, err := s.RequestPeers(r.Context(), p)
				return http.StatusOK, assetsRequestPeersOut{Peers: ps}, err
			}},
		{Method: "GET", Path: "/api/v1/assets/requests/{id}", Allow: []auth.Action{assets.ReadRequests}, Summary: "A request with its timeline, its requests for more information, the uses recorded, what follows it and what it lacks before sending",
			Out: assets.RequestFile{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				return ok(s.RequestFile(r.Context(), p, r.PathValue("id")))
			}},
		{Method: "PUT", Path: "/api/v1/assets/requests/{id}", Allow: []auth.Action{assets.DraftRequests}, Summary: "Replace a draft of the principal's state (central authority officer, prosecutor)",
			In: assets.NewRequest{}, Out: assets.Request{}, Enums: requestEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[assets.NewRequest](r)
				if err != nil {
					return 0, nil, err
				}
				return ok(s.DraftRequest(r.Context(), p, r.PathValue("id"), in))
			}},
		{Method: "GET", Path: "/api/v1/assets/requests/{id}/completeness", Allow: []auth.Action{assets.ReadRequests}, Summary: "What the request lacks before it may be sent, every item at once (empty: complete)",
			Out: assetsMissingOut{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				m, err := s.Completeness(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, assetsMissingOut{Missing: m}, err
			}},
		{Method: "POST", Path: "/api/v1/assets/requests/{id}/send", Allow: []auth.Action{assets.HandleRequests}, Summary: "Send a complete draft: over the exchange when it names a peer; refused with every missing item (422, rule incomplete, missing) (central authority officer)",
			Out: assets.Request{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, inc, err := s.SendRequest(r.Context(), p, r.PathValue("id"))
				if e, isErr := errs.As(err); isErr && inc != nil {
					return http.StatusUnprocessableEntity, assetsIncompleteOut{Error: e, Missing: inc.Missing}, nil
				}
				return ok(out, err)
			}},
		{Method: "POST", Path: "/api/v1/assets/requests/{id}/status", Allow: []auth.Action{assets.HandleRequests}, Summary: "Record a step: acknowledged, under_execution, executed, partially_executed or refused (with grounds) by the requested side, withdrawn by the requesting side; a step the lifecycle does not allow is refused (409, rule request_transition) (central authority officer)",
			In: assets.NewStatus{}, Out: assets.Request{}, Enums: []Enum{{reflect.TypeFor[assets.NewStatus](), "Grounds", assets.RefusalGrounds}, {reflect.TypeFor[assets.NewStatus](), "Status", assets.StepStatuses}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[assets.NewStatus](r)
				if err != nil {
					return 0, nil, err
				}
				return ok(s.RecordStatus(r.Context(), p, r.PathValue("id"), in))
			}},
		{Method: "POST", Path: "/api/v1/assets/requests/{id}/questions", Allow: []auth.Action{assets.HandleRequests}, Summary: "Ask the other state's central authority for more information on a request sent (central authority officer)",
			In: assetsQuestionIn{}, Out: assets.Question{}, Status: 201,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[assetsQuestionIn](r)
				if err != nil {
					return 0, nil, err
				}
				return created(s.AskInformation(r.Context(), p, r.PathValue("id"), in.Question))
			}},
		{Method: "POST", Path: "/api/v1/assets/requests/{id}/questions/{qid}/answer", Allow: []auth.Action{assets.HandleRequests}, Summary: "Answer the other state's request for more information (central authority officer)",
			In: assetsAnswerIn{}, Out: assets.Question{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[assetsAnswerIn](r)
				if err != nil {
					return 0, nil, err
				}
				return ok(s.AnswerInformation(r.Context(), p, r.PathValue("id"), r.PathValue("qid"), in.Answer))
			}},
		{Method: "POST", Path: "/api/v1/assets/requests/{id}/uses", Allow: []auth.Action{assets.UseRequests}, Summary: "Record a use of what the request brought: for a purpose it states, shared with a third state only with consent; otherwise refused with an alert (403, purpose_limitation or onward_sharing) (central authority officer, prosecutor)",
			In: assets.NewUse{}, Out: assets.RequestFile{}, Status: 201, Enums: []Enum{{reflect.TypeFor[assets.NewUse](), "Purpose", assets.UsePurposes}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[assets.NewUse](r)
				if err != nil {
					return 0, nil, err
				}
				if err := s.RecordUse(r.Context(), p, r.PathValue("id"), in); err != nil {
					return 0, nil, err
				}
				return created(s.RequestFile(r.Context(), p, r.PathValue("id")))
			}},
	}
}
