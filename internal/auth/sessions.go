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
	"log/slog"
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
// add a session in another principal's name, nor change one (its
// principal, its expiry): each row carries the HMAC of all its columns
// (mac), and a row without a valid one resumes nothing (core migration 19).
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
	// Log receives the rows refused for a MAC that does not match (nil:
	// they are refused unsaid).
	Log *slog.Logger

	keyOnce sync.Once
	key     []byte
}

// keyed is the key of the HMACs: Key, else this process's own.
func (s *Sessions) keyed() []byte {
	s.keyOnce.Do(func() {
		s.key = s.Key
		if s.key == nil {
			s.key = make([]byte, 32)
			rand.Read(s.key)
		}
	})
	return s.key
}

// hash is what the database keeps of a session's secret.
func (s *Sessions) hash(secret string) string {
	m := hmac.New(sha256.New, s.keyed())
	m.Write([]byte(secret))
	return hex.EncodeToString(m.Sum(nil))
}

// sessionRow is a row of web_sessions as its MAC covers it: every column.
type sessionRow struct {
	hash, ref, principal, method, created, lastSeen, expires, network, agent string
}

// mac is the HMAC-SHA-256 (hex) of a session's row under the sessions'
// key: each column's length and bytes, in order, after a label that no
// secret starts with (secrets start with SessionPrefix), so that it is
// never a secret's hash nor two rows' MAC. The secret's hash is in it, so
// a row's MAC proves nothing for another secret.
func (s *Sessions) mac(r *sessionRow) string {
	return store.RowMAC(s.keyed(), "custos web session row\x00", r.hash, r.ref, r.principal, r.method, r.created, r.lastSeen, r.expires, r.network, r.agent)
}

// forged says in the server log that rows of web_sessions did not carry
// their MAC: written or changed behind custos's back. ref and principal
// are the row's as stored (the first one's, of n); never the secret.
func (s *Sessions) forged(ctx context.Context, ref, principal string, n int) {
	if s.Log != nil {
		s.Log.WarnContext(ctx, "web session refused: its row does not carry the registry's MAC (written or changed behind custos's back)",
			"session", ref, "principal", principal, "rows", n)
	}
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
		r := sessionRow{hash: s.hash(secret), ref: ref, principal: p.ID, method: method, created: at, lastSeen: at,
			expires: now.Add(s.MaxAge()).Format(sessionTime), network: network, agent: agent}
		_, err := tx.Exec(ctx, `INSERT INTO web_sessions (secret_hash, ref, principal_id, method, created_at, last_seen_at, expires_at, network, agent, mac)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.hash, r.ref, r.principal, r.method, r.created, r.lastSeen,
			r.expires, r.network, r.agent, s.mac(&r))
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
// with errs.Unauthorized, rule session_ended; so is one whose row does not
// carry its MAC (changed in the database without the key), which the
// server log reports.
func (s *Sessions) Resume(ctx context.Context, secret string) (*Principal, string, error) {
	ended := errs.New(errs.Unauthorized, RuleSessionEnded, "", "your session has ended: sign in again")
	if len(secret) <= len(SessionPrefix) || secret[:len(SessionPrefix)] != SessionPrefix {
		return nil, "", ended
	}
	r := sessionRow{hash: s.hash(secret)}
	var mac string
	err := s.DB.Read().QueryRow(ctx, `SELECT ref, principal_id, method, created_at, last_seen_at, expires_at, network, agent, mac
		FROM web_sessions WHERE secret_hash = ?`, r.hash).
		Scan(&r.ref, &r.principal, &r.method, &r.created, &r.lastSeen, &r.expires, &r.network, &r.agent, &mac)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", ended
	}
	if err != nil {
		return nil, "", err
	}
	if !hmac.Equal([]byte(mac), []byte(s.mac(&r))) {
		s.forged(ctx, r.ref, r.principal, 1)
		return nil, "", ended
	}
	now := s.now()
	seen, err1 := time.Parse(sessionTime, r.lastSeen)
	until, err2 := time.Parse(sessionTime, r.expires)
	if err1 != nil || err2 != nil || !now.Before(until) || now.Sub(seen) >= s.IdleTimeout() {
		if err := s.write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, "DELETE FROM web_sessions WHERE secret_hash = ?", r.hash)
			return err
		}); err != nil {
			return nil, "", err
		}
		return nil, "", ended
	}
	p, err := principalWhere(ctx, s.DB.Read(), "p.id = ?", r.principal)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", ended
	}
	if err != nil {
		return nil, "", err
	}
	// The last request is noted at most every tenth of the idle timeout
	// (a minute at most), not on every request: a write per page would
	// cost the registry's writer more than the precision is worth. The
	// row's MAC is made again, of the row as read with the new time.
	step := min(s.IdleTimeout()/10, time.Minute)
	if now.Sub(seen) >= step {
		r.lastSeen = now.Format(sessionTime)
		if err := s.write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE web_sessions SET last_seen_at = ?, mac = ? WHERE secret_hash = ?", r.lastSeen, s.mac(&r), r.hash)
			return err
		}); err != nil {
			return nil, "", err
		}
	}
	return p, r.ref, nil
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
// the session asking. A row without its MAC is no session: not listed, and
// reported in the server log.
func (s *Sessions) List(ctx context.Context, p *Principal, current string) ([]SessionInfo, error) {
	now := s.now()
	rows, err := s.DB.Read().Query(ctx, `SELECT secret_hash, ref, method, created_at, last_seen_at, expires_at, network, agent, mac
		FROM web_sessions WHERE principal_id = ? AND expires_at > ? AND last_seen_at > ? ORDER BY created_at DESC, ref`,
		p.ID, now.Format(sessionTime), now.Add(-s.IdleTimeout()).Format(sessionTime))
	if err != nil {
		return nil, err
	}
	type listed struct {
		row sessionRow
		mac string
	}
	all, err := store.Rows(rows, func(r store.Scanner, l *listed) error {
		l.row.principal = p.ID
		return r.Scan(&l.row.hash, &l.row.ref, &l.row.method, &l.row.created, &l.row.lastSeen, &l.row.expires, &l.row.network, &l.row.agent, &l.mac)
	})
	if err != nil {
		return nil, err
	}
	out := []SessionInfo{}
	bad, first := 0, ""
	for _, l := range all {
		if !hmac.Equal([]byte(l.mac), []byte(s.mac(&l.row))) {
			if bad++; bad == 1 {
				first = l.row.ref
			}
			continue
		}
		out = append(out, SessionInfo{Ref: l.row.ref, Method: l.row.method, CreatedAt: l.row.created, LastSeenAt: l.row.lastSeen,
			ExpiresAt: l.row.expires, Network: l.row.network, Agent: l.row.agent, Current: l.row.ref == current})
	}
	if bad > 0 {
		s.forged(ctx, first, p.ID, bad)
	}
	return out, nil
}
