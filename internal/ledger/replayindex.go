package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"regexp"
	"slices"

	"github.com/custos-project/custos/internal/store"
)

// lateIndexes keeps a full replay free of the secondary indexes that no
// projector's statement reads through, and builds them once the leaves are
// replayed. Written row by row, as a replay from empty inserts, each index
// costs a b-tree descent a row: at 1,000,000 organs, a third of the replay.
// Built at the end, an index is one sort of its table.
//
// The indexes left out are the non-unique ones made by CREATE INDEX (a
// unique index enforces a constraint and answers ON CONFLICT). Before a
// statement runs for the first time, its query plan is asked of a twin, an
// empty database with the same schema and every index: an index that plan
// reads through, including one a foreign key's check reads (a parent's
// delete or key change looks for its children by the index led by their
// column), is built on the replay there and then, so that every statement
// runs with the indexes it would have had. The schemas declare no
// statistics (no ANALYZE), so the twin plans as the replay would. A
// statement whose program runs another (a trigger, a foreign key's action),
// whose reads its plan does not show, builds every late index.
type lateIndexes struct {
	tx       *store.Tx // the replay's current transaction
	twin     *store.DB
	twinPath string
	late     map[string]string // name → its CREATE INDEX statement
	names    []string          // the late indexes, in the schema's order
	planned  map[string]bool   // statements whose plan was asked
}

// usedIndex finds the indexes a query plan's line reads through; an
// automatic index ("USING AUTOMATIC ... INDEX") is the planner's own.
var usedIndex = regexp.MustCompile(`USING (?:COVERING )?INDEX (\S+)`)

// dropLateIndexes drops the replay's late indexes (see lateIndexes) and
// opens the twin that plans its statements. The replay's projectors then
// run through the returned Queryer.
func dropLateIndexes(ctx context.Context, mem *store.DB, schemas []store.Schema) (*lateIndexes, error) {
	rows, err := mem.Read().Query(ctx, `SELECT s.name, s.sql FROM sqlite_schema s
		JOIN pragma_index_list(s.tbl_name) l ON l.name = s.name
		WHERE s.type = 'index' AND s.sql IS NOT NULL AND l."unique" = 0 AND l.origin = 'c'
		ORDER BY s.rowid`)
	if err != nil {
		return nil, err
	}
	li := &lateIndexes{late: map[string]string{}, planned: map[string]bool{}}
	for rows.Next() {
		var name, create string
		if err := rows.Scan(&name, &create); err != nil {
			rows.Close()
			return nil, err
		}
		li.late[name] = create
		li.names = append(li.names, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(li.names) == 0 {
		return li, nil
	}
	f, err := os.CreateTemp("", ".custos-verify-plan-*.db")
	if err != nil {
		return nil, err
	}
	li.twinPath = f.Name()
	f.Close()
	if li.twin, err = store.OpenScratch(ctx, li.twinPath, 0); err != nil {
		os.Remove(li.twinPath)
		return nil, err
	}
	if _, err := li.twin.Migrate(ctx, schemas); err != nil {
		li.close()
		return nil, fmt.Errorf("the replay's planning twin: %w", err)
	}
	tx, err := mem.BeginWrite(ctx)
	if err != nil {
		li.close()
		return nil, err
	}
	defer tx.Rollback()
	for _, name := range li.names {
		if _, err := tx.Exec(ctx, `DROP INDEX "`+name+`"`); err != nil {
			li.close()
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		li.close()
		return nil, err
	}
	return li, nil
}

// close removes the twin.
func (li *lateIndexes) close() {
	if li.twin != nil {
		li.twin.Close()
		os.Remove(li.twinPath)
		li.twin = nil
	}
}

// plan builds, before statement s first runs, the late indexes it reads
// through (opened). A statement that cannot be asked about builds
// every late index: the replay is then as it would be without them.
func (li *lateIndexes) plan(ctx context.Context, s string, args []any) error {
	if li.twin == nil || li.planned[s] {
		return nil
	}
	li.planned[s] = true
	need, err := li.opened(ctx, s, args)
	if err != nil {
		need = slices.Clone(li.names)
	}
	for _, name := range need {
		if err := li.build(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

// opened finds the late indexes that statement s reads through: those its
// query plan searches or scans, which include a foreign key's check of the
// children of a row it deletes or whose key it changes. The plan does not
// show what a program run by s's own (a trigger's, a foreign key's action's)
// reads: then every late index.
func (li *lateIndexes) opened(ctx context.Context, s string, args []any) ([]string, error) {
	var need []string
	add := func(name string) {
		if _, late := li.late[name]; late && !slices.Contains(need, name) {
			need = append(need, name)
		}
	}
	rows, err := li.twin.Read().Query(ctx, "EXPLAIN QUERY PLAN "+s, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id, parent, unused int64
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			rows.Close()
			return nil, err
		}
		for _, m := range usedIndex.FindAllStringSubmatch(detail, -1) {
			add(m[1])
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if rows, err = li.twin.Read().Query(ctx, "EXPLAIN "+s, args...); err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var addr, p1, p2, p3, p5 int64
		var opcode string
		var p4, comment sql.NullString
		if err := rows.Scan(&addr, &opcode, &p1, &p2, &p3, &p4, &p5, &comment); err != nil {
			return nil, err
		}
		if opcode == "Program" {
			return slices.Clone(li.names), nil
		}
	}
	return need, rows.Err()
}

// build makes a late index on the replay.
func (li *lateIndexes) build(ctx context.Context, name string) error {
	create, ok := li.late[name]
	if !ok {
		return nil
	}
	if _, err := li.tx.Exec(ctx, create); err != nil {
		return fmt.Errorf("build index %s on the replay: %w", name, err)
	}
	delete(li.late, name)
	li.names = slices.DeleteFunc(li.names, func(n string) bool { return n == name })
	return nil
}

// finish, once every leaf is replayed, builds the late indexes left when
// the replay is kept (the replay file of a verify state, which later
// replays add to); a replay thrown away after the comparison gets only
// those the plans of reads (the comparison's, without parameters) go
// through. It closes the twin.
func (li *lateIndexes) finish(ctx context.Context, progress func(stage string, done, total uint64), keep bool, reads []string) error {
	defer li.close()
	if !keep {
		for _, q := range reads {
			if err := li.plan(ctx, q, nil); err != nil {
				return err
			}
		}
		return nil
	}
	names := slices.Clone(li.names)
	for i, name := range names {
		if progress != nil {
			progress("indexes", uint64(i), uint64(len(names)))
		}
		if err := li.build(ctx, name); err != nil {
			return err
		}
	}
	if progress != nil && len(names) > 0 {
		progress("indexes", uint64(len(names)), uint64(len(names)))
	}
	return nil
}

// The replay's projectors run through lateIndexes, which plans each
// statement before it runs.

func (li *lateIndexes) Query(ctx context.Context, s string, args ...any) (*sql.Rows, error) {
	if err := li.plan(ctx, s, args); err != nil {
		return nil, err
	}
	return li.tx.Query(ctx, s, args...)
}

func (li *lateIndexes) QueryRow(ctx context.Context, s string, args ...any) *store.Row {
	if err := li.plan(ctx, s, args); err != nil {
		return store.ErrRow(err)
	}
	return li.tx.QueryRow(ctx, s, args...)
}

func (li *lateIndexes) Exec(ctx context.Context, s string, args ...any) (sql.Result, error) {
	if err := li.plan(ctx, s, args); err != nil {
		return nil, err
	}
	return li.tx.Exec(ctx, s, args...)
}

func (li *lateIndexes) Dialect() store.Dialect { return store.SQLite }
