package auth

import (
	"context"
	"crypto/rand"
	"io"
	"strings"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
)

// Authorities creates authorities and principals: the one way the API, the web UI
// and the demo do it.
type Authorities struct {
	W         *ledger.Writer
	Catalogue *Catalogue
	// Tokens is the randomness of new tokens (crypto/rand when nil).
	Tokens io.Reader
	// Languages are the codes of the languages the deployment speaks,
	// which a principal may choose (Preferences.Language).
	Languages []string
}

// CreateAuthority creates an authority; only an administrator may.
func (s *Authorities) CreateAuthority(ctx context.Context, p *Principal, in NewAuthority) (*Authority, error) {
	if err := p.Require(ManageAuthorities); err != nil {
		return nil, err
	}
	cmd, err := s.Catalogue.CreateAuthority(in, s.W.IDs())
	if err != nil {
		return nil, err
	}
	return ledger.SubmitAs[Authority](ctx, s.W, p.Actor(), "create authority", cmd)
}

// CreatedPrincipal is a new principal with the token to hand over once.
type CreatedPrincipal struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Role        Role   `json:"role"`
	AuthorityID string `json:"authority_id"`
	Token       string `json:"token"`
}

// CreatePrincipal creates a principal and returns its token, which custos
// keeps only as a hash; only an administrator may.
func (s *Authorities) CreatePrincipal(ctx context.Context, p *Principal, in NewPrincipal) (*CreatedPrincipal, error) {
	if err := p.Require(ManageAuthorities); err != nil {
		return nil, err
	}
	tokens := s.Tokens
	if tokens == nil {
		tokens = rand.Reader
	}
	cmd, token, err := s.Catalogue.CreatePrincipal(in, s.W.IDs(), tokens)
	if err != nil {
		return nil, err
	}
	c, err := ledger.SubmitAs[PrincipalCreated](ctx, s.W, p.Actor(), "create principal", cmd)
	if err != nil {
		return nil, err
	}
	return &CreatedPrincipal{ID: c.ID, Name: c.Name, Role: c.Role, AuthorityID: c.AuthorityID, Token: token}, nil
}

// RevokePrincipal revokes a principal's token; only an administrator may, and
// never their own (they would be signed out for good; another can).
func (s *Authorities) RevokePrincipal(ctx context.Context, p *Principal, id string) error {
	if err := p.Require(ManageAuthorities); err != nil {
		return err
	}
	id = strings.TrimSpace(id)
	if id == p.ID {
		return errs.New(errs.Conflict, "own_token", "id", "you may not revoke your own token: you would be signed out for good; another administrator can")
	}
	_, err := s.W.Submit(ctx, p.Actor(), "revoke principal", RevokePrincipal(id))
	return err
}

// SetPreferences records the signed-in principal's own preferences (a log
// entry) and returns the principal as they now are. Every principal may
// set theirs, and only theirs.
func (s *Authorities) SetPreferences(ctx context.Context, p *Principal, in Preferences) (*Principal, error) {
	if p == nil {
		return nil, errs.New(errs.Unauthorized, "authentication", "", "sign in with a bearer token")
	}
	cmd, err := SetPreferences(p.ID, in, s.Languages)
	if err != nil {
		return nil, err
	}
	if _, err := s.W.Submit(ctx, p.Actor(), "set preferences", cmd); err != nil {
		return nil, err
	}
	out := *p
	if in.TimeZone != nil {
		out.TimeZone = strings.TrimSpace(*in.TimeZone)
	}
	if in.Language != nil {
		out.Language = strings.TrimSpace(*in.Language)
	}
	return &out, nil
}
