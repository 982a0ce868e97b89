package export

import (
	"context"
	"time"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// File makes for actor an export that is not a table (a JSON document,
// such as a BODS package), recorded as Export records a table's: it opens
// a snapshot of db, reads the log head the snapshot holds, logs the export
// (TypeMade, naming that checkpoint and req's registry, list, filter,
// format and Personal), then calls write with the export's Meta (its
// checkpoint, entry, id and time) and a context under which every read of
// db.Read() sees the snapshot. Of req, Columns, Rows, Notes and Language are
// not read: write writes the file. A failed log write means write is not
// called.
func File(ctx context.Context, db *store.DB, w *ledger.Writer, actor ledger.Actor, req Request, write func(ctx context.Context, m Meta) error) error {
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
	made := Made{ID: m.ID, Registry: m.Registry, List: m.List, Filter: m.FilterText(), Format: string(m.Format), Personal: m.Personal}
	made.SetCheckpoint(m.Checkpoint)
	res, err := w.Submit(ctx, actor, "export "+m.Registry+" "+m.List, func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
		return ledger.NewEntry(TypeMade, made)
	})
	if err != nil {
		return err
	}
	m.Entry = res.Index
	if m.At, err = time.Parse(ledger.TimeLayout, res.Entry.At); err != nil {
		return err
	}
	return write(store.InSnapshot(ctx, snap), m)
}
