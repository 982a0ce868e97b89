package exchange

import (
	"context"
	"database/sql"
	"errors"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/strictjson"
)

// Inbound is a message a peer sent, as the module that declares its type
// sees it: verified, admitted by the core's rules, its payload meeting the
// type's schema, sent for the type's purpose to readers that name the
// type's reader (Type.Purpose, Type.Reader).
type Inbound struct {
	// InboxID is the message's id in the inbox: the peer's id and the
	// sender's message id.
	InboxID   string
	PeerID    string
	From      string // the sender's jurisdiction
	MessageID string
	Module    string
	Type      string
	Purpose   string
	Readers   []string // the roles the sender addressed it to
	SentAt    string
	ForwardOf string
	Payload   []byte
}

// Handler is how a module acts on the messages of its types that peers send.
//
// Accept runs inside the write transaction that records the message, after
// every check of the core (signature, peer, purpose, schema, the type's
// purpose and reader) and before the
// receipt is signed. It reads the module's state and refuses what the module
// cannot take (an organ it never exported, a report it does not know) with
// an errs refusal naming the rule and the field (payload.<field>): the
// refusal is what the signed receipt answers the sender, with that rule,
// field and reason, and nothing is recorded (an Alert refusal raises its
// alert, as any refusal does). Any other error answers the sender
// "unavailable", and the sender sends the message again later. Accept must
// not write: the transaction records the message and nothing else.
//
// Received runs after the message is recorded and before the receipt is
// answered, once per message (a replay does not call it again). The module
// acts there through its own commands, as log entries of its own. A process
// that stops between the two leaves a message recorded but not acted on: a
// module that must act on every message keeps a record of those it acted on
// and, in its background work, acts on the others of its inbox (Inbound
// reads one by its inbox id).
type Handler struct {
	Accept   func(ctx context.Context, tx *store.Tx, m *Inbound) error
	Received func(ctx context.Context, m *Inbound)
}

// Handle sets the handler of a module's messages; a module opened by the
// server sets its own before the server serves. A module without one has its
// messages recorded in the inbox only.
func (s *Service) Handle(module string, h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handlers == nil {
		s.handlers = map[string]Handler{}
	}
	s.handlers[module] = h
}

func (s *Service) handler(module string) Handler {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.handlers[module]
}

// DecodePayload reads the payload into v (the module's struct for the
// type) as its sender wrote it. The schema, checked before, refuses a key
// it does not declare, in whatever case; the parse of the message refuses
// a key given twice. This reads the payload again with strictjson rather
// than encoding/json, which would take a key in another case than a
// field's ("ORGAN_ID", "ſex") for the field and keep the last of a key
// given twice, so that what the module acts on is what the schema saw
// even in a struct whose fields the schema does not name one for one. A
// refusal has rule schema, as the schema's own, at payload.<field>.
func (m *Inbound) DecodePayload(v any) error {
	err := strictjson.Unmarshal(m.Payload, v)
	if err == nil {
		return nil
	}
	e, ok := errs.As(err)
	if !ok || e.Rule == "json" {
		return errs.Invalidf("schema", "payload", "payload is not valid JSON")
	}
	field := "payload"
	if e.Field != "" {
		field += "." + e.Field
	}
	return errs.Invalidf("schema", field, "the payload does not read as %s's: %s: %s", m.Type, e.Rule, e.Message)
}

func inbound(peerID string, m *Message) *Inbound {
	return &Inbound{InboxID: inboxID(peerID, m.ID), PeerID: peerID, From: m.From, MessageID: m.ID, Module: m.Module, Type: m.Type, Purpose: m.Purpose,
		Readers: m.Readers, SentAt: m.SentAt, ForwardOf: m.ForwardOf, Payload: m.Payload}
}

// Inbound reads one message of the inbox by its inbox id, as a handler
// receives it.
func (s *Service) Inbound(ctx context.Context, q store.Queryer, inboxID string) (*Inbound, error) {
	var peerID, text string
	err := q.QueryRow(ctx, "SELECT peer_id, message FROM exchange_inbox WHERE id = ?", inboxID).Scan(&peerID, &text)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "message", "id", "no message %q in the inbox", inboxID)
	}
	if err != nil {
		return nil, err
	}
	m, err := ParseMessage(text)
	if err != nil {
		return nil, err
	}
	return inbound(peerID, m), nil
}

// SendAsRegistry sends a message as Send does, recorded with no principal:
// what a module sends by itself, in answer to a message it received or when
// a deadline passes (its own rules decided it; no person asked).
func (s *Service) SendAsRegistry(ctx context.Context, in Outgoing) (*Sent, error) {
	return s.send(ctx, ledger.Actor{}, in)
}

// ActivePeer returns a peer this registry may send messages for the purpose
// to: registered, active, and with the purpose among its send purposes. A
// module checks it inside its own command before it records anything that
// will be sent (rules peer, peer_suspended, purpose_not_allowed at field).
func ActivePeer(ctx context.Context, q store.Queryer, field, id, purpose string) (*Peer, error) {
	pr, err := peerIn(ctx, q, id)
	if err != nil {
		if e, ok := errs.As(err); ok {
			return nil, errs.New(e.Code, e.Rule, field, "no exchange peer %q", id)
		}
		return nil, err
	}
	if pr.State != PeerActive {
		return nil, errs.New(errs.Conflict, "peer_suspended", field, "the peer %s is suspended", pr.ID)
	}
	if purpose != "" && !containsString(pr.SendPurposes, purpose) {
		return nil, errs.New(errs.Forbidden, "purpose_not_allowed", field,
			"the peer %s is not registered to receive messages for the purpose %s", pr.ID, purpose)
	}
	return pr, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
