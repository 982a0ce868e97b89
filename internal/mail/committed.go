package mail

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// The outbox is outside the log, and its MAC proves a row is one custos
// wrote, not that it is the last custos wrote nor that it is there at all:
// whoever writes the database could delete an e-mail before it is sent
// (an SAE's notice to a centre, never sent, and nothing saying so), or put
// a sent e-mail's row back to the pending state it had, with that state's
// MAC, and have it sent again. So the log commits to each e-mail twice,
// in the projected table mail_committed (core migration 21):
//
//   - queued: the entry of the command that queued it names its id, its
//     data a Queuer, and Project's projector of every entry (ledger's
//     Every) commits the ids it names; Enqueue has the writer check, once
//     the entry is projected, that they are its own (ledger.AfterProject),
//     so that a module whose entry forgets them fails at its first command;
//   - sent: when the SMTP server accepts it the deliverer writes a
//     mail.sent entry (TypeSent), in the transaction that marks the row
//     sent, and sends no e-mail the log says was sent (replayed).
//
// log verify (verifyOutbox) then names an e-mail the log says was queued
// and the outbox lacks, one the log says was sent and the outbox does not,
// and a row no entry queued; the outbox's list (Missing, the Tampered of
// Item) says the same to its readers. No e-mail is ever deleted by custos:
// there is no purge of sent ones to tell apart.

// TypeSent is the entry type of an e-mail the SMTP server accepted.
const TypeSent = "mail.sent"

// SentEntry is the data of mail.sent: the e-mail's id. The entry is the
// registry's own (no principal); its time is when it was recorded.
type SentEntry struct {
	ID string `json:"id"`
}

// Queuer is the data of an entry whose command queued e-mails (Enqueue):
// QueuedMail names them, as Enqueue returned their ids. A module's entry
// type implements it (on its pointer, as ledger.On decodes), and the
// e-mails are committed as queued when the entry is projected, live and in
// log verify's replay, with nothing in the module's projector.
type Queuer interface {
	QueuedMail() []string
}

// Project adds the outbox's commitments: mail.sent's projector, the
// commitment of the e-mails every entry that is a Queuer names, the
// projected table mail_committed, and the check of log verify.
func Project(p *ledger.Projections) {
	p.Every(func(ctx context.Context, q store.Queryer, _ int64, _ *ledger.Entry, data any) error {
		if m, ok := data.(Queuer); ok {
			return projectQueued(ctx, q, m.QueuedMail())
		}
		return nil
	})
	ledger.On(p, TypeSent, func(ctx context.Context, q store.Queryer, i int64, e *ledger.Entry, d *SentEntry) error {
		_, err := q.Exec(ctx, `INSERT INTO mail_committed (id, queued, sent_index) VALUES (?, 0, ?)
			ON CONFLICT (id) DO UPDATE SET sent_index = excluded.sent_index`, d.ID, i)
		return err
	})
	p.Tables(ledger.Table{Name: "mail_committed", Order: "id"})
	p.Check("mail_outbox", verifyOutbox)
}

// projectQueued commits the e-mails ids (Enqueue's answer) as queued, so
// that log verify finds one deleted from the outbox.
func projectQueued(ctx context.Context, q store.Queryer, ids []string) error {
	for _, id := range ids {
		if _, err := q.Exec(ctx, `INSERT INTO mail_committed (id, queued, sent_index) VALUES (?, 1, 0)
			ON CONFLICT (id) DO UPDATE SET queued = 1`, id); err != nil {
			return err
		}
	}
	return nil
}

// committed is the check Enqueue has the writer run once the command's
// entry is projected (ledger.AfterProject): the e-mails ids it queued must
// be committed as queued, which they are when the entry's data is a
// Queuer that names them. Otherwise the module's entry type forgot them,
// and every e-mail it queued would fail log verify as inserted behind
// custos's back: the command fails instead, naming the entry's type.
func committed(ids []string) ledger.AfterCheck {
	return func(ctx context.Context, q store.Queryer, e *ledger.Entry) error {
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		var n int
		if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM mail_committed WHERE queued = 1 AND id IN (?"+strings.Repeat(", ?", len(ids)-1)+")", args...).Scan(&n); err != nil {
			return err
		}
		if n != len(ids) {
			return fmt.Errorf("mail: entry type %s queued %d e-mail(s) but its projection commits %d: its data must implement mail.Queuer, naming the ids Enqueue returned, and be projected with ledger.On", e.Type, len(ids), n)
		}
		return nil
	}
}

// sentIndex is the subquery of the index of the mail.sent entry of the
// outbox's row (0 when the log says it was not sent).
const sentIndex = "COALESCE((SELECT c.sent_index FROM mail_committed c WHERE c.id = mail_outbox.id), 0)"

// recordSent records that the SMTP server accepted o (the row as it is to
// be written: sent): the row and its MAC, and a mail.sent entry, in one
// transaction of the writer. An e-mail the log says was sent already is
// refused (rule mail_sent): another deliverer sent it too, from a row put
// back behind custos's back while this one was sending.
func (s *Service) recordSent(ctx context.Context, o row) error {
	_, err := s.W.Submit(ctx, ledger.Actor{}, "record an e-mail sent", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		var sent int64
		err := tx.QueryRow(ctx, "SELECT sent_index FROM mail_committed WHERE id = ?", o.id).Scan(&sent)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if sent > 0 {
			return nil, errs.New(errs.Conflict, "mail_sent", "id", "e-mail %s is logged sent already, by entry %d", o.id, sent)
		}
		if _, err := tx.Exec(ctx, "UPDATE mail_outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_attempt_at = ?, last_error = ?, sent_at = ?, mac = ? WHERE id = ?",
			o.state, o.attempts, o.next, o.lastAttempt, o.lastError, o.sent, o.mac(s.Key), o.id); err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeSent, SentEntry{ID: o.id})
	})
	if e, refused := errs.As(err); refused && e.Rule == "mail_sent" {
		s.event("tampered")
		s.Log.Error("mail sent twice: the log says another deliverer sent it already (its row was put back to pending behind custos's back while it was being sent)",
			"mail", o.id)
		return nil
	}
	return err
}

// Missing lists, by id, up to limit e-mails the log says were queued that
// the outbox does not hold (deleted behind custos's back), and how many
// there are (limit 0: how many alone).
func Missing(ctx context.Context, q store.Queryer, limit int) ([]string, int, error) {
	const missing = " FROM mail_committed c WHERE c.queued = 1 AND NOT EXISTS (SELECT 1 FROM mail_outbox o WHERE o.id = c.id)"
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*)"+missing).Scan(&n); err != nil || n == 0 || limit == 0 {
		return nil, n, err
	}
	rows, err := q.Query(ctx, "SELECT c.id"+missing+" ORDER BY c.id LIMIT ?", limit)
	if err != nil {
		return nil, 0, err
	}
	ids, err := store.Rows(rows, func(r store.Scanner, id *string) error { return r.Scan(id) })
	return ids, n, err
}

// verifyOutbox is the outbox's part of log verify: the e-mails the replay
// says were queued (mail_committed, queued) must be in the live outbox,
// those it says were sent (sent_index) must be sent there, and every row
// of the outbox must be one an entry queued. It needs no key: the MACs of
// the rows are the deliverer's and the outbox list's check.
func verifyOutbox(ctx context.Context, c ledger.CheckRun) error {
	type committed struct {
		queued bool
		sent   int64
	}
	rows, err := c.Replay.Query(ctx, "SELECT id, queued, sent_index FROM mail_committed")
	if err != nil {
		return err
	}
	logged := map[string]committed{}
	for rows.Next() {
		var id string
		var queued, sent int64
		if err := rows.Scan(&id, &queued, &sent); err != nil {
			rows.Close()
			return err
		}
		logged[id] = committed{queued == 1, sent}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = c.Live.Query(ctx, "SELECT id, state FROM mail_outbox")
	if err != nil {
		return err
	}
	live := map[string]string{}
	for rows.Next() {
		var id, state string
		if err := rows.Scan(&id, &state); err != nil {
			rows.Close()
			return err
		}
		live[id] = state
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	queued, sent := 0, 0
	for _, l := range logged {
		if l.queued {
			queued++
		}
		if l.sent > 0 {
			sent++
		}
	}
	c.Covered("mail_outbox: %d e-mails the log queued and %d it logs sent, each against its row", queued, sent)
	for _, id := range slices.Sorted(maps.Keys(logged)) {
		l := logged[id]
		state, ok := live[id]
		var stop bool
		switch {
		case !ok && l.sent > 0:
			stop = c.Problem("table mail_outbox: e-mail id=%q, which entry %d logs sent, is missing from the database (deleted behind custos's back)", id, l.sent)
		case !ok:
			stop = c.Problem("table mail_outbox: e-mail id=%q, which the log says was queued, is missing from the database (deleted behind custos's back: it was not sent, or nothing shows it was)", id)
		case l.sent > 0 && state != Sent:
			stop = c.Problem("table mail_outbox: e-mail id=%q is %s in the database, but entry %d logs it sent (put back behind custos's back)", id, state, l.sent)
		}
		if stop {
			return nil
		}
	}
	for _, id := range slices.Sorted(maps.Keys(live)) {
		if logged[id].queued {
			continue
		}
		if c.Problem("table mail_outbox: row id=%q is in the database, but no entry of the log queued it (inserted behind custos's back)", id) {
			return nil
		}
	}
	return nil
}
