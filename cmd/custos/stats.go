package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/stats"
)

const statsUsage = `Usage: custos stats COMMAND [flags]

Commands:
  mapping --db DB --token T --id ID --name NAME FILE
                      publish a mapping of national offence codes to the ICCS (CSV:
                      national_code,national_label,iccs) as the mapping's next version
  check --db DB --mapping ID FILE
                      report the national codes of a records file the mapping does not
                      map, or maps ambiguously; nothing is imported
  import --db DB --token T [--mapping ID] FILE
                      validate a national records file in full, then import it (one log entry)
  withdraw --db DB --token T --reason R IMPORT_ID
                      withdraw an import: its records are no longer counted (one log entry)

mapping, import and withdraw act as the principal whose token is given (--token or
CUSTOS_TOKEN), a statistician, and the log records that principal. check reads only, as the
operator on the server host. custos stats COMMAND --help shows its flags. See docs/stats.md.`

func runStats(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, statsUsage)
		return &exitError{2, ""}
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, statsUsage)
		return nil
	case "mapping":
		return runStatsMapping(ctx, args[1:], stdout, stderr)
	case "check":
		return runStatsCheck(ctx, args[1:], stdout, stderr)
	case "import":
		return runStatsImport(ctx, args[1:], stdout, stderr)
	case "withdraw":
		return runStatsWithdraw(ctx, args[1:], stdout, stderr)
	}
	return &exitError{2, fmt.Sprintf("unknown stats command %q; want mapping, check, import or withdraw", args[0])}
}

// statsOperator is the operator on the server host, acting as a
// statistician: for check, which reads only.
func statsOperator() *auth.Principal { return hostOperator(stats.RoleStatistician, "") }

// tokenFlag adds --token (env CUSTOS_TOKEN) to a command that writes.
func tokenFlag(fs *flag.FlagSet) *string {
	return fs.String("token", os.Getenv("CUSTOS_TOKEN"), "the acting principal's token (env CUSTOS_TOKEN)")
}

// statsPrincipal is the principal of --token, who acts.
func statsPrincipal(ctx context.Context, app *server.App, token string) (*auth.Principal, error) {
	if token == "" {
		return nil, &exitError{2, "give --token (or CUSTOS_TOKEN): the principal who acts"}
	}
	return auth.Authenticate(ctx, app.DB.Read(), token)
}

// openModule opens the registry at d for a command of the module name,
// and its service; refused, with registry named in the message, where the
// deployment does not run it. readOnly opens it for a command that only
// reads (dbFlags.openReadOnly).
func openModule[S any](ctx context.Context, d dbFlags, stderr io.Writer, name, registry string, readOnly bool) (*server.App, S, error) {
	var none S
	open := d.open
	if readOnly {
		open = d.openReadOnly
	}
	app, err := open(ctx, stderr)
	if err != nil {
		return nil, none, err
	}
	s, ok := app.Service(name).(S)
	if !ok {
		app.Close()
		return nil, none, fmt.Errorf("this deployment runs no %s registry", registry)
	}
	return app, s, nil
}

// openStats opens the registry at d for a stats command that writes.
func openStats(ctx context.Context, d dbFlags, stderr io.Writer) (*server.App, *stats.Service, error) {
	return openModule[*stats.Service](ctx, d, stderr, "stats", "statistics", false)
}

// openStatsFile opens a file and, read-only, the registry a command checks
// it against (stats check).
func openStatsFile(ctx context.Context, d dbFlags, path string, stderr io.Writer) (*os.File, *server.App, *stats.Service, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, err
	}
	app, s, err := openModule[*stats.Service](ctx, d, stderr, "stats", "statistics", true)
	if err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	return f, app, s, nil
}

// fileImport is what an import command (runImport) works on.
type fileImport[S any] struct {
	App      *server.App
	S        S        // the registry's service
	File     *os.File // the file to import
	Name     string   // its name without the folders, as the log records it
	Size     int64
	Progress func(phase string, done, total int64) // nil with --quiet, or off a terminal without --progress
}

// runImport runs a command that imports one FILE into the registry of
// module name: it adds --db, --key-file, --quiet and --progress (the bar
// is drawn on a terminal only, unless asked for) to the command's flags
// fs, parses args, opens the file and the registry, and runs do. items
// names what the store phase's progress bar counts.
func runImport[S any](ctx context.Context, fs *flag.FlagSet, args []string, stderr io.Writer, name, registry, items string, do func(fileImport[S]) error) error {
	var progress progressFlags
	progress.add(fs, true)
	d, pos, err := parseDB(fs, args, 1, "give one FILE")
	if err != nil {
		return err
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	app, s, err := openModule[S](ctx, d, stderr, name, registry, false)
	if err != nil {
		return err
	}
	defer app.Close()
	return do(fileImport[S]{App: app, S: s, File: f, Name: filepath.Base(pos[0]), Size: st.Size(), Progress: phaseBars(stderr, !progress.on(stderr), items)})
}

// phaseBars is the progress of an import that checks a file, then stores
// its items: a bar a phase on stderr, in bytes checked, then in items (such
// as "records") stored; nil when quiet.
func phaseBars(stderr io.Writer, quiet bool, items string) func(phase string, done, total int64) {
	if quiet {
		return nil
	}
	bars := map[string]func(done, total int64){}
	return func(phase string, done, total int64) {
		if bars[phase] == nil {
			unit := "bytes checked"
			if phase == "store" {
				unit = items + " stored"
			}
			bars[phase] = progressBar(stderr, unit)
		}
		bars[phase](done, total)
	}
}

func runStatsMapping(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("stats mapping", "--id ID --name NAME FILE [flags]", "publish a mapping of national offence codes to the ICCS", stdout)
	const want = "give --id ID, --name NAME and one FILE"
	id := fs.String("id", "", "the mapping's id (letters, digits, . _ -)")
	token := tokenFlag(fs)
	name := fs.String("name", "", "the mapping's name for people")
	d, pos, err := parseDB(fs, args, 1, want)
	if err != nil {
		return err
	}
	if *id == "" {
		return &exitError{2, want}
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := stats.ParseMapping(f)
	if err != nil {
		return err
	}
	app, s, err := openStats(ctx, d, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	p, err := statsPrincipal(ctx, app, *token)
	if err != nil {
		return err
	}
	m, err := s.PublishMapping(ctx, p, stats.NewMapping{ID: *id, Name: *name, Rows: rows})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "published mapping %s version %d: %d codes", m.ID, m.Version, m.Codes)
	if len(m.Ambiguous) > 0 {
		fmt.Fprintf(stdout, "; ambiguous (records carrying them are refused): %s", strings.Join(m.Ambiguous, ", "))
	}
	fmt.Fprintln(stdout)
	return nil
}

func runStatsCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("stats check", "--mapping ID FILE [flags]", "report the codes of a records file a mapping does not map, or maps ambiguously", stdout)
	const want = "give --mapping ID and one FILE"
	mapping := fs.String("mapping", "", "the mapping's id")
	version := fs.Int("version", 0, "the mapping's version (the latest when 0)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	d, pos, err := parseDB(fs, args, 1, want)
	if err != nil {
		return err
	}
	if *mapping == "" {
		return &exitError{2, want}
	}
	f, app, s, err := openStatsFile(ctx, d, pos[0], stderr)
	if err != nil {
		return err
	}
	defer f.Close()
	defer app.Close()
	rep, err := s.CheckCodes(ctx, statsOperator(), *mapping, *version, f)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "mapping %s version %d: codes %d mapped, %d unmapped, %d ambiguous\n", rep.Mapping, rep.Version, rep.Mapped, len(rep.Unmapped), len(rep.Ambiguous))
	for _, c := range rep.Unmapped {
		fmt.Fprintf(stdout, "unmapped  %s  %s\n", c.Code, records(c.Records))
	}
	for _, c := range rep.Ambiguous {
		fmt.Fprintf(stdout, "ambiguous %s  %s  ICCS %s\n", c.Code, records(c.Records), strings.Join(c.ICCS, ", "))
	}
	if len(rep.Unmapped)+len(rep.Ambiguous) > 0 {
		return &exitError{1, ""}
	}
	return nil
}

// records is a count of records in words: "1 record", "2 records".
func records(n int) string {
	if n == 1 {
		return "1 record"
	}
	return fmt.Sprintf("%d records", n)
}

func runStatsImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("stats import", "[--mapping ID] FILE [flags]", "validate a national records file in full, then import it", stdout)
	mapping := fs.String("mapping", "", "the mapping that reads the file's offence_code (none for a file that gives iccs)")
	version := fs.Int("version", 0, "the mapping's version (the latest when 0)")
	token := tokenFlag(fs)
	return runImport(ctx, fs, args, stderr, "stats", "statistics", "records", func(in fileImport[*stats.Service]) error {
		p, err := statsPrincipal(ctx, in.App, *token)
		if err != nil {
			return err
		}
		im, err := in.S.Import(ctx, p, stats.ImportRequest{Source: in.Name, Mapping: *mapping, MappingVersion: *version}, in.File, in.Size, in.Progress)
		if err != nil {
			return err
		}
		if im.Unchanged {
			fmt.Fprintf(stdout, "unchanged: %s was imported already as %s on %s (%d records counting %d, log entry %d) and is still counted; nothing imported, nothing recorded\n",
				in.Name, im.ID, im.ImportedAt, im.Records, im.Total, im.LogIndex)
			return nil
		}
		fmt.Fprintf(stdout, "imported %s: %d records counting %d, %s to %s, in %d chunks; log entry %d; sha256 %s\n",
			im.ID, im.Records, im.Total, im.FirstDate, im.LastDate, im.Chunks, im.LogIndex, im.FileSHA256)
		return nil
	})
}

func runStatsWithdraw(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("stats withdraw", "--reason R|--from-file FILE IMPORT_ID [flags]", "withdraw an import: its records are no longer counted", stdout)
	token := tokenFlag(fs)
	var w stats.Withdrawal
	fs.StringVar(&w.Reason, "reason", "", "why (it enters the log: no names; free text: prefer --from-file)")
	var from fromFile
	from.add(fs, "reason")
	d, pos, err := parseDB(fs, args, 1, "give --reason R (or --from-file) and one IMPORT_ID")
	if err != nil {
		return err
	}
	if err := from.read(fs, &w); err != nil {
		return err
	}
	app, s, err := openStats(ctx, d, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	p, err := statsPrincipal(ctx, app, *token)
	if err != nil {
		return err
	}
	im, err := s.Withdraw(ctx, p, pos[0], w)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "withdrew %s (%d records counting %d, sha256 %s): no longer counted; log entry %d\n",
		im.ID, im.Records, im.Total, im.FileSHA256, im.WithdrawalIndex)
	return nil
}
