package store_test

import (
	"context"
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
			"002_more.sql", "ALTER TABLE ex_things ADD COLUMN n INTEGER;")

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
