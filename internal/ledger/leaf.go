package ledger

import (
	"context"
	"fmt"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/store"
)

// ProvenLeaf is one leaf with its inclusion proof against the current head:
// what anyone holding the log's verifier key needs to check that the entry
// is in the log.
type ProvenLeaf struct {
	Index          uint64   `json:"index"`
	Data           string   `json:"data"`
	LeafHash       []byte   `json:"leaf_hash"`
	TreeSize       uint64   `json:"tree_size"`
	Root           []byte   `json:"root"`
	Checkpoint     string   `json:"checkpoint"`
	InclusionProof [][]byte `json:"inclusion_proof"`
}

// ReadLeaf returns leaf idx with its inclusion proof against the current head,
// read in one snapshot q. Adapters read leaves through it, never by SQL of
// their own.
func ReadLeaf(ctx context.Context, q store.Queryer, idx uint64) (*ProvenLeaf, error) {
	h, cp, err := ReadHead(ctx, q)
	if err != nil {
		return nil, err
	}
	if idx >= h.Size {
		return nil, errs.New(errs.NotFound, "reference", "index", "the log has %d leaves", h.Size)
	}
	var data string
	if err := q.QueryRow(ctx, "SELECT data FROM log_leaves WHERE idx = ?", int64(idx)).Scan(&data); err != nil {
		return nil, err
	}
	pr, err := InclusionProof(ctx, q, idx, h.Size)
	if err != nil {
		return nil, err
	}
	return &ProvenLeaf{Index: idx, Data: data, LeafHash: LeafHash([]byte(data)), TreeSize: h.Size, Root: h.Root,
		Checkpoint: cp, InclusionProof: pr}, nil
}

// ReadEntry returns the entry of leaf idx, decoded, without a proof: what a
// command needs of an entry already in the log (who wrote it), read in q.
func ReadEntry(ctx context.Context, q store.Queryer, idx int64) (*Entry, error) {
	var data string
	if err := q.QueryRow(ctx, "SELECT data FROM log_leaves WHERE idx = ?", idx).Scan(&data); err != nil {
		return nil, err
	}
	return decodeEntry([]byte(data))
}

// EntriesOf calls each, in log order, with every entry of type typ in the
// log as q reads it, and its index: what a migration that starts projecting
// an entry type into a table of its own needs to fill the table with the
// entries written before it (a schema step, store.Schema.Steps).
func EntriesOf(ctx context.Context, q store.Queryer, typ string, each func(idx int64, e *Entry) error) error {
	return EntriesAfter(ctx, q, typ, -1, each)
}

// EntriesAfter is EntriesOf for the entries after leaf index after: what a
// command that looks for an entry written after another it knows needs (an
// export's completion after its export.made entry).
func EntriesAfter(ctx context.Context, q store.Queryer, typ string, after int64, each func(idx int64, e *Entry) error) error {
	// The leaf's text narrows the read; the decoded type decides.
	leaves, err := typedLeaves(ctx, q, typ, "SELECT idx, data FROM log_leaves WHERE idx > ? AND data LIKE ? ORDER BY idx", after, "%"+typ+"%")
	if err != nil {
		return err
	}
	for _, l := range leaves {
		if err := each(l.idx, l.e); err != nil {
			return err
		}
	}
	return nil
}

// typedLeaf is a leaf of a read by typedLeaves.
type typedLeaf struct {
	idx int64
	e   *Entry
}

// typedLeaves reads the leaves query selects (idx, data), whose data the
// entry type typ narrowed, and keeps those whose decoded entry is of that
// type, in the query's order; a row whose type only the text matched (the
// type named in another entry's data) is left out.
func typedLeaves(ctx context.Context, q store.Queryer, typ, query string, args ...any) ([]typedLeaf, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	type leaf struct {
		idx  int64
		data string
	}
	leaves, err := store.Rows(rows, func(r store.Scanner, l *leaf) error { return r.Scan(&l.idx, &l.data) })
	if err != nil {
		return nil, err
	}
	out := make([]typedLeaf, 0, len(leaves))
	for _, l := range leaves {
		e, err := decodeEntry([]byte(l.data))
		if err != nil {
			return nil, fmt.Errorf("leaf %d: %w", l.idx, err)
		}
		if e.Type == typ {
			out = append(out, typedLeaf{l.idx, e})
		}
	}
	return out, nil
}
