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
	"github.com/custos-project/custos/internal/ledger"
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
//
// A MAC cannot tell a row deleted from one put back: every value it could
// bind moves back with the database. So a sign-out is a leaf
// (session.ended, naming the sessions' public refs, never a secret), in
// the transaction that deletes the rows, projected into web_sessions_ended
// (core migration 22), which Resume reads: a session signed out never
// resumes, even from a copy of its row with the MAC it had, and one put
// back is reported as tampering. A session that ends by time needs no
// leaf: its row's MAC holds its absolute expiry and its last request, and
// no copy custos wrote of it has a later one.
type Sessions struct {
	DB *store.DB
	// W writes the sign-outs' leaves and the alerts of revived sessions
	// (required to sign out).
	W    *ledger.Writer
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

// RuleSessionRevived is the rule of the alert raised when a session that
// was signed out is used again: its row was put back in the database.
const RuleSessionRevived = "session_revived"

// revived reports a session that a session.ended entry (index idx) ended
// and whose row is in web_sessions again: put back behind custos's back,
// with the MAC it had, and used by whoever kept its cookie. It is said in
// the server log and raised as an alert (repeats of it counted as any
// alert's), and its row is deleted. ref and principal are the row's;
// never the secret.
func (s *Sessions) revived(ctx context.Context, hash, ref, principal string, idx int64) {
	if s.Log != nil {
		s.Log.ErrorContext(ctx, "web session refused: it was signed out, and its row was put back in the database behind custos's back",
			"session", ref, "principal", principal, "ended_by", idx)
	}
	err := s.write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM web_sessions WHERE secret_hash = ? AND ref = ?", hash, ref)
		return err
	})
	if err == nil && s.W != nil {
		err = s.W.Refused(ctx, ledger.Actor{}, "resume a web session", errs.Alertf(errs.Conflict, RuleSessionRevived, "session",
			"web session %s of principal %s, signed out by entry %d, was put back in the database behind custos's back and used again: refused", ref, principal, idx))
		if _, refused := errs.As(err); refused {
			err = nil
		}
	}
	if err != nil && s.Log != nil {
		s.Log.ErrorContext(ctx, "web session put back: its row could not be deleted or its alert raised", "session", ref, "err", err.Error())
	}
}

// TypeSessionEnded is the entry type of a sign-out: the refs of the
// sessions it ended.
const TypeSessionEnded = "session.ended"

// SessionEnded is the data of session.ended: the public refs of the
// sessions a principal (the entry's) signed out, in one browser or all of
// them. Never a secret, its hash, or where the browser was.
type SessionEnded struct {
	Refs []string `json:"refs"`
}

// projectSessions adds the sign-outs' projector and its table.
func projectSessions(reg *ledger.Projections) {
	ledger.On(reg, TypeSessionEnded, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, d *SessionEnded) error {
		for _, ref := range d.Refs {
			if _, err := q.Exec(ctx, "INSERT INTO web_sessions_ended (ref, ended_at, log_index) VALUES (?, ?, ?)", ref, e.At, idx); err != nil {
				return err
			}
		}
		return nil
	})
	reg.Tables(ledger.Table{Name: "web_sessions_ended", Order: "ref"})
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
	var ref string
	now := s.now()
	at := now.Format(sessionTime)
	err = s.write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM web_sessions WHERE expires_at < ? OR last_seen_at < ?",
			at, now.Add(-s.IdleTimeout()).Format(sessionTime)); err != nil {
			return err
		}
		// A ref is never one a sign-out ended, which could not resume.
		for ended := 1; ended > 0; {
			if ref, err = s.random(6); err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM web_sessions_ended WHERE ref = ?", ref).Scan(&ended); err != nil {
				return err
			}
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
// server log reports, and one whose row a sign-out deleted and that is
// back (web_sessions_ended names it), which is reported and alerted
// (revived).
func (s *Sessions) Resume(ctx context.Context, secret string) (*Principal, string, error) {
	ended := errs.New(errs.Unauthorized, RuleSessionEnded, "", "your session has ended: sign in again")
	if len(secret) <= len(SessionPrefix) || secret[:len(SessionPrefix)] != SessionPrefix {
		return nil, "", ended
	}
	r := sessionRow{hash: s.hash(secret)}
	var mac string
	var endedBy int64
	err := s.DB.Read().QueryRow(ctx, `SELECT ref, principal_id, method, created_at, last_seen_at, expires_at, network, agent, mac,
		COALESCE((SELECT e.log_index FROM web_sessions_ended e WHERE e.ref = web_sessions.ref), 0)
		FROM web_sessions WHERE secret_hash = ?`, r.hash).
		Scan(&r.ref, &r.principal, &r.method, &r.created, &r.lastSeen, &r.expires, &r.network, &r.agent, &mac, &endedBy)
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
	if endedBy > 0 {
		s.revived(ctx, r.hash, r.ref, r.principal, endedBy)
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

// errNoSession refuses a sign-out that finds no open session to end.
var errNoSession = errs.New(errs.NotFound, RuleSessionEnded, "", "your session has ended: sign in again")

// endedMeanwhile is a sign-out's refusal in the writer when the sessions
// its read found open were ended by another sign-out before its turn (a
// double click, two tabs): Stale, so that the writer counts no refusal;
// run again, the sign-out would find none and take no turn (end answers
// errNoSession at once).
var endedMeanwhile = ledger.Stale{Refusal: errNoSession}

// end signs out p's sessions whose rows cond (and its args) chooses, as
// one command of the writer: the rows deleted and a session.ended entry
// naming their refs, in one transaction (like the outbox's rows, rows
// outside the log written by the command's Decide, here deleted). Only
// open rows are ended (open): a row forged or put back is no session of
// p's (Resume refuses and reports it), and its ref goes into no leaf; a
// session that ended by time needs none. None: errNoSession, found by a
// read before the writer, so that signing out a session already ended (a
// second click, another tab, signing out of all after one, a session timed
// out) takes no writer turn, adds no leaf and is no refused command. It
// returns the refs ended.
func (s *Sessions) end(ctx context.Context, p *Principal, name, cond string, args ...any) ([]string, error) {
	if s.W == nil {
		return nil, errors.New("auth: the sessions have no writer, and a sign-out is a log entry")
	}
	now := s.now()
	open, err := s.open(ctx, s.DB.Read(), p, now, cond, args...)
	if err != nil {
		return nil, err
	}
	if len(open) == 0 {
		return nil, errNoSession
	}
	res, err := s.W.Submit(ctx, p.Actor(), name, func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		open, err := s.open(ctx, tx, p, now, cond, args...)
		if err != nil {
			return nil, err
		}
		d := SessionEnded{Refs: []string{}}
		for _, r := range open {
			if _, err := tx.Exec(ctx, "DELETE FROM web_sessions WHERE secret_hash = ?", r.hash); err != nil {
				return nil, err
			}
			d.Refs = append(d.Refs, r.ref)
		}
		if len(d.Refs) == 0 {
			return nil, endedMeanwhile
		}
		return ledger.NewEntry(TypeSessionEnded, d)
	})
	if errors.Is(err, errNoSession) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, err
	}
	var d SessionEnded
	if err := res.Entry.Decode(&d); err != nil {
		return nil, err
	}
	return d.Refs, nil
}

// open reads, on q, p's open sessions at now whose rows cond (and its
// args) chooses: those that have not timed out (as List reads them), that
// carry their MAC and that no sign-out ended, by ref.
func (s *Sessions) open(ctx context.Context, q store.Queryer, p *Principal, now time.Time, cond string, args ...any) ([]sessionRow, error) {
	rows, err := q.Query(ctx, `SELECT secret_hash, ref, principal_id, method, created_at, last_seen_at, expires_at, network, agent, mac,
		COALESCE((SELECT e.log_index FROM web_sessions_ended e WHERE e.ref = web_sessions.ref), 0)
		FROM web_sessions WHERE principal_id = ? AND expires_at > ? AND last_seen_at > ? AND `+cond+" ORDER BY ref",
		append([]any{p.ID, now.Format(sessionTime), now.Add(-s.IdleTimeout()).Format(sessionTime)}, args...)...)
	if err != nil {
		return nil, err
	}
	type found struct {
		row     sessionRow
		mac     string
		endedBy int64
	}
	all, err := store.Rows(rows, func(r store.Scanner, f *found) error {
		return r.Scan(&f.row.hash, &f.row.ref, &f.row.principal, &f.row.method, &f.row.created, &f.row.lastSeen, &f.row.expires,
			&f.row.network, &f.row.agent, &f.mac, &f.endedBy)
	})
	if err != nil {
		return nil, err
	}
	var open []sessionRow
	for _, f := range all {
		if f.endedBy == 0 && hmac.Equal([]byte(f.mac), []byte(s.mac(&f.row))) {
			open = append(open, f.row)
		}
	}
	return open, nil
}

// End ends p's session of secret (signing out); it returns its ref, ""
// when it had ended already.
func (s *Sessions) End(ctx context.Context, p *Principal, secret string) (string, error) {
	refs, err := s.end(ctx, p, "sign out", "secret_hash = ?", s.hash(secret))
	if errors.Is(err, errNoSession) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return refs[0], nil
}

// EndRef ends p's session ref (from the list of My account) and says
// whether it was open. One of p's that has ended already (a second click
// of its Sign out, a session signed out meanwhile in its own browser, or
// timed out, its row still there or cleared) is no refusal: it is ended,
// as the first click left it, and nothing is written (no writer turn, no
// leaf). Another principal's session, open or ended, is refused as it is
// when open (rule reference, field ref): no one ends, nor learns the state
// of, a session that is not theirs. A ref that names no session custos
// knows of is p's as far as anyone can tell, and ended.
func (s *Sessions) EndRef(ctx context.Context, p *Principal, ref string) (bool, error) {
	_, err := s.end(ctx, p, "sign out a session", "ref = ?", ref)
	if !errors.Is(err, errNoSession) {
		return err == nil, err
	}
	other, err := s.others(ctx, p, ref)
	if err != nil {
		return false, err
	}
	if other {
		return false, errs.New(errs.NotFound, "reference", "ref", "you have no open session %s", ref)
	}
	return false, nil
}

// others tells whether ref is another principal's session than p's: its
// row names another principal, or the session.ended entry that ended it
// is another's (a sign-out's entry is always its session's principal's).
func (s *Sessions) others(ctx context.Context, p *Principal, ref string) (bool, error) {
	q := s.DB.Read()
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM web_sessions WHERE ref = ? AND principal_id <> ?", ref, p.ID).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return true, nil
	}
	var idx int64
	err := q.QueryRow(ctx, "SELECT log_index FROM web_sessions_ended WHERE ref = ?", ref).Scan(&idx)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	e, err := ledger.ReadEntry(ctx, q, idx)
	if err != nil {
		return false, err
	}
	return e.By != p.ID, nil
}

// EndAll ends every session of p, in every browser, and returns how many
// were open.
func (s *Sessions) EndAll(ctx context.Context, p *Principal) (int, error) {
	refs, err := s.end(ctx, p, "sign out of all sessions", "1 = 1")
	if errors.Is(err, errNoSession) {
		return 0, nil
	}
	return len(refs), err
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
