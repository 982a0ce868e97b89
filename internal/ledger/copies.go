package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/custos-project/custos/internal/store"
)

// CopyState is how a copy of the log (a read replica's) stands to the log:
// the sizes of both, and, when the copy is not a prefix of the log, why.
type CopyState struct {
	Size, CopySize uint64
	// Diverged is empty while the copy's leaves are the log's first
	// CopySize: the copy is the log as it was, CopySize - Size leaves behind.
	Diverged string
}

// Behind is how many leaves the copy lacks.
func (s CopyState) Behind() uint64 {
	if s.CopySize >= s.Size {
		return 0
	}
	return s.Size - s.CopySize
}

// CompareCopy reads the heads of the log (through q, best a snapshot) and
// of its copy (through copy) and checks that the copy is a prefix of the
// log: no longer, its last leaf the log's leaf at that index, and its root
// the root of the log's first CopySize leaves (a consistency proof from the
// log's stored subtrees), so that the copy is the log as it was, cut there.
// The copy is read first, so that a log that grows meanwhile is only longer.
func CompareCopy(ctx context.Context, q, copy store.Queryer) (CopyState, error) {
	var st CopyState
	copyHead, copyHash, err := lastLeaf(ctx, copy)
	if err != nil {
		return st, fmt.Errorf("read the copy's log head: %w", err)
	}
	head, _, err := lastLeaf(ctx, q)
	if err != nil {
		return st, fmt.Errorf("read the log head: %w", err)
	}
	st.Size, st.CopySize = head.Size, copyHead.Size
	switch {
	case copyHead.Size == 0:
	case copyHead.Size > head.Size:
		st.Diverged = fmt.Sprintf("it holds %d leaves, the primary %d: it is not behind the primary's log but apart from it (a copy that was written to, or a primary restored from an older backup)", copyHead.Size, head.Size)
	default:
		var h []byte
		if err := q.QueryRow(ctx, "SELECT hash FROM log_leaves WHERE idx = ?", int64(copyHead.Size-1)).Scan(&h); err != nil {
			return st, fmt.Errorf("read leaf %d: %w", copyHead.Size-1, err)
		}
		if !bytes.Equal(h, copyHash) {
			st.Diverged = fmt.Sprintf("its leaf %d is not the primary's leaf %d: its log is another history than the primary's", copyHead.Size-1, copyHead.Size-1)
			break
		}
		p, err := ConsistencyProof(ctx, q, copyHead.Size, head.Size)
		if err != nil {
			return st, err
		}
		if VerifyConsistency(copyHead.Size, head.Size, p, copyHead.Root, head.Root) != nil {
			st.Diverged = fmt.Sprintf("its tree of %d leaves is not the first %d leaves of the primary's: its log is another history than the primary's", copyHead.Size, copyHead.Size)
		}
	}
	return st, nil
}

// lastLeaf reads the head and the hash of its last leaf, in one statement,
// so that both are of one state.
func lastLeaf(ctx context.Context, q store.Queryer) (Head, []byte, error) {
	var h Head
	var size int64
	var hash []byte
	err := q.QueryRow(ctx, "SELECT s.size, s.root, l.hash FROM log_state s LEFT JOIN log_leaves l ON l.idx = s.size - 1 WHERE s.id = 1").Scan(&size, &h.Root, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return h, nil, nil
	}
	if err != nil {
		return h, nil, err
	}
	if size > 0 && hash == nil {
		return h, nil, fmt.Errorf("the head says %d leaves, and leaf %d is missing", size, size-1)
	}
	h.Size = uint64(size)
	return h, hash, nil
}
