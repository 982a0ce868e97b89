package ledger

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/custos-project/custos/internal/store"
)

// treeCheck checks the stored subtree hashes (log_nodes) against the leaf
// hashes as the replay reads them, on a snapshot of its own and a goroutine
// of its own, so that a full verification's tree check costs no time after
// the replay. Each level's stored nodes are read in index order, a chunk at a
// time; each node the leaves complete is compared with the next one stored
// at its level. It finds what a check level by level after the replay
// would: a stored node that differs from the one the leaves make, one
// missing, one too many.
type treeCheck struct {
	in      chan [][]byte
	once    sync.Once
	done    chan struct{}
	problem string // the first problem found, "" when none
	// inStream is whether problem is of a node the leaves handed over
	// make, rather than one found once they ended (a node stored beyond
	// them), which is a problem only when every leaf was handed over.
	inStream bool
	err      error
}

// treeChunk is how many stored nodes of a level are read at once.
const treeChunk = 4096

// startTreeCheck starts checking the stored nodes of a tree of size leaves
// on q, which only it may use until wait returns. The leaf hashes are
// handed to add, in order.
func startTreeCheck(ctx context.Context, q store.Queryer, size uint64) *treeCheck {
	tc := &treeCheck{in: make(chan [][]byte, 16), done: make(chan struct{})}
	go func() {
		defer close(tc.done)
		tc.problem, tc.err = tc.run(ctx, q, size)
		for range tc.in { // the rest of the leaves, once a problem stopped it
		}
	}()
	return tc
}

// add hands the next leaf hashes to the check.
func (tc *treeCheck) add(hashes [][]byte) { tc.in <- hashes }

// wait tells the check that every leaf was handed over, and returns what it
// found. It may be called again.
func (tc *treeCheck) wait() (string, error) {
	tc.once.Do(func() { close(tc.in) })
	<-tc.done
	return tc.problem, tc.err
}

// located tells the check that no more leaves will be handed over, though
// not every leaf was (a verification from a kept state that found the
// leaves before it rewritten stops there), and returns the problem it found
// among the nodes the leaves handed over make: the first stored node they
// do not match, which says where the leaves changed. It is "" when those
// nodes match, or the check could not be made.
func (tc *treeCheck) located() string {
	p, err := tc.wait()
	if err != nil || !tc.inStream {
		return ""
	}
	return p
}

// storedLevel reads one level's stored nodes in index order.
type storedLevel struct {
	level  int
	next   int64    // index of the next node to read
	idx    []int64  // the chunk read, from pos on unread
	hashes [][]byte // its hashes
	pos    int
	eof    bool
}

// read returns the next stored node of the level; ok is false when there
// is none.
func (s *storedLevel) read(ctx context.Context, q store.Queryer) (idx int64, hash []byte, ok bool, err error) {
	if s.pos == len(s.idx) {
		if s.eof {
			return 0, nil, false, nil
		}
		s.idx, s.hashes, s.pos = s.idx[:0], s.hashes[:0], 0
		rows, err := q.Query(ctx, "SELECT idx, hash FROM log_nodes WHERE level = ? AND idx >= ? ORDER BY idx LIMIT ?", s.level, s.next, treeChunk)
		if err != nil {
			return 0, nil, false, err
		}
		for rows.Next() {
			var i int64
			var h []byte
			if err := rows.Scan(&i, &h); err != nil {
				rows.Close()
				return 0, nil, false, err
			}
			s.idx, s.hashes = append(s.idx, i), append(s.hashes, h)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, nil, false, err
		}
		s.eof = len(s.idx) < treeChunk
		if len(s.idx) == 0 {
			return 0, nil, false, nil
		}
		s.next = s.idx[len(s.idx)-1] + 1
	}
	i, h := s.idx[s.pos], s.hashes[s.pos]
	s.pos++
	return i, h, true, nil
}

func (tc *treeCheck) run(ctx context.Context, q store.Queryer, size uint64) (string, error) {
	// Level lv (1 up) holds size>>lv nodes; the top checked is the last
	// that has at least one, as a tree of size leaves makes.
	var levels []*storedLevel
	for lv := 1; size>>lv > 0; lv++ {
		levels = append(levels, &storedLevel{level: lv})
	}
	pending := make([][]byte, len(levels)+1) // a left child waiting for its sibling, by level
	made := make([]int64, len(levels)+1)     // nodes the leaves made, by level
	var push func(lv int, h []byte) (string, error)
	push = func(lv int, h []byte) (string, error) {
		if lv >= len(levels) {
			return "", nil
		}
		if pending[lv] == nil {
			pending[lv] = h
			return "", nil
		}
		up := hasher.HashChildren(pending[lv], h)
		pending[lv] = nil
		s, n := levels[lv], made[lv+1]
		made[lv+1]++
		idx, stored, ok, err := s.read(ctx, q)
		if err != nil {
			return "", err
		}
		if !ok {
			return fmt.Sprintf("log_nodes: level %d has %d nodes, the leaves make %d", s.level, n, int64(size>>s.level)), nil
		}
		if idx > n {
			return fmt.Sprintf("log_nodes: level %d node %d is missing (proofs would fail)", s.level, n), nil
		}
		if idx != n || !equalHash(stored, up) {
			return nodeMismatch(s.level, idx), nil
		}
		return push(lv+1, up)
	}
	for hashes := range tc.in {
		for _, h := range hashes {
			if p, err := push(0, h); p != "" || err != nil {
				tc.inStream = p != ""
				return p, err
			}
		}
	}
	// Every node the leaves make was found; none may be stored beyond them.
	for _, s := range levels {
		idx, _, ok, err := s.read(ctx, q)
		if err != nil {
			return "", err
		}
		if ok {
			return nodeMismatch(s.level, idx), nil
		}
	}
	// Nor at a level the tree does not reach: the level of a leaf (none is
	// stored) or one above its top. Such a node proves nothing today, but
	// the append that completes it would find its place taken and fail,
	// and every write with it.
	var level int
	var idx int64
	err := q.QueryRow(ctx, "SELECT level, idx FROM log_nodes WHERE level < 1 OR level > ? ORDER BY level, idx LIMIT 1", len(levels)).Scan(&level, &idx)
	switch {
	case err == nil:
		return fmt.Sprintf("log_nodes: level %d node %d is stored, where a tree of %d leaves has none (custos never stores it; the append that reaches it would fail, and every write with it)", level, idx, size), nil
	case !errors.Is(err, sql.ErrNoRows):
		return "", err
	}
	return "", nil
}

// nodeMismatch is the problem of a stored subtree hash that the leaves do
// not make: the node, and the leaves it covers, where either the node or
// those leaves were changed since they were appended.
func nodeMismatch(level int, idx int64) string {
	return fmt.Sprintf("log_nodes: level %d node %d does not match the leaves %d–%d (proofs would fail; the node or those leaves were changed)",
		level, idx, idx<<level, (idx+1)<<level-1)
}

// checkLeavesBefore checks the leaves that a kept state verified, the first
// st.Size: stored without a gap, each hash its data's, and together the
// tree the state kept (st.Range), so that a verification from that state
// finds an old leaf deleted, swapped or rewritten as a full one would. It
// hands their hashes to tc, which checks the stored nodes over them, and
// returns the problems found (at most max).
func checkLeavesBefore(ctx context.Context, q store.Queryer, st *AuditState, tc *treeCheck, max int) ([]string, error) {
	var problems []string
	rng := factory.NewEmptyRange(0)
	chunk := make([][]byte, 0, treeChunk)
	var next uint64
	// One goroutine reads and hashes, without copying a leaf's bytes out of
	// the driver's: beside it the replay and the comparison take the other
	// cores.
	rows, err := q.Query(ctx, "SELECT idx, hash, data FROM log_leaves WHERE idx < ? ORDER BY idx", int64(st.Size))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	h := sha256.New()
	var idx int64
	var stored, data sql.RawBytes
	for rows.Next() && len(problems) < max {
		if err := rows.Scan(&idx, &stored, &data); err != nil {
			return nil, err
		}
		if uint64(idx) != next {
			problems = append(problems, fmt.Sprintf("log_leaves: leaf %d is missing (next stored leaf is %d): the history before the checkpoint verified on %s was cut", next, idx, st.VerifiedAt))
			break
		}
		h.Reset()
		h.Write(leafPrefix)
		h.Write(data)
		sum := h.Sum(make([]byte, 0, sha256.Size))
		if !equalHash(stored, sum) {
			problems = append(problems, fmt.Sprintf("log_leaves: leaf %d: stored hash does not match its data (the leaf was altered)", idx))
		}
		if err := rng.Append(sum, nil); err != nil {
			return nil, err
		}
		if chunk = append(chunk, sum); len(chunk) == treeChunk {
			tc.add(chunk)
			chunk = make([][]byte, 0, treeChunk)
		}
		next++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// The leaves read, each in its place: the tree check compares the
	// nodes they make, which says where a rewritten leaf is.
	tc.add(chunk)
	if len(problems) > 0 {
		return problems, nil
	}
	if next < st.Size {
		return []string{fmt.Sprintf("log_leaves: leaf %d is missing (the log holds %d of the %d leaves verified on %s): the history before that checkpoint was cut", next, next, st.Size, st.VerifiedAt)}, nil
	}
	for i, h := range rng.Hashes() {
		if i >= len(st.Range) || !equalHash(h, st.Range[i]) {
			root, _ := rng.GetRootHash(nil)
			return []string{fmt.Sprintf("log_leaves: the %d leaves verified on %s now make a tree of root %s, not %s: the history before that checkpoint was rewritten (leaves reordered or replaced with their hashes)",
				st.Size, st.VerifiedAt, RootText(root), RootText(st.Root))}, nil
		}
	}
	return nil, nil
}

// leafPrefix begins the bytes a leaf's hash is taken of (RFC 6962: the
// leaf hash is SHA-256 of 0x00 and the leaf's data; LeafHash).
var leafPrefix = []byte{0}
