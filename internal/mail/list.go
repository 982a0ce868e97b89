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

// List reads one page of the outbox, newest first.
func List(ctx context.Context, q store.Queryer, f Filter) (page.Of[Item], error) {
	if err := f.Page.Check(page.Lists, []string{"state"}, page.Filter{Name: "state", Value: f.State, Allowed: States}); err != nil {
		return page.Of[Item]{}, err
	}
	where, args := f.Page.Where("seq", "id")
	if f.State != "" {
		where += " AND state = ?"
		args = append(args, f.State)
	}
	rows, err := q.Query(ctx, `SELECT id, created_at, address, principal_id, subject, reference, state, attempts, next_attempt_at, last_attempt_at, last_error, sent_at, seq
		FROM mail_outbox WHERE `+where+` ORDER BY seq DESC, id LIMIT ?`, append(args, f.Page.Limit+1)...)
	if err != nil {
		return page.Of[Item]{}, err
	}
	out, err := page.Read(rows, f.Page, func(sc store.Scanner, i *Item) error {
		return sc.Scan(&i.ID, &i.CreatedAt, &i.Address, &i.Principal, &i.Subject, &i.Reference, &i.State, &i.Attempts, &i.NextAttemptAt, &i.LastAttemptAt, &i.LastError, &i.SentAt)
	}, func(i *Item) string { return i.ID })
	for k := range out.Items {
		if out.Items[k].State != Pending {
			out.Items[k].NextAttemptAt = ""
		}
	}
	return out, err
}

// Administer is reading the outbox (addresses included) and sending a test
// e-mail from the web UI.
var Administer = auth.NewAction("administer e-mail", auth.Admin)

// Outbox is List for a principal who may administer e-mail.
func (s *Service) Outbox(ctx context.Context, p *auth.Principal, f Filter) (page.Of[Item], error) {
	if err := p.Require(Administer); err != nil {
		return page.Of[Item]{}, err
	}
	return List(ctx, s.DB.Read(), f)
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
