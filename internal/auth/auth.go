// Package auth holds authorities (the regulator, transplant centres, ...), the
// principals who act for them, their roles and their bearer tokens. Tokens are
// shown once and stored only as SHA-256 hashes. Every change to authorities and
// principals is a log entry like any other.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"golang.org/x/text/language"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/zone"
)

// Role decides what a principal may do.
type Role string

// The roles of the core. Modules declare theirs (module.Module's Roles).
const (
	Admin     Role = "admin"     // manages authorities and principals
	Regulator Role = "regulator" // authorizes, watches alerts, reads everything
	Auditor   Role = "auditor"   // reads everything, changes nothing
)

// KindRegulator is the core's authority kind: the regulator that runs the
// registry (created by custos init). Modules declare theirs (module.Module's
// Kinds), and the catalogue says which exist.
const KindRegulator = "regulator"

// Principal is an authenticated actor.
type Principal struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Role         Role   `json:"role"`
	AuthorityID  string `json:"authority_id"`
	Jurisdiction string `json:"jurisdiction"`
	// TimeZone is the IANA time zone the principal reads and types times
	// in; empty for the registry's. The log and the API keep UTC.
	TimeZone string `json:"time_zone"`
	// Language is the code of the language the principal reads the pages
	// in (internal/i18n); empty for their browser's.
	Language string `json:"language"`
}

// Actor is the principal as the ledger records it.
func (p *Principal) Actor() ledger.Actor {
	return ledger.Actor{Principal: p.ID, Authority: p.AuthorityID}
}

// Can tells whether the principal's role allows an action.
func (p *Principal) Can(a Action) bool {
	for _, r := range a.roles {
		if p.Role == r {
			return true
		}
	}
	return false
}

// Action is something a role may be allowed to do.
type Action struct {
	// Name says what the action is, in English: a message of the
	// catalogues, written in the reader's language in a refusal.
	Name  string
	roles []Role
}

// NewAction declares an action and the roles that may take it: how a module
// says what its roles (and the core's) may do. The name is a message of
// the catalogues (the catalogue check reads it, a literal, in the module
// that declares it), so that a refusal names the action in the reader's
// language.
func NewAction(name string, roles ...Role) Action { return Action{name, roles} }

// Roles lists the roles that may take a, as NewAction declared them: what
// the API's document lists for each route (httpapi, x-custos-actions).
func (a Action) Roles() []Role { return slices.Clone(a.roles) }

// The actions of the core. Modules declare theirs with NewAction.
var (
	ManageAuthorities = NewAction("manage authorities and principals", Admin)
	ReadAuthorities   = NewAction("list authorities", Admin, Regulator, Auditor)
	ReadAlerts        = NewAction("read alerts", Admin, Regulator, Auditor)
	ReadLog           = NewAction("read and verify the log", Admin, Regulator, Auditor)
	// WorkAlerts is acknowledging, assigning, commenting on and closing
	// alerts: the regulator's work; the others only read them.
	WorkAlerts = NewAction("work alerts", Regulator)
)

// Require refuses with Forbidden when p may not do a.
func (p *Principal) Require(a Action) error {
	if p == nil {
		return errs.New(errs.Unauthorized, "authentication", "", "sign in with a bearer token")
	}
	if !p.Can(a) {
		return errs.New(errs.Forbidden, "role", "", "the %s role may not %s", p.Role, errs.Text(a.Name))
	}
	return nil
}

// RequireAny refuses with Forbidden when p may take none of as: the check
// of a route or page that several actions open (a report is read by the
// authority it was sent to and by whoever reads the cases). It names the
// first action, as Require does. With no action it lets every principal
// through.
func (p *Principal) RequireAny(as ...Action) error {
	if p == nil {
		return errs.New(errs.Unauthorized, "authentication", "", "sign in with a bearer token")
	}
	if len(as) == 0 || slices.ContainsFunc(as, p.Can) {
		return nil
	}
	return p.Require(as[0])
}

// TokenPrefix starts every custos token, so leaked tokens are easy to find.
const TokenPrefix = "cst_"

var tokenEnc = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewToken returns a fresh bearer token read from src.
func NewToken(src io.Reader) (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(src, b); err != nil {
		return "", err
	}
	return TokenPrefix + strings.ToLower(tokenEnc.EncodeToString(b)), nil
}

// HashToken is how tokens are stored.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Authenticate finds the active principal holding token.
func Authenticate(ctx context.Context, q store.Queryer, token string) (*Principal, error) {
	if !strings.HasPrefix(token, TokenPrefix) {
		return nil, errs.New(errs.Unauthorized, "authentication", "", "the token is not a custos token")
	}
	p, err := principalWhere(ctx, q, "p.token_hash = ?", HashToken(token))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.Unauthorized, "authentication", "", "the token is unknown or revoked")
	}
	return p, err
}

// principalWhere reads the active (not revoked) principal of a condition
// on principals p; sql.ErrNoRows when there is none.
func principalWhere(ctx context.Context, q store.Queryer, cond string, args ...any) (*Principal, error) {
	var p Principal
	var role string
	err := q.QueryRow(ctx, `SELECT p.id, p.name, p.role, p.authority_id, a.jurisdiction, p.time_zone, p.language
		FROM principals p JOIN authorities a ON a.id = p.authority_id
		WHERE `+cond+` AND p.revoked_at IS NULL`, args...).
		Scan(&p.ID, &p.Name, &role, &p.AuthorityID, &p.Jurisdiction, &p.TimeZone, &p.Language)
	if err != nil {
		return nil, err
	}
	p.Role = Role(role)
	return &p, nil
}

// Authority is a body that acts in the registry.
type Authority struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	Jurisdiction string `json:"jurisdiction"`
	City         string `json:"city,omitempty"`
	CreatedAt    string `json:"created_at,omitempty"`
	// NotifyEmail is the functional address the registry e-mails the
	// authority's notifications to (SetContact); empty: the web UI only.
	NotifyEmail string `json:"notify_email,omitempty"`
	// NotifyLanguage is the language of those e-mails; empty: the
	// registry's (custos serve --mail-language).
	NotifyLanguage string `json:"notify_language,omitempty"`
}

var countryRE = regexp.MustCompile(`^[A-Z]{2}$`)

// ValidCountry tells whether s is an ISO 3166-1 alpha-2 code: a country's
// code as assigned now (FR, GB; not UK), or a user-assigned one (AA, QM to
// QZ, XA to XZ, ZZ), which demos, tests and regional bodies use (custos's
// demo is Demoland, XA).
func ValidCountry(s string) bool {
	if !countryRE.MatchString(s) {
		return false
	}
	r, err := language.ParseRegion(s)
	return err == nil && (r.IsPrivateUse() || r.IsCountry() && r.Canonicalize().String() == s)
}

// Entry types of this package.
const (
	TypeAuthorityCreated = "authority.created"
	TypePrincipalCreated = "principal.created"
	TypePrincipalRevoked = "principal.revoked"
	// TypePreferencesSet records a principal's own preferences (the time
	// zone of their pages).
	TypePreferencesSet = "principal.preferences_set"
	// TypeContactSet records an authority's notification contact
	// (SetContact).
	TypeContactSet = "authority.contact_set"
)

// PrincipalCreated is the data of a principal.created leaf: never the token,
// only its hash.
type PrincipalCreated struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Role        Role   `json:"role"`
	AuthorityID string `json:"authority_id"`
	TokenHash   string `json:"token_hash"`
	// OIDCIssuer and OIDCSubject name the identity provider's account of a
	// principal created at its first OpenID Connect sign-in (oidc.go);
	// absent for principals who sign in with their token.
	OIDCIssuer  string `json:"oidc_issuer,omitempty"`
	OIDCSubject string `json:"oidc_subject,omitempty"`
}

type principalRevoked struct {
	ID string `json:"id"`
}

// Preferences are what principals choose for themselves. TimeZone is an
// IANA name such as Europe/Paris, or "" for the registry's; Language the
// code of a language the deployment speaks, or "" for the browser's. A
// preference left out (null or absent) stays as it is; at least one must
// be given, so that an empty body changes nothing.
type Preferences struct {
	TimeZone *string `json:"time_zone"`
	Language *string `json:"language"`
}

// preferencesSet is the data of a principal.preferences_set leaf: the
// principal's preferences as they are after it. Entries written before
// languages have no language (the browser's).
type preferencesSet struct {
	ID       string `json:"id"`
	TimeZone string `json:"time_zone"`
	Language string `json:"language,omitempty"`
}

// Project adds this package's projectors and tables.
func Project(reg *ledger.Projections) {
	ledger.On(reg, TypeAuthorityCreated, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, a *Authority) error {
		_, err := q.Exec(ctx, `INSERT INTO authorities (id, name, kind, jurisdiction, city, created_at, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, a.ID, a.Name, a.Kind, a.Jurisdiction, a.City, e.At, idx)
		return err
	})
	ledger.On(reg, TypePrincipalCreated, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, p *PrincipalCreated) error {
		_, err := q.Exec(ctx, `INSERT INTO principals (id, name, role, authority_id, token_hash, created_at, log_index, oidc_issuer, oidc_subject)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.ID, p.Name, string(p.Role), p.AuthorityID, p.TokenHash, e.At, idx, p.OIDCIssuer, p.OIDCSubject)
		return err
	})
	ledger.On(reg, TypePrincipalRevoked, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, p *principalRevoked) error {
		_, err := q.Exec(ctx, "UPDATE principals SET revoked_at = ? WHERE id = ?", e.At, p.ID)
		return err
	})
	ledger.On(reg, TypePreferencesSet, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, p *preferencesSet) error {
		_, err := q.Exec(ctx, "UPDATE principals SET time_zone = ?, language = ? WHERE id = ?", p.TimeZone, p.Language, p.ID)
		return err
	})
	ledger.On(reg, TypeContactSet, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, c *contactSet) error {
		_, err := q.Exec(ctx, "UPDATE authorities SET notify_email = ?, notify_language = ? WHERE id = ?", c.Email, c.Language, c.ID)
		return err
	})
	reg.Tables(ledger.Table{Name: "authorities", Order: "id"}, ledger.Table{Name: "principals", Order: "id"})
	projectSessions(reg)
}

// NewAuthority is the input of CreateAuthority.
type NewAuthority struct {
	Name         string `json:"name" api:"required"`
	Kind         string `json:"kind" api:"required"`
	Jurisdiction string `json:"jurisdiction"`
	City         string `json:"city"`
}

// CreateAuthority returns the command that creates an authority of one of the
// catalogue's kinds. An empty jurisdiction means the registry's own.
func (c *Catalogue) CreateAuthority(in NewAuthority, ids *ledger.IDs) (ledger.Decide, error) {
	var err error
	if in.Name, err = check.Clean("name", strings.TrimSpace(in.Name), false); err != nil {
		return nil, err
	}
	if in.City, err = check.Clean("city", strings.TrimSpace(in.City), false); err != nil {
		return nil, err
	}
	if in.Name == "" {
		return nil, errs.Invalidf("required", "name", "give the authority's name (1 to 200 characters)")
	}
	if utf8.RuneCountInString(in.Name) > 200 {
		return nil, errs.Invalidf("range", "name", "the authority's name is out of range: 1 to 200 characters")
	}
	if utf8.RuneCountInString(in.City) > 100 {
		return nil, errs.Invalidf("too_long", "city", "the city is at most 100 characters")
	}
	kind, ok := c.Kind(in.Kind)
	if !ok {
		return nil, errs.Invalidf("enum", "kind", "kind must be %s", orList(quoted(c.KindNames())))
	}
	if in.Jurisdiction != "" && !ValidCountry(in.Jurisdiction) {
		return nil, errs.Invalidf("iso3166", "jurisdiction", "jurisdiction must be an ISO 3166-1 alpha-2 code such as FR")
	}
	if err := check.RealState("jurisdiction", in.Jurisdiction); err != nil {
		return nil, err
	}
	id := ids.New(kind.Prefix)
	return func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if kind.OneRefusal != nil {
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM authorities WHERE kind = ?", kind.Name).Scan(&n); err != nil {
				return nil, err
			}
			if n > 0 {
				refusal := *kind.OneRefusal // a copy: the kind's is every command's
				return nil, &refusal
			}
		}
		a := Authority{ID: id, Name: in.Name, Kind: in.Kind, Jurisdiction: in.Jurisdiction, City: in.City}
		if a.Jurisdiction == "" {
			if err := tx.QueryRow(ctx, "SELECT value FROM settings WHERE name = 'jurisdiction'").Scan(&a.Jurisdiction); err != nil {
				return nil, err
			}
		}
		return ledger.NewEntry(TypeAuthorityCreated, a)
	}, nil
}

// NewPrincipal is the input of CreatePrincipal.
type NewPrincipal struct {
	Name        string `json:"name" api:"required"`
	Role        Role   `json:"role" api:"required"`
	AuthorityID string `json:"authority_id" api:"required"`
	// oidcIssuer and oidcSubject are set by the OpenID Connect sign-in
	// alone (SignInOIDC), never by the API.
	oidcIssuer, oidcSubject string
}

// CreatePrincipal returns the command that creates a principal with one of
// the catalogue's roles, and the token to hand to that person once. A role
// that requires an authority kind (a coordinator, a transplant centre) is
// refused for an authority of another kind.
func (c *Catalogue) CreatePrincipal(in NewPrincipal, ids *ledger.IDs, tokens io.Reader) (ledger.Decide, string, error) {
	var err error
	if in.Name, err = check.Clean("name", strings.TrimSpace(in.Name), false); err != nil {
		return nil, "", err
	}
	if in.Name == "" {
		return nil, "", errs.Invalidf("required", "name", "give the principal's name (1 to 200 characters)")
	}
	if utf8.RuneCountInString(in.Name) > 200 {
		return nil, "", errs.Invalidf("range", "name", "the principal's name is out of range: 1 to 200 characters")
	}
	spec, ok := c.Role(in.Role)
	if !ok {
		return nil, "", errs.Invalidf("enum", "role", "role must be one of %s", strings.Join(c.RoleNames(), ", "))
	}
	if in.AuthorityID == "" {
		return nil, "", errs.Invalidf("required", "authority_id", "give the authority the principal acts for")
	}
	token, err := NewToken(tokens)
	if err != nil {
		return nil, "", err
	}
	id := ids.New("PR")
	return func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		var kind string
		err := tx.QueryRow(ctx, "SELECT kind FROM authorities WHERE id = ?", in.AuthorityID).Scan(&kind)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.New(errs.NotFound, "reference", "authority_id", "no authority %s", in.AuthorityID)
		}
		if err != nil {
			return nil, err
		}
		if spec.Kind != "" && kind != spec.Kind {
			refusal := *spec.KindRefusal // a copy: the spec's is every command's
			return nil, &refusal
		}
		return ledger.NewEntry(TypePrincipalCreated, PrincipalCreated{ID: id, Name: in.Name, Role: in.Role,
			AuthorityID: in.AuthorityID, TokenHash: HashToken(token), OIDCIssuer: in.oidcIssuer, OIDCSubject: in.oidcSubject})
	}, token, nil
}

// RevokePrincipal returns the command that revokes a principal's token.
func RevokePrincipal(id string) ledger.Decide {
	return func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		var revoked sql.NullString
		err := tx.QueryRow(ctx, "SELECT revoked_at FROM principals WHERE id = ?", id).Scan(&revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, noPrincipal(id)
		}
		if err != nil {
			return nil, err
		}
		if revoked.Valid {
			return nil, errs.New(errs.Conflict, "already_revoked", "id", "principal %s was revoked at %s", id, revoked.String)
		}
		return ledger.NewEntry(TypePrincipalRevoked, principalRevoked{ID: id})
	}
}

// LanguageField is the name of a language preference in requests, forms
// and refusals.
const LanguageField = "language"

// CheckLanguage refuses a language code that is not one of spoken (rule
// language, field language).
func CheckLanguage(code string, spoken []string) error {
	if !slices.Contains(spoken, code) {
		return errs.Invalidf("language", LanguageField, "%q is not a language of this registry: give one of %s, or \"\" for the browser's", code, strings.Join(spoken, ", "))
	}
	return nil
}

// SetPreferences returns the command that records the preferences of the
// principal id: a time zone of the time zone database (rule time_zone,
// field time_zone), or "" for the registry's; a language of spoken (rule
// language, field language), or "" for the browser's.
func SetPreferences(id string, in Preferences, spoken []string) (ledger.Decide, error) {
	if in.TimeZone == nil && in.Language == nil {
		return nil, errs.Invalidf("required", zone.Field, "give time_zone (an IANA time zone such as Europe/Paris, or \"\" for the registry's), language, or both")
	}
	var tz, lang *string
	if in.TimeZone != nil {
		v := strings.TrimSpace(*in.TimeZone)
		if _, err := zone.Load(zone.Field, v); err != nil {
			return nil, err
		}
		tz = &v
	}
	if in.Language != nil {
		v := strings.TrimSpace(*in.Language)
		if v != "" {
			if err := CheckLanguage(v, spoken); err != nil {
				return nil, err
			}
		}
		lang = &v
	}
	return func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		var revoked sql.NullString
		var set preferencesSet
		err := tx.QueryRow(ctx, "SELECT revoked_at, time_zone, language FROM principals WHERE id = ?", id).Scan(&revoked, &set.TimeZone, &set.Language)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, noPrincipal(id)
		}
		if err != nil {
			return nil, err
		}
		if revoked.Valid {
			return nil, errs.New(errs.Conflict, "already_revoked", "id", "principal %s was revoked at %s", id, revoked.String)
		}
		set.ID = id
		if tz != nil {
			set.TimeZone = *tz
		}
		if lang != nil {
			set.Language = *lang
		}
		return ledger.NewEntry(TypePreferencesSet, set)
	}, nil
}

// GetAuthority reads one authority.
func GetAuthority(ctx context.Context, q store.Queryer, id string) (*Authority, error) {
	var a Authority
	err := q.QueryRow(ctx, "SELECT id, name, kind, jurisdiction, city, created_at, notify_email, notify_language FROM authorities WHERE id = ?", id).
		Scan(&a.ID, &a.Name, &a.Kind, &a.Jurisdiction, &a.City, &a.CreatedAt, &a.NotifyEmail, &a.NotifyLanguage)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "reference", "id", "no authority %s", id)
	}
	return &a, err
}

// ListAuthorities lists authorities of a kind (all kinds when empty), by name.
func ListAuthorities(ctx context.Context, q store.Queryer, kind string) ([]Authority, error) {
	rows, err := q.Query(ctx, "SELECT id, name, kind, jurisdiction, city, created_at, notify_email, notify_language FROM authorities WHERE (? = '' OR kind = ?) ORDER BY name, id", kind, kind)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, a *Authority) error {
		return r.Scan(&a.ID, &a.Name, &a.Kind, &a.Jurisdiction, &a.City, &a.CreatedAt, &a.NotifyEmail, &a.NotifyLanguage)
	})
}

// Bootstrap creates the registry's first authority (the regulator that runs
// it) and its first administrator, returning the administrator's token. It is
// what custos init runs once, after ledger.Init.
func Bootstrap(ctx context.Context, w *ledger.Writer, c *Catalogue, authorityName string) (string, error) {
	mk, err := c.CreateAuthority(NewAuthority{Name: authorityName, Kind: KindRegulator}, w.IDs())
	if err != nil {
		return "", err
	}
	a, err := ledger.SubmitAs[Authority](ctx, w, ledger.Actor{}, "bootstrap authority", mk)
	if err != nil {
		return "", err
	}
	mp, token, err := c.CreatePrincipal(NewPrincipal{Name: "Administrator", Role: Admin, AuthorityID: a.ID}, w.IDs(), rand.Reader)
	if err != nil {
		return "", err
	}
	if _, err := w.Submit(ctx, ledger.Actor{Authority: a.ID}, "bootstrap admin", mp); err != nil {
		return "", err
	}
	return token, nil
}
