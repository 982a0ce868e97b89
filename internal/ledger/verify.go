package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/transparency-dev/merkle/compact"

	"github.com/custos-project/custos/internal/store"
)

// VerifyOptions tunes Verify.
type VerifyOptions struct {
	// VerifierKey is the checkpoint signer's note verifier key as the auditor
	// knows it. When empty, the key recorded in the log's first leaf is used,
	// which proves consistency but not who signed.
	VerifierKey string
	// KeyFingerprint, when set (and VerifierKey is not), pins the key
	// recorded in the log: its fingerprint must be this one (KeyFingerprint).
	KeyFingerprint string
	// Witnessed, when set, is a checkpoint a witness kept (its size and
	// root): the log must still hold that tree as its prefix.
	Witnessed *Head
	// MaxProblems stops the table comparison after this many differences (default 50).
	MaxProblems int
	// WithoutPersonalData says that this copy holds the log and its tables
	// but none of the sealed personal data (leaves loaded with
	// AppendLeaves: a replica, a restore from leaves), so the subjects table
	// is not compared with the log's commitments (sealed.go), nor are the
	// modules' checks run (Projections.Check: what the log commits to but
	// does not hold, which such a copy lacks too).
	WithoutPersonalData bool
	// From, when set, is the state an earlier verification saved
	// (LoadAuditState): the log must extend the checkpoint it kept (a
	// consistency proof, and the kept subtree hashes extended with the new
	// leaves must make the signed root); only the leaves after it are read
	// and replayed, onto the tables it kept; every row of every table is
	// still compared, a large table by the digests of its key ranges that
	// the state kept (digests.go). It pins the key it holds (a VerifierKey
	// or KeyFingerprint given beside it must be that key).
	From *AuditState
	// SaveState, when set, is the file where a verification that finds
	// nothing wrong, with a pinned key, saves its state for a later From; the
	// replay file is written beside it. StateKey seals it (HMAC-SHA-256);
	// without one it carries a plain SHA-256.
	SaveState string
	StateKey  []byte
	// Workers is how many goroutines hash and decode leaves beside the
	// replay, and how many tables are compared at once (default GOMAXPROCS).
	Workers int
	// SplitRows: a table of more replayed rows than this is compared in
	// key ranges of about this many rows, each range a job of its own, so
	// that every worker has work until the end (default 100,000).
	SplitRows int
	// Progress, when set, is told how far each stage is: "leaves" (leaves
	// checked and replayed, of those to replay), then "tables" (tables and
	// checks compared, of all).
	Progress func(stage string, done, total uint64)
}

// Report is the outcome of Verify.
type Report struct {
	Size       uint64
	Root       []byte
	KeyFromLog bool     // the verifier key came from the log itself, unpinned
	Tables     int      // projected tables compared
	Rows       int64    // rows compared
	Checks     int      // modules' own checks run (Projections.Check)
	Covered    []string // what each check read, a line each (CheckRun.Covered), in the order declared
	Problems   []string // empty when the log and the tables agree
	// The personal-data rows (subjects) checked against the commitments in
	// the log (sealed.go): how many, how many no leaf commits to because
	// they were written before custos logged commitments, and notes that
	// are not problems (a subject erased by entry N).
	SealedRows  int
	Uncommitted int
	Notes       []string
	// DigestRows is how many of Rows were compared by the digests of their
	// key ranges kept with the state (VerifyOptions.From), the replayed
	// rows not read.
	DigestRows int64
	// From is the size of the checkpoint the verification continued from
	// (VerifyOptions.From), 0 for a full one; Replayed is how many leaves
	// it read and replayed.
	From, Replayed uint64
	// SavedState is the state file written (VerifyOptions.SaveState), empty
	// when none was.
	SavedState string
}

// OK tells whether nothing was found wrong.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// headProbe reads what every command changes: the snapshots of one
// verification must all answer it the same.
const headProbe = "SELECT size, root FROM log_state WHERE id = 1"

// Verify recomputes the Merkle tree from the stored leaves, checks it against
// the signed checkpoint and the stored subtree hashes, then replays the leaves
// into an empty database of its own (a scratch SQLite file) and compares
// every projected table with the live one, row by row, and runs the
// modules' own checks. Each difference found is a problem that names the
// table, the row and the column. Leaves are read, hashed and decoded beside
// the replay, and tables compared in parallel, each reader in a snapshot of
// one state of the registry; a large table in key ranges, each a job of its
// own. With From it continues from an earlier verification's state, and
// compares the large tables by the digests of their ranges it kept; with
// SaveState it saves one, with those digests.
func Verify(ctx context.Context, db *store.DB, reg *Projections, opt VerifyOptions) (*Report, error) {
	if opt.MaxProblems <= 0 {
		opt.MaxProblems = 50
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	// The readers and the tree's two snapshots must fit in the read pool,
	// or taking the last snapshot waits for ever.
	readers := opt.Workers
	switch db.Dialect {
	case store.SQLite:
		readers = min(readers, 6) // the read pool holds 8
	case store.Postgres:
		readers = min(readers, 28) // the read pool holds 32
	}
	// One state for every read, so that a registry that is being written
	// to (by this or another server) verifies as of one log head.
	// The stored tree is checked beside the replay, on a snapshot of its own
	// (treeCheck); one from a kept state reads the leaves before it on
	// another (checkLeavesBefore).
	tree := 1
	if opt.From != nil {
		tree = 2
	}
	snaps, err := db.Snapshots(ctx, readers+tree, headProbe)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, s := range snaps {
			s.Rollback()
		}
	}()
	// A registry larger than its memory map is read through each
	// reader's page cache: a large one keeps the tables' upper b-tree
	// pages, which every row's lookup walks, in it.
	// Each is set back as soon as its snapshot's part is done, beside the
	// parts still running: SQLite frees a cache's pages one by one, seconds
	// for gigabytes at 1M organs, which at the end would be run alone.
	restores := make([]func(), len(snaps))
	for i, s := range snaps {
		restore, err := s.PageCache(ctx, min(1<<30, max(64<<20, store.AvailableMemory()/int64(4*len(snaps)))))
		if err != nil {
			return nil, err
		}
		restores[i] = sync.OnceFunc(restore)
		defer restores[i]()
	}
	q := snaps[0]
	rep := &Report{}
	problem := func(format string, args ...any) bool {
		rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...))
		return len(rep.Problems) >= opt.MaxProblems
	}
	head, signed, err := ReadHead(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read the log head (was the database initialised with custos init?): %w", err)
	}
	if signed == "" {
		if head.Size == 0 {
			return nil, fmt.Errorf("this database has no log: run custos init first")
		}
		problem("log_state: the signed checkpoint is missing, though the head says %d leaves: it was removed", head.Size)
		return rep, nil
	}
	rep.Size, rep.Root = head.Size, head.Root
	foreign, err := ForeignObjects(ctx, q)
	if err != nil {
		return nil, err
	}
	for _, f := range foreign {
		if problem("%s", f) {
			break
		}
	}

	st := opt.From
	if st != nil {
		switch {
		case opt.VerifierKey != "" && opt.VerifierKey != st.LogKey:
			return nil, fmt.Errorf("the verify state pins the log key %s, not the one given: refused", st.Fingerprint)
		case opt.KeyFingerprint != "" && !SameFingerprint(st.Fingerprint, opt.KeyFingerprint):
			return nil, fmt.Errorf("the verify state pins the log key %s, not %s: refused", st.Fingerprint, opt.KeyFingerprint)
		}
		opt.VerifierKey = st.LogKey
		rep.From = st.Size
	}
	// The key and origin are the first leaf's, not the settings rows it
	// projected: a row changed alone is then named by the replay, not
	// taken for a log re-signed or a checkpoint of another log.
	first, fromLeaf := firstLeafSettings(ctx, q)
	key, ok := pinKey(ctx, q, first, fromLeaf, opt, rep, problem)
	if !ok {
		return rep, nil
	}
	// The checkpoint must name this registry's log: the origin that its
	// first leaf, registry.initialized, recorded (in the settings too).
	origin := first.Origin
	if !fromLeaf {
		if err := q.QueryRow(ctx, "SELECT value FROM settings WHERE name = 'origin'").Scan(&origin); err != nil {
			problem("settings: the log's origin is missing (%v)", err)
			return rep, nil
		}
	}
	if st != nil && st.Origin != origin {
		return nil, fmt.Errorf("the verify state is of the log %q, this registry's is %q: refused", st.Origin, origin)
	}
	cp, err := OpenCheckpoint(signed, key, origin)
	if err != nil {
		problem("log_state: the stored checkpoint does not verify: %v", err)
		return rep, nil
	}
	switch {
	case cp.Size != head.Size:
		problem("log_state: the head says %d leaves, its signed checkpoint %d: the head was changed after it was signed", head.Size, cp.Size)
	case !equalHash(cp.Root, head.Root):
		problem("log_state: the head's root is %s, its signed checkpoint's %s (both of %d leaves): the head was changed after it was signed", RootText(head.Root), RootText(cp.Root), cp.Size)
	}

	// Replay target: a scratch file, beside the state to save if any (it
	// becomes the state's replay file), else in the temporary folder.
	dir := os.TempDir()
	if opt.SaveState != "" {
		dir = filepath.Dir(opt.SaveState)
	}
	f, err := os.CreateTemp(dir, ".custos-verify-*.db")
	if err != nil {
		return nil, err
	}
	scratch := f.Name()
	f.Close()
	defer os.Remove(scratch)
	var rng *compact.Range
	var from uint64
	if st != nil {
		if rng, err = st.compactRange(); err != nil {
			return nil, err
		}
		from = st.Size
		if stop := checkExtends(ctx, q, st, cp, problem); stop || len(rep.Problems) > 0 {
			return rep, nil
		}
		os.Remove(scratch)
		if err := st.copyReplay(scratch); err != nil {
			return nil, err
		}
	} else {
		rng = factory.NewEmptyRange(0)
	}
	mem, err := store.OpenScratch(ctx, scratch, scratchCache(scratch, head.Size-min(from, head.Size)))
	if err != nil {
		return nil, err
	}
	memOpen := true
	defer func() {
		if memOpen {
			mem.Close()
		}
	}()
	applied, err := mem.Migrate(ctx, reg.Schemas())
	if err != nil {
		return nil, err
	}
	if st != nil && len(applied) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the kept replay was migrated to this custos's schema (%d migration(s)): if a migration changed what projectors write, verify once in full", len(applied)))
	}
	seals := newSealedLog()
	var kept map[string][]keptRange
	var memos map[string]string // what the checks kept (CheckRun.Kept)
	if st != nil {
		if seals, err = loadSealedLog(ctx, mem.Read()); err != nil {
			return nil, err
		}
		// The range digests the state kept, and the keys the replay
		// touches in their tables, whose ranges are digested again.
		// A migration may have changed kept rows without noting them:
		// then every table is compared row by row.
		if len(applied) == 0 {
			if kept, err = loadDigests(ctx, mem.Read()); err != nil {
				return nil, err
			}
			if memos, err = loadMemos(ctx, mem.Read()); err != nil {
				return nil, err
			}
		}
		if err := trackTouched(ctx, mem, keptTables(reg, kept), true); err != nil {
			return nil, err
		}
		if w := opt.Witnessed; w != nil && w.Size <= st.Size {
			if err := checkWitnessedBefore(ctx, q, w, st, problem); err != nil {
				return nil, err
			}
		}
	}
	// A replay from empty builds its secondary indexes at the end
	// (lateIndexes); one that continues a kept replay adds to indexes
	// already built.
	li := &lateIndexes{}
	if st == nil {
		if li, err = dropLateIndexes(ctx, mem, reg.Schemas()); err != nil {
			return nil, err
		}
	}
	defer li.close()
	// The replay is one transaction: its statements are prepared once
	// (store.Tx.stmt), and the scratch file's pages are written once, at
	// its commit, rather than at each of many.
	mtx, err := mem.BeginWrite(ctx)
	if err != nil {
		return nil, err
	}
	li.tx = mtx
	defer mtx.Rollback()

	// Leaves: contiguous, hashes match data, tree matches the checkpoint;
	// the stored tree is checked beside the replay. From a kept state, the
	// leaves before it are read and hashed beside the replay too, and the
	// new leaves' hashes are handed to the tree check after theirs.
	tc := startTreeCheck(ctx, snaps[readers], head.Size)
	defer tc.wait()
	var level [][]byte
	type checked struct {
		problems []string
		err      error
	}
	var before chan checked
	if st != nil {
		level = make([][]byte, 0, head.Size-min(from, head.Size))
		before = make(chan checked, 1)
		bctx, cancel := context.WithCancel(ctx)
		go func() {
			p, err := checkLeavesBefore(bctx, snaps[readers+1], st, tc, opt.MaxProblems)
			restores[readers+1]()
			before <- checked{p, err}
		}()
		// Run before tc.wait (deferred earlier), which ends the hashes'
		// channel the leaves before are handed on.
		defer func() {
			cancel()
			if before != nil {
				<-before
			}
		}()
	} else {
		level = make([][]byte, 0, treeChunk)
	}
	next := from
	missing := false
	// The replay's statements run with a context that is never done: on a
	// cancellable one modernc's driver starts a goroutine for each statement
	// to watch it, and sets and clears a progress handler, about a tenth of
	// the replay's CPU at 1M organs (BENCHMARKS.md, "the replay's statements
	// unwatched"). Each is short; the loop checks ctx between leaves instead.
	pctx := context.WithoutCancel(ctx)
	err = readLeaves(ctx, q, reg, from, opt.Workers, func(it *leafItem) (bool, error) {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if uint64(it.idx) != next {
			problem("log_leaves: leaf %d is missing (next stored leaf is %d)", next, it.idx)
			missing = true
			return false, nil
		}
		if !equalHash(it.stored, it.hash) {
			problem("log_leaves: leaf %d: stored hash does not match its data (the leaf was altered)", it.idx)
		}
		if err := rng.Append(it.hash, nil); err != nil {
			return false, err
		}
		if err := checkWitnessed(opt.Witnessed, rng, problem); err != nil {
			return false, err
		}
		level = append(level, it.hash)
		if st == nil && len(level) == treeChunk {
			tc.add(level)
			level = make([][]byte, 0, treeChunk)
		}
		if it.err != nil {
			problem("log_leaves: leaf %d is not a valid entry: %v", it.idx, it.err)
		} else {
			seals.add(it.idx, it.entry)
			if err := reg.projectDecoded(pctx, li, it.idx, it.entry, it.decoded); err != nil {
				problem("log_leaves: leaf %d (%s) cannot be replayed: %v", it.idx, it.entry.Type, err)
			}
		}
		next++
		if opt.Progress != nil && (next-from)%20000 == 0 {
			opt.Progress("leaves", next-from, head.Size-from)
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	rep.Replayed = next - from
	if st == nil {
		tc.add(level)
		level = nil
	}
	if missing {
		return rep, nil
	}
	if next < cp.Size {
		problem("log_leaves: the log is cut: leaf %d is the first missing one (%d leaves stored, the signed checkpoint says %d)", next, next, cp.Size)
	} else if next > cp.Size {
		problem("log_leaves: %d leaves stored, the signed checkpoint says %d", next, cp.Size)
	}
	if w := opt.Witnessed; w != nil && next < w.Size {
		problem("log_leaves: the log has %d leaves, but a witness saw it with %d: it was rolled back or cut", next, w.Size)
	}
	root, err := rng.GetRootHash(nil)
	if err != nil {
		return nil, err
	}
	if next == cp.Size && !equalHash(root, cp.Root) {
		problem("log_leaves: the tree recomputed from the leaves has root %s, the signed checkpoint says %s",
			RootText(root), RootText(cp.Root))
		// The subtree hashes stored as the leaves were appended say where
		// they changed (two leaves swapped, each with its own hash).
		if st == nil {
			if p, err := tc.wait(); err == nil && p != "" {
				problem("%s", p)
			}
		}
	}
	if len(rep.Problems) > 0 {
		return rep, nil
	}
	if opt.Progress != nil {
		opt.Progress("leaves", next-from, head.Size-from)
	}
	if err := li.finish(ctx, opt.Progress, opt.SaveState != "", compareReads(reg)); err != nil {
		return nil, err
	}
	if before != nil {
		b := <-before
		before = nil
		if b.err != nil {
			return nil, fmt.Errorf("check the leaves before the kept checkpoint: %w", b.err)
		}
		for _, p := range b.problems {
			problem("%s", p)
		}
		if len(b.problems) > 0 {
			// The stored subtree hashes say where the old leaves changed
			// (two swapped, one rewritten with its hash), as in a full
			// verify; the new leaves are not handed over.
			if p := tc.located(); p != "" {
				problem("%s", p)
			}
			return rep, nil
		}
		tc.add(level)
		level = nil
	}
	p, err := tc.wait()
	if err != nil {
		return nil, fmt.Errorf("check the stored tree: %w", err)
	}
	if p != "" {
		problem("%s", p)
	}
	restores[readers]()
	if err := mtx.Commit(); err != nil {
		return nil, err
	}
	if st != nil {
		if err := trackTouched(ctx, mem, keptTables(reg, kept), false); err != nil {
			return nil, err
		}
	}
	// A replay thrown away is not written again: its page cache, as large
	// as the file it filled, is given back beside the comparison (which
	// reads the file through the read pool), not at Close. One that is kept
	// keeps it for the state's writes.
	released := make(chan error, 1)
	if opt.SaveState == "" {
		go func() { released <- mem.ReleaseWriterCache(ctx) }()
	} else {
		released <- nil
	}

	// Tables, the modules' checks and the sealed rows, in parallel: the
	// live ones must be exactly what the log says.
	keep := map[string]string{}
	digests, err := compareAll(ctx, snaps[:readers], restores[:readers], mem, reg, seals, kept, memos, keep, opt, rep)
	if err != nil {
		return nil, err
	}
	if err := <-released; err != nil {
		return nil, fmt.Errorf("release the replay's page cache: %w", err)
	}
	if !rep.OK() || opt.SaveState == "" {
		return rep, nil
	}
	if rep.KeyFromLog {
		rep.Notes = append(rep.Notes, "the verify state was not saved: the log's key is not pinned")
		return rep, nil
	}
	if err := saveDigests(ctx, mem, digests); err != nil {
		return nil, err
	}
	if err := saveMemos(ctx, mem, keep); err != nil {
		return nil, err
	}
	if err := seals.save(ctx, mem); err != nil {
		return nil, err
	}
	versions, err := mem.SchemaVersions(ctx)
	if err != nil {
		return nil, err
	}
	memOpen = false
	if err := mem.Close(); err != nil {
		return nil, err
	}
	fp, err := KeyFingerprint(key)
	if err != nil {
		return nil, err
	}
	save := &AuditState{Origin: origin, LogKey: key, Fingerprint: fp, Size: head.Size, Root: head.Root, Checkpoint: signed,
		Range: rng.Hashes(), Schema: versions, VerifiedAt: time.Now().UTC().Format(time.RFC3339)}
	if err := saveAuditState(opt.SaveState, opt.StateKey, save, scratch); err != nil {
		return nil, fmt.Errorf("save the verify state: %w", err)
	}
	rep.SavedState = opt.SaveState
	return rep, nil
}

// replayBytesPerLeaf is how much a leaf adds to the replay file, about:
// 460 bytes at 1,000,000 organs (2.05 GB for 4.47M leaves).
const replayBytesPerLeaf = 600

// scratchCache is the page cache the replay into the scratch file gets: as
// large as the file will grow (what it holds already, a kept replay, and
// replayBytesPerLeaf for each leaf to replay), so that the replay's inserts
// do not write pages out and read them back as the file outgrows its
// cache, but no more than half the memory available.
func scratchCache(path string, leaves uint64) int64 {
	need := int64(leaves) * replayBytesPerLeaf
	if fi, err := os.Stat(path); err == nil {
		need += fi.Size()
	}
	if avail := store.AvailableMemory(); avail > 0 {
		need = min(need, avail/2)
	}
	return need
}

// checkExtends checks that the log still holds the tree the state kept: the
// signed checkpoint is not smaller, the stored subtrees of the kept tree are
// the kept ones, and a consistency proof from the stored nodes links the
// kept root to the signed one.
func checkExtends(ctx context.Context, q store.Queryer, st *AuditState, cp *Checkpoint, problem func(string, ...any) bool) bool {
	if cp.Size < st.Size {
		return problem("log_state: the log has %d leaves, but it had %d when it was verified on %s: it was rolled back or cut", cp.Size, st.Size, st.VerifiedAt)
	}
	if cp.Size == st.Size && !equalHash(cp.Root, st.Root) {
		return problem("log_state: the log of %d leaves has root %s, but it had root %s at that size when it was verified on %s: the history before that checkpoint was rewritten",
			cp.Size, RootText(cp.Root), RootText(st.Root), st.VerifiedAt)
	}
	if st.Size > 0 {
		rng, err := rangeOf(ctx, q, st.Size)
		if err != nil {
			return problem("log_nodes: the subtrees of the first %d leaves cannot be read (%v): the history before the checkpoint verified on %s was cut or rewritten", st.Size, err, st.VerifiedAt)
		}
		for i, h := range rng.Hashes() {
			if !equalHash(h, st.Range[i]) {
				return problem("log_nodes: the subtrees of the first %d leaves differ from those verified on %s: the history before that checkpoint was rewritten", st.Size, st.VerifiedAt)
			}
		}
	}
	p, err := ConsistencyProof(ctx, q, st.Size, cp.Size)
	if err == nil {
		err = VerifyConsistency(st.Size, cp.Size, p, st.Root, cp.Root)
	}
	if err != nil {
		return problem("log_state: the signed log of %d leaves does not extend the one of %d leaves verified on %s (%v): the history before that checkpoint was rewritten",
			cp.Size, st.Size, st.VerifiedAt, err)
	}
	return false
}

// checkWitnessedBefore checks a witnessed checkpoint no larger than the
// kept one against it, with a consistency proof.
func checkWitnessedBefore(ctx context.Context, q store.Queryer, w *Head, st *AuditState, problem func(string, ...any) bool) error {
	if w.Size == st.Size {
		if !equalHash(w.Root, st.Root) {
			problem("log_leaves: the first %d leaves make root %s, but a witness saw root %s at that size: the log was rewritten after the witness saw it",
				w.Size, RootText(st.Root), RootText(w.Root))
		}
		return nil
	}
	p, err := ConsistencyProof(ctx, q, w.Size, st.Size)
	if err != nil {
		return err
	}
	if err := VerifyConsistency(w.Size, st.Size, p, w.Root, st.Root); err != nil {
		problem("log_leaves: the tree of %d leaves a witness saw is not a prefix of the one verified (%v): the log was rewritten after the witness saw it", w.Size, err)
	}
	return nil
}

// pinKey returns the key the checkpoint is verified with: the one the
// auditor gave, else the one the log recorded, pinned by its fingerprint
// when the auditor gave that, else unpinned (Report.KeyFromLog). It tells
// false when verifying cannot go on.
func pinKey(ctx context.Context, q store.Queryer, first Initialized, fromLeaf bool, opt VerifyOptions, rep *Report, problem func(string, ...any) bool) (string, bool) {
	key := first.LogKey
	if !fromLeaf {
		var err error
		if key, err = RecordedKey(ctx, q); err != nil {
			problem("settings: %v", err)
			return "", false
		}
	}
	if opt.VerifierKey != "" {
		// The log names its key in its first leaf (registry.initialized); a
		// checkpoint that verifies with the pinned key must be that key's.
		if strings.TrimSpace(key) != strings.TrimSpace(opt.VerifierKey) {
			problem("settings: the log's first leaf names the verifier key %s, not the %s you pinned: either the pin is not this registry's key or the log was re-signed with another key", key, opt.VerifierKey)
		}
		return opt.VerifierKey, true
	}
	if opt.KeyFingerprint == "" {
		rep.KeyFromLog = true
		return key, true
	}
	fp, err := KeyFingerprint(key)
	if err != nil {
		problem("settings: the log's verifier key %q is not valid: %v", key, err)
		return "", false
	}
	if !SameFingerprint(fp, opt.KeyFingerprint) {
		problem("settings: the log's verifier key has fingerprint %s, not the %s you pinned: the log was re-signed with another key", fp, opt.KeyFingerprint)
		return "", false
	}
	return key, true
}

// checkWitnessed compares the tree so far with the checkpoint a witness
// kept, once the tree has reached its size.
func checkWitnessed(w *Head, rng *compact.Range, problem func(string, ...any) bool) error {
	if w == nil || rng.End() != w.Size {
		return nil
	}
	root, err := rng.GetRootHash(nil)
	if err != nil {
		return err
	}
	if !equalHash(root, w.Root) {
		problem("log_leaves: the first %d leaves make root %s, but a witness saw root %s at that size: the log was rewritten after the witness saw it",
			w.Size, RootText(root), RootText(w.Root))
	}
	return nil
}

// compareReads are the reads of the replayed tables that the comparison
// reads row by row (compareTable), for the plans that tell
// which indexes they go through.
func compareReads(reg *Projections) []string {
	var qs []string
	for _, t := range reg.ProjectedTables() {
		w := ""
		if !strings.Contains(t.Order, ",") {
			w = " WHERE " + t.Order + " >= '' AND " + t.Order + " < ''"
		}
		qs = append(qs, "SELECT * FROM "+t.Name+w+" ORDER BY "+t.Order)
	}
	return qs
}

// compareTable merges the live and the replayed table in key order, the
// rows whose key is at least lo (when not nil) and below hi (when not nil).
// Ordering keys are single text columns, or lists of them when the table
// is compared whole.
func compareTable(ctx context.Context, live, replay store.Queryer, t Table, lo, hi any, problem func(string, ...any) bool) (int64, error) {
	// Both sides sort and compare by byte order, whatever the PostgreSQL
	// locale.
	query := func(collate string) (string, []any) {
		w, args := rangeWhere(t.Order+collate, lo, hi)
		return "SELECT * FROM " + t.Name + w + " ORDER BY " + t.Order + collate, args
	}
	collate := ""
	if live.Dialect() == store.Postgres {
		collate = ` COLLATE "C"`
	}
	lq, largs := query(collate)
	lr, err := live.Query(ctx, lq, largs...)
	if err != nil {
		return 0, err
	}
	defer lr.Close()
	rq, rargs := query("")
	rr, err := replay.Query(ctx, rq, rargs...)
	if err != nil {
		return 0, err
	}
	defer rr.Close()
	cols, err := lr.Columns()
	if err != nil {
		return 0, err
	}
	// The replay is made by this binary's migrations: a column more or
	// less in the database was added or dropped behind custos's back.
	if rcols, err := rr.Columns(); err != nil {
		return 0, err
	} else if !slices.Equal(cols, rcols) {
		extra, missing := columnDiff(cols, rcols), columnDiff(rcols, cols)
		problem("table %s: its columns differ from the schema's: in the database but not the schema %v, in the schema but not the database %v (changed behind custos's back)", t.Name, extra, missing)
		return 0, nil
	}
	keyCols := strings.Split(strings.ReplaceAll(t.Order, " ", ""), ",")
	keyIdx := make([]int, len(keyCols))
	for i, k := range keyCols {
		keyIdx[i] = -1
		for j, c := range cols {
			if c == k {
				keyIdx[i] = j
			}
		}
		if keyIdx[i] < 0 {
			return 0, fmt.Errorf("order column %s not in table", k)
		}
	}
	// Each cursor scans into buffers of its own, reused row after row;
	// values compare as they are, and are rendered only for a key or a
	// problem.
	//
	// A row of the database without its key (NULL: SQLite takes one in a
	// TEXT PRIMARY KEY) is none the log holds, and sorts apart from the
	// others on each engine: it is counted and kept out of the merge, so
	// that it does not make every row after it look deleted.
	var nullKeys int64
	var firstNull string
	cursor := func(rs *sql.Rows, live bool) func() ([]any, string, error) {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		parts := make([]string, len(keyIdx))
		return func() ([]any, string, error) {
		next:
			if !rs.Next() {
				return nil, "", rs.Err()
			}
			if err := rs.Scan(ptrs...); err != nil {
				return nil, "", err
			}
			if live {
				for _, k := range keyIdx {
					if vals[k] == nil {
						if nullKeys++; nullKeys == 1 {
							firstNull = rowText(cols, vals)
						}
						goto next
					}
				}
			}
			if len(keyIdx) == 1 {
				// A text key compares as it is, in byte order as both
				// engines sort it, and is rendered only in a problem.
				if k, ok := vals[keyIdx[0]].(string); ok {
					return vals, k, nil
				}
				return vals, normalize(vals[keyIdx[0]]), nil
			}
			for i, k := range keyIdx {
				parts[i] = normalize(vals[k])
			}
			return vals, strings.Join(parts, ","), nil
		}
	}
	nextLive, nextReplay := cursor(lr, true), cursor(rr, false)
	defer func() {
		if nullKeys > 0 {
			problem("table %s: rows with no %s (NULL) are in the database but not in the log (inserted behind custos's back; custos writes every row with its key): %d, the first %s",
				t.Name, t.Order, nullKeys, firstNull)
		}
	}()
	// keyText renders a row's key for a problem.
	keyText := func(row []any, key string) string {
		if len(keyIdx) == 1 {
			return normalize(row[keyIdx[0]])
		}
		return key
	}
	var n int64
	a, ka, err := nextLive()
	if err != nil {
		return n, err
	}
	b, kb, err := nextReplay()
	if err != nil {
		return n, err
	}
	for a != nil || b != nil {
		n++
		var stop bool
		switch {
		case b == nil || (a != nil && ka < kb):
			stop = problem("table %s: row %s=%s is in the database but not in the log (inserted behind custos's back)", t.Name, t.Order, keyText(a, ka))
			a, ka, err = nextLive()
		case a == nil || kb < ka:
			stop = problem("table %s: row %s=%s is in the log but missing from the database (deleted behind custos's back)", t.Name, t.Order, keyText(b, kb))
			b, kb, err = nextReplay()
		default:
			for i := range cols {
				if !sameValue(a[i], b[i]) {
					stop = problem("table %s: row %s=%s: column %s %s (changed behind custos's back)",
						t.Name, t.Order, keyText(a, ka), cols[i], changeText(a[i], b[i]))
					break
				}
			}
			if a, ka, err = nextLive(); err == nil {
				b, kb, err = nextReplay()
			}
		}
		if err != nil {
			return n, err
		}
		if stop {
			return n, nil
		}
	}
	return n, nil
}

// rowText renders a row for a problem, its columns named, cut short past
// 200 bytes.
func rowText(cols []string, vals []any) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + "=" + normalize(vals[i]))
		if b.Len() > 200 {
			cut := b.String()[:200]
			for !utf8.ValidString(cut) {
				cut = cut[:len(cut)-1]
			}
			return cut + "…"
		}
	}
	return b.String()
}

// rangeWhere is the condition of the rows whose key is at least lo (when
// not nil) and below hi (when not nil), and its arguments.
func rangeWhere(key string, lo, hi any) (string, []any) {
	var where []string
	var args []any
	if lo != nil {
		where, args = append(where, key+" >= ?"), append(args, lo)
	}
	if hi != nil {
		where, args = append(where, key+" < ?"), append(args, hi)
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// sameValue tells whether two scanned values are the same: as they are when
// both engines gave the same type, else as normalize renders them.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case []byte:
		if y, ok := b.([]byte); ok {
			return bytes.Equal(x, y)
		}
	case string:
		if y, ok := b.(string); ok {
			return x == y
		}
	case int64:
		if y, ok := b.(int64); ok {
			return x == y
		}
	}
	return normalize(a) == normalize(b)
}

// normalize renders a scanned value the same way whichever engine produced it.
func normalize(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return "x'" + hex.EncodeToString(x) + "'"
	case string:
		return strconv.Quote(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int32, int:
		return fmt.Sprintf("%d", x)
	case bool:
		if x {
			return "1"
		}
		return "0"
	default:
		return fmt.Sprintf("%v", x)
	}
}

// ForeignObjects lists, as problems, what custos never makes in its schema
// and what can make the registry's readers see other rows than a
// verification reads, or change rows as they are written, unseen: triggers
// and rules; on PostgreSQL, row-level security and its policies (a policy
// can tell a verification's read-only snapshot from the server's reads);
// views, materialized views, foreign and partitioned tables other than
// custos's own schema_migrations view (one can stand in for a table under
// its name). Verify reports each; serve warns of each at start.
func ForeignObjects(ctx context.Context, q store.Queryer) ([]string, error) {
	type check struct {
		sql    string
		format string
	}
	var checks []check
	switch q.Dialect() {
	case store.SQLite:
		checks = []check{
			{"SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' ORDER BY name",
				"table %[2]s: trigger or rule %[1]s, which custos never makes: it can change rows as they are written, unseen; drop it and verify again"},
			{"SELECT name, type FROM sqlite_master WHERE type = 'view' AND name <> 'schema_migrations' ORDER BY name",
				"%[1]s: a %[2]s, which custos never makes: it can stand in for a table under its name; drop it, restore the table from a backup, and verify again"},
		}
	case store.Postgres:
		checks = []check{
			{`SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
			WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace
			UNION ALL SELECT r.rulename, r.tablename FROM pg_rules r WHERE r.schemaname = current_schema()
			ORDER BY 1`,
				"table %[2]s: trigger or rule %[1]s, which custos never makes: it can change rows as they are written, unseen; drop it and verify again"},
			{`SELECT c.relname, CASE WHEN c.relforcerowsecurity THEN 'forced' ELSE 'on' END FROM pg_class c
			WHERE c.relnamespace = current_schema()::regnamespace AND (c.relrowsecurity OR c.relforcerowsecurity) ORDER BY 1`,
				"table %[1]s: row-level security is %[2]s, which custos never turns on: its policies can show the registry's readers other rows than a verification reads; ALTER TABLE %[1]s NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY, drop its policies and verify again"},
			{`SELECT p.polname, c.relname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
			WHERE c.relnamespace = current_schema()::regnamespace ORDER BY 2, 1`,
				"table %[2]s: row-level security policy %[1]s, which custos never makes: drop it and verify again"},
			{`SELECT c.relname, CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' ELSE 'partitioned table' END
			FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('v', 'm', 'f', 'p')
			AND NOT (c.relkind = 'v' AND c.relname = 'schema_migrations') ORDER BY 1`,
				"%[1]s: a %[2]s, which custos never makes: it can stand in for a table under its name; drop it, restore the table from a backup, and verify again"},
		}
	default:
		return nil, nil
	}
	var out []string
	for _, c := range checks {
		rows, err := q.Query(ctx, c.sql)
		if err != nil {
			return nil, fmt.Errorf("list the database's triggers, policies and views: %w", err)
		}
		found, err := store.Rows(rows, func(r store.Scanner, x *[2]string) error { return r.Scan(&x[0], &x[1]) })
		if err != nil {
			return nil, fmt.Errorf("list the database's triggers, policies and views: %w", err)
		}
		for _, x := range found {
			out = append(out, fmt.Sprintf(c.format, x[0], x[1]))
		}
	}
	return out, nil
}

// columnDiff lists the names of a that b lacks.
func columnDiff(a, b []string) []string {
	out := []string{}
	for _, c := range a {
		if !slices.Contains(b, c) {
			out = append(out, c)
		}
	}
	return out
}
