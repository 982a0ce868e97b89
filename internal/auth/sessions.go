package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/store"
)

// The defaults of Sessions' timeouts (custos serve --session-idle and
// --session-max).
const (
	DefaultSessionIdle = 30 * time.Minute
	DefaultSessionMax  = 12 * time.Hour
)

// Sign-in methods of a session.
const (
	MethodToken = "token" // a custos bearer token pasted in the sign-in form
	MethodOIDC  = "oidc"  // the deployment's OpenID Connect identity provider
)

// SessionPrefix starts every web session secret, so that one is never
// taken for a token (TokenPrefix).
const SessionPrefix = "css_"

// Sessions are the web UI's server-side sessions (table web_sessions): the
// browser holds a random secret, the database its HMAC under Key. A session
// ends when its principal signs it out (or all theirs), after Idle without a
// request, Max after it started, or when its principal is revoked. Sessions
// are not log entries: they change no record (docs/operations.md, Sessions);
// since log verify cannot check them, a row is only good with Key, which
// is derived from the master key in the key file and never in the
// database: whoever can write the database but lacks the key file cannot
// add a session in another principal's name.
type Sessions struct {
	DB   *store.DB
	Idle time.Duration // DefaultSessionIdle when zero
	Max  time.Duration // DefaultSessionMax when zero
	Now  func() time.Time
	// Rand is the randomness of secrets and refs (crypto/rand when nil).
	Rand io.Reader
	// Key is the key of the secrets' HMAC-SHA-256 (custos serve derives
	// it from the master key). Nil: a random key of this process, so that
	// sessions end when it stops.
	Key []byte

	keyOnce sync.Once
	key     []byte
}

// hash is what the database keeps of a session's secret.
func (s *Sessions) hash(secret string) string {
	s.keyOnce.Do(func() {
		s.key = s.Key
		if s.key == nil {
			s.key = make([]byte, 32)
			rand.Read(s.key)
		}
	})
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(secret))
	return hex.EncodeToString(m.Sum(nil))
}

// SessionInfo is an open session as its principal sees it in My account.
type SessionInfo struct {
	Ref        string `json:"ref"`
	Method     string `json:"method"`
	CreatedAt  string `json:"created_at"`
	LastSeenAt string `json:"last_seen_at"`
	ExpiresAt  string `json:"expires_at"`
	Network    string `json:"network"`
	Agent      string `json:"agent"`
	Current    bool   `json:"current"`
}

// Started is a new session: the secret for the browser's cookie, shown
// nowhere else, and the session's public ref.
type Started struct {
	Secret string
	Ref    string
}

// sessionTime is how session times are kept: fixed width, so that they
// compare as strings.
const sessionTime = "2006-01-02T15:04:05.000Z"

func (s *Sessions) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// IdleTimeout is how long a session lasts without a request.
func (s *Sessions) IdleTimeout() time.Duration {
	if s.Idle > 0 {
		return s.Idle
	}
	return DefaultSessionIdle
}

// MaxAge is how long a session lasts at most, however busy.
func (s *Sessions) MaxAge() time.Duration {
	if s.Max > 0 {
		return s.Max
	}
	return DefaultSessionMax
}

func (s *Sessions) random(n int) (string, error) {
	src := s.Rand
	if src == nil {
		src = rand.Reader
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(src, b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// Start opens a session for p, signed in by method, from a coarse network
// and browser (for p to recognise it), and clears sessions that have ended
// by time.
func (s *Sessions) Start(ctx context.Context, p *Principal, method, network, agent string) (*Started, error) {
	secret, err := NewToken(randOr(s.Rand))
	if err != nil {
		return nil, err
	}
	secret = SessionPrefix + secret[len(TokenPrefix):]
	ref, err := s.random(6)
	if err != nil {
		return nil, err
	}
	now := s.now()
	at := now.Format(sessionTime)
	err = s.write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM web_sessions WHERE expires_at < ? OR last_seen_at < ?",
			at, now.Add(-s.IdleTimeout()).Format(sessionTime)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO web_sessions (secret_hash, ref, principal_id, method, created_at, last_seen_at, expires_at, network, agent)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.hash(secret), ref, p.ID, method, at, at,
			now.Add(s.MaxAge()).Format(sessionTime), network, agent)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Started{Secret: secret, Ref: ref}, nil
}

func randOr(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return r
}

func (s *Sessions) write(ctx context.Context, fn func(tx *store.Tx) error) error {
	tx, err := s.DB.BeginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// RuleSessionEnded is the rule of the refusal of a session that has ended
// (signed out, timed out, or of a revoked principal).
const RuleSessionEnded = "session_ended"

// Resume finds the open session of secret and its active principal, and
// notes the request (the idle timeout counts from it). A session that has
// ended, by time or sign-out, or whose principal is revoked, is refused
// with errs.Unauthorized, rule session_ended.
func (s *Sessions) Resume(ctx context.Context, secret string) (*Principal, string, error) {
	ended := errs.New(errs.Unauthorized, RuleSessionEnded, "", "your session has ended: sign in again")
	if len(secret) <= len(SessionPrefix) || secret[:len(SessionPrefix)] != SessionPrefix {
		return nil, "", ended
	}
	hash := s.hash(secret)
	var ref, principal, lastSeen, expires string
	err := s.DB.Read().QueryRow(ctx, "SELECT ref, principal_id, last_seen_at, expires_at FROM web_sessions WHERE secret_hash = ?", hash).
		Scan(&ref, &principal, &lastSeen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", ended
	}
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	seen, err1 := time.Parse(sessionTime, lastSeen)
	until, err2 := time.Parse(sessionTime, expires)
	if err1 != nil || err2 != nil || !now.Before(until) || now.Sub(seen) >= s.IdleTimeout() {
		if err := s.write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, "DELETE FROM web_sessions WHERE secret_hash = ?", hash)
			return err
		}); err != nil {
			return nil, "", err
		}
		return nil, "", ended
	}
	p, err := principalWhere(ctx, s.DB.Read(), "p.id = ?", principal)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", ended
	}
	if err != nil {
		return nil, "", err
	}
	// The last request is noted at most every tenth of the idle timeout
	// (a minute at most), not on every request: a write per page would
	// cost the registry's writer more than the precision is worth.
	step := min(s.IdleTimeout()/10, time.Minute)
	if now.Sub(seen) >= step {
		if err := s.write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE web_sessions SET last_seen_at = ? WHERE secret_hash = ?", now.Format(sessionTime), hash)
			return err
		}); err != nil {
			return nil, "", err
		}
	}
	return p, ref, nil
}

// End ends the session of secret (signing out); it returns its ref, ""
// when it had ended already.
func (s *Sessions) End(ctx context.Context, secret string) (string, error) {
	var ref string
	err := s.write(ctx, func(tx *store.Tx) error {
		err := tx.QueryRow(ctx, "SELECT ref FROM web_sessions WHERE secret_hash = ?", s.hash(secret)).Scan(&ref)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DELETE FROM web_sessions WHERE secret_hash = ?", s.hash(secret))
		return err
	})
	return ref, err
}

// EndRef ends p's session ref (from the list of My account); another
// principal's, or one that has ended, is refused (rule reference, field
// ref).
func (s *Sessions) EndRef(ctx context.Context, p *Principal, ref string) error {
	return s.write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, "DELETE FROM web_sessions WHERE ref = ? AND principal_id = ?", ref, p.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errs.New(errs.NotFound, "reference", "ref", "you have no open session %s", ref)
		}
		return nil
	})
}

// EndAll ends every session of p, in every browser, and returns how many
// were open.
func (s *Sessions) EndAll(ctx context.Context, p *Principal) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, "DELETE FROM web_sessions WHERE principal_id = ?", p.ID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// List lists p's open sessions, the newest first; current is the ref of
// the session asking.
func (s *Sessions) List(ctx context.Context, p *Principal, current string) ([]SessionInfo, error) {
	now := s.now()
	rows, err := s.DB.Read().Query(ctx, `SELECT ref, method, created_at, last_seen_at, expires_at, network, agent
		FROM web_sessions WHERE principal_id = ? AND expires_at > ? AND last_seen_at > ? ORDER BY created_at DESC, ref`,
		p.ID, now.Format(sessionTime), now.Add(-s.IdleTimeout()).Format(sessionTime))
	if err != nil {
		return nil, err
	}
	out, err := store.Rows(rows, func(r store.Scanner, i *SessionInfo) error {
		return r.Scan(&i.Ref, &i.Method, &i.CreatedAt, &i.LastSeenAt, &i.ExpiresAt, &i.Network, &i.Agent)
	})
	for i := range out {
		out[i].Current = out[i].Ref == current
	}
	return out, err
}
