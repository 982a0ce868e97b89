package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	tlog "github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/store"
)

var (
	hasher  = rfc6962.DefaultHasher
	factory = compact.RangeFactory{Hash: hasher.HashChildren}
)

// LeafHash is the RFC 6962 hash of a leaf's bytes.
func LeafHash(data []byte) []byte { return hasher.HashLeaf(data) }

// Head is the log's current size and root.
type Head struct {
	Size uint64
	Root []byte
}

// RootText is how custos shows a root to people, on the command line, the
// log page and in an export's header: base64, as the signed checkpoint
// note, the API's JSON and the auditor's and witness's state files carry
// it, so that an auditor can compare it with them by eye, then hex in
// brackets, for the tools that take hex (and as log entries carry it).
func RootText(root []byte) string {
	return base64.StdEncoding.EncodeToString(root) + " (hex " + hex.EncodeToString(root) + ")"
}

// Checkpoint is a signed tree head in the C2SP tlog-checkpoint format: origin,
// size and base64 root on three lines, then the signature lines of a signed
// note. It is written and read with transparency-dev/formats/log, the
// ecosystem's own implementation of the format, so that witnesses and
// monitors read what custos signs.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   []byte
	Note   string // the whole signed note
}

// SignCheckpoint signs a tree head.
func SignCheckpoint(s note.Signer, origin string, h Head) (string, error) {
	text := tlog.Checkpoint{Origin: origin, Size: h.Size, Hash: h.Root}.Marshal()
	b, err := note.Sign(&note.Note{Text: string(text)}, s)
	return string(b), err
}

// OpenCheckpoint verifies a signed checkpoint with the verifier key, parses it
// and checks that it is a checkpoint of the log named origin: a checkpoint
// that another log signed, or whose origin line is not origin, is refused.
func OpenCheckpoint(signed, verifierKey, origin string) (*Checkpoint, error) {
	v, err := note.NewVerifier(verifierKey)
	if err != nil {
		return nil, fmt.Errorf("checkpoint verifier key: %w", err)
	}
	cp, _, n, err := tlog.ParseCheckpoint([]byte(signed), origin, v)
	if err != nil && n == nil {
		if serr := signatureError(signed, v); serr != nil {
			return nil, fmt.Errorf("checkpoint signature: %w", serr)
		}
		return nil, fmt.Errorf("checkpoint signature: %w", err)
	}
	if err != nil {
		// The note verified but was refused: name the origin it has.
		var other tlog.Checkpoint
		if _, uerr := other.Unmarshal([]byte(n.Text)); uerr == nil && other.Origin != origin {
			return nil, fmt.Errorf("checkpoint of another log: its origin is %q, this registry's is %q", other.Origin, origin)
		}
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if len(cp.Hash) != sha256.Size {
		return nil, errors.New("checkpoint root is not a base64 SHA-256 hash")
	}
	return &Checkpoint{Origin: cp.Origin, Size: cp.Size, Root: cp.Hash, Note: signed}, nil
}

// state is the log head as the writer keeps it: the compact range over all
// leaves, enough to append and to compute the root.
type state struct {
	rng  *compact.Range
	root []byte
}

func (s *state) size() uint64 { return s.rng.End() }

// loadState reads the compact range of the current tree from the stored nodes.
func loadState(ctx context.Context, q store.Queryer) (*state, error) {
	var size int64
	var root []byte
	err := q.QueryRow(ctx, "SELECT size, root FROM log_state WHERE id = 1").Scan(&size, &root)
	if errors.Is(err, sql.ErrNoRows) {
		return &state{rng: factory.NewEmptyRange(0), root: hasher.EmptyRoot()}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read log head: %w", err)
	}
	rng, err := rangeOf(ctx, q, uint64(size))
	if err != nil {
		return nil, err
	}
	return &state{rng: rng, root: root}, nil
}

// rangeOf reads the compact range of the tree of the first size leaves
// from the stored nodes.
func rangeOf(ctx context.Context, q store.Queryer, size uint64) (*compact.Range, error) {
	ids := compact.RangeNodes(0, size, nil)
	hashes := make([][]byte, len(ids))
	for i, id := range ids {
		h, err := nodeHash(ctx, q, id)
		if err != nil {
			return nil, err
		}
		hashes[i] = h
	}
	return factory.NewRange(0, size, hashes)
}

func nodeHash(ctx context.Context, q store.Queryer, id compact.NodeID) ([]byte, error) {
	var h []byte
	var err error
	if id.Level == 0 {
		err = q.QueryRow(ctx, "SELECT hash FROM log_leaves WHERE idx = ?", int64(id.Index)).Scan(&h)
	} else {
		err = q.QueryRow(ctx, "SELECT hash FROM log_nodes WHERE level = ? AND idx = ?", int(id.Level), int64(id.Index)).Scan(&h)
	}
	if err != nil {
		return nil, fmt.Errorf("log node level %d index %d: %w", id.Level, id.Index, err)
	}
	return h, nil
}

// ReadHead returns the stored head and its signed checkpoint.
func ReadHead(ctx context.Context, q store.Queryer) (Head, string, error) {
	var h Head
	var size int64
	var cp string
	err := q.QueryRow(ctx, "SELECT size, root, checkpoint FROM log_state WHERE id = 1").Scan(&size, &h.Root, &cp)
	if errors.Is(err, sql.ErrNoRows) {
		return Head{Root: hasher.EmptyRoot()}, "", nil
	}
	h.Size = uint64(size)
	return h, cp, err
}

// InclusionProof returns the audit path of leaf index in the tree of the given size.
func InclusionProof(ctx context.Context, q store.Queryer, index, size uint64) ([][]byte, error) {
	if index >= size {
		return nil, fmt.Errorf("leaf %d is not in a tree of size %d", index, size)
	}
	ns, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	return fetchProof(ctx, q, ns)
}

// ConsistencyProof proves that the tree of size1 is a prefix of the tree of size2.
func ConsistencyProof(ctx context.Context, q store.Queryer, size1, size2 uint64) ([][]byte, error) {
	if size1 > size2 {
		return nil, fmt.Errorf("size %d is larger than %d", size1, size2)
	}
	ns, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, err
	}
	return fetchProof(ctx, q, ns)
}

func fetchProof(ctx context.Context, q store.Queryer, ns proof.Nodes) ([][]byte, error) {
	hashes := make([][]byte, len(ns.IDs))
	for i, id := range ns.IDs {
		h, err := nodeHash(ctx, q, id)
		if err != nil {
			return nil, err
		}
		hashes[i] = h
	}
	return ns.Rehash(hashes, hasher.HashChildren)
}

// VerifyInclusion checks an inclusion proof against a root, as a client would.
func VerifyInclusion(index, size uint64, leafHash []byte, p [][]byte, root []byte) error {
	return proof.VerifyInclusion(hasher, index, size, leafHash, p, root)
}

// VerifyConsistency checks a consistency proof between two roots.
func VerifyConsistency(size1, size2 uint64, p [][]byte, root1, root2 []byte) error {
	return proof.VerifyConsistency(hasher, size1, size2, p, root1, root2)
}

func equalHash(a, b []byte) bool { return bytes.Equal(a, b) }
