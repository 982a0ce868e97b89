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

const moveSummary = "move a SQLite registry (its log, key file and sealed personal data) to PostgreSQL, and verify the copy"

// runMove is custos move: docs/operations.md's step from SQLite to
// PostgreSQL. pgmove copies the registry; the copy is then verified as
// custos log verify would, pinned to the log key the SQLite registry
// records, and its sealed personal data opened with the new key file.
func runMove(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("move", "--to postgres://... --key-file FILE [flags]", moveSummary, stdout)
	// CUSTOS_DB and CUSTOS_KEY_FILE name the source, as for every other
	// command, unless CUSTOS_DB is a PostgreSQL registry (then both name
	// another registry than the one to move).
	def, defKey := "custos.db", os.Getenv("CUSTOS_KEY_FILE")
	if env := os.Getenv("CUSTOS_DB"); strings.HasPrefix(env, "postgres") {
		defKey = ""
	} else if env != "" {
		def = env
	}
	db := fs.String("db", def, "the SQLite registry to move: a file path or sqlite:PATH (env CUSTOS_DB); it is only read; stop its servers first, since a write during the move makes the move fail (exit 1)")
	srcKey := fs.String("source-key-file", defKey, "the SQLite registry's key file (env CUSTOS_KEY_FILE; default: the --db file + .key)")
	to := fs.String("to", "", "the PostgreSQL registry: postgres://USER@HOST/DATABASE?search_path=SCHEMA; the schema must be empty or only migrated (custos migrate), never a registry")
	keyFile := fs.String("key-file", "", "where to write the PostgreSQL registry's key file, mode 0600 (a copy of the SQLite registry's; it must not exist); serve with it")
	var progress progressFlags
	progress.add(fs, false)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *to == "" {
		return &exitError{2, "give --to postgres://USER@HOST/DATABASE?search_path=SCHEMA, the PostgreSQL registry to make"}
	}
	if *keyFile == "" {
		return &exitError{2, "give --key-file FILE: where to write the PostgreSQL registry's key file (it must not exist)"}
	}
	d := dbFlags{db: *db}
	if strings.HasPrefix(*db, "postgres://") || strings.HasPrefix(*db, "postgresql://") {
		return &exitError{2, "--db: give the SQLite registry to move; --to names the PostgreSQL one"}
	}
	if err := d.existing(); err != nil {
		return err
	}
	rep, err := pgmove.Move(ctx, pgmove.Options{
		From: *db, FromKeyFile: *srcKey, To: *to, KeyFile: *keyFile,
		Progress: func(s string) { fmt.Fprintln(stderr, s) },
	})
	var refused *pgmove.Refused
	if errors.As(err, &refused) {
		return &exitError{1, refused.Error()}
	} else if err != nil {
		return fmt.Errorf("%w (nothing was committed to %s and no key file written; the SQLite registry is unchanged)", err, store.Redact(*to))
	}
	fmt.Fprintf(stdout, "moved %s to %s: %d tables, %d rows, %d log leaves in %v; key file %s\n",
		*db, store.Redact(*to), rep.Tables, rep.Rows, rep.Leaves, rep.Elapsed.Round(time.Millisecond), *keyFile)
	for _, s := range rep.Sequence {
		fmt.Fprintf(stdout, "sequence %s set past the copied rows\n", s)
	}

	// The check: the whole log, pinned to the key the SQLite registry
	// records, and every table against it; then the sealed data opened
	// with the new key file.
	t0 := time.Now()
	pg, err := store.Open(ctx, *to)
	if err != nil {
		return err
	}
	defer pg.Close()
	opt := ledger.VerifyOptions{VerifierKey: rep.LogKey}
	if progress.on(stderr) {
		opt.Progress = verifyProgress(stderr, isTerminal(stderr))
	}
	vr, err := ledger.Verify(ctx, pg, server.NewProjections(), opt)
	if err != nil {
		return fmt.Errorf("verify the copy: %w", err)
	}
	if !vr.OK() {
		printSealedCheck(stdout, vr)
		for _, p := range vr.Problems {
			fmt.Fprintln(stdout, "FAIL", p)
		}
		return &exitError{1, fmt.Sprintf("the copy does not match its log: %d problem(s); do not serve it: keep serving %s, drop the schema and %s, and report this", len(vr.Problems), *db, *keyFile)}
	}
	fmt.Fprintf(stdout, "OK: %d leaves, root %x, signed by %s; %d tables and %d rows match the log\n", vr.Size, vr.Root, rep.LogKey, vr.Tables, vr.Rows)
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
		return &exitError{1, fmt.Sprintf("%s to %s after the copy's snapshot and are not in the copy: stop its server, drop the schema and %s, and move again", what, *db, *keyFile)}
	}
	fmt.Fprintf(stdout, `
Next:
  stop the server of %[1]s for good (what it writes from now on is not in the copy),
  serve the copy:  custos serve --db '%[2]s' --key-file %[3]s   (the --to URL)
  keep %[1]s and its key file, untouched, until you are satisfied (docs/operations.md).
`, *db, store.Redact(*to), *keyFile)
	return nil
}
