package assets

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/store"
)

// ---- Requests between states (docs/assets.md, "Requests") ----
//
// A central authority (or a prosecutor) drafts a request to another state;
// the central authority sends it once it is complete, to the requested
// state's central authority: over the core exchange when that state runs
// custos (a registered peer), otherwise by another channel and recorded
// here. The requested side acknowledges it, executes it or refuses it with
// its grounds; either side asks the other for more information and answers.
// Every step is a log entry; on a request exchanged between two registries
// each step is also a message, and the other registry records it.

// NewRequest is a request as drafted: everything may still be missing,
// but what is given is checked. Sending checks it complete (Missing).
type NewRequest struct {
	Type string `json:"type" api:"required"`
	// RequestedState is the state asked (ISO 3166-1 alpha-2).
	RequestedState string `json:"requested_state" api:"required"`
	// RequestedAuthority is the requested state's central authority: an
	// entry of the directory (DI-...).
	RequestedAuthority string   `json:"requested_authority,omitempty"`
	LegalBasis         string   `json:"legal_basis,omitempty"`
	Treaty             string   `json:"treaty,omitempty"`
	Assistance         []string `json:"assistance,omitempty"`
	Offences           []string `json:"offences,omitempty"`
	Facts              string   `json:"facts,omitempty"`
	Purpose            string   `json:"purpose,omitempty"`
	// Nexus is the link between the facts and the assistance sought: why
	// the measure asked for serves the proceedings.
	Nexus           string `json:"nexus,omitempty"`
	Urgent          bool   `json:"urgent,omitempty"`
	UrgencyReasons  string `json:"urgency_reasons,omitempty"`
	Deadline        string `json:"deadline,omitempty"`
	Confidentiality string `json:"confidentiality,omitempty"`
	DualCriminality string `json:"dual_criminality,omitempty"`
	// Language is the language the request is written in: one the requested
	// authority accepts (UNCAC art. 46(14)).
	Language    string   `json:"language,omitempty"`
	UsePurposes []string `json:"use_purposes,omitempty"`
	// OnwardSharing is this state's consent that the requested state share
	// the request further.
	OnwardSharing bool `json:"onward_sharing,omitempty"`
	// Follows is the spontaneous disclosure this request follows from.
	Follows string   `json:"follows,omitempty"`
	CaseIDs []string `json:"case_ids,omitempty"`
	// PeerID is the requested state's registry when it runs custos: the
	// request travels over the exchange. Empty: sent by another channel.
	PeerID string `json:"peer_id,omitempty"`
}

// Request is a request between states as this registry holds it.
type Request struct {
	ID        string `json:"id"`
	Direction string `json:"direction"`
	// Side is the reader's side of the request (shownTo): requesting (its
	// state asks), requested (its state is asked), or other (the regulator
	// and the auditor, who are neither). Direction is the registry's.
	Side   string `json:"side"`
	Status string `json:"status"`
	NewRequest
	RequestingState string `json:"requesting_state"`
	// The central authorities' names; RequestedAuthority (the directory
	// entry) is this registry's own only on a request it made.
	RequestingAuthorityName string `json:"requesting_authority_name"`
	RequestedAuthorityName  string `json:"requested_authority_name"`
	// RemoteID is the requesting registry's id of a request received.
	RemoteID string `json:"remote_id,omitempty"`
	// PeerOnwardSharing is the requested state's consent that what it
	// answered be shared further.
	PeerOnwardSharing bool   `json:"peer_onward_sharing,omitempty"`
	Grounds           string `json:"grounds,omitempty"`
	GroundsText       string `json:"grounds_text,omitempty"`
	AuthorityID       string `json:"authority_id"`
	DraftedAt         string `json:"drafted_at"`
	SentAt            string `json:"sent_at,omitempty"`
	StatusAt          string `json:"status_at,omitempty"`
	Overdue           bool   `json:"overdue"`
}

// Missing is an item a request lacks before it may be sent.
type Missing struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Incomplete is the refusal of a request that lacks items: every item at
// once, the first also named by the error.
type Incomplete struct {
	Missing []Missing `json:"missing"`
}

// Missing lists what the request lacks before it may be sent, every item
// at once, in the order of UNCAC art. 46(15) (docs/assets.md, "What a
// complete request holds"). directoryLanguages are the languages of the
// requested authority's directory entry (nil when it has none).
func (r *NewRequest) missing(directoryLanguages []string, requestedIsCentral bool, authorityState string) []Missing {
	var out []Missing
	add := func(field, msg string) { out = append(out, Missing{Field: field, Message: msg}) }
	spont := r.Type == RequestSpontaneous
	if r.RequestedAuthority == "" {
		add("requested_authority", i18n.M("the requested state's central authority, from the directory (art. 46(13))"))
	} else if authorityState != r.RequestedState {
		add("requested_authority", i18n.M("the requested authority is now, in the directory, of another state than the requested state: name the requested state's central authority (art. 46(13))"))
	} else if !spont && !requestedIsCentral {
		add("requested_authority", i18n.M("a request goes to the requested state's central authority, not to a contact point (art. 46(13))"))
	}
	if r.LegalBasis == "" {
		add("legal_basis", i18n.M("the legal basis: UNCAC art. 46, UNTOC art. 18, a bilateral treaty or reciprocity"))
	}
	if r.Language == "" {
		add("language", i18n.M("the language the request is written in (art. 46(14))"))
	} else if directoryLanguages != nil && !slices.Contains(directoryLanguages, r.Language) {
		add("language", i18n.M("a language the requested authority accepts, as the directory lists them (art. 46(14))"))
	}
	if len(r.Offences) == 0 {
		add("offences", i18n.M("the offences, as ICCS codes (art. 46(15)(b))"))
	}
	if r.Facts == "" {
		add("facts", i18n.M("a summary of the facts (art. 46(15)(c))"))
	}
	if !spont && r.Type != RequestExtradition && len(r.Assistance) == 0 {
		add("assistance", i18n.M("the assistance sought (art. 46(15)(d))"))
	}
	if r.Purpose == "" {
		add("purpose", i18n.M("the purpose for which the evidence, information or action is sought (art. 46(15)(f))"))
	}
	if !spont && r.Nexus == "" {
		add("nexus", i18n.M("the link between the facts and the measure requested"))
	}
	if r.Urgent && r.UrgencyReasons == "" {
		add("urgency_reasons", i18n.M("the reasons of the urgency"))
	}
	if r.Urgent && r.Deadline == "" {
		add("deadline", i18n.M("the day by which an urgent request is to be executed"))
	}
	if r.Confidentiality == "" {
		add("confidentiality", i18n.M("whether the request is to be kept confidential (art. 46(20))"))
	}
	if needsDualCriminality(r.Type, r.Assistance) && r.DualCriminality == "" {
		add("dual_criminality", i18n.M("a statement that the conduct is an offence in both states: coercive measures and extradition need it (arts. 44(1), 46(9))"))
	}
	if len(r.UsePurposes) == 0 {
		add("use_purposes", i18n.M("the uses the requesting state will make of what it receives (art. 46(19))"))
	}
	if !spont && len(r.CaseIDs) == 0 {
		add("case_ids", i18n.M("the case the request serves"))
	}
	return out
}

// sidePrincipal tells which side of a request p acts for: the requesting
// state's, the requested state's, or neither ("").
func (r *Request) side(p *auth.Principal) string {
	switch {
	case p.Jurisdiction != "" && p.Jurisdiction == r.RequestingState:
		return SideRequesting
	case p.Jurisdiction != "" && p.Jurisdiction == r.RequestedState:
		return SideRequested
	}
	return ""
}

// noRequest is the refusal of a request p may not see or that does not
// exist: the same, so that another state's request is not revealed.
func noRequest(field, id string) error {
	return errs.New(errs.NotFound, "reference", field, "no request %s", id)
}

// checkDraft checks what a draft gives, in tx, and returns it cleaned with
// the requested authority's name and languages and whether it is a central
// authority.
func (s *Service) checkDraft(ctx context.Context, q store.Queryer, p *auth.Principal, in NewRequest) (NewRequest, string, []string, bool, error) {
	r := NewRequest{Type: in.Type, Urgent: in.Urgent, OnwardSharing: in.OnwardSharing}
	fail := func(err error) (NewRequest, string, []string, bool, error) { return r, "", nil, false, err }
	if err := check.OneOf("type", in.Type, RequestTypes); err != nil {
		return fail(err)
	}
	var err error
	if r.RequestedState, err = country("requested_state", in.RequestedState); err != nil {
		return fail(err)
	}
	if err := check.RealState("requested_state", r.RequestedState); err != nil {
		return fail(err)
	}
	if r.RequestedState == p.Jurisdiction {
		return fail(errs.Invalidf("requested_state", "requested_state", "a request goes to another state than your own (%s)", p.Jurisdiction))
	}
	var name string
	var langs []string
	central := false
	if r.RequestedAuthority = strings.TrimSpace(in.RequestedAuthority); r.RequestedAuthority != "" {
		var state, kind, ls, bases string
		err := q.QueryRow(ctx, "SELECT state, kind, name, languages, legal_bases FROM assets_directory WHERE id = ?", r.RequestedAuthority).Scan(&state, &kind, &name, &ls, &bases)
		if errors.Is(err, sql.ErrNoRows) {
			return fail(errs.New(errs.NotFound, "reference", "requested_authority", "no directory entry %s", r.RequestedAuthority))
		}
		if err != nil {
			return fail(err)
		}
		if state != r.RequestedState {
			return fail(errs.Invalidf("requested_state", "requested_authority", "the directory entry %s is of %s, not of the requested state %s", r.RequestedAuthority, state, r.RequestedState))
		}
		langs, central = list(ls), kind == EntryCentralAuthority
		if in.LegalBasis != "" && !slices.Contains(list(bases), in.LegalBasis) {
			return fail(errs.Invalidf("legal_basis", "legal_basis", "the requested authority is not designated under %s in the directory (it is under %s)", in.LegalBasis, strings.Join(list(bases), ", ")))
		}
	}
	if in.LegalBasis != "" {
		if err := check.OneOf("legal_basis", in.LegalBasis, LegalBases); err != nil {
			return fail(err)
		}
		r.LegalBasis = in.LegalBasis
	}
	if r.Treaty, err = check.Line("treaty", in.Treaty, 300, false); err != nil {
		return fail(err)
	}
	if r.LegalBasis != "" && (r.LegalBasis == BasisBilateral) != (r.Treaty != "") {
		return fail(errs.Invalidf("treaty", "treaty", "name the treaty when, and only when, a bilateral treaty is the legal basis"))
	}
	for i, a := range in.Assistance {
		if err := check.OneOf(check.Index("assistance", i), a, AssistanceKinds); err != nil {
			return fail(err)
		}
		if slices.Contains(r.Assistance, a) {
			return fail(errs.Invalidf("duplicate", check.Index("assistance", i), "%s is given twice", a))
		}
		r.Assistance = append(r.Assistance, a)
	}
	if r.Type == RequestSpontaneous && len(r.Assistance) > 0 {
		return fail(errs.Invalidf("spontaneous", "assistance", "a spontaneous disclosure asks for no assistance: make it a request"))
	}
	for i, o := range in.Offences {
		code, err := stats.ICCS.Check(check.Index("offences", i), o)
		if err != nil {
			return fail(err)
		}
		if slices.Contains(r.Offences, code) {
			return fail(errs.Invalidf("duplicate", check.Index("offences", i), "%s is given twice", code))
		}
		r.Offences = append(r.Offences, code)
	}
	for _, f := range []struct {
		name    string
		in      string
		out     *string
		max     int
		oneLine bool
	}{{"facts", in.Facts, &r.Facts, 8000, false}, {"purpose", in.Purpose, &r.Purpose, 2000, false}, {"nexus", in.Nexus, &r.Nexus, 4000, false},
		{"urgency_reasons", in.UrgencyReasons, &r.UrgencyReasons, 2000, false}, {"dual_criminality", in.DualCriminality, &r.DualCriminality, 2000, false}} {
		if *f.out, err = check.Text(f.name, f.in, f.max, false); err != nil {
			return fail(err)
		}
	}
	if !r.Urgent && r.UrgencyReasons != "" {
		return fail(errs.Invalidf("urgency_reasons", "urgency_reasons", "give reasons of urgency only for an urgent request"))
	}
	if r.Deadline, err = check.Date("deadline", in.Deadline, false); err != nil {
		return fail(err)
	}
	if err := deadlineAhead("deadline", r.Deadline, s.now(), false); err != nil {
		return fail(err)
	}
	if in.Confidentiality != "" {
		if err := check.OneOf("confidentiality", in.Confidentiality, Confidentialities); err != nil {
			return fail(err)
		}
		r.Confidentiality = in.Confidentiality
	}
	if r.Language = strings.TrimSpace(in.Language); r.Language != "" && !validLanguage(r.Language) {
		return fail(errs.Invalidf("language", "language", "language must be a language code of two small letters (ISO 639-1)"))
	}
	for i, u := range in.UsePurposes {
		if err := check.OneOf(check.Index("use_purposes", i), u, UsePurposes); err != nil {
			return fail(err)
		}
		if slices.Contains(r.UsePurposes, u) {
			return fail(errs.Invalidf("duplicate", check.Index("use_purposes", i), "%s is given twice", u))
		}
		r.UsePurposes = append(r.UsePurposes, u)
	}
	for i, c := range in.CaseIDs {
		if _, err := visibleCase(ctx, q, p, check.Index("case_ids", i), c); err != nil {
			return fail(err)
		}
		if slices.Contains(r.CaseIDs, c) {
			return fail(errs.Invalidf("duplicate", check.Index("case_ids", i), "%s is given twice", c))
		}
		r.CaseIDs = append(r.CaseIDs, c)
	}
	if r.Follows = strings.TrimSpace(in.Follows); r.Follows != "" {
		f, err := visibleRequest(ctx, q, p, "follows", r.Follows)
		if err != nil {
			return fail(err)
		}
		pair := func(a, b string) string {
			if a > b {
				a, b = b, a
			}
			return a + b
		}
		if f.Type != RequestSpontaneous || f.Status == StatusDraft || pair(f.RequestingState, f.RequestedState) != pair(p.Jurisdiction, r.RequestedState) {
			return fail(errs.Invalidf("follows", "follows", "a request follows a spontaneous disclosure sent between the same two states; %s is not one", r.Follows))
		}
	}
	if r.PeerID = strings.TrimSpace(in.PeerID); r.PeerID != "" {
		pr, err := exchange.ActivePeer(ctx, q, "peer_id", r.PeerID, PurposeLegalAssistance)
		if err != nil {
			return fail(err)
		}
		if pr.Jurisdiction != r.RequestedState {
			return fail(errs.Invalidf("peer", "peer_id", "the peer %s is the registry of %s, not of the requested state %s", pr.ID, pr.Jurisdiction, r.RequestedState))
		}
	}
	return r, name, langs, central, nil
}

// DeadlineYears is how far ahead of the day a request is drafted or sent
// its deadline may be: an urgent request is to be executed in days or
// months, and a deadline years away is a mistyped year (2062 for 2026),
// which the requested state would read as no urgency at all.
const DeadlineYears = 5

// deadlineAhead refuses a request's deadline (at field) before the day of
// from, the request's own day (rule dates_in_order: a request is not
// executed by a day gone), or more than DeadlineYears after it (rule
// date_range); an empty deadline passes. Drafting checks it from now, and
// so does sending, a day the deadline of a draft may have passed since;
// receiving checks it from the day the request was sent (received).
func deadlineAhead(field, deadline string, from time.Time, received bool) error {
	first, last := deadlineBounds(from)
	switch {
	case deadline == "":
	case deadline < first && received:
		return errs.Invalidf("dates_in_order", field, "deadline %s is before the day the request was sent (%s): a request's deadline is that day or later", deadline, first)
	case deadline < first:
		return errs.Invalidf("dates_in_order", field, "deadline %s is before today (%s): a request's deadline is today or later", deadline, first)
	case deadline > last && received:
		return errs.Invalidf("date_range", field, "deadline %s is more than %d years after the day the request was sent: it is %s at the latest", deadline, DeadlineYears, last)
	case deadline > last:
		return errs.Invalidf("date_range", field, "deadline %s is more than %d years ahead: it is %s at the latest", deadline, DeadlineYears, last)
	}
	return nil
}

// DeadlineBounds is the first and last day a request's deadline may be
// today, by the registry's clock: the web form's date input takes them as
// its min and max.
func (s *Service) DeadlineBounds() (first, last string) { return deadlineBounds(s.now()) }

// deadlineBounds is the first and last day a request's deadline may be on
// a day of now (UTC): today, and DeadlineYears ahead.
func deadlineBounds(now time.Time) (first, last string) {
	now = now.UTC()
	return now.Format(check.DateLayout), now.AddDate(DeadlineYears, 0, 0).Format(check.DateLayout)
}

// DraftRequest records a new draft request of p's state, or, with id, a
// new version of a draft of p's state: the requested state's authorities
// are refused another state's request (requesting_side, alerted) before its
// status and the draft's fields are checked.
func (s *Service) DraftRequest(ctx context.Context, p *auth.Principal, id string, in NewRequest) (*Request, error) {
	if err := p.Require(DraftRequests); err != nil {
		return nil, err
	}
	if !auth.ValidCountry(p.Jurisdiction) {
		return nil, noState()
	}
	d := requestDrafted{ID: id}
	if d.ID == "" {
		d.ID = s.W.IDs().New("RQ")
	}
	_, err := s.W.Submit(ctx, p.Actor(), "draft a request", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		if id != "" {
			old, err := visibleRequest(ctx, tx, p, "id", id)
			if err != nil {
				return nil, err
			}
			// The requested state's authorities are refused for whose the
			// request is, before its status and the draft's fields.
			if old.side(p) != SideRequesting {
				return nil, errs.Alertf(errs.Forbidden, "requesting_side", "id", "only the requesting state's authorities change request %s", id)
			}
			if old.Status != StatusDraft || old.Direction != DirectionOutgoing {
				return nil, errs.New(errs.Conflict, "request_transition", "status", "request %s is %s: only a draft of your state is changed", id, old.Status)
			}
		}
		r, name, _, _, err := s.checkDraft(ctx, tx, p, in)
		if err != nil {
			return nil, err
		}
		d.NewRequest, d.RequestedAuthorityName, d.RequestingState, d.AuthorityID = r, name, p.Jurisdiction, p.AuthorityID
		if err := tx.QueryRow(ctx, "SELECT name FROM authorities WHERE id = ?", p.AuthorityID).Scan(&d.RequestingAuthorityName); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return ledger.NewEntry(TypeRequestDrafted, d)
	})
	if err != nil {
		return nil, err
	}
	return s.Request(ctx, p, d.ID)
}

// Completeness returns what a request lacks before it may be sent (empty:
// it may be sent).
func (s *Service) Completeness(ctx context.Context, p *auth.Principal, id string) ([]Missing, error) {
	if err := p.Require(ReadRequests); err != nil {
		return nil, err
	}
	r, err := visibleRequest(ctx, s.DB.Read(), p, "id", id)
	if err != nil {
		return nil, err
	}
	return s.missingOf(ctx, s.DB.Read(), r)
}

func (s *Service) missingOf(ctx context.Context, q store.Queryer, r *Request) ([]Missing, error) {
	var langs []string
	central, state := false, ""
	if r.RequestedAuthority != "" {
		var ls, kind string
		err := q.QueryRow(ctx, "SELECT languages, kind, state FROM assets_directory WHERE id = ?", r.RequestedAuthority).Scan(&ls, &kind, &state)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		langs, central = list(ls), kind == EntryCentralAuthority
	}
	// The entry's state is read again: the directory may have changed
	// since the draft named it (an entry's id no longer moves, but one
	// moved before that rule did).
	out := r.NewRequest.missing(langs, central, state)
	if out == nil {
		out = []Missing{}
	}
	return out, nil
}

// SendRequest sends a complete draft of p's state: refused, with every
// missing item named (Incomplete), while anything is missing. Over the
// exchange when the draft names a peer. The requested side is refused
// (requesting_side, alerted) before the request's status is checked.
func (s *Service) SendRequest(ctx context.Context, p *auth.Principal, id string) (*Request, *Incomplete, error) {
	if err := p.Require(HandleRequests); err != nil {
		return nil, nil, err
	}
	var inc *Incomplete
	var r *Request
	_, err := s.W.Submit(ctx, p.Actor(), "send a request", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		var err error
		if r, err = visibleRequest(ctx, tx, p, "id", id); err != nil {
			return nil, err
		}
		// The request's id tells whose it is: the requested side is refused
		// for that before the request's status and what it lacks.
		if r.side(p) != SideRequesting {
			return nil, errs.Alertf(errs.Forbidden, "requesting_side", "id", "only the requesting state's central authority sends request %s", id)
		}
		if err := requestTransition(r, StatusSent); err != nil {
			return nil, err
		}
		miss, err := s.missingOf(ctx, tx, r)
		if err != nil {
			return nil, err
		}
		if len(miss) > 0 {
			inc = &Incomplete{Missing: miss}
			names := make([]string, len(miss))
			for i, m := range miss {
				names[i] = m.Field
			}
			return nil, errs.Invalidf("incomplete", miss[0].Field, "request %s lacks %d items before it is sent: %s", id, len(miss), strings.Join(names, ", "))
		}
		// A draft's deadline may have passed since it was written.
		if err := deadlineAhead("deadline", r.Deadline, s.now(), false); err != nil {
			return nil, err
		}
		if r.PeerID != "" {
			if _, err := exchange.ActivePeer(ctx, tx, "peer_id", r.PeerID, PurposeLegalAssistance); err != nil {
				return nil, err
			}
			if s.Exchange == nil {
				return nil, errs.New(errs.Unavailable, "exchange", "peer_id", "this deployment does not run the exchange between registries")
			}
		}
		return ledger.NewEntry(TypeRequestStatus, requestStatus{RequestID: id, Status: StatusSent, On: now.UTC().Format(check.DateLayout)})
	})
	if err != nil {
		return nil, inc, err
	}
	if r.PeerID != "" {
		if err := s.sendRequestMessage(ctx, p, r); err != nil {
			return nil, nil, err
		}
	}
	out, err := s.Request(ctx, p, id)
	return out, nil, err
}

// requestTransition refuses a status a request may not move to from where it is.
func requestTransition(r *Request, to string) error {
	next := NextStatuses(r.Type, r.Status)
	if slices.Contains(next, to) {
		return nil
	}
	if len(next) == 0 {
		return errs.New(errs.Conflict, "request_transition", "status", "request %s is %s, a final status: it cannot become %s", r.ID, r.Status, to)
	}
	return errs.New(errs.Conflict, "request_transition", "status", "request %s is %s: it may become %s, not %s", r.ID, r.Status, strings.Join(next, ", "), to)
}

// NewStatus is a step of a request after it was sent: acknowledged, under
// execution, executed, partially executed or refused (by the requested
// side), or withdrawn (by the requesting side).
type NewStatus struct {
	Status string `json:"status" api:"required"`
	// Grounds and GroundsText are a refusal's ground and its reasons (art.
	// 46(23): reasons are given for any refusal).
	Grounds     string `json:"grounds,omitempty"`
	GroundsText string `json:"grounds_text,omitempty"`
	Note        string `json:"note,omitempty"`
	// OnwardSharing is the requested state's consent, with an answer, that
	// what it gives be shared further.
	OnwardSharing bool `json:"onward_sharing,omitempty"`
}

// checkStatus checks a step fully, before anything is read.
func checkStatus(in NewStatus) (requestStatus, error) {
	st := requestStatus{Status: in.Status, Grounds: strings.TrimSpace(in.Grounds), OnwardSharing: in.OnwardSharing}
	if in.Status == StatusDraft || in.Status == StatusSent {
		return st, errs.New(errs.Conflict, "request_transition", "status", "a request becomes %s by being drafted or sent, not by a step", in.Status)
	}
	if err := check.OneOf("status", in.Status, StepStatuses); err != nil {
		return st, err
	}
	var err error
	if st.Note, err = check.Text("note", in.Note, 2000, in.Status == StatusPartial); err != nil {
		return st, err
	}
	if st.GroundsText, err = check.Text("grounds_text", in.GroundsText, 4000, in.Status == StatusRefused); err != nil {
		return st, err
	}
	if in.Status != StatusRefused {
		if st.Grounds != "" || st.GroundsText != "" {
			return st, errs.Invalidf("grounds", "grounds", "grounds are given only with a refusal")
		}
		return st, nil
	}
	if why, ok := groundsNotAllowed[st.Grounds]; ok {
		return st, errs.Alertf(errs.Invalid, "ground_not_allowed", "grounds", "%s is not a ground of refusal: %s", st.Grounds, why)
	}
	if err := check.OneOf("grounds", st.Grounds, RefusalGrounds); err != nil {
		return st, err
	}
	return st, nil
}

// RecordStatus records a step of a request: the requested side's
// acknowledgement, execution or refusal, or the requesting side's
// withdrawal. On a request exchanged with another registry the step is
// also sent there; on one sent by another channel the requesting central
// authority records what the requested state did.
func (s *Service) RecordStatus(ctx context.Context, p *auth.Principal, id string, in NewStatus) (*Request, error) {
	if err := p.Require(HandleRequests); err != nil {
		return nil, err
	}
	st, err := checkStatus(in)
	if err != nil {
		// A ground not allowed (bank secrecy, fiscal matters) is refused
		// with an alert before the request is read: recorded as a
		// command's alert would be, not only marked in the answer.
		return nil, s.W.Refused(ctx, p.Actor(), "record a request's step", err)
	}
	st.RequestID = id
	var r *Request
	_, err = s.W.Submit(ctx, p.Actor(), "record a request's step", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if r, err = visibleRequest(ctx, tx, p, "id", id); err != nil {
			return nil, err
		}
		if err := requestTransition(r, st.Status); err != nil {
			return nil, err
		}
		if err := stepSide(r, p, st.Status); err != nil {
			return nil, err
		}
		if r.PeerID != "" {
			if _, err := exchange.ActivePeer(ctx, tx, "id", r.PeerID, PurposeLegalAssistance); err != nil {
				return nil, err
			}
		}
		st.On = now.UTC().Format(check.DateLayout)
		return ledger.NewEntry(TypeRequestStatus, st)
	})
	if err != nil {
		return nil, err
	}
	if r.PeerID != "" {
		if err := s.sendStatusMessage(ctx, p, r, st); err != nil {
			return nil, err
		}
	}
	return s.Request(ctx, p, id)
}

// StepsOf returns the steps p may record on r now: those that may follow
// its status (NextStatuses) that stepSide does not refuse p, sent less
// (a request is sent by sending it), and none for a reader who records no
// step (HandleRequests: a prosecutor, a regulator, an auditor). The
// requested side does not withdraw; the requesting side records the
// requested side's steps only on a request no peer answers. The request's
// page offers these and the API answers them as the request's next, so
// that neither offers a step whose refusal is an alert against the one who
// took it.
func StepsOf(r *Request, p *auth.Principal) []string {
	out := []string{}
	if !p.Can(HandleRequests) {
		return out
	}
	for _, n := range NextStatuses(r.Type, r.Status) {
		if n != StatusSent && stepSide(r, p, n) == nil {
			out = append(out, n)
		}
	}
	return out
}

// stepSide refuses a step taken by the wrong side: the requesting side
// withdraws; the requested side does the rest, or the requesting side
// records it for a request sent by another channel (no peer answers it).
func stepSide(r *Request, p *auth.Principal, status string) error {
	side := r.side(p)
	if status == StatusWithdrawn {
		if side != SideRequesting {
			return errs.Alertf(errs.Forbidden, "requesting_side", "status", "only the requesting state's central authority withdraws request %s", r.ID)
		}
		return nil
	}
	if side == SideRequested {
		return nil
	}
	if side == SideRequesting && r.PeerID == "" {
		return nil
	}
	if side == SideRequesting {
		return errs.New(errs.Conflict, "by_exchange", "status", "request %s went over the exchange: the requested state's registry records its %s and sends it here", r.ID, status)
	}
	return errs.Alertf(errs.Forbidden, "requested_side", "status", "only the requested state's central authority records request %s as %s", r.ID, status)
}

// AskInformation records a request for more information on a request sent:
// either side asks the other.
func (s *Service) AskInformation(ctx context.Context, p *auth.Principal, id, question string) (*Question, error) {
	if err := p.Require(HandleRequests); err != nil {
		return nil, err
	}
	question, err := check.Text("question", question, 4000, true)
	if err != nil {
		return nil, err
	}
	q := questionAsked{ID: s.W.IDs().New("RI"), RequestID: id, Question: question}
	var r *Request
	_, err = s.W.Submit(ctx, p.Actor(), "ask for more information", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if r, err = visibleRequest(ctx, tx, p, "id", id); err != nil {
			return nil, err
		}
		// visibleRequest answered "no request" to neither state's authority
		// already, as for a request that does not exist (after the
		// question's text, as then): this refusal guards what follows.
		if q.Side = r.side(p); q.Side == "" {
			return nil, errs.Alertf(errs.Forbidden, "party", "id", "only the two states' central authorities ask about request %s", id)
		}
		if r.Status == StatusDraft || finished(r.Type, r.Status) {
			return nil, errs.New(errs.Conflict, "request_transition", "status", "request %s is %s: more information is asked on a request sent and not finished", id, r.Status)
		}
		q.On = now.UTC().Format(check.DateLayout)
		return ledger.NewEntry(TypeQuestionAsked, q)
	})
	if err != nil {
		return nil, err
	}
	if r.PeerID != "" {
		if err := s.sendQuestionMessage(ctx, p, r, q); err != nil {
			return nil, err
		}
	}
	return &Question{ID: q.ID, RequestID: id, Side: q.Side, Question: question, AskedOn: q.On}, nil
}

// AnswerInformation records the answer to a request for more information:
// the side that did not ask answers, once. The side that asked is refused
// (answering_side, alerted) before the answer's text and whether the
// question is answered already are checked.
func (s *Service) AnswerInformation(ctx context.Context, p *auth.Principal, id, questionID, answer string) (*Question, error) {
	if err := p.Require(HandleRequests); err != nil {
		return nil, err
	}
	const name = "answer a request for more information"
	var r *Request
	var qn Question
	answering := func(ctx context.Context, q store.Queryer) (err error) {
		if r, err = visibleRequest(ctx, q, p, "id", id); err != nil {
			return err
		}
		qn = Question{}
		err = q.QueryRow(ctx, "SELECT id, request_id, side, question, asked_on, answer, remote_id FROM assets_request_questions WHERE id = ? AND request_id = ?",
			questionID, id).Scan(&qn.ID, &qn.RequestID, &qn.Side, &qn.Question, &qn.AskedOn, &qn.Answer, &qn.RemoteID)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.New(errs.NotFound, "reference", "question_id", "request %s has no question %s", id, questionID)
		}
		if err != nil {
			return err
		}
		if side := r.side(p); side == "" || side == qn.Side {
			return errs.Alertf(errs.Forbidden, "answering_side", "question_id", "the question %s is answered by the other state's central authority", questionID)
		}
		return nil
	}
	if err := s.sideFirst(ctx, p, name, answering); err != nil {
		return nil, err
	}
	answer, err := check.Text("answer", answer, 8000, true)
	if err != nil {
		return nil, err
	}
	a := questionAnswered{RequestID: id, QuestionID: questionID, Answer: answer}
	_, err = s.W.Submit(ctx, p.Actor(), name, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := answering(ctx, tx); err != nil {
			return nil, err
		}
		if qn.Answer != "" {
			return nil, errs.New(errs.Conflict, "answered", "question_id", "the question %s is answered already", questionID)
		}
		a.On = now.UTC().Format(check.DateLayout)
		return ledger.NewEntry(TypeQuestionAnswered, a)
	})
	if err != nil {
		return nil, err
	}
	if r.PeerID != "" {
		remote := qn.ID
		if qn.RemoteID != "" {
			remote = qn.RemoteID
		}
		if err := s.sendAnswerMessage(ctx, p, r, remote, answer); err != nil {
			return nil, err
		}
	}
	qn.Answer, qn.AnsweredOn = answer, a.On
	return &qn, nil
}

// sideFirst refuses p a command on a request, or on a question of it, that
// the ids tell is not p's side's to act on, before the command checks its
// input, so that the refusal is the same whether the input was good or bad:
// scope is the part of the command's Decide that reads the request and
// refuses it, its only 403 the side's, run here on the read pool. Such a
// refusal is made with its alert, recorded as the command's would be; any
// other answer of scope (no such request or question, which a request of
// two other states is too) is left to the command, whose Decide runs scope
// again.
func (s *Service) sideFirst(ctx context.Context, p *auth.Principal, name string, scope func(ctx context.Context, q store.Queryer) error) error {
	err := scope(ctx, s.DB.Read())
	e, ok := errs.As(err)
	if ok && e.Code == errs.Forbidden {
		return s.W.Refused(ctx, p.Actor(), name, e)
	}
	if err != nil && !ok {
		return err
	}
	return nil
}

// NewUse is a use of what a request brought: for one of the purposes the
// request states, and, when shared with another state, with the consent of
// the state that gave it.
type NewUse struct {
	Purpose   string `json:"purpose" api:"required"`
	ShareWith string `json:"share_with,omitempty"`
	Note      string `json:"note,omitempty"`
}

// RecordUse records a use of what a request brought. A use for a purpose
// the request does not state (UNCAC art. 46(19)), or a sharing the other
// state did not consent to, is refused and raises an alert. A use of a
// draft is refused as a draft (request_transition): it brought nothing. A
// use by neither state's authority is refused for the party, with an
// alert, as a guard: visibleRequest answered it "no request" already, as
// for a request that does not exist (after the use's fields, as then), so
// that a request of two other states is not revealed.
func (s *Service) RecordUse(ctx context.Context, p *auth.Principal, id string, in NewUse) error {
	if err := p.Require(UseRequests); err != nil {
		return err
	}
	if err := check.OneOf("purpose", in.Purpose, UsePurposes); err != nil {
		return err
	}
	u := requestUsed{RequestID: id, Purpose: in.Purpose}
	var err error
	if in.ShareWith != "" {
		if u.ShareWith, err = country("share_with", in.ShareWith); err != nil {
			return err
		}
		if err := check.RealState("share_with", u.ShareWith); err != nil {
			return err
		}
	}
	if u.Note, err = check.Text("note", in.Note, 2000, false); err != nil {
		return err
	}
	_, err = s.W.Submit(ctx, p.Actor(), "record the use of a request's results", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		r, err := visibleRequest(ctx, tx, p, "id", id)
		if err != nil {
			return nil, err
		}
		side := r.side(p)
		if side == "" {
			return nil, errs.Alertf(errs.Forbidden, "party", "id", "only the two states' authorities use what request %s brought", id)
		}
		if r.Status == StatusDraft {
			return nil, errs.New(errs.Conflict, "request_transition", "status", "request %s is a draft: it brought nothing yet", id)
		}
		if !slices.Contains(r.UsePurposes, u.Purpose) {
			return nil, errs.Alertf(errs.Forbidden, "purpose_limitation", "purpose", "request %s states its uses as %s: a use for %s is not allowed (UNCAC art. 46(19))",
				id, strings.Join(r.UsePurposes, ", "), u.Purpose)
		}
		consent := r.OnwardSharing // the requesting state's, for the requested side
		if side == SideRequesting {
			consent = r.PeerOnwardSharing
		}
		if u.ShareWith != "" && (!consent || u.ShareWith == r.RequestingState || u.ShareWith == r.RequestedState) {
			if u.ShareWith == r.RequestingState || u.ShareWith == r.RequestedState {
				return nil, errs.Invalidf("share_with", "share_with", "share_with is a third state, not one of the request's two")
			}
			return nil, errs.Alertf(errs.Forbidden, "onward_sharing", "share_with", "the other state did not consent to sharing what request %s brought with another state", id)
		}
		u.Side = side
		return ledger.NewEntry(TypeRequestUsed, u)
	})
	return err
}
