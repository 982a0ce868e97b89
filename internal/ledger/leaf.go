package ledger

import (
	"context"

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
