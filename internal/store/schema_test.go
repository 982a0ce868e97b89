package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

func schemaOf(module string, files ...string) store.Schema {
	fsys := fstest.MapFS{}
	for i := 0; i+1 < len(files); i += 2 {
		fsys[files[i]] = &fstest.MapFile{Data: []byte(files[i+1])}
	}
	return store.Schema{Module: module, FS: fsys}
}

// TestSchemaVersionsPerModule migrates modules one after another, then shows
// that a binary whose list lacks a module, or holds an older version of one,
// refuses the database and leaves it as it was.
func TestSchemaVersionsPerModule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		core := store.CoreSchema()
		ex1 := schemaOf("example", "001_things.sql", "CREATE TABLE ex_things (id TEXT PRIMARY KEY);")
		ex2 := schemaOf("example", "001_things.sql", "CREATE TABLE ex_things (id TEXT PRIMARY KEY);",
			"002_more.sql", "-- A count of each thing.\n-- postgres: SELECT 1;\n-- Empty at first.\nALTER TABLE ex_things ADD COLUMN n INTEGER;")

		if err := db.CheckSchema(ctx, []store.Schema{core}); err != store.ErrNotInitialised {
			t.Fatalf("an empty database: %v, want ErrNotInitialised", err)
		}
		applied, err := db.Migrate(ctx, []store.Schema{core, ex1})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(applied); n != core.Latest()+1 || applied[n-1] != (store.Applied{Module: "example", Version: 1, Name: "001_things.sql"}) {
			t.Fatalf("applied %v", applied)
		}
		if err := db.CheckSchema(ctx, []store.Schema{core, ex2}); err == nil || !strings.Contains(err.Error(), "run custos migrate") {
			t.Fatalf("a database one version behind: %v, want run custos migrate", err)
		}
		plan, held, err := db.Plan(ctx, []store.Schema{core, ex2})
		if err != nil || len(plan) != 1 || plan[0].Applied != (store.Applied{Module: "example", Version: 2, Name: "002_more.sql"}) ||
			plan[0].About != "A count of each thing.\nEmpty at first." || plan[0].Step || held["example"] != 1 || held["core"] != core.Latest() {
			t.Fatalf("plan of the second migration: %+v, held %v, %v", plan, held, err)
		}
		if got, err := db.SchemaVersions(ctx); err != nil || got["example"] != 1 {
			t.Fatalf("versions after the plan: %v %v, want example 1: a plan changes nothing", got, err)
		}
		applied, err = db.Migrate(ctx, []store.Schema{core, ex2})
		if err != nil || len(applied) != 1 || applied[0].Version != 2 {
			t.Fatalf("second migration: %v %v", applied, err)
		}
		if err := db.CheckSchema(ctx, []store.Schema{core, ex2}); err != nil {
			t.Fatalf("an up-to-date database: %v", err)
		}
		for _, c := range []struct {
			name    string
			schemas []store.Schema
			want    string
		}{
			{"older binary", []store.Schema{core, ex1}, "newer than this custos knows"},
			{"binary without the module", []store.Schema{core}, "which this custos does not have"},
		} {
			if err := db.CheckSchema(ctx, c.schemas); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s opening: %v, want %q", c.name, err, c.want)
			}
			if _, err := db.Migrate(ctx, c.schemas); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s migrating: %v, want %q", c.name, err, c.want)
			}
			if _, _, err := db.Plan(ctx, c.schemas); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s planning: %v, want %q", c.name, err, c.want)
			}
		}
		got, err := db.SchemaVersions(ctx)
		if err != nil || got["example"] != 2 || got["core"] != core.Latest() {
			t.Errorf("versions after the refusals: %v %v", got, err)
		}
	})
}

// TestSchemaFilesAreNumbered refuses migrations that skip or repeat a version.
func TestSchemaFilesAreNumbered(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, t.TempDir()+"/x.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	gap := schemaOf("example", "001_a.sql", "SELECT 1;", "003_c.sql", "SELECT 1;")
	if _, err := db.Migrate(ctx, []store.Schema{store.CoreSchema(), gap}); err == nil || !strings.Contains(err.Error(), "without gaps") {
		t.Errorf("a gap in the versions: %v", err)
	}
	if got, _ := db.SchemaVersions(ctx); len(got) != 0 {
		t.Errorf("a refused migration wrote %v", got)
	}
}

// TestSchemaSteps runs a migration's Go step in its transaction: the step sees
// the migration's tables; a step that fails undoes the migration and records
// no version, so the next Migrate runs both again; a step runs once.
func TestSchemaSteps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		core := store.CoreSchema()
		if _, err := db.Migrate(ctx, []store.Schema{core}); err != nil {
			t.Fatal(err)
		}
		ex := schemaOf("example", "001_things.sql", "CREATE TABLE ex_things (id TEXT PRIMARY KEY, k TEXT);",
			"002_key.sql", "INSERT INTO ex_things (id) VALUES ('a'), ('b');")
		runs, fail := 0, true
		ex.Steps = map[int]func(context.Context, *store.Tx) error{2: func(ctx context.Context, tx *store.Tx) error {
			runs++
			if _, err := tx.Exec(ctx, "UPDATE ex_things SET k = id || '!'"); err != nil {
				return err
			}
			if fail {
				return errors.New("the step's own failure")
			}
			return nil
		}}

		_, err = db.Migrate(ctx, []store.Schema{core, ex})
		if err == nil || !strings.Contains(err.Error(), "migration example/002_key.sql: the step's own failure") {
			t.Fatalf("a failing step: %v, want it named with its migration", err)
		}
		if got, err := db.SchemaVersions(ctx); err != nil || got["example"] != 0 {
			t.Fatalf("versions after a failing step: %v %v, want none of example", got, err)
		}
		if n := tableCount(t, db, "ex_things"); n != 0 {
			t.Fatalf("ex_things exists after the failed migration (%d)", n)
		}

		fail = false
		applied, err := db.Migrate(ctx, []store.Schema{core, ex})
		if err != nil || len(applied) != 2 {
			t.Fatalf("migrating again: %v %v", applied, err)
		}
		var keys string
		if err := db.Read().QueryRow(ctx, "SELECT "+concatKeys(db)+" FROM ex_things").Scan(&keys); err != nil || keys != "a!,b!" {
			t.Fatalf("keys after the step: %q %v, want a!,b!", keys, err)
		}
		before := runs
		if applied, err := db.Migrate(ctx, []store.Schema{core, ex}); err != nil || len(applied) != 0 || runs != before {
			t.Fatalf("an up-to-date database ran the step again: %v %v, runs %d→%d", applied, err, before, runs)
		}
	})
}

func concatKeys(db *store.DB) string {
	if db.Dialect == store.Postgres {
		return "string_agg(k, ',' ORDER BY k)"
	}
	return "group_concat(k, ',')"
}

func tableCount(t *testing.T, db *store.DB, name string) int {
	t.Helper()
	q := "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if db.Dialect == store.Postgres {
		q = "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
	}
	var n int
	if err := db.Read().QueryRow(context.Background(), q, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
