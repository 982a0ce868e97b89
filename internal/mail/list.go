package mail

import (
	"context"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/store"
)

// Item is one e-mail as the outbox lists it: what it is about and where it
// stands, not its text (which is written when it is sent).
type Item struct {
	ID            string `json:"id"`
	CreatedAt     string `json:"created_at"`
	Address       string `json:"address"`
	Principal     string `json:"principal,omitempty"`
	Subject       string `json:"subject"`
	Reference     string `json:"reference,omitempty"`
	State         string `json:"state"`
	Attempts      int64  `json:"attempts"`
	NextAttemptAt string `json:"next_attempt_at,omitempty"`
	LastAttemptAt string `json:"last_attempt_at,omitempty"`
	LastError     string `json:"last_error,omitempty"`
	SentAt        string `json:"sent_at,omitempty"`
	// Tampered: the row does not carry the registry's MAC, so nothing in
	// it, its state included, is what custos wrote (it was changed
	// behind custos's back, or queued before core migration 20); or it
	// does, but it is not sent and the log says it was (SentEntry): its
	// row was put back to an earlier state.
	Tampered bool `json:"tampered,omitempty"`
	// SentEntry is the index of the mail.sent entry that logs it sent (0:
	// the log says it was not, or it was sent before core migration 21).
	SentEntry int64 `json:"sent_entry,omitempty"`
}

// Filter is a page of the outbox, all states or one.
type Filter struct {
	State string
	Page  page.Request
}

// FilterOf reads a filter from the parameters of a list request (state,
// limit, cursor), refusing others.
func FilterOf(q map[string][]string) (Filter, error) {
	r, err := page.Parse(q, page.Lists, "state")
	if err != nil {
		return Filter{}, err
	}
	f := Filter{Page: r}
	if v := q["state"]; len(v) > 0 {
		f.State = v[0]
	}
	return f, nil
}

// List reads one page of the outbox, newest first, each e-mail checked
// against its MAC under key (the outbox's).
func List(ctx context.Context, q store.Queryer, key []byte, f Filter) (page.Of[Item], error) {
	if err := f.Page.Check(page.Lists, []string{"state"}, page.Filter{Name: "state", Value: f.State, Allowed: States}); err != nil {
		return page.Of[Item]{}, err
	}
	where, args := f.Page.Where("seq", "id")
	if f.State != "" {
		where += " AND state = ?"
		args = append(args, f.State)
	}
	rows, err := q.Query(ctx, `SELECT `+columns+`, `+sentIndex+`, seq FROM mail_outbox WHERE `+where+` ORDER BY seq DESC, id LIMIT ?`, append(args, f.Page.Limit+1)...)
	if err != nil {
		return page.Of[Item]{}, err
	}
	out, err := page.Read(rows, f.Page, func(sc store.Scanner, i *Item) error {
		var r row
		var mac string
		var sent int64
		if err := r.scan(sc, &mac, &sent); err != nil {
			return err
		}
		*i = Item{ID: r.id, CreatedAt: r.created, Address: r.address, Principal: r.principal, Subject: r.subject, Reference: r.reference,
			State: r.state, Attempts: r.attempts, NextAttemptAt: r.next, LastAttemptAt: r.lastAttempt, LastError: r.lastError, SentAt: r.sent,
			Tampered: r.tampered(key, mac, sent), SentEntry: sent}
		if i.State != Pending {
			i.NextAttemptAt = ""
		}
		return nil
	}, func(i *Item) string { return i.ID })
	return out, err
}

// tampered tells whether the outbox lists a row read with its MAC mac and
// the index sent of the mail.sent entry the log has of it (0: none) as
// tampered (Item.Tampered).
func (r *row) tampered(key []byte, mac string, sent int64) bool {
	return !r.intact(key, mac) || sent > 0 && r.state != Sent
}

// Findings are what the outbox holds that custos did not write: e-mails
// the log says were queued that the outbox lacks (Missing), and rows it
// lists as tampered (Item.Tampered).
type Findings struct {
	Missing, Tampered int
}

// Find counts the outbox's findings, each row checked against its MAC
// under key (the outbox's): one read of the whole outbox, which holds
// notifications, few.
func Find(ctx context.Context, q store.Queryer, key []byte) (Findings, error) {
	_, missing, err := Missing(ctx, q, 0)
	if err != nil {
		return Findings{}, err
	}
	rows, err := q.Query(ctx, `SELECT `+columns+`, `+sentIndex+` FROM mail_outbox`)
	if err != nil {
		return Findings{}, err
	}
	f := Findings{Missing: missing}
	for rows.Next() {
		var r row
		var mac string
		var sent int64
		if err := r.scan(rows, &mac, &sent); err != nil {
			rows.Close()
			return Findings{}, err
		}
		if r.tampered(key, mac, sent) {
			f.Tampered++
		}
	}
	rows.Close()
	return f, rows.Err()
}

// Findings is Find on the registry's outbox, for its metrics.
func (s *Service) Findings(ctx context.Context) (Findings, error) {
	return Find(ctx, s.DB.Read(), s.Key)
}

// Administer is reading the outbox (addresses included) and sending a test
// e-mail from the web UI.
var Administer = auth.NewAction("administer e-mail", auth.Admin)

// Outbox is List for a principal who may administer e-mail.
func (s *Service) Outbox(ctx context.Context, p *auth.Principal, f Filter) (page.Of[Item], error) {
	if err := p.Require(Administer); err != nil {
		return page.Of[Item]{}, err
	}
	return List(ctx, s.DB.Read(), s.Key, f)
}

// MissingOf is Missing for a principal who may administer e-mail: the
// e-mails the log says were queued that the outbox lacks (up to 100, and
// how many).
func (s *Service) MissingOf(ctx context.Context, p *auth.Principal) ([]string, int, error) {
	if err := p.Require(Administer); err != nil {
		return nil, 0, err
	}
	return Missing(ctx, s.DB.Read(), 100)
}

// SendTest sends a test e-mail to address at once, in p's language, for a
// principal who may administer e-mail; the SMTP server's refusal or
// failure comes back as a refusal naming the server's answer.
func (s *Service) SendTest(ctx context.Context, p *auth.Principal, address string) error {
	if err := p.Require(Administer); err != nil {
		return err
	}
	if !s.Cfg.Enabled() {
		return errs.New(errs.Unavailable, "smtp", "", "this server sends no e-mail: it was started without --smtp-addr")
	}
	to, err := ParseAddress("to", address)
	if err != nil {
		return err
	}
	if err := s.Test(ctx, to, p.Language); err != nil {
		return errs.New(errs.Unavailable, "smtp", "to", "the test e-mail was not sent: %s", answer(err))
	}
	return nil
}
