package mail

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
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

// FindingsEvery is how long Findings answers its last count when nothing
// it can see without reading the outbox moved: how late a row changed in
// place behind custos's back (its state, its address) may show.
const FindingsEvery = 5 * time.Minute

// outboxMark is what tells, without reading the outbox, that its findings
// may have moved: the log's size (every change custos makes to the outbox
// but a failed attempt is a leaf: an e-mail queued, sent, erased) and the
// outbox's rows, how many and the last one's seq (a row added or deleted,
// by custos or behind its back).
type outboxMark struct {
	log, rows, last int64
}

// markOf reads the mark on q: the log's head row and an index of the
// outbox, not its rows.
func markOf(ctx context.Context, q store.Queryer) (outboxMark, error) {
	var m outboxMark
	h, _, err := ledger.ReadHead(ctx, q)
	if err != nil {
		return m, err
	}
	m.log = int64(h.Size)
	err = q.QueryRow(ctx, "SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM mail_outbox").Scan(&m.rows, &m.last)
	return m, err
}

// counted is the last count of Findings and when it was made.
type counted struct {
	sync.Mutex
	ok    bool
	mark  outboxMark
	at    time.Time
	found Findings
	reads atomic.Int64
}

// Findings is Find on the registry's outbox, for its metrics, which ask at
// each scrape: the outbox is read again only when its mark moved since the
// last count (a leaf, a row added or deleted: the first scrape after it
// sees it) or when the count is FindingsEvery old (a row changed in place
// behind custos's back moves nothing else: it shows within that time).
// Scrapes at once wait for one read.
func (s *Service) Findings(ctx context.Context) (Findings, error) {
	mark, err := markOf(ctx, s.DB.Read())
	if err != nil {
		return Findings{}, err
	}
	c := &s.counted
	c.Lock()
	defer c.Unlock()
	now := s.now()
	if c.ok && c.mark == mark && !now.Before(c.at) && now.Sub(c.at) < FindingsEvery {
		return c.found, nil
	}
	f, err := Find(ctx, s.DB.Read(), s.Key)
	c.reads.Add(1)
	if err != nil {
		c.ok = false
		return Findings{}, err
	}
	c.ok, c.mark, c.at, c.found = true, mark, now, f
	return f, nil
}

// FindingsReads counts the reads of the whole outbox Findings made
// (custos_mail_outbox_reads_total).
func (s *Service) FindingsReads() int64 { return s.counted.reads.Load() }

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
