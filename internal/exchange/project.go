package exchange

import (
	"context"
	"strings"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// Entry types of the exchange.
const (
	TypePeerRegistered = "exchange.peer_registered"
	TypePeerKeyAdded   = "exchange.peer_key_added"
	TypePeerSuspended  = "exchange.peer_suspended"
	TypePeerResumed    = "exchange.peer_resumed"
	TypeOwnKeyRotated  = "exchange.own_key_rotated"
	TypeMessageSent    = "exchange.message_sent"
	TypeMessageAnswer  = "exchange.message_answered"
	TypeMessageRecv    = "exchange.message_received"
	TypeMessageUsed    = "exchange.message_used"
	// TypeMessageAbandoned is a pending outgoing message an operator gave
	// up on: it is never sent again (abandon.go).
	TypeMessageAbandoned = "exchange.message_abandoned"
)

// PeerRegistered is a peer registry an operator registered, with its first key.
type PeerRegistered struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Jurisdiction    string   `json:"jurisdiction"`
	URL             string   `json:"url"`
	TLSCA           string   `json:"tls_ca"`
	SendPurposes    []string `json:"send_purposes"`
	ReceivePurposes []string `json:"receive_purposes"`
	PublicKey       string   `json:"public_key"`
	Fingerprint     string   `json:"fingerprint"`
}

// PeerKeyAdded is a new key of a peer; its keys without an end are valid
// until PreviousValidUntil (the overlap of a rotation).
type PeerKeyAdded struct {
	PeerID             string `json:"peer_id"`
	PublicKey          string `json:"public_key"`
	Fingerprint        string `json:"fingerprint"`
	PreviousValidUntil string `json:"previous_valid_until"`
}

// PeerState is a peer suspended or resumed, and why.
type PeerState struct {
	PeerID string `json:"peer_id"`
	Note   string `json:"note"`
}

// OwnKeyRotated is this registry moving to the next generation of its
// exchange key.
type OwnKeyRotated struct {
	Generation  int64  `json:"generation"`
	PublicKey   string `json:"public_key"`
	Fingerprint string `json:"fingerprint"`
}

// MessageSent is a message signed and put in the outbox.
type MessageSent struct {
	ID        string `json:"id"`
	PeerID    string `json:"peer_id"`
	Module    string `json:"module"`
	Type      string `json:"type"`
	Purpose   string `json:"purpose"`
	Message   string `json:"message"`
	Key       string `json:"key"`
	Signature string `json:"signature"`
}

// MessageAnswered is the peer's signed receipt for a message sent: received
// (acknowledged) or refused, with the rule, field and reason.
type MessageAnswered struct {
	ID      string `json:"id"`
	Outcome string `json:"outcome"`
	Rule    string `json:"rule,omitempty"`
	Field   string `json:"field,omitempty"`
	Reason  string `json:"reason,omitempty"`
	At      string `json:"at"`
	// AtFromClock says At is this registry's time of recording, not the
	// receipt's: the receipt gives a time it cannot have been signed at
	// (before the message was sent, or ahead of this registry's clock).
	AtFromClock bool   `json:"at_from_clock,omitempty"`
	Receipt     string `json:"receipt"`
	Key         string `json:"key"`
	Signature   string `json:"signature"`
}

// MessageAbandoned is a pending outgoing message an operator abandoned, and
// why; the entry's actor is who. The peer may have received it (its receipt
// never verified) or not: abandoning retracts nothing there.
type MessageAbandoned struct {
	ID     string `json:"id"`
	PeerID string `json:"peer_id"`
	Reason string `json:"reason"`
}

// MessageReceived is a message from a peer, verified, with the signed receipt
// this registry answered.
type MessageReceived struct {
	ID               string   `json:"id"`
	PeerID           string   `json:"peer_id"`
	Module           string   `json:"module"`
	Type             string   `json:"type"`
	Purpose          string   `json:"purpose"`
	OnwardSharing    bool     `json:"onward_sharing"`
	Readers          []string `json:"readers"`
	Message          string   `json:"message"`
	Key              string   `json:"key"`
	Signature        string   `json:"signature"`
	Receipt          string   `json:"receipt"`
	ReceiptKey       string   `json:"receipt_key"`
	ReceiptSignature string   `json:"receipt_signature"`
}

// MessageUsed is a received message used for its purpose, or forwarded to
// another peer with the sender's consent.
type MessageUsed struct {
	ID          string `json:"id"`
	InboxID     string `json:"inbox_id"`
	Kind        string `json:"kind"`
	Purpose     string `json:"purpose"`
	PeerID      string `json:"peer_id,omitempty"`
	ForwardedAs string `json:"forwarded_as,omitempty"`
}

// Peer and message states.
const (
	PeerActive    = "active"
	PeerSuspended = "suspended"

	Pending      = "pending"
	Acknowledged = "acknowledged"
	// Refused (the receipt outcome) is also the state of a refused message;
	// Overdue is a pending message older than the overdue limit, and
	// Delivered a message in the inbox.
	Overdue   = "overdue"
	Delivered = "delivered"
	// Abandoned is an outgoing message an operator gave up on while it was
	// pending (MessageAbandoned).
	Abandoned = "abandoned"
)

// Project adds the exchange's projectors and tables.
func Project(p *ledger.Projections) {
	ledger.On(p, TypePeerRegistered, func(ctx context.Context, q store.Queryer, i int64, e *ledger.Entry, d *PeerRegistered) error {
		if _, err := q.Exec(ctx, `INSERT INTO exchange_peers (id, name, jurisdiction, url, tls_ca, send_purposes, receive_purposes, state, created_at, updated_at, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, d.Name, d.Jurisdiction, d.URL, d.TLSCA, strings.Join(d.SendPurposes, " "),
			strings.Join(d.ReceivePurposes, " "), PeerActive, e.At, e.At, i); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `INSERT INTO exchange_peer_keys (fingerprint, peer_id, public_key, added_at, log_index) VALUES (?, ?, ?, ?, ?)`,
			d.Fingerprint, d.ID, d.PublicKey, e.At, i)
		return err
	})
	ledger.On(p, TypePeerKeyAdded, func(ctx context.Context, q store.Queryer, i int64, e *ledger.Entry, d *PeerKeyAdded) error {
		if _, err := q.Exec(ctx, `UPDATE exchange_peer_keys SET valid_until = ? WHERE peer_id = ? AND valid_until = ''`, d.PreviousValidUntil, d.PeerID); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `UPDATE exchange_peers SET updated_at = ? WHERE id = ?`, e.At, d.PeerID); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `INSERT INTO exchange_peer_keys (fingerprint, peer_id, public_key, added_at, log_index) VALUES (?, ?, ?, ?, ?)`,
			d.Fingerprint, d.PeerID, d.PublicKey, e.At, i)
		return err
	})
	state := func(s string) func(ctx context.Context, q store.Queryer, i int64, e *ledger.Entry, d *PeerState) error {
		return func(ctx context.Context, q store.Queryer, i int64, e *ledger.Entry, d *PeerState) error {
			_, err := q.Exec(ctx, `UPDATE exchange_peers SET state = ?, state_note = ?, updated_at = ? WHERE id = ?`, s, d.Note, e.At, d.PeerID)
			return err
		}
	}
	ledger.On(p, TypePeerSuspended, state(PeerSuspended))
	ledger.On(p, TypePeerResumed, state(PeerActive))
	ledger.On(p, TypeOwnKeyRotated, func(ctx context.Context, q store.Queryer, i int64, e *ledger.Entry, d *OwnKeyRotated) error {
		_, err := q.Exec(ctx, `INSERT INTO exchange_own_keys (fingerprint, generation, public_key, created_at, log_index) VALUES (?, ?, ?, ?, ?)`,
			d.Fingerprint, d.Generation, d.PublicKey, e.At, i)
		return err
	})
	ledger.On(p, TypeMessageSent, func(ctx context.Context, q store.Queryer, i int64, e *ledger.Entry, d *MessageSent) error {
		_, err := q.Exec(ctx, `INSERT INTO exchange_outbox (id, peer_id, module, type, purpose, state, sent_at, message, signed_by, signature, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, d.PeerID, d.Module, d.Type, d.Purpose, Pending, e.At, d.Message, d.Key, d.Signature, i)
		return err
	})
	ledger.On(p, TypeMessageAnswer, func(ctx context.Context, q store.Queryer, i int64, e *ledger.Entry, d *MessageAnswered) error {
		st := Acknowledged
		if d.Outcome == Refused {
			st = Refused
		}
		_, err := q.Exec(ctx, `UPDATE exchange_outbox SET state = ?, receipt = ?, receipt_key = ?, receipt_signature = ?, answered_at = ?,
			refusal_rule = ?, refusal_field = ?, refusal_reason = ?, answer_index = ? WHERE id = ?`,
			st, d.Receipt, d.Key, d.Signature, d.At, d.Rule, d.Field, d.Reason, i, d.ID)
		return err
	})
	ledger.On(p, TypeMessageAbandoned, func(ctx context.Context, q store.Queryer, i int64, e *ledger.Entry, d *MessageAbandoned) error {
		_, err := q.Exec(ctx, `UPDATE exchange_outbox SET state = ?, abandoned_at = ?, abandoned_by = ?, abandon_reason = ?, abandon_index = ?
			WHERE id = ? AND state = ?`, Abandoned, e.At, e.By, d.Reason, i, d.ID, Pending)
		return err
	})
	ledger.On(p, TypeMessageRecv, func(ctx context.Context, q store.Queryer, i int64, e *ledger.Entry, d *MessageReceived) error {
		onward := 0
		if d.OnwardSharing {
			onward = 1
		}
		_, err := q.Exec(ctx, `INSERT INTO exchange_inbox (id, peer_id, module, type, purpose, onward_sharing, readers, received_at, message, signed_by, signature,
			receipt, receipt_key, receipt_signature, log_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.ID, d.PeerID, d.Module, d.Type, d.Purpose, onward, strings.Join(d.Readers, " "), e.At, d.Message, d.Key, d.Signature,
			d.Receipt, d.ReceiptKey, d.ReceiptSignature, i)
		return err
	})
	ledger.On(p, TypeMessageUsed, func(ctx context.Context, q store.Queryer, i int64, e *ledger.Entry, d *MessageUsed) error {
		_, err := q.Exec(ctx, `INSERT INTO exchange_uses (id, inbox_id, kind, purpose, peer_id, forwarded_as, at, principal_id, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, d.InboxID, d.Kind, d.Purpose, d.PeerID, d.ForwardedAs, e.At, e.By, i)
		return err
	})
	ledger.On(p, TypeRefusalsCommitted, projectRefusalsCommitted) // refusals.go
	p.Tables(ledger.Table{Name: "exchange_peers", Order: "id"}, ledger.Table{Name: "exchange_peer_keys", Order: "fingerprint"},
		ledger.Table{Name: "exchange_own_keys", Order: "fingerprint"}, ledger.Table{Name: "exchange_outbox", Order: "id"},
		ledger.Table{Name: "exchange_inbox", Order: "id"}, ledger.Table{Name: "exchange_uses", Order: "id"},
		ledger.Table{Name: "exchange_refusal_commits", Order: "id"})
	p.Check("exchange_refusals", verifyRefusals) // refusals.go
}
