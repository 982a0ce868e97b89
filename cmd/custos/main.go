// Command custos runs the custos registries: one binary for the server, its
// set-up and the operator's tools. Each subcommand only parses flags and calls
// into internal packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type command struct {
	name, args, summary string
	run                 func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"init", "[flags]", "create or migrate a database; print the first administrator token once", runInit},
		{"migrate", "[flags]", "apply the schema migrations this binary embeds", runMigrate},
		{"serve", "[flags]", "serve the API and the web UI", runServe},
		{"demo", "[flags]", "create a synthetic national registry (if absent) and serve it", runDemo},
		{"trace", "organ|donation|donor|recipient ID [flags]", "trace an organ both ways between donor and recipients", runTrace},
		{"log", "verify [flags]", "recompute the tamper-evident log and check every table against it", runLog},
		{"export", "check FILE|list [flags]", exportSummary, runExport},
		{"subject", "erase|access|rectify ID [flags]", "erase, export or rectify a donor's or recipient's personal data (logged)", runSubject},
		{"hashmatch", "hash|scan|pull|import ...", "hash images, scan folders offline against signed hash banks, pull and import banks", runHashmatch},
		{"transplant", "godt ...", "the transplant registry's reports: the WHO GODT annual report", runTransplant},
		{"stats", "mapping|check|import ...", "publish mappings to the ICCS, check and import national crime records", runStats},
		{"assets", "bods|cases|persons|assets|measures|requests|directory|rates ...", "asset recovery: cases, persons, assets and measures; requests between states; the directory; exchange rates; beneficial ownership (BODS) import, lookups and export", runAssets},
		{"principal", "list|add|revoke ...", "list principals, create one (an administrator whose token was lost) or revoke one, from the server host (logged)", runPrincipal},
		{"mail", "test|outbox|contact ...", "send a test e-mail; list the e-mail outbox; set an authority's notification e-mail", runMail},
		{"backup", "--to FILE [flags]", "write a consistent copy of a SQLite registry while it runs", runBackup},
		{"move", "--to postgres://... --key-file FILE [flags]", moveSummary, runMove},
		{"version", "", "print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError carries a specific exit status (log verify uses 1 for "tampered").
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		if err == nil {
			return 0
		}
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(stderr, "custos "+c.name+":", ee.msg)
			}
			return ee.code
		}
		fmt.Fprintln(stderr, "custos "+c.name+":", err)
		return 1
	}
	fmt.Fprintf(stderr, "custos: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "custos: registries for the UN crime-prevention resolutions (organ traceability first).")
	fmt.Fprintln(w, "\nUsage: custos COMMAND [flags]   (custos COMMAND --help for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	cs := commands()
	for _, c := range cs {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
}

// flags returns a flag set whose --help prints the command's usage to stdout.
func flags(name, args, summary string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: custos %s %s\n\n%s.\n\nFlags:\n", name, args, strings.ToUpper(summary[:1])+summary[1:])
		fs.PrintDefaults()
	}
	return fs
}

// dbFlags are shared by every command that opens a registry.
type dbFlags struct {
	db, keyFile string
}

func (d *dbFlags) add(fs *flag.FlagSet, def string) {
	if env := os.Getenv("CUSTOS_DB"); env != "" {
		def = env
	}
	fs.StringVar(&d.db, "db", def, "database: a file path or sqlite:PATH for SQLite, postgres://... for PostgreSQL (env CUSTOS_DB)")
	fs.StringVar(&d.keyFile, "key-file", os.Getenv("CUSTOS_KEY_FILE"), "key file (master key and log signing key); default: the SQLite file + .key (env CUSTOS_KEY_FILE)")
}

// existing refuses a SQLite registry file that does not exist, for the
// commands that only read a registry, add to one that must be there, or
// serve one: opening a mistyped path would create an empty database and
// answer from it. Only init, demo and migrate (which servers' start-up
// scripts run on a new database) create the file. PostgreSQL names a
// server, which says for itself what is missing.
func (d *dbFlags) existing() error {
	if isPostgres(d.db) || d.db == "" {
		return nil
	}
	path := strings.TrimPrefix(d.db, "sqlite:")
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no registry at %s: check --db (custos init creates one, custos demo a synthetic one)", path)
	}
	// An empty file is no database yet: opening it would write SQLite's
	// header into it, and a command that only reads must change nothing.
	if err == nil && st.Mode().IsRegular() && st.Size() == 0 {
		return fmt.Errorf("no registry at %s: the file is empty; check --db (custos init creates one, custos demo a synthetic one)", path)
	}
	return nil
}

// openDB opens the database of the existing registry the flags name,
// read-only, for a command that reads only the database (the log): the file
// is left as it was, on a read-only medium too.
func (d *dbFlags) openDB(ctx context.Context) (*store.DB, error) {
	if err := d.existing(); err != nil {
		return nil, err
	}
	return store.OpenReadOnly(ctx, d.db)
}

// open opens the existing registry the flags name, logging to stderr.
func (d *dbFlags) open(ctx context.Context, stderr io.Writer) (*server.App, error) {
	return d.openWith(ctx, stderr, server.Open)
}

// openReadOnly opens the existing registry the flags name for a command
// that only reads it (server.OpenReadOnly): the registry is left as the
// command found it, and a backup is read where it is, on a read-only
// medium too.
func (d *dbFlags) openReadOnly(ctx context.Context, stderr io.Writer) (*server.App, error) {
	return d.openWith(ctx, stderr, server.OpenReadOnly)
}

func (d *dbFlags) openWith(ctx context.Context, stderr io.Writer, open func(context.Context, server.Config) (*server.App, error)) (*server.App, error) {
	if err := d.existing(); err != nil {
		return nil, err
	}
	return open(ctx, server.Config{DSN: d.db, KeyFile: d.keyFile, Logger: logger(stderr, false)})
}

// parseArgs parses flags given before, between or after the positional
// arguments, and returns the positional ones: the command checks how many
// it takes.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// parseDB is how a command that opens a registry reads its command line:
// it adds the registry's flags (--db, --key-file: dbFlags) to fs, parses
// args with the flags given before, between or after the positional
// arguments (parseArgs), and returns the flags and the n positional
// arguments. Another number is refused (exit status 2) with want, which
// says what to give.
func parseDB(fs *flag.FlagSet, args []string, n int, want string) (dbFlags, []string, error) {
	var d dbFlags
	d.add(fs, "custos.db")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return d, nil, err
	}
	if len(pos) != n {
		return d, nil, &exitError{2, want}
	}
	return d, pos, nil
}

// parse parses the flags of a command that takes no positional argument.
// A word left over is refused, not ignored: it is most often the rest of
// a value with spaces left unquoted (--authority Agence de la biomédecine
// would otherwise record "Agence"), or an option copied with the brackets
// of its usage line ([--public-key KEY]), and the command must not run
// without it.
func parse(fs *flag.FlagSet, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return nil
	}
	// The word itself is not repeated: it may be part of a name.
	msg := "unexpected argument: custos " + fs.Name() + " takes flags only"
	if at := len(args) - fs.NArg(); at > 0 {
		prev := at - 1
		if !strings.HasPrefix(args[prev], "-") && prev > 0 && strings.HasPrefix(args[prev-1], "-") && !strings.Contains(args[prev-1], "=") {
			prev-- // the flag whose value came just before the word
		}
		if strings.HasPrefix(args[prev], "-") {
			flagName, _, _ := strings.Cut(args[prev], "=")
			msg = "unexpected argument after " + flagName + ": custos " + fs.Name() + " takes flags only"
		}
	}
	return &exitError{2, msg + "; quote a value that holds spaces (--name \"two words\"), and leave out the brackets of an optional flag"}
}

// parseFlags parses flags up to the first positional argument.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: 2, msg: ""}
	}
	return nil
}

func logger(w io.Writer, json bool) *slog.Logger {
	if json {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
