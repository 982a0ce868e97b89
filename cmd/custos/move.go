package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/pgmove"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
)

const moveSummary = "move a SQLite registry (its log, key file and sealed personal data) to PostgreSQL, or a PostgreSQL one back to a SQLite file, and verify the copy"

// runMove is custos move: docs/operations.md's step from SQLite to
// PostgreSQL, and the way back. pgmove copies the registry; the copy is
// then verified as custos log verify would, pinned to the log key the
// source records, and its sealed personal data opened with the new key
// file.
func runMove(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("move", "--to postgres://... --key-file FILE [flags], or --db postgres://... --source-key-file FILE --to FILE", moveSummary, stdout)
	// CUSTOS_DB and CUSTOS_KEY_FILE name the source, as for every other
	// command, unless --db names another registry than CUSTOS_DB (a
	// server's environment names the registry it serves: its key file is
	// not the other's).
	def, defKey := "custos.db", os.Getenv("CUSTOS_KEY_FILE")
	env := os.Getenv("CUSTOS_DB")
	if env != "" {
		def = env
	}
	db := fs.String("db", def, "the registry to move, only read: a SQLite file path or sqlite:PATH, or postgres://... for the way back (env CUSTOS_DB); stop its servers first, since a write during the move makes the move fail (exit 1)")
	srcKey := fs.String("source-key-file", defKey, "the source registry's key file (env CUSTOS_KEY_FILE; default for SQLite: the --db file + .key)")
	to := fs.String("to", "", "the registry to make: postgres://USER@HOST/DATABASE?search_path=SCHEMA, whose schema must be empty or only migrated (custos migrate), never a registry; or, from PostgreSQL, a SQLite file that does not exist")
	keyFile := fs.String("key-file", "", "where to write the copy's key file, mode 0600 (a copy of the source's; it must not exist; default for a SQLite copy: the --to file + .key); serve with it")
	var progress progressFlags
	progress.add(fs, false)
	if err := parse(fs, args); err != nil {
		return err
	}
	if env != "" && *db != env && *srcKey == defKey {
		*srcKey = ""
	}
	if *to == "" {
		return &exitError{2, "give --to: postgres://USER@HOST/DATABASE?search_path=SCHEMA, the PostgreSQL registry to make, or from a PostgreSQL --db the SQLite file to make"}
	}
	back := isPostgres(*db)
	if back && *keyFile == "" {
		*keyFile = strings.TrimPrefix(*to, "sqlite:") + ".key"
	}
	opt := pgmove.Options{
		From: *db, FromKeyFile: *srcKey, To: *to, KeyFile: *keyFile,
		Progress: func(s string) { fmt.Fprintln(stderr, s) },
	}
	var rep *pgmove.Report
	var err error
	if back {
		if isPostgres(*to) {
			return &exitError{2, "--to: from PostgreSQL, give the SQLite file to make; to copy between PostgreSQL servers use pg_dump (docs/operations.md, Backup and restore)"}
		}
		rep, err = pgmove.Back(ctx, opt)
	} else {
		if *keyFile == "" {
			return &exitError{2, "give --key-file FILE: where to write the PostgreSQL registry's key file (it must not exist)"}
		}
		d := dbFlags{db: *db}
		if err := d.existing(); err != nil {
			return err
		}
		rep, err = pgmove.Move(ctx, opt)
	}
	var refused *pgmove.Refused
	if errors.As(err, &refused) {
		return &exitError{1, refused.Error()}
	} else if err != nil && back {
		return fmt.Errorf("%w (no SQLite file or key file was made; the PostgreSQL registry is unchanged)", err)
	} else if err != nil {
		return fmt.Errorf("%w (nothing was committed to %s and no key file written; the SQLite registry is unchanged)", err, store.Redact(*to))
	}
	fmt.Fprintf(stdout, "moved %s to %s: %d tables, %d rows, %d log leaves in %v; key file %s\n",
		store.Redact(*db), store.Redact(*to), rep.Tables, rep.Rows, rep.Leaves, rep.Elapsed.Round(time.Millisecond), *keyFile)
	for _, s := range rep.Sequence {
		fmt.Fprintf(stdout, "sequence %s set past the copied rows\n", s)
	}

	undo := "drop the schema and " + *keyFile
	if back {
		undo = "remove " + strings.TrimPrefix(*to, "sqlite:") + " and " + *keyFile
	}
	// The check: the whole log, pinned to the key the source registry
	// records, and every table against it; then the sealed data opened
	// with the new key file.
	t0 := time.Now()
	copied, err := store.Open(ctx, *to)
	if err != nil {
		return err
	}
	defer copied.Close()
	vopt := ledger.VerifyOptions{VerifierKey: rep.LogKey}
	if progress.on(stderr) {
		vopt.Progress = verifyProgress(stderr, isTerminal(stderr))
	}
	vr, err := ledger.Verify(ctx, copied, server.NewProjections(), vopt)
	if err != nil {
		return fmt.Errorf("verify the copy: %w", err)
	}
	if !vr.OK() {
		printSealedCheck(stdout, vr)
		for _, p := range vr.Problems {
			fmt.Fprintln(stdout, "FAIL", p)
		}
		return &exitError{1, fmt.Sprintf("the copy does not match its log: %d problem(s); do not serve it: keep serving %s, %s, and report this", len(vr.Problems), store.Redact(*db), undo)}
	}
	fmt.Fprintf(stdout, "OK: %d leaves, root %s, signed by %s; %d tables and %d rows match the log\n", vr.Size, ledger.RootText(vr.Root), rep.LogKey, vr.Tables, vr.Rows)
	printSealedCheck(stdout, vr)
	app, err := server.Open(ctx, server.Config{DSN: *to, KeyFile: *keyFile, Logger: logger(io.Discard, false)})
	if err != nil {
		return fmt.Errorf("open the copy with %s: %w", *keyFile, err)
	}
	defer app.Close()
	n, problems, err := app.Transplant.CheckPersonNames(ctx)
	if err != nil {
		return fmt.Errorf("open the copy's sealed personal data with %s: %w", *keyFile, err)
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, "FAIL", p)
	}
	if len(problems) > 0 {
		return &exitError{1, fmt.Sprintf("the copy's name index does not match its sealed data: %d problem(s)", len(problems))}
	}
	fmt.Fprintf(stdout, "name index: %d records' sealed data opened with %s, every row matches\n", n, *keyFile)
	fmt.Fprintf(stdout, "checked in %v\n", time.Since(t0).Round(time.Millisecond))
	if rep.Behind > 0 || len(rep.Changed) > 0 {
		what := fmt.Sprintf("%d log leaves were written", rep.Behind)
		if len(rep.Changed) > 0 {
			what = fmt.Sprintf("%d log leaves and changes outside the log (tables %s) were written", rep.Behind, strings.Join(rep.Changed, ", "))
		}
		return &exitError{1, fmt.Sprintf("%s to %s after the copy's snapshot and are not in the copy: stop its servers, %s, and move again", what, store.Redact(*db), undo)}
	}
	kind := "URL"
	if back {
		kind = "file"
	}
	fmt.Fprintf(stdout, `
Next:
  stop the servers of %[1]s for good (what they write from now on is not in the copy),
  serve the copy:  custos serve --db '%[2]s' --key-file %[3]s   (the --to %[4]s)
  keep %[1]s and its key file, untouched, until you are satisfied (docs/operations.md).
`, store.Redact(*db), store.Redact(*to), *keyFile, kind)
	return nil
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}
