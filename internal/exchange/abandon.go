package exchange

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// A peer's messages are delivered in order (DeliverDue), so a message the
// peer never answers verifiably (its receipt never verifies, it refuses it
// without a signed receipt for ever, it is gone) holds back every later
// message to it. An operator who may suspend the peer may instead abandon
// that message (AbandonMessage): a log entry, after which the deliverer
// never sends it again and goes on with the next. Abandoning retracts
// nothing at the peer, which may have received the message, and sends it
// nothing: a retraction to a peer that does not answer verifiably would
// meet the same fate and, delivered in order, hold back the peer's later
// messages again; withdrawing what was sent is the module's own message
// (docs/exchange.md, Abandon a message).
//
// An operator may also make a peer's pending messages due now
// (RetryNow), instead of waiting for their back-off. The schedule
// (exchange_delivery) is the deliverer's working state, outside the log, as
// each attempt is: making a message due changes no record, only what losing
// the schedule's row would do, and is said in the server log, not the
// tamper-evident one.

// MaxAbandonReason is the longest reason for abandoning a message, in
// characters.
const MaxAbandonReason = 2000

// AbandonRequest is why an operator abandons a pending message.
type AbandonRequest struct {
	Reason string `json:"reason" api:"required"`
}

// AbandonMessage abandons a pending outgoing message, saying why: it is
// recorded as an exchange.message_abandoned entry, shown abandoned with who,
// when and why, and never sent again; the peer's next message goes. Only a
// principal who may manage peers (suspend them) may; a message that is not
// pending in the outbox (answered, abandoned, unknown, or one received) is
// refused (rules not_found at id, not_pending at id), and so is an empty
// reason (required at reason). The errors name neither the id asked nor the
// reason given.
func (s *Service) AbandonMessage(ctx context.Context, p *auth.Principal, id string, in AbandonRequest) (*OutboxMessage, error) {
	if err := p.Require(ManagePeers); err != nil {
		return nil, err
	}
	reason, err := check.Text("reason", in.Reason, MaxAbandonReason, true)
	if err != nil {
		return nil, err
	}
	id = strings.TrimSpace(id)
	_, err = s.W.Submit(ctx, p.Actor(), "abandon exchange message", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		peer, err := pendingIn(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeMessageAbandoned, MessageAbandoned{ID: id, PeerID: peer, Reason: reason})
	})
	if err != nil {
		return nil, err
	}
	s.Wake() // the peer's next message is due
	return s.outboxMessage(ctx, id)
}

// pendingIn reads the peer of a pending outgoing message, refusing an id
// the outbox does not hold (not_found) or a message that is not pending
// (not_pending), without repeating the id.
func pendingIn(ctx context.Context, q store.Queryer, id string) (string, error) {
	var peer, st string
	err := q.QueryRow(ctx, "SELECT peer_id, state FROM exchange_outbox WHERE id = ?", id).Scan(&peer, &st)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errs.New(errs.NotFound, "not_found", "id", "the outbox holds no message with this id (a message received is in the inbox, and is not abandoned)")
	}
	if err != nil {
		return "", err
	}
	if st != Pending {
		return "", errs.New(errs.Conflict, "not_pending", "id", "the message is %s, not pending: only a message awaiting the peer's answer can be abandoned or retried", st)
	}
	return peer, nil
}

// outboxMessage reads one message of the outbox as the outbox shows it.
func (s *Service) outboxMessage(ctx context.Context, id string) (*OutboxMessage, error) {
	ts := s.outboxTimes()
	q, args := outboxQuery(Filter{id: id}, ts.overdue)
	rows, err := s.DB.Read().Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	ms, err := store.Rows(rows, func(sc store.Scanner, m *OutboxMessage) error { return scanOutbox(lastIgnored{sc}, m, ts) })
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, errs.New(errs.NotFound, "not_found", "id", "the outbox holds no message with this id")
	}
	if err := s.waitingBehind(ctx, ms); err != nil {
		return nil, err
	}
	return &ms[0], nil
}

// lastIgnored scans a row of outboxQuery without its last column (the page's
// key, which page.Read takes).
type lastIgnored struct{ store.Scanner }

func (l lastIgnored) Scan(dest ...any) error {
	var skip int64
	return l.Scanner.Scan(append(dest, &skip)...)
}

// Retried is what RetryNow made due: the pending messages, oldest first.
type Retried struct {
	PeerID   string   `json:"peer_id"`
	Messages []string `json:"messages"`
}

// RetryNow makes pending messages due now instead of at the end of their
// back-off: one message (messageID), or every pending message of a peer
// (messageID empty). Only a principal who may manage peers may. The peer's
// messages still go in order: a message behind another is tried once the
// other is answered or abandoned. A suspended peer is refused
// (peer_suspended at peer_id): resume it first. No log entry: see above.
func (s *Service) RetryNow(ctx context.Context, p *auth.Principal, peerID, messageID string) (*Retried, error) {
	if err := p.Require(ManagePeers); err != nil {
		return nil, err
	}
	tx, err := s.DB.BeginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	messageID = strings.TrimSpace(messageID)
	if messageID != "" {
		if peerID, err = pendingIn(ctx, tx, messageID); err != nil {
			return nil, err
		}
	}
	pr, err := peerIn(ctx, tx, peerID)
	if err != nil {
		return nil, err
	}
	if pr.State != PeerActive {
		return nil, errs.New(errs.Conflict, "peer_suspended", "peer_id", "the peer is suspended: nothing is sent to it until it is resumed")
	}
	out := &Retried{PeerID: pr.ID, Messages: []string{}}
	if messageID != "" {
		out.Messages = append(out.Messages, messageID)
	} else {
		rows, err := tx.Query(ctx, "SELECT id FROM exchange_outbox WHERE peer_id = ? AND state = ? ORDER BY log_index", pr.ID, Pending)
		if err != nil {
			return nil, err
		}
		if out.Messages, err = store.Rows(rows, func(sc store.Scanner, id *string) error { return sc.Scan(id) }); err != nil {
			return nil, err
		}
	}
	now := ledger.FormatTime(s.now())
	for _, id := range out.Messages {
		if _, err := tx.Exec(ctx, "UPDATE exchange_delivery SET next_attempt_at = ? WHERE message_id = ? AND next_attempt_at > ?", now, id, now); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	s.Log.InfoContext(ctx, "exchange: pending messages made due now", "peer", pr.ID, "messages", len(out.Messages), "principal", p.ID)
	s.Wake()
	return out, nil
}

// waitingBehind marks each pending message of ms that is not its peer's
// oldest pending one with that oldest message's id: it is not tried until
// that one is answered or abandoned.
func (s *Service) waitingBehind(ctx context.Context, ms []OutboxMessage) error {
	oldest := map[string]string{}
	for i := range ms {
		m := &ms[i]
		if m.State != Pending && m.State != Overdue {
			continue
		}
		first, ok := oldest[m.PeerID]
		if !ok {
			err := s.DB.Read().QueryRow(ctx, "SELECT id FROM exchange_outbox WHERE peer_id = ? AND state = ? ORDER BY log_index LIMIT 1", m.PeerID, Pending).Scan(&first)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			oldest[m.PeerID] = first
		}
		if first != "" && first != m.ID {
			m.WaitingBehind = first
		}
	}
	return nil
}

// stillPending tells whether message id is still pending, read when it is
// about to be sent: a message abandoned since the deliverer picked it (by
// another server of the registry, say) is not sent.
func (s *Service) stillPending(ctx context.Context, id string) (bool, error) {
	var st string
	if err := s.DB.Read().QueryRow(ctx, "SELECT state FROM exchange_outbox WHERE id = ?", id).Scan(&st); err != nil {
		return false, err
	}
	return st == Pending, nil
}
