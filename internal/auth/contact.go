package auth

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// Contact is an authority's notification contact, as the administrator
// sets it: the functional e-mail address the registry writes to when a
// module notifies the authority (a vigilance desk's, vigilance@centre.example,
// never a person's own), and the language of those e-mails, a code the
// deployment speaks or "" for the registry's. An empty Email removes the
// contact: the authority is then notified in the web UI only.
type Contact struct {
	Email    string `json:"email"`
	Language string `json:"language"`
}

// contactSet is the data of an authority.contact_set leaf: the contact as
// it is after it.
type contactSet struct {
	ID       string `json:"id"`
	Email    string `json:"email"`
	Language string `json:"language"`
}

// SetContact returns the command that records authority id's notification
// contact: an e-mail address (rule email, field email; "" to remove it) and
// a language of spoken (rule language, field language; "" for the
// registry's), given only with an address.
func SetContact(id string, in Contact, spoken []string) (ledger.Decide, error) {
	c := contactSet{ID: strings.TrimSpace(id), Language: strings.TrimSpace(in.Language)}
	if c.ID == "" {
		return nil, errs.Invalidf("required", "id", "%s is required", "id")
	}
	if strings.TrimSpace(in.Email) != "" {
		var err error
		if c.Email, err = check.Email("email", in.Email); err != nil {
			return nil, err
		}
	} else if c.Language != "" {
		return nil, errs.Invalidf("required", "email", "a language is for the e-mails to an address: give email too")
	}
	if c.Language != "" {
		if err := CheckLanguage(c.Language, spoken); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM authorities WHERE id = ?", c.ID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.New(errs.NotFound, "reference", "id", "no authority %s", c.ID)
		}
		if err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeContactSet, c)
	}, nil
}

// SetContact records an authority's notification contact (an
// authority.contact_set entry) and returns the authority as it now is;
// only an administrator may.
func (s *Authorities) SetContact(ctx context.Context, p *Principal, id string, in Contact) (*Authority, error) {
	if err := p.Require(ManageAuthorities); err != nil {
		return nil, err
	}
	cmd, err := SetContact(id, in, s.Languages)
	if err != nil {
		return nil, err
	}
	if _, err := s.W.Submit(ctx, p.Actor(), "set authority contact", cmd); err != nil {
		return nil, err
	}
	return GetAuthority(ctx, s.W.DB().Read(), strings.TrimSpace(id))
}

// ContactsOfKind reads the notification contacts of the authorities of a
// kind (the regulator's, say), by id: those with an address only.
func ContactsOfKind(ctx context.Context, q store.Queryer, kind string) (map[string]Contact, error) {
	rows, err := q.Query(ctx, "SELECT id, notify_email, notify_language FROM authorities WHERE kind = ? AND notify_email <> '' ORDER BY id", kind)
	if err != nil {
		return nil, err
	}
	type row struct {
		id string
		c  Contact
	}
	rs, err := store.Rows(rows, func(r store.Scanner, x *row) error { return r.Scan(&x.id, &x.c.Email, &x.c.Language) })
	out := map[string]Contact{}
	for _, r := range rs {
		out[r.id] = r.c
	}
	return out, err
}

// ContactOf reads the notification contacts of the authorities ids, by id:
// those with an address only.
func ContactOf(ctx context.Context, q store.Queryer, ids []string) (map[string]Contact, error) {
	out := map[string]Contact{}
	for _, id := range ids {
		var c Contact
		err := q.QueryRow(ctx, "SELECT notify_email, notify_language FROM authorities WHERE id = ?", id).Scan(&c.Email, &c.Language)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if c.Email != "" {
			out[id] = c
		}
	}
	return out, nil
}
