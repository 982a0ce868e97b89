package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/i18n"
)

// AssetsRequests adds the requests between states to the asset-recovery
// section: /assets/requests (the list, with filters), /assets/requests/new
// (the form that drafts one), /assets/requests/{id} (a request with its
// timeline and the forms of its next steps).
func AssetsRequests(sec *Section, svc *assets.Service) {
	h := &requestPages{svc: svc}
	sec.Pages = append(sec.Pages,
		get("/requests", h.list).Allowed(assets.ReadRequests),
		get("/requests/new", h.newForm).Allowed(assets.DraftRequests),
		post("/requests", h.draft).Allowed(assets.DraftRequests),
		get("/requests/{id}", h.file).Allowed(assets.ReadRequests),
		post("/requests/{id}/send", h.send).Allowed(assets.HandleRequests),
		post("/requests/{id}/status", h.status).Allowed(assets.HandleRequests),
		post("/requests/{id}/questions", h.ask).Allowed(assets.HandleRequests),
		post("/requests/{id}/questions/{qid}/answer", h.answer).Allowed(assets.HandleRequests),
		post("/requests/{id}/uses", h.use).Allowed(assets.UseRequests),
	)
	nav := sec.Nav
	sec.Nav = func(p *auth.Principal) []Link {
		var links []Link
		if nav != nil {
			links = nav(p)
		}
		if p.Can(assets.ReadRequests) {
			links = append(links, Link{"/assets/requests", i18n.M("Requests between states")})
		}
		return links
	}
}

type requestPages struct {
	svc *assets.Service
}

func (h *requestPages) list(w http.ResponseWriter, r *http.Request, s *Session) {
	q := r.URL.Query()
	f := assets.RequestFilter{Type: q.Get("type"), Status: q.Get("status"), Direction: q.Get("direction"), State: typedState(q), Q: q.Get("q")}
	overdue, err := assets.OverdueFilter(q.Get("overdue"))
	var rs []assets.Request
	if err == nil {
		f.Overdue = overdue
		if q.Get("format") != "" {
			assetsExport(w, r, s, func(format export.Format) (export.Request, error) { return h.svc.RequestsExport(s.P, f, format) })
			return
		}
		rs, err = h.svc.Requests(r.Context(), s.P, f)
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	v := s.View(r, i18n.M("Requests between states"))
	// The directions' words are apart from the registry's labels, where
	// "incoming" and "outgoing" are kinds of case. The filter is the
	// registry's direction, so its words are the registry's: a request of
	// one of its states to another is made in it, whichever the viewer's
	// state (a request's page says "Sent by us" or "Received" from the
	// viewer's side).
	v.Data = struct {
		Requests                    []assets.Request
		Filter                      assets.RequestFilter
		Types, Statuses, Directions []Option
		AllStates, CanDraft         bool
		Downloads                   []Link
	}{rs, f, s.list("request_type"), s.list("request_status"),
		[]Option{{assets.DirectionOutgoing, s.T(i18n.M("Made in this registry"))}, {assets.DirectionIncoming, s.T(i18n.M("Received from another registry"))}}, s.P.Role == auth.Regulator || s.P.Role == auth.Auditor,
		s.P.Can(assets.DraftRequests), Downloads(r, "/assets/requests")}
	s.Show(w, r, "requests", v, nil)
}

type requestFormData struct {
	Types, Bases, Confidentialities, Authorities, Peers, Assistance, Uses []Option
	Checked                                                               map[string]bool
	// DeadlineMin and DeadlineMax are the deadline's bounds today
	// (assets.Service.DeadlineBounds), the date input's min and max.
	DeadlineMin, DeadlineMax string
}

func (h *requestPages) showForm(w http.ResponseWriter, r *http.Request, s *Session, values url.Values, ref *Refusal) {
	if err := s.P.Require(assets.DraftRequests); err != nil {
		s.Fail(w, r, err)
		return
	}
	dir, err := h.svc.Directory(r.Context(), s.P, assets.DirectoryFilter{})
	if err != nil {
		dir = nil // a prosecutor who may not read the directory drafts without choosing the authority
	}
	peers, err := h.svc.RequestPeers(r.Context(), s.P)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	d := requestFormData{Types: s.list("request_type"), Bases: s.list("legal_basis"),
		Confidentialities: s.list("confidentiality"), Assistance: s.list("assistance"), Uses: s.list("use_purpose"),
		Checked: map[string]bool{}}
	d.DeadlineMin, d.DeadlineMax = h.svc.DeadlineBounds()
	for _, e := range dir {
		if e.State != s.P.Jurisdiction {
			d.Authorities = append(d.Authorities, Option{Value: e.ID, Label: e.State + ": " + e.Name})
		}
	}
	for _, p := range peers {
		d.Peers = append(d.Peers, Option{Value: p.ID, Label: p.Name + " (" + p.Jurisdiction + ")"})
	}
	for _, k := range []string{"assistance", "use_purposes"} {
		for _, x := range values[k] {
			d.Checked[k+"/"+x] = true
		}
	}
	v := s.View(r, i18n.M("Draft a request"))
	v.SetForm("request", values)
	v.Data = d
	s.Show(w, r, "request_form", v, ref)
}

func (h *requestPages) newForm(w http.ResponseWriter, r *http.Request, s *Session) {
	h.showForm(w, r, s, url.Values{"type": {assets.RequestMLA}}, nil)
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// requestOf reads the request form.
func requestOf(v url.Values) assets.NewRequest {
	return assets.NewRequest{Type: v.Get("type"), RequestedState: strings.TrimSpace(v.Get("requested_state")), RequestedAuthority: v.Get("requested_authority"),
		LegalBasis: v.Get("legal_basis"), Treaty: v.Get("treaty"), Assistance: v["assistance"], Offences: splitList(v.Get("offences")),
		Facts: v.Get("facts"), Purpose: v.Get("purpose"), Nexus: v.Get("nexus"), Urgent: checked(v, "urgent"), UrgencyReasons: v.Get("urgency_reasons"),
		Deadline: v.Get("deadline"), Confidentiality: v.Get("confidentiality"), DualCriminality: v.Get("dual_criminality"), Language: v.Get("language"),
		UsePurposes: v["use_purposes"], OnwardSharing: checked(v, "onward_sharing"), Follows: strings.TrimSpace(v.Get("follows")),
		CaseIDs: splitList(v.Get("case_ids")), PeerID: v.Get("peer_id")}
}

func (h *requestPages) draft(w http.ResponseWriter, r *http.Request, s *Session) {
	out, err := h.svc.DraftRequest(r.Context(), s.P, "", requestOf(r.PostForm))
	if err != nil {
		h.showForm(w, r, s, r.PostForm, &Refusal{Form: "request", Values: r.PostForm, Err: err})
		return
	}
	s.RedirectDone(w, r, "/assets/requests/"+out.ID, url.Values{"done": {"drafted"}})
}

func (h *requestPages) file(w http.ResponseWriter, r *http.Request, s *Session) {
	h.showFile(w, r, s, nil)
}

func (h *requestPages) showFile(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	f, err := h.svc.RequestFile(r.Context(), s.P, r.PathValue("id"))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	next := f.Next // assets.StepsOf, as the API answers it
	handle := s.P.Can(assets.HandleRequests)
	v := s.View(r, i18n.M("Request between states"))
	v.Data = struct {
		*assets.RequestFile
		Next                []Option
		GroundOpts, UseOpts []Option
		CanSend, CanStep    bool
		CanAsk, CanUse      bool
		Done                string
	}{f, s.options(next), s.list("refusal_ground"), s.list("use_purpose"),
		handle && f.Status == assets.StatusDraft && f.RequestingState == s.P.Jurisdiction, handle && len(next) > 0,
		handle && f.Status != assets.StatusDraft && len(assets.NextStatuses(f.Type, f.Status)) > 0, s.P.Can(assets.UseRequests) && f.Status != assets.StatusDraft,
		s.Notice(r).Get("done")}
	s.Show(w, r, "request", v, ref)
}

// refused shows the request's page with a form refused, or the error page
// when the request is not there to show.
func (h *requestPages) refused(w http.ResponseWriter, r *http.Request, s *Session, form string, err error) {
	if e, ok := errs.As(err); !ok || (e.Code == errs.NotFound && e.Field == "id") || e.Code == errs.Unauthorized {
		s.Fail(w, r, err)
		return
	}
	h.showFile(w, r, s, &Refusal{Form: form, Values: r.PostForm, Err: err})
}

func (h *requestPages) back(w http.ResponseWriter, r *http.Request, s *Session, done string) {
	s.RedirectDone(w, r, "/assets/requests/"+r.PathValue("id"), url.Values{"done": {done}})
}

func (h *requestPages) send(w http.ResponseWriter, r *http.Request, s *Session) {
	if _, _, err := h.svc.SendRequest(r.Context(), s.P, r.PathValue("id")); err != nil {
		h.refused(w, r, s, "send", err)
		return
	}
	h.back(w, r, s, "sent")
}

func (h *requestPages) status(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	if _, err := h.svc.RecordStatus(r.Context(), s.P, r.PathValue("id"), assets.NewStatus{Status: v.Get("status"), Grounds: v.Get("grounds"),
		GroundsText: v.Get("grounds_text"), Note: v.Get("note"), OnwardSharing: checked(v, "onward_sharing")}); err != nil {
		h.refused(w, r, s, "status", err)
		return
	}
	h.back(w, r, s, "status")
}

func (h *requestPages) ask(w http.ResponseWriter, r *http.Request, s *Session) {
	if _, err := h.svc.AskInformation(r.Context(), s.P, r.PathValue("id"), r.PostForm.Get("question")); err != nil {
		h.refused(w, r, s, "question", err)
		return
	}
	h.back(w, r, s, "question")
}

func (h *requestPages) answer(w http.ResponseWriter, r *http.Request, s *Session) {
	qid := r.PathValue("qid")
	if _, err := h.svc.AnswerInformation(r.Context(), s.P, r.PathValue("id"), qid, r.PostForm.Get("answer")); err != nil {
		h.refused(w, r, s, "answer-"+qid, err)
		return
	}
	h.back(w, r, s, "answer")
}

func (h *requestPages) use(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	if err := h.svc.RecordUse(r.Context(), s.P, r.PathValue("id"), assets.NewUse{Purpose: v.Get("purpose"), ShareWith: strings.TrimSpace(v.Get("share_with")),
		Note: v.Get("note")}); err != nil {
		h.refused(w, r, s, "use", err)
		return
	}
	h.back(w, r, s, "use")
}
