package ledger

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"

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
	// is not compared with the log's commitments (sealed.go).
	WithoutPersonalData bool
	// Progress, when set, is told how many leaves have been checked.
	Progress func(done, total uint64)
}

// Report is the outcome of Verify.
type Report struct {
	Size       uint64
	Root       []byte
	KeyFromLog bool     // the verifier key came from the log itself, unpinned
	Tables     int      // projected tables compared
	Rows       int64    // rows compared
	Problems   []string // empty when the log and the tables agree
	// The personal-data rows (subjects) checked against the commitments in
	// the log (sealed.go): how many, how many no leaf commits to because
	// they were written before custos logged commitments, and notes that
	// are not problems (a subject erased by entry N).
	SealedRows  int
	Uncommitted int
	Notes       []string
}

// OK tells whether nothing was found wrong.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Verify recomputes the Merkle tree from every stored leaf, checks it against
// the signed checkpoint and the stored subtree hashes, then replays all leaves
// into an empty in-memory database and compares every projected table with
// the live one, row by row. Each difference found is a problem that names the
// table, the row and the column.
func Verify(ctx context.Context, db *store.DB, reg *Projections, opt VerifyOptions) (*Report, error) {
	if opt.MaxProblems <= 0 {
		opt.MaxProblems = 50
	}
	// One snapshot for every read, so that a registry that is being written
	// to (by this or another server) verifies as of one log head.
	q, err := db.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer q.Rollback()
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
		return nil, fmt.Errorf("this database has no log: run custos init first")
	}
	rep.Size, rep.Root = head.Size, head.Root

	key, ok := pinKey(ctx, q, opt, rep, problem)
	if !ok {
		return rep, nil
	}
	// The checkpoint must name this registry's log: the origin that its
	// first leaf, registry.initialized, recorded in the settings.
	var origin string
	if err := q.QueryRow(ctx, "SELECT value FROM settings WHERE name = 'origin'").Scan(&origin); err != nil {
		problem("settings: the log's origin is missing (%v)", err)
		return rep, nil
	}
	cp, err := OpenCheckpoint(signed, key, origin)
	if err != nil {
		problem("log_state: the stored checkpoint does not verify: %v", err)
		return rep, nil
	}
	if cp.Size != head.Size || !equalHash(cp.Root, head.Root) {
		problem("log_state: the head (size %d) differs from its signed checkpoint (size %d)", head.Size, cp.Size)
	}

	// Replay target.
	mem, err := store.OpenMemory(ctx)
	if err != nil {
		return nil, err
	}
	defer mem.Close()
	if _, err := mem.Migrate(ctx, reg.Schemas()); err != nil {
		return nil, err
	}
	mtx, err := mem.BeginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer mtx.Rollback()

	// Leaves: contiguous, hashes match data, tree matches the checkpoint.
	rng := factory.NewEmptyRange(0)
	level := make([][]byte, 0, head.Size)
	rows, err := q.Query(ctx, "SELECT idx, hash, data FROM log_leaves ORDER BY idx")
	if err != nil {
		return nil, err
	}
	var next uint64
	seals := newSealedLog()
	for rows.Next() {
		var idx int64
		var h []byte
		var data string
		if err := rows.Scan(&idx, &h, &data); err != nil {
			rows.Close()
			return nil, err
		}
		if uint64(idx) != next {
			problem("log_leaves: leaf %d is missing (next stored leaf is %d)", next, idx)
			rows.Close()
			return rep, nil
		}
		want := LeafHash([]byte(data))
		if !equalHash(h, want) {
			problem("log_leaves: leaf %d: stored hash does not match its data (the leaf was altered)", idx)
		}
		if err := rng.Append(want, nil); err != nil {
			rows.Close()
			return nil, err
		}
		if err := checkWitnessed(opt.Witnessed, rng, problem); err != nil {
			rows.Close()
			return nil, err
		}
		level = append(level, want)
		if e, err := decodeEntry([]byte(data)); err != nil {
			problem("log_leaves: leaf %d is not a valid entry: %v", idx, err)
		} else {
			seals.add(idx, e)
			if err := reg.Project(ctx, mtx, idx, e); err != nil {
				problem("log_leaves: leaf %d (%s) cannot be replayed: %v", idx, e.Type, err)
			}
		}
		next++
		if opt.Progress != nil && next%100000 == 0 {
			opt.Progress(next, head.Size)
		}
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, err
	}
	rows.Close()
	if next < head.Size {
		problem("log_leaves: the log is cut: leaf %d is the first missing one (%d leaves stored, the signed checkpoint says %d)", next, next, head.Size)
	} else if next != head.Size {
		problem("log_leaves: %d leaves stored, the signed checkpoint says %d", next, head.Size)
	}
	if w := opt.Witnessed; w != nil && next < w.Size {
		problem("log_leaves: the log has %d leaves, but a witness saw it with %d: it was rolled back or cut", next, w.Size)
	}
	root, err := rng.GetRootHash(nil)
	if err != nil {
		return nil, err
	}
	if next == head.Size && !equalHash(root, cp.Root) {
		problem("log_leaves: the tree recomputed from the leaves has root %s, the signed checkpoint says %s",
			hex.EncodeToString(root), hex.EncodeToString(cp.Root))
	}
	if len(rep.Problems) > 0 {
		return rep, nil
	}
	if err := verifyNodes(ctx, q, level, problem); err != nil {
		return nil, err
	}

	// Tables: the live ones must be exactly what the log says.
	for _, t := range reg.ProjectedTables() {
		rep.Tables++
		n, stop, err := compareTable(ctx, q, mtx, t, problem)
		rep.Rows += n
		if err != nil {
			return nil, fmt.Errorf("compare %s: %w", t.Name, err)
		}
		if stop {
			return rep, nil
		}
	}
	if opt.WithoutPersonalData {
		rep.Notes = append(rep.Notes, "subjects: not compared with the log (a copy without personal data)")
		return rep, nil
	}
	if err := verifySealed(ctx, q, seals, rep, problem); err != nil {
		return nil, fmt.Errorf("compare subjects: %w", err)
	}
	return rep, nil
}

// pinKey returns the key the checkpoint is verified with: the one the
// auditor gave, else the one the log recorded, pinned by its fingerprint
// when the auditor gave that, else unpinned (Report.KeyFromLog). It tells
// false when verifying cannot go on.
func pinKey(ctx context.Context, q store.Queryer, opt VerifyOptions, rep *Report, problem func(string, ...any) bool) (string, bool) {
	if opt.VerifierKey != "" {
		return opt.VerifierKey, true
	}
	key, err := RecordedKey(ctx, q)
	if err != nil {
		problem("settings: %v", err)
		return "", false
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
			w.Size, hex.EncodeToString(root), hex.EncodeToString(w.Root))
	}
	return nil
}

// verifyNodes recomputes every stored subtree hash level by level from the
// leaf hashes and compares it with what proofs would be built from.
func verifyNodes(ctx context.Context, q store.Queryer, level [][]byte, problem func(string, ...any) bool) error {
	for lv := 1; len(level) > 1; lv++ {
		up := make([][]byte, len(level)/2)
		for i := range up {
			up[i] = hasher.HashChildren(level[2*i], level[2*i+1])
		}
		rows, err := q.Query(ctx, "SELECT idx, hash FROM log_nodes WHERE level = ? ORDER BY idx", lv)
		if err != nil {
			return err
		}
		var n int
		for rows.Next() {
			var idx int64
			var h []byte
			if err := rows.Scan(&idx, &h); err != nil {
				rows.Close()
				return err
			}
			if idx != int64(n) || n >= len(up) || !equalHash(h, up[n]) {
				rows.Close()
				problem("log_nodes: level %d node %d does not match the leaves (proofs would fail)", lv, idx)
				return nil
			}
			n++
		}
		rows.Close()
		if n != len(up) {
			problem("log_nodes: level %d has %d nodes, the leaves make %d", lv, n, len(up))
			return nil
		}
		level = up
	}
	return nil
}

// compareTable merges the live and the replayed table in key order. Ordering
// keys are single text columns.
func compareTable(ctx context.Context, live, replay store.Queryer, t Table, problem func(string, ...any) bool) (int64, bool, error) {
	// Both sides sort by byte order, whatever the PostgreSQL locale.
	q := "SELECT * FROM " + t.Name + " ORDER BY " + t.Order
	lq := q
	if live.Dialect() == store.Postgres {
		lq += ` COLLATE "C"`
	}
	lr, err := live.Query(ctx, lq)
	if err != nil {
		return 0, false, err
	}
	defer lr.Close()
	rr, err := replay.Query(ctx, q)
	if err != nil {
		return 0, false, err
	}
	defer rr.Close()
	cols, err := lr.Columns()
	if err != nil {
		return 0, false, err
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
			return 0, false, fmt.Errorf("order column %s not in table", k)
		}
	}
	next := func(rs *sql.Rows) ([]string, error) {
		if !rs.Next() {
			return nil, rs.Err()
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		out := make([]string, len(cols))
		for i, v := range vals {
			out[i] = normalize(v)
		}
		return out, nil
	}
	key := func(row []string) string {
		parts := make([]string, len(keyIdx))
		for i, k := range keyIdx {
			parts[i] = row[k]
		}
		return strings.Join(parts, ",")
	}
	var n int64
	a, err := next(lr)
	if err != nil {
		return n, false, err
	}
	b, err := next(rr)
	if err != nil {
		return n, false, err
	}
	for a != nil || b != nil {
		n++
		var stop bool
		switch {
		case b == nil || (a != nil && key(a) < key(b)):
			stop = problem("table %s: row %s=%s is in the database but not in the log (inserted behind custos's back)", t.Name, t.Order, key(a))
			a, err = next(lr)
		case a == nil || key(b) < key(a):
			stop = problem("table %s: row %s=%s is in the log but missing from the database (deleted behind custos's back)", t.Name, t.Order, key(b))
			b, err = next(rr)
		default:
			for i := range cols {
				if a[i] != b[i] {
					stop = problem("table %s: row %s=%s: column %s is %s in the database but %s in the log (changed behind custos's back)",
						t.Name, t.Order, key(a), cols[i], a[i], b[i])
					break
				}
			}
			if a, err = next(lr); err == nil {
				b, err = next(rr)
			}
		}
		if err != nil {
			return n, false, err
		}
		if stop {
			return n, true, nil
		}
	}
	return n, false, nil
}

// normalize renders a scanned value the same way whichever engine produced it.
func normalize(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return "x'" + hex.EncodeToString(x) + "'"
	case string:
		return fmt.Sprintf("%q", x)
	case int64, int32, int:
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
