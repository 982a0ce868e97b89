package auth

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// OIDCConfig is the sign-in through an OpenID Connect identity provider
// (Keycloak, Active Directory Federation Services, Entra ID, ...): the
// provider, custos's client there, and which of the provider's accounts
// get which custos role, for which authority. custos serve reads it from
// the JSON file of --oidc-config (docs/operations.md, OpenID Connect).
type OIDCConfig struct {
	// Issuer is the provider's issuer URL, whose
	// /.well-known/openid-configuration custos reads at start.
	Issuer string `json:"issuer"`
	// ClientID and the client secret are custos's client at the provider;
	// the secret is given inline or, better, in ClientSecretFile.
	ClientID         string `json:"client_id"`
	ClientSecret     string `json:"client_secret"`
	ClientSecretFile string `json:"client_secret_file"`
	// RedirectURL is custos's callback as the provider knows it:
	// https://HOST/signin/oidc/callback.
	RedirectURL string `json:"redirect_url"`
	// Name names the provider on the sign-in page ("Sign in with NAME").
	Name string `json:"name"`
	// Scopes asked for; openid, profile and email by default. Keycloak
	// and others need a scope (or a mapper) for the groups claim.
	Scopes []string `json:"scopes"`
	// NameClaim is the claim that names the principal (name by default;
	// then preferred_username, email, the subject).
	NameClaim string `json:"name_claim"`
	// Roles map the provider's groups and claims to custos roles and
	// authorities: the first rule whose claim holds its value applies; an
	// account no rule matches is refused.
	Roles []OIDCRule `json:"roles"`
}

// OIDCRule gives Role, for Authority, to the accounts whose Claim (a
// string, or a list of strings such as groups; a.b names a claim inside
// an object, as Keycloak's realm_access.roles) holds Value.
type OIDCRule struct {
	Claim     string `json:"claim"`
	Value     string `json:"value"`
	Role      Role   `json:"role"`
	Authority string `json:"authority"`
}

// LoadOIDCConfig reads an OIDC configuration file and checks it against
// the catalogue's roles (Check). Errors name the file and the field.
func LoadOIDCConfig(path string, c *Catalogue) (*OIDCConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--oidc-config: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var cfg OIDCConfig
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("--oidc-config %s: %w", path, err)
	}
	if cfg.ClientSecretFile != "" {
		if cfg.ClientSecret != "" {
			return nil, fmt.Errorf("--oidc-config %s: give client_secret or client_secret_file, not both", path)
		}
		sec, err := os.ReadFile(cfg.ClientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("--oidc-config %s: client_secret_file: %w", path, err)
		}
		cfg.ClientSecret = strings.TrimSpace(string(sec))
	}
	if err := cfg.Check(c); err != nil {
		return nil, fmt.Errorf("--oidc-config %s: %w", path, err)
	}
	return &cfg, nil
}

// Check refuses a configuration custos cannot sign anyone in with, naming
// the field: URLs that are not absolute (or not https, but on the
// loopback), no client, no rule, a rule without claim or value, a role the
// catalogue does not know. CheckAuthorities checks the rules' authorities
// against a registry.
func (c *OIDCConfig) Check(cat *Catalogue) error {
	if c.Scopes == nil {
		c.Scopes = []string{"openid", "profile", "email"}
	}
	if c.NameClaim == "" {
		c.NameClaim = "name"
	}
	if c.Name == "" {
		c.Name = "OpenID Connect"
	}
	for _, f := range []struct{ name, v string }{{"issuer", c.Issuer}, {"redirect_url", c.RedirectURL}} {
		u, err := url.Parse(f.v)
		if f.v == "" || err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return fmt.Errorf("%s must be an absolute https URL, got %q", f.name, f.v)
		}
		if u.Scheme == "http" && !loopback(u.Hostname()) {
			return fmt.Errorf("%s must be https (http only on the loopback, for tests), got %q", f.name, f.v)
		}
	}
	if u, _ := url.Parse(c.RedirectURL); u.Path != "/signin/oidc/callback" {
		return fmt.Errorf("redirect_url must end in /signin/oidc/callback, custos's callback, got %q", c.RedirectURL)
	}
	if c.ClientID == "" {
		return errors.New("client_id is required: custos's client at the identity provider")
	}
	if !slices.Contains(c.Scopes, "openid") {
		return errors.New("scopes must include openid")
	}
	if len(c.Roles) == 0 {
		return errors.New("roles is empty: give at least one rule mapping a group or claim to a custos role and authority")
	}
	for i, r := range c.Roles {
		if r.Claim == "" || r.Value == "" {
			return fmt.Errorf("roles[%d]: give claim and value (such as \"claim\": \"groups\", \"value\": \"custos-regulators\")", i)
		}
		if _, ok := cat.Role(r.Role); !ok {
			return fmt.Errorf("roles[%d]: role must be one of %s, got %q", i, strings.Join(cat.RoleNames(), ", "), r.Role)
		}
		if r.Authority == "" {
			return fmt.Errorf("roles[%d]: authority is required: the id of the authority the principal acts for", i)
		}
	}
	return nil
}

func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// CheckAuthorities refuses rules whose authority the registry does not
// hold, or whose role requires an authority of another kind.
func (c *OIDCConfig) CheckAuthorities(ctx context.Context, q store.Queryer, cat *Catalogue) error {
	for i, r := range c.Roles {
		a, err := GetAuthority(ctx, q, r.Authority)
		if err != nil {
			if _, ok := errs.As(err); ok {
				return fmt.Errorf("--oidc-config roles[%d]: the registry has no authority %s", i, r.Authority)
			}
			return err
		}
		if spec, _ := cat.Role(r.Role); spec.Kind != "" && spec.Kind != a.Kind {
			return fmt.Errorf("--oidc-config roles[%d]: the %s role needs an authority of kind %s; %s is a %s", i, r.Role, spec.Kind, a.ID, a.Kind)
		}
	}
	return nil
}

// Match returns the first rule whose claim holds its value, false when
// none does.
func (c *OIDCConfig) Match(claims map[string]any) (OIDCRule, bool) {
	for _, r := range c.Roles {
		var v any = claims
		for _, part := range strings.Split(r.Claim, ".") {
			m, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = m[part]
		}
		switch v := v.(type) {
		case string:
			if v == r.Value {
				return r, true
			}
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok && s == r.Value {
					return r, true
				}
			}
		case bool:
			if fmt.Sprint(v) == r.Value {
				return r, true
			}
		}
	}
	return OIDCRule{}, false
}

// principalName is the name of a new OIDC principal: the configured
// claim, else preferred_username, email, the subject.
func (c *OIDCConfig) principalName(claims map[string]any, subject string) string {
	for _, k := range []string{c.NameClaim, "preferred_username", "email"} {
		if s, ok := claims[k].(string); ok {
			if s, err := check.Clean("name", strings.TrimSpace(s), false); err == nil && s != "" && len(s) <= 200 {
				return s
			}
		}
	}
	return subject
}

// SignInOIDC returns the principal of the provider's account subject,
// whose claims (of the ID token and the userinfo) the provider vouched
// for. The rules give its role and authority: at the account's first
// sign-in custos creates its principal (a principal.created entry naming
// the issuer and subject, with a token nobody holds); when the rules give
// it another role or authority since, the old principal is revoked and a
// new one created (two entries). An account no rule matches is refused
// (rule oidc_role); one whose principal an administrator revoked is
// refused for good (rule revoked): custos does not undo a revocation.
func (s *Authorities) SignInOIDC(ctx context.Context, cfg *OIDCConfig, subject string, claims map[string]any) (*Principal, error) {
	if subject == "" {
		return nil, errs.New(errs.Unauthorized, "oidc", "", "the identity provider named no account")
	}
	rule, ok := cfg.Match(claims)
	if !ok {
		return nil, errs.New(errs.Forbidden, "oidc_role", "", "your account at %s is in no group that gives a role in this registry: ask your registry's administrator", cfg.Name)
	}
	q := s.W.DB().Read()
	p, err := principalWhere(ctx, q, "p.oidc_issuer = ? AND p.oidc_subject = ?", cfg.Issuer, subject)
	switch {
	case err == nil && p.Role == rule.Role && p.AuthorityID == rule.Authority:
		return p, nil
	case err == nil:
		if _, err := s.W.Submit(ctx, p.Actor(), "oidc role changed", RevokePrincipal(p.ID)); err != nil {
			return nil, err
		}
	case errors.Is(err, sql.ErrNoRows):
		var revoked int
		if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM principals WHERE oidc_issuer = ? AND oidc_subject = ? AND revoked_at IS NOT NULL",
			cfg.Issuer, subject).Scan(&revoked); err != nil {
			return nil, err
		}
		if revoked > 0 {
			return nil, errs.New(errs.Forbidden, "revoked", "", "your access to this registry was revoked by an administrator")
		}
	default:
		return nil, err
	}
	in := NewPrincipal{Name: cfg.principalName(claims, subject), Role: rule.Role, AuthorityID: rule.Authority,
		oidcIssuer: cfg.Issuer, oidcSubject: subject}
	cmd, _, err := s.Catalogue.CreatePrincipal(in, s.W.IDs(), rand.Reader) // the token is dropped: nobody holds it
	if err != nil {
		return nil, err
	}
	c, err := ledger.SubmitAs[PrincipalCreated](ctx, s.W, ledger.Actor{Authority: rule.Authority}, "oidc first sign-in", cmd)
	if err != nil {
		return nil, err
	}
	return principalWhere(ctx, q, "p.id = ?", c.ID)
}
