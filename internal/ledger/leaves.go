package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/custos-project/custos/internal/store"
)

// AppendLeaves appends leaves that another copy of the log accepted, each the
// encoded entry exactly as that copy stored it, after this log's head;
// projects each through p; and stores checkpoint, that copy's signed head, as
// this log's head. It is one transaction: a leaf that does not decode or
// project, or a checkpoint that does not verify with verifierKey, is of
// another origin than the one the log's registry.initialized leaf records, or
// does not sign the tree the leaves complete, writes nothing. It is what
// restoring a log from its leaves, or following it as a replica, would run; no
// command does yet (restores are from backups), the golden log's test does. A
// database without a log gets one, whose first leaf must be
// registry.initialized.
//
// Leaves are decoded strictly, envelope and data alike (unknown fields are
// refused), so a leaf this binary cannot fully read is never half-projected.
func AppendLeaves(ctx context.Context, db *store.DB, p *Projections, leaves [][]byte, checkpoint, verifierKey string) (Head, error) {
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		return Head{}, err
	}
	defer tx.Rollback()
	lock := "SELECT size FROM log_state WHERE id = 1"
	if tx.Dialect() == store.Postgres {
		lock += " FOR UPDATE"
	}
	var size int64
	st := &state{rng: factory.NewEmptyRange(0)}
	err = tx.QueryRow(ctx, lock).Scan(&size)
	fresh := errors.Is(err, sql.ErrNoRows)
	if err != nil && !fresh {
		return Head{}, fmt.Errorf("lock log head: %w", err)
	}
	if !fresh {
		if st, err = loadState(ctx, tx); err != nil {
			return Head{}, err
		}
	}
	if fresh && len(leaves) == 0 {
		return Head{}, fmt.Errorf("a log starts with a %s leaf; none was given", TypeInitialized)
	}
	batch := make([]leaf, len(leaves))
	for i, data := range leaves {
		idx := st.size() + uint64(i)
		e, err := decodeEntry(data)
		if err != nil {
			return Head{}, fmt.Errorf("leaf %d is not a valid entry: %w", idx, err)
		}
		if idx == 0 && e.Type != TypeInitialized {
			return Head{}, fmt.Errorf("leaf 0 is %s; a log starts with %s", e.Type, TypeInitialized)
		}
		if err := p.Project(ctx, tx, int64(idx), e); err != nil {
			return Head{}, fmt.Errorf("leaf %d (%s) cannot be replayed: %w", idx, e.Type, err)
		}
		batch[i] = leaf{index: idx, data: data}
	}
	// The checkpoint must be of this log: the origin its registry.initialized
	// leaf recorded, which a fresh log has just projected.
	var origin string
	if err := tx.QueryRow(ctx, "SELECT value FROM settings WHERE name = 'origin'").Scan(&origin); err != nil {
		return Head{}, fmt.Errorf("the log's origin: %w", err)
	}
	cp, err := OpenCheckpoint(checkpoint, verifierKey, origin)
	if err != nil {
		return Head{}, err
	}
	if want := st.size() + uint64(len(leaves)); cp.Size != want {
		return Head{}, fmt.Errorf("the checkpoint signs a tree of %d leaves; the log has %d and %d were given", cp.Size, st.size(), len(leaves))
	}
	rng, root, err := writeTree(ctx, tx, st, batch)
	if err != nil {
		return Head{}, err
	}
	if !equalHash(root, cp.Root) {
		return Head{}, fmt.Errorf("the leaves make a tree of root %s; the checkpoint signs %s",
			RootText(root), RootText(cp.Root))
	}
	q := "UPDATE log_state SET size = ?, root = ?, checkpoint = ? WHERE id = 1"
	if fresh {
		q = "INSERT INTO log_state (size, root, checkpoint, id) VALUES (?, ?, ?, 1)"
	}
	if _, err := tx.Exec(ctx, q, int64(rng.End()), root, checkpoint); err != nil {
		return Head{}, err
	}
	if err := tx.Commit(); err != nil {
		return Head{}, err
	}
	return Head{Size: rng.End(), Root: root}, nil
}
