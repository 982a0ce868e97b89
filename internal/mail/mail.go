// Package mail is custos's e-mail: notifications a module queues in the
// write transaction of the command that causes them, kept in a durable
// outbox in the database (core migration 9, mail_outbox), and sent over SMTP
// by a deliverer that custos serve runs, with a doubling wait between
// attempts, until the server accepts the message or refuses it for good.
//
// # Sending a notification from a module
//
// A module queues its e-mails inside its command's Decide, so that the
// notification (its entry and projected rows) and its e-mails are committed
// together or not at all, and a refused command queues nothing:
//
//	var (
//		saeSubject = i18n.M("Serious adverse event %s: please acknowledge")
//		saeBody    = i18n.M("A serious adverse event was reported for an organ your centre received (report %s). Sign in to read it and acknowledge receipt.")
//	)
//
//	_, err := ledger.SubmitAs[Notified](ctx, s.W, p.Actor(), "notify", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
//		// ... validate, read the recipients ...
//		ids, err := mail.Enqueue(ctx, tx, s.MailKey, mail.Message{
//			ID:          s.W.IDs().New("ML"), // optional; random when empty
//			At:          now,
//			To:          []mail.Recipient{{Address: "vigilance@centre.example", Principal: coordinatorID}},
//			Subject:     saeSubject, SubjectArgs: []string{reportID},
//			Body:        saeBody, BodyArgs: []string{reportID},
//			Reference:   reportID,
//			Link:        "/transplant/vigilance/" + reportID,
//		})
//		if err != nil {
//			return nil, err
//		}
//		return ledger.NewEntry(TypeNotified, Notified{Report: reportID, Mail: ids})
//	})
//
//	// Notified names the e-mails its command queued (mail.Queuer).
//	func (n *Notified) QueuedMail() []string { return n.Mail }
//
// MailKey is the outbox's key (the server's App.Mail.Key, which it derives
// from the master key with KeyLabel): each row carries an HMAC of all its
// columns under it, and the deliverer sends only rows whose MAC matches.
//
// Subject and Body are message IDs of the module's catalogue (marked with
// i18n.M, translated like every other text); SubjectArgs and BodyArgs fill
// their fmt verbs. Each recipient gets one e-mail, written when it is sent in
// their language: the language of the principal named (auth.Principal.Language),
// else the recipient's Language, else the registry's (custos serve
// --mail-language). Enqueue returns the e-mails' ids (Message.ID, then "-1",
// "-2" … per recipient): put them in the command's entry, whose data type
// names them by implementing Queuer (on its pointer), so that the log says
// which e-mails the command queued and commits them as queued when the
// entry is projected (Project does, for every module's entries), and log
// verify finds one deleted from the outbox (committed.go). A command whose
// entry does not name them fails, at its first run: the writer checks,
// once the entry is projected, that every e-mail Enqueue queued in it is
// committed (ledger.AfterProject). Principals hold no e-mail address
// in the registry: the module gives the Address (a centre's vigilance
// contact, a foreign registry's) and may name the principal it is for.
//
// A module's tests send to a real SMTP server on the loopback:
// mailtest.Start gives one (its Refuse queues 4xx or 5xx replies), the
// registry is opened with server.Config.Mail = mail.Config{Addr: srv.Addr,
// TLS: mail.NoTLS, From: "registry@example.org"}, and App.Mail.DeliverDue
// sends what is due (custos serve runs it every few seconds and after each
// commit); mailtest.Server.Wait returns what the server received.
//
// # What an e-mail may hold
//
// E-mail leaves the registry in clear through servers custos does not
// control, and copies stay in mailboxes for years. So an e-mail carries a
// reference and a link into the web UI, where the reader signs in and the
// registry checks their rights and logs what they open; never a patient's
// or donor's name, national identifier, date of birth, or any clinical
// detail. Arguments are one line of at most 200 characters each (Enqueue
// refuses others); keep them to identifiers, dates, counts and codes. The
// deliverer never logs an e-mail's subject or body, nor its address: its
// log lines name the e-mail's id.
package mail

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// The states of an e-mail in the outbox.
const (
	Pending = "pending" // waiting for its next attempt
	Sent    = "sent"    // the SMTP server accepted it
	Failed  = "failed"  // refused for good (5xx) or still refused when MaxAge passed
)

// States are the outbox's states, for its filter.
var States = []string{Pending, Sent, Failed}

// KeyLabel is the label of the outbox's key, derived from the master key
// (server.Keys.Derive). The outbox is not in the log, so whoever can write
// the database could change an e-mail's address, subject or text, or mark
// an unsent one sent; each row carries an HMAC-SHA-256 of all its columns
// under this key instead (core migration 20), which they cannot make
// without the key file.
const KeyLabel = "custos mail outbox key v1"

// row is a row of mail_outbox as its MAC covers it: every column.
type row struct {
	id, created, address, principal, language, subject, body, args, reference, link, state, next, lastAttempt, lastError, sent string
	seq, attempts                                                                                                              int64
}

// columns are row's columns, in the order of row.scan.
const columns = "id, seq, created_at, address, principal_id, language, subject, body, args, reference, link, state, attempts, next_attempt_at, last_attempt_at, last_error, sent_at, mac"

// scan reads a row's columns (columns) and its stored MAC.
func (r *row) scan(sc store.Scanner, mac *string, more ...any) error {
	return sc.Scan(append([]any{&r.id, &r.seq, &r.created, &r.address, &r.principal, &r.language, &r.subject, &r.body, &r.args,
		&r.reference, &r.link, &r.state, &r.attempts, &r.next, &r.lastAttempt, &r.lastError, &r.sent, mac}, more...)...)
}

// mac is the HMAC-SHA-256 (hex) of the row under key: each column's length
// and bytes, in order, so that no two rows share one.
func (r *row) mac(key []byte) string {
	return store.RowMAC(key, "", r.id, strconv.FormatInt(r.seq, 10), r.created, r.address, r.principal, r.language, r.subject, r.body, r.args,
		r.reference, r.link, r.state, strconv.FormatInt(r.attempts, 10), r.next, r.lastAttempt, r.lastError, r.sent)
}

// intact tells whether mac is the row's under key.
func (r *row) intact(key []byte, mac string) bool {
	return hmac.Equal([]byte(mac), []byte(r.mac(key)))
}

// Recipient is whom one e-mail goes to.
type Recipient struct {
	// Address is where it goes (RFC 5322 addr-spec, as net/mail reads it).
	Address string `json:"address"`
	// Principal, when set, is the principal it is for: their language
	// preference chooses the e-mail's.
	Principal string `json:"principal,omitempty"`
	// Language is the language to write in when no principal's preference
	// says (a code the deployment speaks); empty for the registry's.
	Language string `json:"language,omitempty"`
}

// Message is a notification to queue: one e-mail per recipient.
type Message struct {
	// ID names the e-mails (ID-1, ID-2, … per recipient); random when empty.
	ID string
	// At is when it is queued (the command's time); now when zero.
	At          time.Time
	To          []Recipient
	Subject     i18n.Msg // a message ID, translated when sent
	SubjectArgs []string
	Body        i18n.Msg // a message ID, translated when sent
	BodyArgs    []string
	// Reference is what the e-mail is about (a report's id), written in
	// the e-mail and shown in the outbox.
	Reference string
	// Link is a path of the web UI ("/transplant/…"), written in the e-mail
	// after the registry's address (--mail-base-url).
	Link string
}

// args is how the arguments are stored.
type args struct {
	Subject []string `json:"subject"`
	Body    []string `json:"body"`
}

// maxArg bounds each argument: references, dates and codes, not texts.
const maxArg = 200

// Enqueue validates m and queues its e-mails in tx, the write transaction
// of the command that causes them (a Decide: ctx is the one the writer
// gave it), each row with its MAC under key (the outbox's), returning
// their ids, which the command's entry must name (Queuer): the writer
// fails the command otherwise, once its entry is projected. A refusal
// names the rule and the field, and queues nothing.
func Enqueue(ctx context.Context, tx *store.Tx, key []byte, m Message) ([]string, error) {
	if len(m.To) == 0 {
		return nil, errs.Invalidf("required", "to", "%s is required", "to")
	}
	if m.Subject == "" {
		return nil, errs.Invalidf("required", "subject", "%s is required", "subject")
	}
	if m.Body == "" {
		return nil, errs.Invalidf("required", "body", "%s is required", "body")
	}
	for _, l := range []struct {
		field string
		v     []string
	}{{"subject_args", m.SubjectArgs}, {"body_args", m.BodyArgs}} {
		for i, a := range l.v {
			if _, err := check.Line(check.Index(l.field, i), a, maxArg, false); err != nil {
				return nil, err
			}
		}
	}
	ref, err := check.Line("reference", m.Reference, maxArg, false)
	if err != nil {
		return nil, err
	}
	link, err := check.Line("link", m.Link, 1000, false)
	if err != nil {
		return nil, err
	}
	if link != "" && (!strings.HasPrefix(link, "/") || strings.HasPrefix(link, "//")) {
		return nil, errs.Invalidf("link", "link", "link must be a path of the web UI, starting with one /")
	}
	to := make([]Recipient, len(m.To))
	for i, r := range m.To {
		f := check.Index("to", i)
		a, err := ParseAddress(f+".address", r.Address)
		if err != nil {
			return nil, err
		}
		to[i] = Recipient{Address: a, Principal: r.Principal, Language: r.Language}
		if r.Principal != "" {
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM principals WHERE id = ?", r.Principal).Scan(&n); err != nil {
				return nil, err
			}
			if n == 0 {
				return nil, errs.Invalidf("not_found", f+".principal", "no principal %s", r.Principal)
			}
		}
		if _, err := check.Line(f+".language", r.Language, 35, false); err != nil {
			return nil, err
		}
	}
	at := m.At
	if at.IsZero() {
		at = time.Now()
	}
	id := m.ID
	if id == "" {
		id = ledger.NewIDs(rand.Reader).New("ML")
	}
	a, err := json.Marshal(args{Subject: nonNil(m.SubjectArgs), Body: nonNil(m.BodyArgs)})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(to))
	for i := range to {
		ids[i] = fmt.Sprintf("%s-%d", id, i+1)
	}
	if err := ledger.AfterProject(ctx, committed(ids)); err != nil {
		return nil, fmt.Errorf("mail: e-mails are queued in a command's Decide, which its entry commits to: %w", err)
	}
	var seq int64
	if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(seq), 0) FROM mail_outbox").Scan(&seq); err != nil {
		return nil, err
	}
	now := ledger.FormatTime(at)
	for i, r := range to {
		seq++
		o := row{id: ids[i], seq: seq, created: now, address: r.Address, principal: r.Principal, language: r.Language,
			subject: m.Subject, body: m.Body, args: string(a), reference: ref, link: link, state: Pending, next: now}
		if _, err := tx.Exec(ctx, `INSERT INTO mail_outbox (`+columns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			o.id, o.seq, o.created, o.address, o.principal, o.language, o.subject, o.body, o.args, o.reference, o.link,
			o.state, o.attempts, o.next, o.lastAttempt, o.lastError, o.sent, o.mac(key)); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ParseAddress reads one e-mail address (check.Email): its addr-spec, or
// a refusal naming field (rule email, or required when empty).
func ParseAddress(field, s string) (string, error) { return check.Email(field, s) }
