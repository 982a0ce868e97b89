package ledger

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/store"
)

// A client that sends a command again (a retry after a timeout, a double
// click) must not have it recorded twice. The request carries a key of its
// own (the API's Idempotency-Key header, a form's "once" value), and the
// writer stores the key in the transaction of the command it keys, after the
// command's projection and in its savepoint (table idempotency_keys, core
// migration 24): the command's writes commit with their key or not at all,
// so that a crash, at whatever moment, never leaves a write without its key
// (recorded again on a retry) nor a key without its write (a retry answered
// that something happened that did not). A command submitted with a key that
// a committed command of the same principal holds already, within the
// window, is refused before its Decide runs (KeyTaken): writers of every
// server of a registry take the log's head lock for each batch, so that the
// check and the insert are serialized across servers too. What the first
// request was answered is kept after its commit (Keys.Answer).

// Claim is an idempotency key a request's commands are submitted with
// (WithClaim). The first command of the request that is accepted and
// committed stores it; the request's later commands do not.
type Claim struct {
	// Principal scopes the key: the same key of two principals is two keys.
	Principal string
	// Key is what the client sent.
	Key string
	// Digest identifies the request (method, path, query, body).
	Digest string
	// Window is how long a key is kept; an older one is taken again.
	Window time.Duration

	mu        sync.Mutex
	committed bool
	taken     bool
	index     int64
}

// KeyTakenRule is the rule of the refusal of a command whose key a committed
// command holds already (a retry that reached another server, or that came
// while the first was running).
const KeyTakenRule = "idempotency_key_taken"

type claimKey struct{}

// WithClaim returns ctx carrying c: the commands submitted with it store the
// key as they commit.
func WithClaim(ctx context.Context, c *Claim) context.Context {
	return context.WithValue(ctx, claimKey{}, c)
}

// Committed tells whether a command of the request was committed with the
// key, and its leaf index.
func (c *Claim) Committed() (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.index, c.committed
}

// Taken tells whether a command of the request was refused because a
// committed command held the key already.
func (c *Claim) Taken() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.taken
}

// pending tells whether c still has to be stored by a command.
func (c *Claim) pending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.committed && !c.taken
}

// settle records the outcome of a command submitted with c.
func (c *Claim) settle(res Result, err error, stored bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err == nil && stored:
		c.committed, c.index = true, res.Index
	case err != nil:
		if e, ok := errs.As(err); ok && e.Rule == KeyTakenRule {
			c.taken = true
		}
	}
}

// claimOf returns the claim of a command's context, nil when it has none or
// a command of its request stored it already.
func claimOf(ctx context.Context) *Claim {
	c, _ := ctx.Value(claimKey{}).(*Claim)
	if c == nil || !c.pending() {
		return nil
	}
	return c
}

// checkClaim refuses the command when a committed command holds c's key
// within its window, and deletes the row of an expired one.
func checkClaim(ctx context.Context, tx *store.Tx, now time.Time, c *Claim) error {
	var created string
	err := tx.QueryRow(ctx, "SELECT created_at FROM idempotency_keys WHERE principal_id = ? AND idem_key = ?", c.Principal, c.Key).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if created >= FormatTime(now.Add(-c.Window)) {
		return errs.New(errs.Conflict, KeyTakenRule, "Idempotency-Key", "a request with this key was recorded already")
	}
	_, err = tx.Exec(ctx, "DELETE FROM idempotency_keys WHERE principal_id = ? AND idem_key = ?", c.Principal, c.Key)
	return err
}

// storeClaim inserts c's key for the command at index, in its savepoint.
func storeClaim(ctx context.Context, tx *store.Tx, index int64, at string, c *Claim) error {
	_, err := tx.Exec(ctx, "INSERT INTO idempotency_keys (principal_id, idem_key, request_digest, log_index, created_at) VALUES (?, ?, ?, ?, ?)",
		c.Principal, c.Key, c.Digest, index, at)
	return err
}

// KeyRecord is what the registry keeps of an idempotency key.
type KeyRecord struct {
	Digest    string
	LogIndex  int64
	Status    int // 0 until the first request's answer is kept
	Answer    string
	CreatedAt time.Time
}

// LookupKey returns the record of principal's key within window of now, nil
// when there is none.
func LookupKey(ctx context.Context, q store.Queryer, principal, key string, now time.Time, window time.Duration) (*KeyRecord, error) {
	var k KeyRecord
	var created string
	err := q.QueryRow(ctx, "SELECT request_digest, log_index, status, answer, created_at FROM idempotency_keys WHERE principal_id = ? AND idem_key = ?", principal, key).
		Scan(&k.Digest, &k.LogIndex, &k.Status, &k.Answer, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if created < FormatTime(now.Add(-window)) {
		return nil, nil
	}
	k.CreatedAt, err = time.Parse(TimeLayout, created)
	return &k, err
}

// keyPoll is how often AwaitKey reads a key again.
const keyPoll = 50 * time.Millisecond

// AwaitKey reads principal's key (LookupKey, within window of now: the
// writer's clock, which stamps the keys) until settled says the record read
// (nil when there is none) is the one to answer from, or for up to wait,
// and returns the last record read. The API's Idempotency-Key and the
// pages' forms sent again wait so for the first request's answer kept by
// another server. A context ended stops it with the context's error.
func AwaitKey(ctx context.Context, q store.Queryer, principal, key string, now func() time.Time, window, wait time.Duration, settled func(*KeyRecord) bool) (*KeyRecord, error) {
	deadline := time.Now().Add(wait)
	for {
		k, err := LookupKey(ctx, q, principal, key, now(), window)
		if err != nil || settled(k) || time.Now().After(deadline) {
			return k, err
		}
		select {
		case <-time.After(keyPoll):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// KeepAnswer keeps the answer the first request with principal's key got,
// for its retries. It is not part of the log (the command's entry is): a
// crash before it leaves the key with its command and no answer, which
// LookupKey tells by a Status of 0.
func KeepAnswer(ctx context.Context, db *store.DB, principal, key string, status int, answer string) error {
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(ctx, "UPDATE idempotency_keys SET status = ?, answer = ? WHERE principal_id = ? AND idem_key = ?", status, answer, principal, key); err != nil {
		return err
	}
	return tx.Commit()
}

// Running are the keys of this process's requests being answered, so that a
// second request with one (a retry sent before the first's answer came, a
// second click) waits here for the first to end rather than reach the writer
// and then poll the database for the first's answer (AwaitKey). The API's
// Idempotency-Key and the pages' forms each hold one; requests to other
// servers of the registry meet in the writer instead (KeyTakenRule).
type Running struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

// Hold waits until no request of this process holds key, then holds it
// until release is called, and returns release. A context that ends first
// returns its error, holding nothing.
func (k *Running) Hold(ctx context.Context, key string) (release func(), err error) {
	for {
		k.mu.Lock()
		if k.m == nil {
			k.m = map[string]chan struct{}{}
		}
		ch := k.m[key]
		if ch == nil {
			ch = make(chan struct{})
			k.m[key] = ch
			k.mu.Unlock()
			return func() {
				k.mu.Lock()
				delete(k.m, key)
				k.mu.Unlock()
				close(ch)
			}, nil
		}
		k.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// KeyPruner deletes the keys past their window at most once a minute: the
// API and the pages each hold one and call Prune after keeping an answer,
// so that the keys of a registry whose forms alone send them go too.
type KeyPruner struct {
	mu   sync.Mutex
	last time.Time
}

// Prune deletes the keys older than window unless it did within the minute.
func (k *KeyPruner) Prune(ctx context.Context, db *store.DB, now time.Time, window time.Duration) error {
	k.mu.Lock()
	due := now.Sub(k.last) > time.Minute
	if due {
		k.last = now
	}
	k.mu.Unlock()
	if !due {
		return nil
	}
	return PruneKeys(ctx, db, now, window)
}

// PruneKeys deletes the keys older than window.
func PruneKeys(ctx context.Context, db *store.DB, now time.Time, window time.Duration) error {
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(ctx, "DELETE FROM idempotency_keys WHERE created_at < ?", FormatTime(now.Add(-window))); err != nil {
		return err
	}
	return tx.Commit()
}

// ForgetKey deletes principal's key: the web forms forget a form whose
// first answer was not a redirect, so that it is answered again on its own.
func ForgetKey(ctx context.Context, db *store.DB, principal, key string) error {
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(ctx, "DELETE FROM idempotency_keys WHERE principal_id = ? AND idem_key = ?", principal, key); err != nil {
		return err
	}
	return tx.Commit()
}
