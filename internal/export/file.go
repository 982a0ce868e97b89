package export

import (
	"context"
	"io"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// File makes for actor an export that is not a table (a JSON document,
// such as a BODS package), recorded as Export records a table's: it opens
// a snapshot of db, reads the log head the snapshot holds, logs the export
// (TypeMade, naming that checkpoint and req's registry, list, filter,
// format and Personal), then calls write with a context under which every
// read of db.Read() sees the snapshot, the export's Meta (its checkpoint,
// entry, id and time) and out; write returns the number of records it
// wrote. Once it has returned (and out, if an HTTP answer, is flushed),
// File logs TypeCompleted with the records, the bytes and their SHA-256,
// as Export does. Of req, Columns, Rows, Notes and Language are not read:
// write writes the file. A failed log write means write is not called.
//
// The file has no header, so it carries no salt (Meta.Salt) when it holds
// personal data: its digest in the log confirms a guess only of the whole
// file (a BODS package: every statement with its statementId and dates).
func File(ctx context.Context, db *store.DB, w *ledger.Writer, actor ledger.Actor, req Request, out io.Writer, write func(ctx context.Context, m Meta, out io.Writer) (int, error)) error {
	snap, err := db.Snapshot(ctx)
	if err != nil {
		return err
	}
	defer snap.Rollback()
	m := Meta{Registry: req.Registry, List: req.List, Filter: req.Filter, Format: req.Format, By: actor.Principal,
		Personal: req.Personal, ID: w.IDs().New("EX")}
	if m.Checkpoint, _, err = ledger.ReadHead(ctx, snap); err != nil {
		return err
	}
	if err := logMade(ctx, w, actor, &m); err != nil {
		return err
	}
	_, err = logCompleted(ctx, w, actor, m, out, func(out io.Writer) (int, error) { return write(store.InSnapshot(ctx, snap), m, out) })
	return err
}
