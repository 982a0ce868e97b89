package exchange

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/store"
)

// Peer is a registered peer registry, its keys, and what the deliverer last
// saw of it.
type Peer struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	Jurisdiction    string    `json:"jurisdiction"`
	URL             string    `json:"url"`
	TLSCA           string    `json:"tls_ca,omitempty"`
	SendPurposes    []string  `json:"send_purposes"`
	ReceivePurposes []string  `json:"receive_purposes"`
	State           string    `json:"state"`
	StateNote       string    `json:"state_note,omitempty"`
	CreatedAt       string    `json:"created_at"`
	UpdatedAt       string    `json:"updated_at"`
	Keys            []PeerKey `json:"keys"`
	// Reachable says whether the deliverer's last attempt got an answer:
	// "yes", "no", ReachableClockAhead when the peer answered but refused
	// the message for now, its sent_at ahead of the peer's clock, empty
	// when it has not tried yet, or ReachableTampered when the row of its
	// status does not carry the registry's MAC (then nothing of it is
	// shown); LastError is its last failure (for ReachableClockAhead, how
	// far the clocks differ).
	Reachable     string `json:"reachable"`
	LastAttemptAt string `json:"last_attempt_at,omitempty"`
	LastError     string `json:"last_error,omitempty"`
	// LastMessageAt is when the last message was sent to or received from it.
	LastMessageAt string `json:"last_message_at,omitempty"`
}

// PeerKey is one of a peer's keys.
type PeerKey struct {
	Fingerprint string `json:"fingerprint"`
	PublicKey   string `json:"public_key"`
	AddedAt     string `json:"added_at"`
	ValidUntil  string `json:"valid_until,omitempty"`
}

const peerCols = "id, name, jurisdiction, url, tls_ca, send_purposes, receive_purposes, state, state_note, created_at, updated_at"

func scanPeer(sc store.Scanner, p *Peer) error {
	var send, recv string
	if err := sc.Scan(&p.ID, &p.Name, &p.Jurisdiction, &p.URL, &p.TLSCA, &send, &recv, &p.State, &p.StateNote, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return err
	}
	p.SendPurposes, p.ReceivePurposes = strings.Fields(send), strings.Fields(recv)
	return nil
}

// peerIn reads a peer (not found: rule peer).
func peerIn(ctx context.Context, q store.Queryer, id string) (*Peer, error) {
	var p Peer
	err := scanPeer(q.QueryRow(ctx, "SELECT "+peerCols+" FROM exchange_peers WHERE id = ?", strings.TrimSpace(id)), &p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "peer", "peer_id", "no exchange peer %q", id)
	}
	return &p, err
}

// Peers lists the peers with their keys and state, by name.
func (s *Service) Peers(ctx context.Context, p *auth.Principal) ([]Peer, error) {
	if err := p.Require(ReadExchange); err != nil {
		return nil, err
	}
	q := s.DB.Read()
	rows, err := q.Query(ctx, "SELECT "+peerCols+" FROM exchange_peers ORDER BY name, id")
	if err != nil {
		return nil, err
	}
	peers, err := store.Rows(rows, scanPeer)
	if err != nil {
		return nil, err
	}
	for i := range peers {
		if err := s.peerDetail(ctx, q, &peers[i]); err != nil {
			return nil, err
		}
	}
	return peers, nil
}

// Peer returns one peer.
func (s *Service) Peer(ctx context.Context, p *auth.Principal, id string) (*Peer, error) {
	if err := p.Require(ReadExchange); err != nil {
		return nil, err
	}
	pr, err := peerIn(ctx, s.DB.Read(), id)
	if err != nil {
		return nil, err
	}
	return pr, s.peerDetail(ctx, s.DB.Read(), pr)
}

func (s *Service) peerDetail(ctx context.Context, q store.Queryer, p *Peer) error {
	rows, err := q.Query(ctx, "SELECT fingerprint, public_key, added_at, valid_until FROM exchange_peer_keys WHERE peer_id = ? ORDER BY log_index", p.ID)
	if err != nil {
		return err
	}
	if p.Keys, err = store.Rows(rows, func(sc store.Scanner, k *PeerKey) error {
		return sc.Scan(&k.Fingerprint, &k.PublicKey, &k.AddedAt, &k.ValidUntil)
	}); err != nil {
		return err
	}
	st, found, sound, err := s.readStatus(ctx, q, p.ID)
	switch {
	case err != nil:
		return err
	case !found:
	case !sound:
		// Not shown as fact: written or changed behind custos's back.
		p.Reachable = ReachableTampered
		s.forgedStatus(ctx, p.ID, "peers")
	case st.lastOK != "" && st.lastOK >= st.lastAttempt && isClockAhead(st.lastError):
		p.Reachable, p.LastAttemptAt, p.LastError = ReachableClockAhead, st.lastAttempt, st.lastError
	case st.lastOK != "" && st.lastOK >= st.lastAttempt:
		p.Reachable, p.LastAttemptAt = "yes", st.lastAttempt
	default:
		p.Reachable, p.LastAttemptAt, p.LastError = "no", st.lastAttempt, st.lastError
	}
	var sent, recv sql.NullString
	if err := q.QueryRow(ctx, "SELECT MAX(sent_at) FROM exchange_outbox WHERE peer_id = ?", p.ID).Scan(&sent); err != nil {
		return err
	}
	if err := q.QueryRow(ctx, "SELECT MAX(received_at) FROM exchange_inbox WHERE peer_id = ?", p.ID).Scan(&recv); err != nil {
		return err
	}
	p.LastMessageAt = max(sent.String, recv.String)
	return nil
}

// OutboxMessage is a message sent, with the peer's answer once it came.
type OutboxMessage struct {
	ID        string `json:"id"`
	PeerID    string `json:"peer_id"`
	Module    string `json:"module"`
	Type      string `json:"type"`
	Purpose   string `json:"purpose"`
	State     string `json:"state"`
	SentAt    string `json:"sent_at"`
	LogIndex  int64  `json:"log_index"`
	Attempts  int64  `json:"attempts"`
	LastError string `json:"last_error,omitempty"`
	// Envelope is the signed message as sent.
	Envelope Envelope `json:"envelope"`
	// Receipt is the peer's signed answer, with its outcome.
	Receipt    *SignedReceipt `json:"receipt,omitempty"`
	AnsweredAt string         `json:"answered_at,omitempty"`
	// AtFromClock says AnsweredAt is this registry's time of recording,
	// not the receipt's: the receipt gives a time it cannot have been
	// signed at (its entry's at_from_clock). It is read from the row, not
	// stored: answered_at is the receipt's at exactly, unless so.
	AtFromClock   bool   `json:"at_from_clock,omitempty"`
	AnswerIndex   int64  `json:"answer_index,omitempty"`
	RefusalRule   string `json:"refusal_rule,omitempty"`
	RefusalField  string `json:"refusal_field,omitempty"`
	RefusalReason string `json:"refusal_reason,omitempty"`
	// AbandonedAt, AbandonedBy (the principal's id, as the log has it;
	// the outbox page shows the name), AbandonReason and AbandonIndex (the
	// entry) are set on a message an operator abandoned (state abandoned):
	// it is never sent again.
	AbandonedAt   string `json:"abandoned_at,omitempty"`
	AbandonedBy   string `json:"abandoned_by,omitempty"`
	AbandonReason string `json:"abandon_reason,omitempty"`
	AbandonIndex  int64  `json:"abandon_index,omitempty"`
	// ClockWait is set on a pending message whose last attempt the peer
	// refused for now, its sent_at ahead of the peer's clock, sent more
	// than ClockAheadWait ago or after now (this registry's clock was ahead
	// when it signed it): if this registry's clock was ahead when it was
	// sent, it waits until the peer's clock reaches its sent_at, unless an
	// operator abandons it and sends it again (docs/exchange.md).
	ClockWait bool `json:"clock_wait,omitempty"`
	// WaitingBehind is, on a pending message that is not its peer's oldest
	// pending one, that oldest message's id: it is not tried until that one
	// is answered or abandoned.
	WaitingBehind string `json:"waiting_behind,omitempty"`
}

// Filter selects messages of the outbox or the inbox, each filter empty for
// all, and the page.
type Filter struct {
	Module string
	PeerID string
	// State is pending, acknowledged, refused or overdue (outbox), delivered
	// (inbox).
	State string
	page.Request
	// id is one message's (outboxMessage).
	id string
}

// Filters are the query parameters of the outbox's and the inbox's filters.
var Filters = []string{"module", "peer_id", "state"}

// Size is the outbox's and the inbox's page size.
var Size = page.Size{Default: 200, Max: 1000}

// FilterOf reads the outbox's or the inbox's filter from query parameters,
// with the page asked for; a parameter that is not the list's, or one given
// twice, is refused.
func FilterOf(q url.Values) (Filter, error) {
	r, err := page.Parse(q, Size, Filters...)
	if err != nil {
		return Filter{}, err
	}
	return Filter{Module: q.Get("module"), PeerID: q.Get("peer_id"), State: q.Get("state"), Request: r}, nil
}

// OutboxStates are the states a message sent may be shown in.
var OutboxStates = []string{Pending, Acknowledged, Refused, Overdue, Abandoned}

// InboxStates are the states a message received may be shown in.
var InboxStates = []string{Delivered}

// Outbox lists messages sent, newest first, one page at a time. A state
// outside OutboxStates or a bad page size is refused, never read as "all".
func (s *Service) Outbox(ctx context.Context, p *auth.Principal, f Filter) (page.Of[OutboxMessage], error) {
	var none page.Of[OutboxMessage]
	if err := p.Require(ReadExchange); err != nil {
		return none, err
	}
	if err := f.check(OutboxStates); err != nil {
		return none, err
	}
	ts := s.outboxTimes()
	q, args := outboxQuery(f, ts.overdue)
	rows, err := s.DB.Read().Query(ctx, q, args...)
	if err != nil {
		return none, err
	}
	ms, err := page.Read(rows, f.Request, func(sc store.Scanner, m *OutboxMessage) error { return scanOutbox(sc, m, ts) },
		func(m *OutboxMessage) string { return m.ID })
	if err != nil {
		return none, err
	}
	return ms, s.waitingBehind(ctx, ms.Items)
}

// outboxTimes are the times the outbox is read against, by this
// registry's clock now: a pending message sent before overdue is overdue;
// one refused RuleClockAhead sent before clockWait has waited past
// ClockAheadWait, and one sent after now was signed while this registry's
// clock was ahead (it was put back since), and waits until the peer's
// clock reaches its sent_at.
type outboxTimes struct{ overdue, clockWait, now string }

func (s *Service) outboxTimes() outboxTimes {
	now := s.now()
	return outboxTimes{overdue: ledger.FormatTime(now.Add(-s.Cfg.OverdueAfter)), clockWait: ledger.FormatTime(now.Add(-ClockAheadWait)),
		now: ledger.FormatTime(now)}
}

// scanOutbox reads a row of outboxQuery; a pending message sent before
// ts.overdue is shown overdue, and one whose last attempt the peer refused
// RuleClockAhead, sent before ts.clockWait or after ts.now, ClockWait.
func scanOutbox(sc store.Scanner, m *OutboxMessage, ts outboxTimes) error {
	var msg, rc, rk, rs string
	if err := sc.Scan(&m.ID, &m.PeerID, &m.Module, &m.Type, &m.Purpose, &m.State, &m.SentAt, &m.LogIndex, &msg, &m.Envelope.Key, &m.Envelope.Signature,
		&rc, &rk, &rs, &m.AnsweredAt, &m.AnswerIndex, &m.RefusalRule, &m.RefusalField, &m.RefusalReason,
		&m.AbandonedAt, &m.AbandonedBy, &m.AbandonReason, &m.AbandonIndex, &m.Attempts, &m.LastError); err != nil {
		return err
	}
	m.Envelope.Message = msg
	if rc != "" {
		m.Receipt = &SignedReceipt{Receipt: rc, Key: rk, Signature: rs}
		r, err := ParseReceipt(rc)
		m.AtFromClock = err != nil || r.At != m.AnsweredAt
	}
	if m.State == Pending {
		m.ClockWait = isClockAhead(m.LastError) && (m.SentAt < ts.clockWait || m.SentAt > ts.now)
		if m.SentAt < ts.overdue {
			m.State = Overdue
		}
	}
	return nil
}

// outboxQuery is the statement of a page of the outbox and its arguments;
// a pending message sent before overdue is overdue.
func outboxQuery(f Filter, overdue string) (string, []any) {
	where, args := []string{"1 = 1"}, []any{}
	if f.id != "" {
		where, args = append(where, "o.id = ?"), append(args, f.id)
	}
	if f.Module != "" {
		where, args = append(where, "o.module = ?"), append(args, f.Module)
	}
	if f.PeerID != "" {
		where, args = append(where, "o.peer_id = ?"), append(args, f.PeerID)
	}
	switch f.State {
	case Overdue:
		where, args = append(where, "o.state = ? AND o.sent_at < ?"), append(args, Pending, overdue)
	case "":
	default:
		where, args = append(where, "o.state = ?"), append(args, f.State)
	}
	after, afterArgs := f.Where("o.log_index", "o.id")
	where, args = append(where, after), append(args, afterArgs...)
	return `SELECT o.id, o.peer_id, o.module, o.type, o.purpose, o.state, o.sent_at, o.log_index, o.message, o.signed_by, o.signature,
		o.receipt, o.receipt_key, o.receipt_signature, o.answered_at, o.answer_index, o.refusal_rule, o.refusal_field, o.refusal_reason,
		o.abandoned_at, o.abandoned_by, o.abandon_reason, o.abandon_index, COALESCE(d.attempts, 0), COALESCE(d.last_error, ''), o.log_index
		FROM exchange_outbox o LEFT JOIN exchange_delivery d ON d.message_id = o.id
		WHERE ` + strings.Join(where, " AND ") + ` ORDER BY o.log_index DESC, o.id LIMIT ?`, append(args, f.Limit+1)
}

// check refuses a filter given a state outside states, or a page size
// outside Size; it fills in the default size.
func (f *Filter) check(states []string) error {
	return f.Request.Check(Size, Filters, page.Filter{Name: "module", Value: f.Module}, page.Filter{Name: "peer_id", Value: f.PeerID},
		page.Filter{Name: "state", Value: f.State, Allowed: states})
}

// InboxMessage is a message received. The payload, legal basis and notice
// are shown only to the roles the sender named as readers.
type InboxMessage struct {
	ID            string   `json:"id"`
	PeerID        string   `json:"peer_id"`
	MessageID     string   `json:"message_id"`
	From          string   `json:"from"`
	Module        string   `json:"module"`
	Type          string   `json:"type"`
	Purpose       string   `json:"purpose"`
	OnwardSharing bool     `json:"onward_sharing"`
	Readers       []string `json:"readers"`
	State         string   `json:"state"`
	ReceivedAt    string   `json:"received_at"`
	LogIndex      int64    `json:"log_index"`
	// Envelope is the signed message as received, for a reader; Receipt the
	// signed receipt this registry answered.
	Envelope *Envelope     `json:"envelope,omitempty"`
	Receipt  SignedReceipt `json:"receipt"`
	Uses     []Use         `json:"uses"`
}

// Use is a received message used or forwarded.
type Use struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Purpose     string `json:"purpose"`
	PeerID      string `json:"peer_id,omitempty"`
	ForwardedAs string `json:"forwarded_as,omitempty"`
	At          string `json:"at"`
	PrincipalID string `json:"principal_id"`
}

const inboxCols = `id, peer_id, module, type, purpose, onward_sharing, readers, received_at, log_index, message, signed_by, signature,
	receipt, receipt_key, receipt_signature`

func scanInbox(sc store.Scanner, m *InboxMessage) error {
	var onward int
	var readers, msg, key, sig, rc string
	if err := sc.Scan(&m.ID, &m.PeerID, &m.Module, &m.Type, &m.Purpose, &onward, &readers, &m.ReceivedAt, &m.LogIndex, &msg, &key, &sig,
		&rc, &m.Receipt.Key, &m.Receipt.Signature); err != nil {
		return err
	}
	m.OnwardSharing, m.Readers, m.State = onward == 1, strings.Fields(readers), Delivered
	m.Receipt.Receipt = rc
	m.Envelope = &Envelope{Message: msg, Key: key, Signature: sig}
	if mm, err := ParseMessage(m.Envelope.Message); err == nil {
		m.MessageID, m.From = mm.ID, mm.From
	}
	return nil
}

// mayRead tells whether p's role is among the message's readers.
func mayRead(p *auth.Principal, m *InboxMessage) bool {
	return slices.Contains(m.Readers, string(p.Role))
}

// Inbox lists messages received, newest first, one page at a time; the
// signed message itself only for principals of the roles the sender named.
// A state other than delivered or a bad page size is refused.
func (s *Service) Inbox(ctx context.Context, p *auth.Principal, f Filter) (page.Of[InboxMessage], error) {
	var none page.Of[InboxMessage]
	if err := p.Require(ReadExchange); err != nil {
		return none, err
	}
	if err := f.check(InboxStates); err != nil {
		return none, err
	}
	q, args := inboxQuery(f)
	rows, err := s.DB.Read().Query(ctx, q, args...)
	if err != nil {
		return none, err
	}
	ms, err := page.Read(rows, f.Request, scanInbox, func(m *InboxMessage) string { return m.ID })
	for i := range ms.Items {
		if !mayRead(p, &ms.Items[i]) {
			ms.Items[i].Envelope = nil
		}
	}
	return ms, err
}

// inboxQuery is the statement of a page of the inbox and its arguments.
func inboxQuery(f Filter) (string, []any) {
	where, args := []string{"1 = 1"}, []any{}
	if f.Module != "" {
		where, args = append(where, "module = ?"), append(args, f.Module)
	}
	if f.PeerID != "" {
		where, args = append(where, "peer_id = ?"), append(args, f.PeerID)
	}
	after, afterArgs := f.Where("log_index", "id")
	where, args = append(where, after), append(args, afterArgs...)
	return "SELECT " + inboxCols + ", log_index FROM exchange_inbox WHERE " + strings.Join(where, " AND ") +
		" ORDER BY log_index DESC, id LIMIT ?", append(args, f.Limit+1)
}

// InboxMessage returns one message received, with its uses; the signed
// message only for the roles the sender named.
func (s *Service) InboxMessage(ctx context.Context, p *auth.Principal, id string) (*InboxMessage, error) {
	if p == nil {
		return nil, errs.New(errs.Unauthorized, "authentication", "", "sign in with a bearer token")
	}
	m, err := inboxIn(ctx, s.DB.Read(), id)
	if err != nil || (!p.Can(ReadExchange) && !mayRead(p, m)) {
		// A message the principal may not read answers as a missing one, so
		// that no role learns which message ids exist by asking for them.
		return nil, cmp.Or(err, errNoMessage(id))
	}
	if !mayRead(p, m) {
		m.Envelope = nil
	}
	rows, err := s.DB.Read().Query(ctx, "SELECT id, kind, purpose, peer_id, forwarded_as, at, principal_id FROM exchange_uses WHERE inbox_id = ? ORDER BY log_index", m.ID)
	if err != nil {
		return nil, err
	}
	m.Uses, err = store.Rows(rows, func(sc store.Scanner, u *Use) error {
		return sc.Scan(&u.ID, &u.Kind, &u.Purpose, &u.PeerID, &u.ForwardedAs, &u.At, &u.PrincipalID)
	})
	return m, err
}

func inboxIn(ctx context.Context, q store.Queryer, id string) (*InboxMessage, error) {
	var m InboxMessage
	err := scanInbox(q.QueryRow(ctx, "SELECT "+inboxCols+" FROM exchange_inbox WHERE id = ?", strings.TrimSpace(id)), &m)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoMessage(id)
	}
	return &m, err
}

func errNoMessage(id string) error {
	return errs.New(errs.NotFound, "message", "id", "no message %q in the inbox", id)
}

// Uses of a received message.
const (
	UseKind     = "use"
	ForwardKind = "forward"
)

// UseRequest is a use of a received message for a purpose.
type UseRequest struct {
	Purpose string `json:"purpose"`
}

// Usable refuses p a received message it may not use, before anything p
// sent is read: a principal that neither reads the exchange nor is one of
// the roles the sender named is answered as for a message that does not
// exist (404, as InboxMessage answers it), so that asking tells it
// nothing; one that reads the exchange but was not named is refused with an
// alert (rule reader).
func (s *Service) Usable(ctx context.Context, p *auth.Principal, id string) (*InboxMessage, error) {
	if p == nil {
		return nil, errs.New(errs.Unauthorized, "authentication", "", "sign in with a bearer token")
	}
	m, err := inboxIn(ctx, s.DB.Read(), id)
	switch {
	case err != nil:
		return nil, err
	case mayRead(p, m):
		return m, nil
	case !p.Can(ReadExchange):
		return nil, errNoMessage(id)
	}
	s.event("use_refused")
	_, err = s.W.Submit(ctx, p.Actor(), "use exchange message", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
		return nil, errs.Alertf(errs.Forbidden, "reader", "id", "the sender of message %s named the roles %s as its readers, not %s",
			m.ID, strings.Join(m.Readers, ", "), p.Role)
	})
	return nil, err
}

// UseMessage records that p uses a received message for a purpose. Only the
// roles the sender named may (Usable), and only for the message's own
// purpose: any other is refused with an alert (rule purpose_not_allowed).
func (s *Service) UseMessage(ctx context.Context, p *auth.Principal, id string, in UseRequest) (*MessageUsed, error) {
	m, err := s.Usable(ctx, p, id)
	if err != nil {
		return nil, err
	}
	purpose := strings.TrimSpace(in.Purpose)
	if !tokenRE.MatchString(purpose) {
		return nil, errs.Invalidf("purpose", "purpose", "purpose must be a lower-case name")
	}
	useID := s.W.IDs().New("XU")
	out, err := ledger.SubmitAs[MessageUsed](ctx, s.W, p.Actor(), "use exchange message", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if purpose != m.Purpose {
			return nil, errs.Alertf(errs.Forbidden, "purpose_not_allowed", "purpose", "message %s was sent for the purpose %s, not %s", m.ID, m.Purpose, purpose)
		}
		return ledger.NewEntry(TypeMessageUsed, MessageUsed{ID: useID, InboxID: m.ID, Kind: UseKind, Purpose: purpose})
	})
	if err != nil {
		s.event("use_refused")
	}
	return out, err
}

// ForwardRequest forwards a received message to another peer.
type ForwardRequest struct {
	PeerID     string `json:"peer_id"`
	LegalBasis string `json:"legal_basis"`
	Notice     string `json:"notice"`
}

// Forward sends a received message on to another peer, for the purpose it
// was sent for, when its sender consented to onward sharing; otherwise it
// refuses with an alert (rule onward_sharing). The forward is a message of
// its own in the outbox, recorded with the use that names it.
func (s *Service) Forward(ctx context.Context, p *auth.Principal, id string, in ForwardRequest) (*MessageUsed, error) {
	if err := p.Require(ForwardMessages); err != nil {
		return nil, err
	}
	m, err := inboxIn(ctx, s.DB.Read(), id)
	if err != nil {
		return nil, err
	}
	orig, err := ParseMessage(m.Envelope.Message)
	if err != nil {
		return nil, err
	}
	useID := s.W.IDs().New("XU")
	refuse := func(e error) (*MessageUsed, error) {
		s.event("use_refused")
		_, err := s.W.Submit(ctx, p.Actor(), "forward exchange message", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) { return nil, e })
		return nil, err
	}
	if !m.OnwardSharing {
		return refuse(errs.Alertf(errs.Forbidden, "onward_sharing", "id", "the sender of message %s did not consent to onward sharing", m.ID))
	}
	if pr, err := peerIn(ctx, s.DB.Read(), in.PeerID); err != nil {
		return nil, err
	} else if pr.ID == m.PeerID {
		return nil, errs.Invalidf("peer", "peer_id", "message %s came from peer %s: forward it to another", m.ID, pr.ID)
	}
	sent, err := s.Send(ctx, p, Outgoing{PeerID: in.PeerID, Type: orig.Type, Purpose: orig.Purpose, LegalBasis: in.LegalBasis, Notice: in.Notice,
		Readers: orig.Readers, OnwardSharing: false, Payload: orig.Payload, ForwardOf: orig.From + "/" + orig.ID})
	if err != nil {
		return nil, err
	}
	return ledger.SubmitAs[MessageUsed](ctx, s.W, p.Actor(), "forward exchange message", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		return ledger.NewEntry(TypeMessageUsed, MessageUsed{ID: useID, InboxID: m.ID, Kind: ForwardKind, Purpose: orig.Purpose, PeerID: sent.PeerID, ForwardedAs: sent.ID})
	})
}
