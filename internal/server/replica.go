package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/tick"
)

// DefaultReplicaMaxLag is Config.ReplicaMaxLag's default.
const DefaultReplicaMaxLag = 10 * time.Second

// useReplica attaches the read replica at dsn to db after checking that it
// is a physical standby of this very database and holds this registry's
// log as the primary held it: a standby (in recovery) of the primary's
// cluster (pg_control_system()'s system identifier), the same database
// (name and object id) and schema, the registry's log key, and a log that
// is a prefix of the primary's (ledger.CompareCopy) and that catches up
// with the size the primary's had at start within maxLag. A copy of the
// registry in another database, even on a standby of the same cluster,
// passes none of the identity checks: its lists and traces would be those
// of the copy, and never see a write.
func useReplica(ctx context.Context, db *store.DB, dsn, logKey string, maxLag time.Duration, log *slog.Logger) (*replicaWatch, error) {
	if maxLag <= 0 {
		maxLag = DefaultReplicaMaxLag
	}
	if err := db.UseReplica(ctx, dsn); err != nil {
		return nil, err
	}
	w := &replicaWatch{db: db, dsn: store.Redact(dsn), logKey: logKey, maxLag: maxLag, log: log, now: time.Now}
	var err error
	if w.primary, err = db.Identity(ctx); err != nil {
		return nil, fmt.Errorf("--db: %w", err)
	}
	rid, err := db.Identity(store.OnReplica(ctx))
	if err != nil {
		return nil, fmt.Errorf("--db-read %s: %w", w.dsn, err)
	}
	if why := w.notStandby(rid); why != "" {
		return nil, fmt.Errorf("--db-read %s %s", w.dsn, why)
	}
	// A standby of a registry just made may not have replayed it yet:
	// it is given maxLag to hold the log key and reach the log's size at
	// start.
	deadline := w.now().Add(maxLag)
	var target uint64
	for {
		st, err := w.compare(ctx)
		if err == nil && st.Diverged != "" {
			return nil, fmt.Errorf("--db-read %s is a standby of --db, but its log is not the primary's: %s; it cannot serve this registry's reads: "+
				"rebuild it from the primary (pg_basebackup -R)", w.dsn, st.Diverged)
		}
		if err == nil && target == 0 {
			target = max(st.Size, 1)
		}
		if err == nil && st.CopySize >= target {
			w.inUse.Store(true)
			return w, nil
		}
		if w.now().After(deadline) {
			if err != nil {
				return nil, fmt.Errorf("--db-read %s is a standby of --db's database, but has not replayed this registry in %s (on the primary, pg_stat_replication lists a standby that streams; one stopped for long may need a new base backup): %w",
					w.dsn, maxLag, err)
			}
			return nil, fmt.Errorf("--db-read %s is a standby of --db's database, but holds %d leaves of the log and has not caught up with the primary's %d in %s: "+
				"its replay is paused (SELECT pg_get_wal_replay_pause_state() on it) or its stream is broken (on the primary, pg_stat_replication lists a standby that streams; one stopped for long needs a new base backup)",
				w.dsn, st.CopySize, target, maxLag)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// replicaWatch decides, at start and then periodically, whether the read
// replica is fit to be read: a standby of the primary's database whose log
// is the primary's, no more than maxLag behind. While it is not, the reads
// marked for it go to the primary (store.DB.SetReplicaInUse), and the
// server's log and metrics say why.
type replicaWatch struct {
	db      *store.DB
	dsn     string // redacted, for messages
	logKey  string
	maxLag  time.Duration
	log     *slog.Logger
	now     func() time.Time
	primary store.PostgresIdentity

	inUse  atomic.Bool
	behind atomic.Int64 // leaves, at the last check

	mu      sync.Mutex
	aside   string          // why the replica is set aside, "" while in use
	samples []replicaSample // the primary's sizes at recent checks, oldest first

	stop context.CancelFunc
	done chan struct{}
}

type replicaSample struct {
	at   time.Time
	size uint64
}

// notStandby says why a database of identity id is not a standby of the
// primary's database, "" when it is one.
func (w *replicaWatch) notStandby(id store.PostgresIdentity) string {
	p := w.primary
	switch {
	case !id.InRecovery:
		return "is not a standby (pg_is_in_recovery() is false): give a streaming replica of --db, whose writes it would otherwise never see"
	case id.System != p.System:
		return fmt.Sprintf("is a standby of another PostgreSQL cluster (system identifier %s; --db's is %s): it never sees this registry's writes; "+
			"give a standby made from --db's server (pg_basebackup -R)", id.System, p.System)
	case id.Database != p.Database || id.DatabaseOID != p.DatabaseOID:
		return fmt.Sprintf("is the database %s (oid %d) of a standby of --db's server, but --db is the database %s (oid %d): another database, such as an older copy of the registry, "+
			"never sees this registry's writes; give --db-read the database name of --db", id.Database, id.DatabaseOID, p.Database, p.DatabaseOID)
	case id.Schema != p.Schema || id.SchemaOID != p.SchemaOID:
		return fmt.Sprintf("reads the schema %s (oid %d), but --db reads %s (oid %d): give --db-read the search_path of --db", id.Schema, id.SchemaOID, p.Schema, p.SchemaOID)
	}
	return ""
}

// compare checks the replica's log key and compares its log with the
// primary's, read in a snapshot.
func (w *replicaWatch) compare(ctx context.Context) (ledger.CopyState, error) {
	rctx := store.OnReplica(ctx)
	var key string
	if err := w.db.Read().QueryRow(rctx, "SELECT value FROM settings WHERE name = 'log_key'").Scan(&key); err != nil {
		return ledger.CopyState{}, err
	}
	if key != w.logKey {
		return ledger.CopyState{}, errors.New("its log key is not this registry's")
	}
	snap, err := w.db.Snapshot(ctx)
	if err != nil {
		return ledger.CopyState{}, err
	}
	defer snap.Rollback()
	// The snapshot reads the primary whatever its context says; db.Read()
	// under rctx reads the replica.
	return ledger.CompareCopy(rctx, snap, w.db.Read())
}

// check decides whether the replica is fit to be read now: still a standby
// of the primary's database, holding the registry's log key and a prefix
// of its log, and not behind by more than maxLag: its log holds at least
// the leaves the primary's held maxLag ago (the sizes the checks saw). A
// replica that cannot be reached is set aside too. It returns why the
// replica is set aside, "" when it is in use.
func (w *replicaWatch) check(ctx context.Context) string {
	now := w.now()
	why := ""
	id, err := w.db.Identity(store.OnReplica(ctx))
	if err != nil {
		why = fmt.Sprintf("it cannot be read (%v)", err)
	} else {
		why = w.notStandby(id)
	}
	if why == "" {
		st, err := w.compare(ctx)
		switch {
		case err != nil:
			why = fmt.Sprintf("its log cannot be read (%v)", err)
		case st.Diverged != "":
			why = "its log is not the primary's: " + st.Diverged + "; rebuild it from the primary (pg_basebackup -R)"
		default:
			w.behind.Store(int64(st.Behind()))
			if lagged, size := w.lagged(now, st.Size, st.CopySize); lagged {
				why = fmt.Sprintf("it is more than %s behind the primary: it holds %d leaves, the primary held %d %s ago and holds %d now "+
					"(its replay paused, or its stream broken or slow: pg_stat_replication on the primary)", w.maxLag, st.CopySize, size, w.maxLag, st.Size)
			}
		}
	}
	w.set(why)
	return why
}

// lagged records the primary's size at now and tells whether the replica's
// size is below the one the primary had maxLag ago (with that size): the
// latest check at or before now - maxLag. Samples older than that one are
// dropped.
func (w *replicaWatch) lagged(now time.Time, size, copySize uint64) (bool, uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.samples = append(w.samples, replicaSample{now, size})
	i := -1
	for j, s := range w.samples {
		if !s.at.After(now.Add(-w.maxLag)) {
			i = j
		}
	}
	if i < 0 {
		return false, 0
	}
	w.samples = w.samples[i:]
	return copySize < w.samples[0].size, w.samples[0].size
}

// set puts the replica in use (why == "") or sets it aside, saying so in
// the server's log when that changes.
func (w *replicaWatch) set(why string) {
	w.mu.Lock()
	was := w.aside
	w.aside = why
	w.mu.Unlock()
	w.db.SetReplicaInUse(why == "")
	w.inUse.Store(why == "")
	switch {
	case why != "" && why != was:
		w.log.Error("the read replica is set aside: the traces and lists it served read the primary until it is fit again", "replica", w.dsn, "why", why)
	case why == "" && was != "":
		w.log.Info("the read replica is in use again: the traces and lists read it", "replica", w.dsn)
	}
}

// start checks the replica every quarter of maxLag (at most every 5 s)
// until close.
func (w *replicaWatch) start(ctx context.Context) {
	ctx, w.stop = context.WithCancel(context.WithoutCancel(ctx))
	w.done = make(chan struct{})
	every := min(max(w.maxLag/4, 50*time.Millisecond), 5*time.Second)
	go func() {
		defer close(w.done)
		tick.Run(ctx, every, nil, func(ctx context.Context) error { w.check(ctx); return nil }, nil)
	}()
}

// close stops the checks.
func (w *replicaWatch) close() {
	if w.stop != nil {
		w.stop()
		<-w.done
	}
}
