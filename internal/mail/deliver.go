package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/tick"
)

// The texts every e-mail ends with, and the test e-mail's.
var (
	referenceLine = i18n.M("Reference: %s")
	linkLine      = i18n.M("Open it in the registry: %s")
	footer        = i18n.M("This e-mail was sent automatically by the registry. It holds no personal data: sign in to read the record. Do not reply to it.")
	testSubject   = i18n.M("custos: test e-mail")
	testBody      = i18n.M("This is a test e-mail from the registry: its e-mail settings work.")
)

// Service delivers the outbox of one registry.
type Service struct {
	DB  *store.DB
	Cfg Config
	// Languages are the deployment's catalogues, which write the e-mails.
	Languages *i18n.Catalogue
	Log       *slog.Logger
	// Now is the deliverer's clock (time.Now when nil).
	Now func() time.Time
	// OnEvent, when set, is told of each event (Events) for the metrics.
	OnEvent func(event string)
	// Key is the outbox's key (derived from the master key with KeyLabel;
	// the server sets it): rows whose MAC does not match are not sent.
	Key []byte
	// W is the registry's writer: each e-mail the SMTP server accepts is
	// recorded by a mail.sent entry (committed.go). The server sets it;
	// DeliverDue needs it.
	W *ledger.Writer

	wake chan struct{}
	// counted is the last count of the outbox's findings (Findings).
	counted counted
}

// Events are the deliverer's events (Service.OnEvent): an e-mail sent, an
// attempt failed (tried again later), an e-mail failed for good, an e-mail
// not sent because its row does not carry its MAC (changed behind custos's
// back; marked failed) or because the log says it was sent already (its
// row put back behind custos's back; marked failed too).
var Events = []string{"sent", "attempt_failed", "failed", "tampered"}

// New returns the deliverer of db's outbox.
func New(db *store.DB, cfg Config, languages *i18n.Catalogue, log *slog.Logger) *Service {
	return &Service{DB: db, Cfg: cfg.withDefaults(), Languages: languages, Log: log, wake: make(chan struct{}, 1)}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) event(e string) {
	if s.OnEvent != nil {
		s.OnEvent(e)
	}
}

// Wake makes a running deliverer look for e-mails due now.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run delivers the outbox until ctx ends. The outbox and its schedule are
// the database's, so a restart resumes where the last run stopped; several
// processes on one database may run it at once (each e-mail is claimed by
// one before it is sent).
func (s *Service) Run(ctx context.Context) {
	tick.Run(ctx, s.Cfg.Poll, s.wake, s.DeliverDue, func(err error) { s.Log.Error("mail deliverer", "err", err) })
}

// DeliverDue tries once every e-mail due now.
func (s *Service) DeliverDue(ctx context.Context) error {
	if s.W == nil {
		return errors.New("mail: the deliverer has no writer to record the e-mails it sends")
	}
	rows, err := s.DB.Read().Query(ctx, `SELECT `+columns+`, `+sentIndex+`
		FROM mail_outbox WHERE state = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 100`, Pending, ledger.FormatTime(s.now()))
	if err != nil {
		return err
	}
	type due struct {
		row
		mac  string
		sent int64
	}
	list, err := store.Rows(rows, func(sc store.Scanner, d *due) error { return d.row.scan(sc, &d.mac, &d.sent) })
	if err != nil {
		return err
	}
	for _, d := range list {
		if ctx.Err() != nil {
			return nil
		}
		if !d.intact(s.Key, d.mac) {
			if err := s.refuse(ctx, d.row, d.mac); err != nil {
				return err
			}
			continue
		}
		if d.sent > 0 {
			if err := s.replayed(ctx, d.row, d.mac, d.sent); err != nil {
				return err
			}
			continue
		}
		if err := s.deliver(ctx, d.row, d.mac); err != nil {
			return err
		}
	}
	return nil
}

// refuse marks failed, unsent, an e-mail whose row does not carry its MAC
// (its address, text or schedule changed behind custos's back, or queued
// before core migration 20), and says so in the server log and the
// metrics. Its MAC is left as it was, so the outbox still shows it changed.
func (s *Service) refuse(ctx context.Context, o row, mac string) error {
	n, err := s.write(ctx, "UPDATE mail_outbox SET state = ?, last_error = ? WHERE id = ? AND state = ? AND mac = ?",
		Failed, "not sent: this row does not carry the registry's MAC (changed outside custos)", o.id, Pending, mac)
	if err != nil || n == 0 {
		return err // another deliverer refused it, or it changed again
	}
	s.event("tampered")
	s.Log.Error("mail not sent: its row in the outbox does not carry the registry's MAC (written or changed behind custos's back); marked failed",
		"mail", o.id)
	return nil
}

// replayed marks failed, unsent again, an e-mail whose row carries its MAC
// but which the log says was sent (entry sent): its row was put back to a
// pending state it had, with that state's MAC, behind custos's back. Its
// MAC is left as it was, so that the outbox shows it changed.
func (s *Service) replayed(ctx context.Context, o row, mac string, sent int64) error {
	n, err := s.write(ctx, "UPDATE mail_outbox SET state = ?, last_error = ? WHERE id = ? AND state = ? AND mac = ?",
		Failed, fmt.Sprintf("not sent again: entry %d of the log says it was sent (its row was put back behind custos's back)", sent), o.id, Pending, mac)
	if err != nil || n == 0 {
		return err
	}
	s.event("tampered")
	s.Log.Error("mail not sent again: the log says it was sent, and its row in the outbox was put back to pending behind custos's back; marked failed",
		"mail", o.id, "sent_entry", sent)
	return nil
}

// claimFor is how long an e-mail a deliverer took stays its own: another
// process on the database does not send it meanwhile.
const claimFor = 5 * time.Minute

// update writes o's columns that an attempt changes, with o's MAC, where
// the row is still as its MAC mac (when not empty) says; it returns
// whether it wrote.
func (s *Service) update(ctx context.Context, o row, mac string) (bool, error) {
	q := "UPDATE mail_outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_attempt_at = ?, last_error = ?, sent_at = ?, mac = ? WHERE id = ?"
	args := []any{o.state, o.attempts, o.next, o.lastAttempt, o.lastError, o.sent, o.mac(s.Key), o.id}
	if mac != "" {
		q += " AND mac = ?"
		args = append(args, mac)
	}
	n, err := s.write(ctx, q, args...)
	return n > 0, err
}

// deliver claims, sends and records one e-mail, read with its MAC mac.
func (s *Service) deliver(ctx context.Context, o row, mac string) error {
	now := s.now()
	claimed := o
	claimed.next = ledger.FormatTime(now.Add(claimFor))
	if ok, err := s.update(ctx, claimed, mac); err != nil || !ok {
		return err // another deliverer took it
	}
	msg, err := s.compose(ctx, o)
	if err == nil {
		err = s.Cfg.send(ctx, s.Cfg.From, o.address, msg)
	}
	if err != nil && ctx.Err() != nil {
		// Shutting down mid-attempt: give the e-mail back, due when it was,
		// for the next run (or another server) to send.
		_, err := s.update(context.WithoutCancel(ctx), o, claimed.mac(s.Key))
		return err
	}
	ctx = context.WithoutCancel(ctx) // the attempt ended: record it whatever happens now
	now = s.now()
	at := ledger.FormatTime(now)
	done := claimed
	done.attempts, done.lastAttempt = o.attempts+1, at
	if err == nil {
		s.event("sent")
		done.state, done.sent, done.lastError = Sent, at, ""
		return s.recordSent(ctx, done)
	}
	text := answer(err)
	if len(text) > 500 {
		text = text[:500]
	}
	done.lastError = text
	created, _ := time.Parse(ledger.TimeLayout, o.created)
	if Permanent(err) || now.Sub(created) >= s.Cfg.MaxAge {
		s.event("failed")
		s.Log.Error("mail not delivered: given up", "mail", o.id, "attempt", done.attempts, "err", logged(err))
		done.state = Failed
		_, err = s.update(ctx, done, "")
		return err
	}
	wait := s.Cfg.RetryBase << min(done.attempts-1, 30)
	if wait <= 0 || wait > s.Cfg.RetryMax {
		wait = s.Cfg.RetryMax
	}
	s.event("attempt_failed")
	s.Log.Warn("mail delivery failed; will try again", "mail", o.id, "attempt", done.attempts, "retry_in", wait.String(), "err", logged(err))
	done.next = ledger.FormatTime(now.Add(wait))
	_, err = s.update(ctx, done, "")
	return err
}

// Permanent tells whether err is the SMTP server's refusal for good (a 5xx
// reply), rather than one worth trying again.
func Permanent(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te) && te.Code >= 500
}

// answer is what the outbox keeps of a failure: the SMTP server's reply
// as it wrote it, or the connection's error.
func answer(err error) string {
	var te *textproto.Error
	if errors.As(err, &te) {
		return fmt.Sprintf("%d %s", te.Code, te.Msg)
	}
	return err.Error()
}

// logged is what the server's log says of a failure: an SMTP reply's code
// alone (its text may repeat the address), or the connection's error.
func logged(err error) string {
	var te *textproto.Error
	if errors.As(err, &te) {
		return fmt.Sprintf("the SMTP server replied %d", te.Code)
	}
	return err.Error()
}

func (s *Service) write(ctx context.Context, q string, args ...any) (int64, error) {
	tx, err := s.DB.BeginWrite(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	r, err := tx.Exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, err
	}
	return n, tx.Commit()
}

// localizer is the language an e-mail is written in: its principal's
// preference, else its recipient's language, else the registry's.
func (s *Service) localizer(ctx context.Context, principal, language string) *i18n.Localizer {
	var pref string
	if principal != "" {
		if err := s.DB.Read().QueryRow(ctx, "SELECT language FROM principals WHERE id = ?", principal).Scan(&pref); err != nil {
			pref = ""
		}
	}
	for _, code := range []string{pref, language, s.Cfg.Language} {
		if _, ok := s.Languages.Language(code); ok && code != "" {
			return s.Languages.Localizer(code)
		}
	}
	return s.Languages.English()
}

// compose writes one queued e-mail in its recipient's language.
func (s *Service) compose(ctx context.Context, o row) ([]byte, error) {
	var a args
	if err := json.Unmarshal([]byte(o.args), &a); err != nil {
		return nil, fmt.Errorf("mail %s: its arguments do not read: %w", o.id, err)
	}
	l := s.localizer(ctx, o.principal, o.language)
	subject := l.T(o.subject, anys(a.Subject)...)
	body := l.T(o.body, anys(a.Body)...)
	if o.reference != "" {
		body += "\n\n" + l.T(referenceLine, o.reference)
	}
	if o.link != "" {
		body += "\n" + l.T(linkLine, strings.TrimSuffix(s.Cfg.BaseURL, "/")+o.link)
	}
	body += "\n\n-- \n" + l.T(footer) + "\n"
	return message(s.Cfg.From, o.address, o.id, l.Code(), subject, body, s.now()), nil
}

// Test sends a test e-mail to address at once, not through the outbox, and
// returns the SMTP conversation's error: how an operator checks the
// settings (custos mail test).
func (s *Service) Test(ctx context.Context, address, language string) error {
	to, err := ParseAddress("to", address)
	if err != nil {
		return err
	}
	l := s.localizer(ctx, "", language)
	id := ledger.NewIDs(rand.Reader).New("MT")
	return s.Cfg.send(ctx, s.Cfg.From, to, message(s.Cfg.From, to, id, l.Code(), l.T(testSubject), l.T(testBody)+"\n\n-- \n"+l.T(footer)+"\n", s.now()))
}

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// message is the RFC 5322 text of an e-mail: plain text in UTF-8,
// quoted-printable, marked as sent automatically (RFC 3834) so that
// auto-responders do not answer it.
func message(from, to, id, lang, subject, body string, at time.Time) []byte {
	var b bytes.Buffer
	oneLine := strings.NewReplacer("\r", " ", "\n", " ")
	domain := from[strings.LastIndexByte(from, '@')+1:]
	// Encoded words (RFC 2047), one header line each, so that a subject in
	// any script stays within SMTP's line length.
	subj := strings.ReplaceAll(mime.BEncoding.Encode("utf-8", oneLine.Replace(subject)), "?= =?", "?=\r\n =?")
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\n", from, to,
		subj, at.UTC().Format(time.RFC1123Z), id, domain)
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Language: %s\r\nAuto-Submitted: auto-generated\r\n\r\n", lang)
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n")))
	w.Close()
	return b.Bytes()
}

// send runs one SMTP conversation: one sender, one recipient, one message.
func (c Config) send(ctx context.Context, from, to string, msg []byte) error {
	if !c.Enabled() {
		return errors.New("no SMTP server is configured (--smtp-addr)")
	}
	c = c.withDefaults()
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return err
	}
	d := net.Dialer{Timeout: c.Timeout}
	conn, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	conn.SetDeadline(time.Now().Add(c.Timeout))
	tc := &tls.Config{ServerName: host, RootCAs: c.RootCAs, MinVersion: tls.VersionTLS12}
	if c.TLS == ImplicitTLS {
		conn = tls.Client(conn, tc)
	}
	cl, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer cl.Close()
	if c.TLS == StartTLS || c.TLS == StartTLSOptional {
		if ok, _ := cl.Extension("STARTTLS"); ok {
			if err := cl.StartTLS(tc); err != nil {
				return err
			}
		} else if c.TLS == StartTLS {
			return errors.New("the SMTP server does not offer STARTTLS, which --smtp-tls starttls requires")
		}
	}
	if c.User != "" {
		// The password goes over TLS only, whatever the host (net/smtp
		// would send it in clear to a server on loopback).
		if _, ok := cl.TLSConnectionState(); !ok {
			return errors.New("the SMTP server did not offer STARTTLS, and the password (--smtp-user) is sent over TLS only: use --smtp-tls starttls or tls with a server that offers it")
		}
		if err := cl.Auth(smtp.PlainAuth("", c.User, c.Password, host)); err != nil {
			return err
		}
	}
	if err := cl.Mail(from); err != nil {
		return err
	}
	if err := cl.Rcpt(to); err != nil {
		return err
	}
	w, err := cl.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	// The server has accepted the message: a failed goodbye must not send
	// it again.
	cl.Quit()
	return nil
}
