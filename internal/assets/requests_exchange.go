package assets

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/tick"
)

// ---- Requests over the core exchange (docs/assets.md, "Between two registries") ----
//
// A request between two states that both run custos travels between their
// central authorities over the core exchange, for the purpose
// legal_assistance: the request, each step the other side records, the
// requests for more information and their answers. Each message names the
// request by the requesting registry's id. The receiving registry checks it
// against its own copy (Accept: a step the lifecycle does not allow, from
// the wrong side, is refused in the signed receipt) and records it as an
// entry of its own (Received).

// The message types of the requests.
const (
	MsgRequest     = "assets.request"
	MsgStatus      = "assets.request_status"
	MsgQuestion    = "assets.information_request"
	MsgAnswer      = "assets.information_answer"
	schemaReqID    = `{"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$"}`
	schemaReqText  = `{"type": "string", "maxLength": 8000}`
	schemaReqState = `{"type": "string", "pattern": "^[A-Z]{2}$"}`
)

func enumOf(values []string) string {
	b, _ := json.Marshal(values)
	return `{"enum": ` + string(b) + `}`
}

func arrayOf(values []string) string {
	return `{"type": "array", "maxItems": 20, "uniqueItems": true, "items": ` + enumOf(values) + `}`
}

// RequestTypesExchanged are the registry's message types.
var RequestTypesExchanged = []exchange.Type{
	{Name: MsgRequest, Purpose: PurposeLegalAssistance, Reader: string(RoleCentralAuthority), Title: i18n.M("Request between central authorities"), Schema: `{
	"type": "object", "additionalProperties": false,
	"required": ["request_id", "type", "requesting_state", "requested_state", "requesting_authority", "requested_authority", "legal_basis",
		"offences", "facts", "purpose", "confidentiality", "language", "use_purposes", "sent_at"],
	"properties": {"request_id": ` + schemaReqID + `, "type": ` + enumOf(RequestTypes) + `,
		"requesting_state": ` + schemaReqState + `, "requested_state": ` + schemaReqState + `,
		"requesting_authority": {"type": "string", "maxLength": 300}, "requested_authority": {"type": "string", "maxLength": 300},
		"legal_basis": ` + enumOf(LegalBases) + `, "treaty": {"type": "string", "maxLength": 300},
		"assistance": ` + arrayOf(AssistanceKinds) + `,
		"offences": {"type": "array", "minItems": 1, "maxItems": 20, "items": {"type": "string", "pattern": "^[0-9]{2,6}$"}},
		"facts": ` + schemaReqText + `, "purpose": ` + schemaReqText + `, "nexus": ` + schemaReqText + `,
		"urgent": {"type": "boolean"}, "urgency_reasons": ` + schemaReqText + `, "deadline": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
		"confidentiality": ` + enumOf(Confidentialities) + `, "dual_criminality": ` + schemaReqText + `,
		"language": {"type": "string", "pattern": "^[a-z]{2}$"}, "use_purposes": ` + arrayOf(UsePurposes) + `,
		"onward_sharing": {"type": "boolean"}, "follows": ` + schemaReqID + `, "sent_at": {"type": "string", "maxLength": 40}}}`},
	{Name: MsgStatus, Purpose: PurposeLegalAssistance, Reader: string(RoleCentralAuthority), Title: i18n.M("Step of a request between central authorities"), Schema: `{
	"type": "object", "additionalProperties": false, "required": ["request_id", "status", "on"],
	"properties": {"request_id": ` + schemaReqID + `, "status": ` + enumOf(RequestStatuses[2:]) + `,
		"grounds": {"type": "string", "maxLength": 64}, "grounds_text": ` + schemaReqText + `, "note": ` + schemaReqText + `,
		"onward_sharing": {"type": "boolean"}, "on": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}}}`},
	{Name: MsgQuestion, Purpose: PurposeLegalAssistance, Reader: string(RoleCentralAuthority), Title: i18n.M("Request for more information"), Schema: `{
	"type": "object", "additionalProperties": false, "required": ["request_id", "question_id", "question"],
	"properties": {"request_id": ` + schemaReqID + `, "question_id": ` + schemaReqID + `, "question": {"type": "string", "minLength": 1, "maxLength": 4000}}}`},
	{Name: MsgAnswer, Purpose: PurposeLegalAssistance, Reader: string(RoleCentralAuthority), Title: i18n.M("Answer to a request for more information"), Schema: `{
	"type": "object", "additionalProperties": false, "required": ["request_id", "question_id", "answer"],
	"properties": {"request_id": ` + schemaReqID + `, "question_id": ` + schemaReqID + `, "answer": {"type": "string", "minLength": 1, "maxLength": 8000}}}`},
}

// RequestMessage is a request as it travels.
type RequestMessage struct {
	RequestID           string   `json:"request_id"`
	Type                string   `json:"type"`
	RequestingState     string   `json:"requesting_state"`
	RequestedState      string   `json:"requested_state"`
	RequestingAuthority string   `json:"requesting_authority"`
	RequestedAuthority  string   `json:"requested_authority"`
	LegalBasis          string   `json:"legal_basis"`
	Treaty              string   `json:"treaty,omitempty"`
	Assistance          []string `json:"assistance,omitempty"`
	Offences            []string `json:"offences"`
	Facts               string   `json:"facts"`
	Purpose             string   `json:"purpose"`
	Nexus               string   `json:"nexus,omitempty"`
	Urgent              bool     `json:"urgent,omitempty"`
	UrgencyReasons      string   `json:"urgency_reasons,omitempty"`
	Deadline            string   `json:"deadline,omitempty"`
	Confidentiality     string   `json:"confidentiality"`
	DualCriminality     string   `json:"dual_criminality,omitempty"`
	Language            string   `json:"language"`
	UsePurposes         []string `json:"use_purposes"`
	OnwardSharing       bool     `json:"onward_sharing,omitempty"`
	Follows             string   `json:"follows,omitempty"`
	SentAt              string   `json:"sent_at"`
}

// statusMessage, questionMessage and answerMessage are the other messages.
type statusMessage struct {
	RequestID     string `json:"request_id"`
	Status        string `json:"status"`
	Grounds       string `json:"grounds,omitempty"`
	GroundsText   string `json:"grounds_text,omitempty"`
	Note          string `json:"note,omitempty"`
	OnwardSharing bool   `json:"onward_sharing,omitempty"`
	On            string `json:"on"`
}

type questionMessage struct {
	RequestID  string `json:"request_id"`
	QuestionID string `json:"question_id"`
	Question   string `json:"question"`
}

type answerMessage struct {
	RequestID  string `json:"request_id"`
	QuestionID string `json:"question_id"`
	Answer     string `json:"answer"`
}

// requestReaders are the roles that may read the messages on the other side.
var requestReaders = []string{string(RoleCentralAuthority), string(auth.Regulator)}

var basisText = map[string]string{BasisUNCAC: "United Nations Convention against Corruption, art. 46", BasisUNTOC: "United Nations Convention against Transnational Organized Crime, art. 18",
	BasisBilateral: "Bilateral treaty", BasisReciprocity: "Reciprocity"}

// canonicalID is the requesting registry's id of a request.
func (r *Request) canonicalID() string {
	if r.Direction == DirectionIncoming {
		return r.RemoteID
	}
	return r.ID
}

// send sends one message on a request to its peer; the sender's consent to
// onward sharing travels with it.
func (s *Service) send(ctx context.Context, p *auth.Principal, r *Request, typ string, onward bool, payload any) error {
	if s.Exchange == nil {
		return errs.New(errs.Unavailable, "exchange", "peer_id", "this deployment does not run the exchange between registries")
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	basis := basisText[r.LegalBasis]
	if r.Treaty != "" {
		basis += ": " + r.Treaty
	}
	notice := "Request between central authorities. To be used only for the purposes it states (UNCAC art. 46(19))."
	if r.Confidentiality == "required" {
		notice += " Confidential: its fact and substance are kept confidential except as needed to execute it (art. 46(20))."
	}
	_, err = s.Exchange.Send(ctx, p, exchange.Outgoing{PeerID: r.PeerID, Type: typ, Purpose: PurposeLegalAssistance, LegalBasis: basis,
		Notice: notice, Readers: requestReaders, OnwardSharing: onward, Payload: b})
	return err
}

func (s *Service) sendRequestMessage(ctx context.Context, p *auth.Principal, r *Request) error {
	sent, err := s.Request(ctx, p, r.ID)
	if err != nil {
		return err
	}
	return s.send(ctx, p, r, MsgRequest, r.OnwardSharing, RequestMessage{RequestID: r.ID, Type: r.Type, RequestingState: r.RequestingState,
		RequestedState: r.RequestedState, RequestingAuthority: r.RequestingAuthorityName, RequestedAuthority: r.RequestedAuthorityName,
		LegalBasis: r.LegalBasis, Treaty: r.Treaty, Assistance: r.Assistance, Offences: r.Offences, Facts: r.Facts, Purpose: r.Purpose, Nexus: r.Nexus,
		Urgent: r.Urgent, UrgencyReasons: r.UrgencyReasons, Deadline: r.Deadline, Confidentiality: r.Confidentiality, DualCriminality: r.DualCriminality,
		Language: r.Language, UsePurposes: r.UsePurposes, OnwardSharing: r.OnwardSharing, Follows: s.followsRemote(ctx, r), SentAt: sent.SentAt})
}

// followsRemote is the requesting registry's id of the disclosure a request
// follows, when the disclosure was exchanged with the same peer.
func (s *Service) followsRemote(ctx context.Context, r *Request) string {
	if r.Follows == "" {
		return ""
	}
	var dir, peer, remote string
	if err := s.DB.Read().QueryRow(ctx, "SELECT direction, peer_id, remote_id FROM assets_requests WHERE id = ?", r.Follows).Scan(&dir, &peer, &remote); err != nil || peer != r.PeerID {
		return ""
	}
	if dir == DirectionIncoming {
		return remote
	}
	return r.Follows
}

func (s *Service) sendStatusMessage(ctx context.Context, p *auth.Principal, r *Request, st requestStatus) error {
	return s.send(ctx, p, r, MsgStatus, st.OnwardSharing, statusMessage{RequestID: r.canonicalID(), Status: st.Status, Grounds: st.Grounds,
		GroundsText: st.GroundsText, Note: st.Note, OnwardSharing: st.OnwardSharing, On: st.On})
}

func (s *Service) sendQuestionMessage(ctx context.Context, p *auth.Principal, r *Request, q questionAsked) error {
	return s.send(ctx, p, r, MsgQuestion, false, questionMessage{RequestID: r.canonicalID(), QuestionID: q.ID, Question: q.Question})
}

func (s *Service) sendAnswerMessage(ctx context.Context, p *auth.Principal, r *Request, questionID, answer string) error {
	return s.send(ctx, p, r, MsgAnswer, false, answerMessage{RequestID: r.canonicalID(), QuestionID: questionID, Answer: answer})
}

// ExchangeHandler is how the registry acts on the messages of its types
// that peers send (exchange.Handler).
func (s *Service) ExchangeHandler() exchange.Handler {
	return exchange.Handler{
		Accept: func(ctx context.Context, tx *store.Tx, m *exchange.Inbound) error {
			_, err := s.decideMessage(ctx, tx, m)
			return err
		},
		Received: func(ctx context.Context, m *exchange.Inbound) {
			if err := s.applyMessage(ctx, m); err != nil {
				s.logger().Error("act on an exchange message", "message", m.InboxID, "type", m.Type, "err", err)
			}
		},
	}
}

func (s *Service) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// decideMessage checks a message against this registry's copy of the
// request and returns the entry that records it here; it does not write.
// The core has checked that it was sent for legal_assistance to readers
// that name the central authority officer, who works requests
// (RequestTypesExchanged).
func (s *Service) decideMessage(ctx context.Context, q store.Queryer, m *exchange.Inbound) (*ledger.Entry, error) {
	switch m.Type {
	case MsgRequest:
		var rm RequestMessage
		if err := m.DecodePayload(&rm); err != nil {
			return nil, err
		}
		if rm.RequestingState != m.From {
			return nil, errs.Alertf(errs.Invalid, "sender", "payload.requesting_state", "the request names %s as requesting state, but %s sent it", rm.RequestingState, m.From)
		}
		if s.Exchange != nil && rm.RequestedState != s.Exchange.Jurisdiction() {
			return nil, errs.Invalidf("wrong_recipient", "payload.requested_state", "the request is for %s, not for this registry's state", rm.RequestedState)
		}
		// The requested state's officer finds a request by its sent_at
		// (one with none is not shown to them, as a draft is not), and a
		// time to come is the sender's clock wrong, which the request
		// would carry into this registry's record and its timeline.
		sent, err := exchange.ReadSentAt("payload.sent_at", rm.SentAt, s.now())
		if err != nil {
			return nil, err
		}
		if err := receivedDeadline(rm.Deadline, sent); err != nil {
			return nil, err
		}
		for i, o := range rm.Offences {
			if _, err := stats.ICCS.Check(check.Index("payload.offences", i), o); err != nil {
				return nil, err
			}
		}
		if _, err := requestByRemote(ctx, q, m.PeerID, rm.RequestID); err == nil {
			return nil, errs.New(errs.Conflict, "duplicate", "payload.request_id", "request %s was received before", rm.RequestID)
		}
		d := requestReceived{ID: s.W.IDs().New("RQ"), InboxID: m.InboxID, PeerID: m.PeerID, RemoteID: rm.RequestID, RequestMessage: rm}
		if rm.Follows != "" {
			if f, err := requestByRemote(ctx, q, m.PeerID, rm.Follows); err == nil && f.Type == RequestSpontaneous {
				d.Follows = f.ID
			}
		}
		return ledger.NewEntry(TypeRequestReceived, d)
	case MsgStatus:
		var sm statusMessage
		if err := m.DecodePayload(&sm); err != nil {
			return nil, err
		}
		r, err := requestByRemote(ctx, q, m.PeerID, sm.RequestID)
		if err != nil {
			return nil, err
		}
		// The requesting side withdraws; the requested side does the rest.
		fromRequesting := r.Direction == DirectionIncoming
		if (sm.Status == StatusWithdrawn) != fromRequesting {
			return nil, errs.Alertf(errs.Forbidden, "side", "payload.status", "the other registry may not record request %s as %s", sm.RequestID, sm.Status)
		}
		st, err := checkStatus(NewStatus{Status: sm.Status, Grounds: sm.Grounds, GroundsText: sm.GroundsText, Note: sm.Note, OnwardSharing: sm.OnwardSharing})
		if err == nil {
			err = requestTransition(r, sm.Status)
		}
		if e, ok := errs.As(err); ok { // the refusal names the payload's field
			c := *e
			c.Field = "payload." + e.Field
			return nil, &c
		} else if err != nil {
			return nil, err
		}
		on, err := stepDay(sm.On, r.SentAt, s.now())
		if err != nil {
			return nil, err
		}
		st.RequestID, st.On, st.InboxID = r.ID, on, m.InboxID
		return ledger.NewEntry(TypeRequestStatus, st)
	case MsgQuestion:
		var qm questionMessage
		if err := m.DecodePayload(&qm); err != nil {
			return nil, err
		}
		r, err := requestByRemote(ctx, q, m.PeerID, qm.RequestID)
		if err != nil {
			return nil, err
		}
		if finished(r.Type, r.Status) {
			return nil, errs.New(errs.Conflict, "request_transition", "payload.request_id", "request %s is %s: nothing more is asked on it", qm.RequestID, r.Status)
		}
		side := SideRequested // the side that asks: the sender's
		if r.Direction == DirectionIncoming {
			side = SideRequesting
		}
		return ledger.NewEntry(TypeQuestionAsked, questionAsked{ID: s.W.IDs().New("RI"), RequestID: r.ID, Side: side, Question: qm.Question,
			On: s.today(), RemoteID: qm.QuestionID, InboxID: m.InboxID})
	case MsgAnswer:
		var am answerMessage
		if err := m.DecodePayload(&am); err != nil {
			return nil, err
		}
		r, err := requestByRemote(ctx, q, m.PeerID, am.RequestID)
		if err != nil {
			return nil, err
		}
		var id, answer string
		err = q.QueryRow(ctx, "SELECT id, answer FROM assets_request_questions WHERE request_id = ? AND id = ? AND remote_id = ''", r.ID, am.QuestionID).Scan(&id, &answer)
		if err != nil {
			return nil, errs.New(errs.NotFound, "reference", "payload.question_id", "request %s has no question %s asked by this registry", am.RequestID, am.QuestionID)
		}
		if answer != "" {
			return nil, errs.New(errs.Conflict, "answered", "payload.question_id", "the question %s is answered already", am.QuestionID)
		}
		return ledger.NewEntry(TypeQuestionAnswered, questionAnswered{RequestID: r.ID, QuestionID: id, Answer: am.Answer, On: s.today(), InboxID: m.InboxID})
	}
	return nil, errs.Invalidf("unknown_type", "type", "the asset-recovery registry takes no message of type %s", m.Type)
}

// applyMessage records what a message received means here, once (a message
// recorded before is left alone).
func (s *Service) applyMessage(ctx context.Context, m *exchange.Inbound) error {
	_, err := s.W.Submit(ctx, ledger.Actor{}, "act on exchange message", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM assets_request_events WHERE inbox_id = ?", m.InboxID).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, errs.New(errs.Conflict, "applied", "id", "message %s was acted on before", m.InboxID)
		}
		return s.decideMessage(ctx, tx, m)
	})
	if e, ok := errs.As(err); ok && e.Rule == "applied" {
		return nil
	}
	return err
}

// ApplyPending acts on the messages of the registry's types that were
// recorded in the inbox but not acted on (the server stopped between the
// two); the server runs it when it opens the registry and every minute. A
// message refused now (a later message came first) is left in the inbox.
func (s *Service) ApplyPending(ctx context.Context) (int, error) {
	if s.Exchange == nil {
		return 0, nil
	}
	return s.Exchange.ApplyPending(ctx, s.DB.Read(), `SELECT i.id FROM exchange_inbox i WHERE i.module = ?
		AND NOT EXISTS (SELECT 1 FROM assets_request_events e WHERE e.inbox_id = i.id) ORDER BY i.log_index LIMIT 100`, []any{Module.Name},
		func(ctx context.Context, m *exchange.Inbound) (bool, error) {
			err := s.applyMessage(ctx, m)
			if _, ok := errs.As(err); ok {
				s.logger().Warn("an exchange message cannot be acted on", "message", m.InboxID, "err", err)
				return false, nil
			}
			return err == nil, err
		})
}

// RunPending acts on pending messages every minute until ctx ends.
func (s *Service) RunPending(ctx context.Context) {
	tick.Run(ctx, time.Minute, nil, func(ctx context.Context) error { _, err := s.ApplyPending(ctx); return err },
		func(err error) { s.logger().Error("act on pending exchange messages", "err", err) })
}

// RequestPeer is a registry a request may travel to: an active exchange peer
// that takes messages for legal assistance.
type RequestPeer = exchange.PeerName

// RequestPeers lists the registries requests may travel to, by name.
func (s *Service) RequestPeers(ctx context.Context, p *auth.Principal) ([]RequestPeer, error) {
	if err := p.Require(ReadRequests); err != nil {
		return nil, err
	}
	return exchange.PeersFor(ctx, s.DB.Read(), PurposeLegalAssistance)
}

// receivedDeadline refuses a request received whose deadline is not a
// calendar date from 1900 on, or, as drafting refuses a deadline outside
// today to DeadlineYears ahead, is outside the day the request was sent
// (its sent_at, checked before) to DeadlineYears after: a deadline before
// the request was sent is no deadline the requesting state can have meant,
// and one years away a mistyped year. A deadline that has passed since the
// request was sent (delivered late) is received, and the request is
// overdue at once: the requesting state set it, and the officer should see
// it.
func receivedDeadline(deadline string, sent time.Time) error {
	deadline, err := check.Date("payload.deadline", deadline, false)
	if err != nil {
		return err
	}
	return deadlineAhead("payload.deadline", deadline, sent, true)
}

// stepDay reads the day of a step the other registry recorded (payload.on)
// on a request sent at sentAt: a calendar date from 1900 on (date_format,
// date_range), not before the day the request was sent, by either
// registry's clock (exchange.ClockSkew apart: a step recorded just after a
// request sent at midnight may bear the day before by the other clock),
// nor after today here, with a day's grace for the registries' time zones
// (dates_in_order). A step before its request, or in the future, is the
// sender's clock or a typing error, which would go into this registry's
// log as the day of the step.
func stepDay(on, sentAt string, now time.Time) (string, error) {
	day, err := check.Date("payload.on", on, true)
	if err != nil {
		return "", err
	}
	if sent, err := time.Parse(time.RFC3339Nano, sentAt); err == nil {
		if first := sent.Add(-exchange.ClockSkew).UTC().Format(check.DateLayout); day < first {
			return "", errs.Invalidf("dates_in_order", "payload.on", "payload.on (%s) is before the day the request was sent (%s): a step on a request is that day or later", day, first)
		}
	}
	if err := check.DateNotFuture("payload.on", day, now.Add(24*time.Hour)); err != nil {
		return "", err
	}
	return day, nil
}
