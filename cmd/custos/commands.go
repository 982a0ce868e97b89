package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/custos-project/custos/internal/demo"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
)

func runInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("init", "[flags]", "create or migrate a database; print the first administrator token once", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	jur := fs.String("jurisdiction", "", "ISO 3166-1 alpha-2 code of the registry's country (required for a new database)")
	authority := fs.String("authority", "National transplant registry", "name of the authority that runs the registry")
	tokenFile := fs.String("admin-token-file", "", "write the first administrator token to this file (mode 0600) instead of printing it")
	if err := parse(fs, args); err != nil {
		return err
	}
	// On an existing registry init only migrates: it needs no
	// jurisdiction and writes no token file. A new one needs both checked
	// before anything is made: a new SQLite file is not even created.
	checkToken := func() error { return checkTokenFile(*tokenFile, "--admin-token-file") }
	if d.existing() != nil {
		if err := server.CheckJurisdiction(strings.ToUpper(*jur)); err != nil {
			return &exitError{2, err.Error()}
		}
		if err := checkToken(); err != nil {
			return err
		}
	}
	token, err := server.Init(ctx, server.Config{DSN: d.db, KeyFile: d.keyFile, Logger: logger(stderr, false)},
		server.InitOptions{Jurisdiction: strings.ToUpper(*jur), Authority: *authority, BeforeCreate: checkToken})
	if errors.Is(err, server.ErrNoJurisdiction) {
		return &exitError{2, err.Error()}
	}
	if err != nil {
		return err
	}
	if token == "" {
		fmt.Fprintf(stdout, "database %s is initialised; its schema is at %s\n", store.Redact(d.db), server.SchemaSummary(server.Config{}))
		// What only a new registry takes is said to be left alone, and a
		// key file serve will not find is said now, not at the next start.
		var ignored []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "authority" || f.Name == "admin-token-file" {
				ignored = append(ignored, "--"+f.Name)
			}
		})
		if len(ignored) > 0 {
			fmt.Fprintf(stderr, "custos init: ignored %s: for a new registry only (this one has its authorities and its administrator)\n", strings.Join(ignored, " and "))
		}
		if path, err := (server.Config{DSN: d.db, KeyFile: d.keyFile}).KeyPath(); err == nil {
			if _, err := os.Stat(path); err != nil {
				fmt.Fprintf(stderr, "custos init: warning: the registry's key file %s cannot be read (%v): serve will not start without it; restore it from your backup, or give --key-file\n", path, err)
			}
		}
		return nil
	}
	if err := printKeyFingerprint(stdout, server.Config{DSN: d.db, KeyFile: d.keyFile}); err != nil {
		return err
	}
	return handOverToken(stdout, token, *tokenFile, "created "+store.Redact(d.db), "administrator token")
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("migrate", "[flags]", "apply the schema migrations this binary embeds", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	plan := fs.Bool("plan", false, "only say which migrations the database lacks and what each does; change nothing (read it before an upgrade)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *plan {
		// A plan of a file that is not there would create it.
		if err := d.existing(); err != nil {
			return err
		}
	}
	db, err := store.Open(ctx, d.db)
	if err != nil {
		return err
	}
	defer db.Close()
	if *plan {
		return printPlan(ctx, db, stdout)
	}
	applied, err := server.Migrate(ctx, server.Config{}, db)
	if err != nil {
		return err
	}
	for _, a := range applied {
		fmt.Fprintf(stdout, "applied %s %d (%s)\n", a.Module, a.Version, a.Name)
	}
	fmt.Fprintf(stdout, "applied %d migrations; schema at %s\n", len(applied), server.SchemaSummary(server.Config{}))
	return nil
}

// printPlan says which migrations custos migrate would apply to db, and
// what each does, in the order it would apply them.
func printPlan(ctx context.Context, db *store.DB, stdout io.Writer) error {
	pending, have, err := server.Plan(ctx, server.Config{}, db)
	if err != nil {
		return err
	}
	for _, p := range pending {
		step := ""
		if p.Step {
			step = "; Go code then reads or writes rows, so its time grows with the registry"
		}
		fmt.Fprintf(stdout, "would apply %s %d (%s%s)\n", p.Module, p.Version, p.Name, step)
		for _, l := range strings.Split(p.About, "\n") {
			fmt.Fprintf(stdout, "    %s\n", l)
		}
	}
	fmt.Fprintf(stdout, "%d migrations to apply, nothing changed; the database holds %s, this custos %s\n",
		len(pending), have, server.SchemaSummary(server.Config{}))
	return nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("serve", "[flags]", "serve the API and the web UI", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	dbRead := fs.String("db-read", os.Getenv("CUSTOS_DB_READ"), "a PostgreSQL streaming replica of --db: the API's traces and lists read it (env CUSTOS_DB_READ; docs/operations.md)")
	dbReadLag := fs.Duration("db-read-max-lag", server.DefaultReplicaMaxLag, "how far --db-read may lag --db: at start it must catch up within it; while serving, a replica further behind is set aside (its reads go to --db) until it catches up")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this PEM certificate (chain) file; with --tls-key")
	tlsKey := fs.String("tls-key", "", "the PEM private key of --tls-cert")
	metricsFile := fs.String("metrics-token-file", os.Getenv("CUSTOS_METRICS_TOKEN_FILE"), "a file holding the bearer token /metrics asks for (at least 32 characters); without it /metrics answers anyone who reaches the server (env CUSTOS_METRICS_TOKEN_FILE; docs/operations.md)")
	var t tuneFlags
	t.add(fs)
	var x exchangeFlags
	x.add(fs)
	var m mailFlags
	m.add(fs)
	m.addSchedule(fs)
	var sf signInFlags
	sf.add(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg := server.Config{DSN: d.db, ReadDSN: *dbRead, ReplicaMaxLag: *dbReadLag, KeyFile: d.keyFile, Logger: logger(stderr, true)}
	if *metricsFile != "" {
		token, err := readMetricsToken(*metricsFile)
		if err != nil {
			return err
		}
		cfg.MetricsToken = token
		warnLooseSecret(cfg.Logger, "the metrics token file", *metricsFile)
	} else if host, _, err := net.SplitHostPort(*addr); err == nil && !loopback(host) {
		cfg.Logger.Warn("/metrics answers anyone who reaches this address: close it to your monitoring's network at the proxy, or set --metrics-token-file", "addr", *addr)
	}
	if err := sf.apply(&cfg); err != nil {
		return err
	}
	if err := t.apply(&cfg); err != nil {
		return err
	}
	if err := m.apply(&cfg); err != nil {
		return err
	}
	warnLooseSecret(cfg.Logger, "the SMTP password file", m.passwordFile)
	// Serving a mistyped path would create an empty file and then refuse it
	// as not initialised: refuse it before, and leave nothing behind.
	if err := d.existing(); err != nil {
		return err
	}
	if err := x.apply(&cfg); err != nil {
		return err
	}
	srv := &http.Server{Addr: *addr}
	scheme := "http"
	if *tlsCert != "" || *tlsKey != "" {
		if *tlsCert == "" || *tlsKey == "" {
			return &exitError{2, "--tls-cert and --tls-key go together"}
		}
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		scheme = "https"
	}
	app, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer app.Close()
	return app.Serve(ctx, srv, func(a string) {
		fmt.Fprintf(stdout, "custos serving %s on %s://%s/\n", store.Redact(d.db), scheme, a)
		if *dbRead != "" {
			fmt.Fprintf(stdout, "traces and lists read from the standby %s\n", store.Redact(*dbRead))
		}
	})
}

// loopback tells whether host (of --addr) is this machine only.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// minMetricsToken is the shortest token --metrics-token-file takes.
const minMetricsToken = 32

// readMetricsToken reads the token of --metrics-token-file: the file's
// one line, without the spaces and line ending around it.
// warnLooseSecret warns when the file at path (what it is: "the metrics
// token file"), a secret, may be read by other users of the machine.
func warnLooseSecret(log *slog.Logger, what, path string) {
	if path == "" {
		return
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		log.Warn(what+" may be read by other users of this machine: chmod 600 it", "file", path, "mode", st.Mode().Perm().String())
	}
}

func readMetricsToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", &exitError{2, fmt.Sprintf("--metrics-token-file: %v", err)}
	}
	token := strings.TrimSpace(string(b))
	switch {
	case len(token) < minMetricsToken:
		return "", &exitError{2, fmt.Sprintf("--metrics-token-file: the token is %d characters; it needs at least %d (for example: openssl rand -hex 32 > %s)", len(token), minMetricsToken, path)}
	case strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r > '~' }):
		return "", &exitError{2, "--metrics-token-file: the token is one line of printable ASCII characters without spaces"}
	}
	return token, nil
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("demo", "[flags]", "create a synthetic national registry (if absent) and serve it", stdout)
	var d dbFlags
	d.add(fs, "custos-demo.db")
	fs.Lookup("db").Usage = "the demo registry's SQLite file: a file path or sqlite:PATH (env CUSTOS_DB); the demo is built on SQLite only"
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	years := fs.Int("years", 5, "years of synthetic activity to generate")
	scale := fs.Float64("scale", 1, "size of the synthetic country: 1 is about 300 donors a year")
	noServe := fs.Bool("no-serve", false, "generate the database and exit")
	var t tuneFlags
	t.add(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg := server.Config{DSN: d.db, KeyFile: d.keyFile, Logger: logger(stderr, true)}
	if err := t.apply(&cfg); err != nil {
		return err
	}
	created, err := demo.Ensure(ctx, cfg, demo.Options{Years: *years, Scale: *scale, Progress: func(s string) { fmt.Fprintln(stdout, s) }})
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stdout, "created the demo registry %s\n", d.db)
	} else {
		fmt.Fprintf(stdout, "using the existing demo registry %s (delete it and its .key file to start afresh)\n", d.db)
	}
	if *noServe {
		return nil
	}
	app, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer app.Close()
	// The fingerprint is what an auditor pins the log's key with
	// (docs/operations.md's first verify): said beside the URL, as init
	// says it, rather than left to custos log key.
	fp, err := ledger.KeyFingerprint(app.Keys.LogKey)
	if err != nil {
		return err
	}
	return app.Serve(ctx, &http.Server{Addr: *addr}, func(a string) {
		fmt.Fprintf(stdout, "\ncustos demo: open http://%s/\n", a)
		fmt.Fprintf(stdout, "log key fingerprint %s (pin it: custos log verify --db %s --key-fingerprint %s)\n", fp, store.Redact(d.db), fp)
		fmt.Fprintln(stdout, "sign in with one of these tokens:")
		tw := tabwriter.NewWriter(stdout, 0, 2, 2, ' ', 0)
		for _, t := range demo.Tokens() {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", t.Role, t.Name, t.Token)
		}
		tw.Flush()
		fmt.Fprintln(stdout, "(demo tokens are fixed and public: never put real data in a demo registry)")
	})
}

func runLog(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "watch" {
		return runLogWatch(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "key" {
		return runLogKey(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "verify" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(stdout, "Usage: custos log verify|key|watch [flags]   (custos log verify --help for its flags)")
			return nil
		}
		return &exitError{2, "want: custos log verify|key|watch [flags]"}
	}
	fs := flags("log verify", "[flags]", "recompute the tamper-evident log and check every table against it", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	var pin pinFlags
	pin.add(fs)
	from := fs.String("from", "", "continue from the state file an earlier verify saved (--save-state): check that the log extends the checkpoint it kept, replay only the leaves after it onto the tables it kept, and compare every table in full")
	save := fs.String("save-state", "", "after a pass with a pinned key, save the auditor's state to this file (the checkpoint verified and, beside it, a SQLite file of the tables replayed) for a later --from; may be the --from file")
	stateKey := fs.String("state-key", "", "a secret file of the auditor's that seals the state file (HMAC-SHA-256); created by the first --save-state if missing. Without it the state carries a plain SHA-256")
	workers := fs.Int("workers", 0, "goroutines that hash and decode leaves beside the replay and compare tables, and that the registries' own checks use (default: the number of cores)")
	var progress progressFlags
	progress.add(fs, false)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	// The files verify writes are checked before the log is read: a
	// missing folder is the command's usage, not a failed check (exit 1
	// says the log does not match).
	if err := outFolder("--save-state", *save); err != nil {
		return err
	}
	if err := outFolder("--state-key", *stateKey); err != nil {
		return err
	}
	opt := ledger.VerifyOptions{Workers: *workers, SaveState: *save}
	if progress.on(stderr) {
		opt.Progress = verifyProgress(stderr, isTerminal(stderr))
	}
	if err := pin.options(&opt); err != nil {
		return err
	}
	if *stateKey != "" {
		k, created, err := ledger.LoadStateKey(*stateKey, *save != "" && *from == "")
		if err != nil {
			return fmt.Errorf("--state-key: %w", err)
		}
		if created {
			fmt.Fprintf(stderr, "custos log verify: created the state key %s (mode 0600): keep it with the state, apart from the registry; without it a later --from cannot read the state\n", *stateKey)
		}
		opt.StateKey = k
	}
	if *from != "" {
		st, err := ledger.LoadAuditState(*from, opt.StateKey)
		if err != nil {
			return &exitError{1, fmt.Sprintf("--from: %v", err)}
		}
		opt.From = st
	}
	if err := d.existing(); err != nil {
		return err
	}
	// Read-only: a backup or a copy on a read-only medium is verified as
	// it is, and the file is left as it was (docs/operations.md).
	db, err := store.OpenReadOnly(ctx, d.db)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := verifiableSchema(ctx, db, d.db); err != nil {
		return err
	}
	rep, err := ledger.Verify(ctx, db, server.NewProjections(), opt)
	if err != nil {
		return err
	}
	if opt.From != nil && rep.OK() {
		fmt.Fprintf(stdout, "from the checkpoint of %d leaves verified %s: %d new leaves replayed\n", rep.From, opt.From.VerifiedAt, rep.Replayed)
		if rep.DigestRows > 0 {
			fmt.Fprintf(stdout, "%d rows in key ranges the new leaves did not touch compared by the digests kept with the state\n", rep.DigestRows)
		}
	}
	if !rep.OK() {
		printSealedCheck(stdout, rep)
		for _, p := range rep.Problems {
			fmt.Fprintln(stdout, "FAIL", p)
		}
		return &exitError{1, fmt.Sprintf("the database does not match its log: %d problem(s)", len(rep.Problems))}
	}
	if rep.KeyFromLog {
		err := notPinned(stdout, rep)
		printSealedCheck(stdout, rep)
		return err
	}
	fmt.Fprintf(stdout, "OK: %d leaves, root %s; %d tables and %d rows match the log\n", rep.Size, ledger.RootText(rep.Root), rep.Tables, rep.Rows)
	printSealedCheck(stdout, rep)
	// The name index is made from the sealed data, which verify does not
	// open: an OK says nothing of it (docs/personal-data.md).
	fmt.Fprintln(stdout, "not checked here: the name index (person_names), made from the sealed data; custos subject check-index checks it with the key file")
	if rep.SavedState != "" {
		fmt.Fprintf(stdout, "saved the verify state to %s (keep it, and its replay file beside it, where the registry's operator cannot write)\n", rep.SavedState)
	}
	return nil
}

// verifiableSchema refuses (exit 2) a registry whose schema is not the
// one this custos makes: verify compares each table with the tables it
// replays in its own schema, so a registry a migration behind (a backup
// from before an upgrade, a registry not yet migrated) lacks the columns
// later migrations added, and one a migration ahead has what this custos
// does not know; either would be reported as tables changed behind
// custos's back, a tampering that did not happen.
func verifiableSchema(ctx context.Context, db *store.DB, dsn string) error {
	err := db.CheckSchema(ctx, server.NewProjections().Schemas())
	if err == nil || errors.Is(err, store.ErrNotInitialised) {
		return nil
	}
	return &exitError{2, fmt.Sprintf("%s: %v; this custos verifies a registry at its own schema (%s) and compared nothing: "+
		"verify it with the custos that wrote it, or migrate a copy of it (custos migrate --db COPY, never a backup kept as it is) and verify the copy",
		store.Redact(dsn), err, server.SchemaSummary(server.Config{}))}
}

// outFolder refuses, as a usage error naming the flag and the folder, a
// file that a flag names to be written in a folder that does not exist;
// "" (the flag not given) passes.
func outFolder(flag, path string) error {
	if path == "" {
		return nil
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return &exitError{2, fmt.Sprintf("%s: the folder %s does not exist: create it first, or name a file in a folder that does", flag, dir)}
	case !st.IsDir():
		return &exitError{2, fmt.Sprintf("%s: %s is not a folder", flag, dir)}
	}
	return nil
}

// progressFlags are the flags of a command that shows its progress on
// stderr: by default only on a terminal (a bar redrawn in place is noise in
// a file or a pipe), with --progress everywhere, and, where the command
// has --quiet, never with it.
type progressFlags struct{ show, quiet *bool }

// add declares --progress and, when quiet, --quiet.
func (p *progressFlags) add(fs *flag.FlagSet, quiet bool) {
	p.show = fs.Bool("progress", false, "show progress on stderr even when it is not a terminal (it is shown on a terminal)")
	if quiet {
		p.quiet = fs.Bool("quiet", false, "show no progress")
	}
}

// on tells whether to show progress on w.
func (p progressFlags) on(w io.Writer) bool {
	if p.quiet != nil && *p.quiet {
		return false
	}
	return *p.show || isTerminal(w)
}

// isTerminal tells whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// verifyProgress prints log verify's progress on w: leaves replayed of all,
// their rate and the time left, then the tables compared. On a terminal it
// redraws one line twice a second; elsewhere it writes a line every ten
// seconds.
func verifyProgress(w io.Writer, terminal bool) func(stage string, done, total uint64) {
	start := time.Now()
	var last time.Time
	every, end := 10*time.Second, "\n"
	if terminal {
		every, end = 500*time.Millisecond, ""
	}
	return func(stage string, done, total uint64) {
		now := time.Now()
		if now.Sub(last) < every && done < total {
			return
		}
		last = now
		pre := ""
		if terminal {
			pre = "\r\033[K"
		}
		switch stage {
		case "leaves":
			el := now.Sub(start).Seconds()
			rate := float64(done) / max(el, 0.001)
			left := time.Duration(float64(total-done)/max(rate, 1)) * time.Second
			fmt.Fprintf(w, "%sleaves %d of %d (%.0f%%), %.0f/s, %s left%s", pre, done, total, 100*float64(done)/float64(max(total, 1)), rate, left.Round(time.Second), end)
			if done >= total {
				start = now // the tables' time starts here
				if terminal {
					fmt.Fprintln(w)
				}
			}
		default: // "indexes" built on the replay, then "tables" compared
			what := "compared"
			if stage == "indexes" {
				what = "built on the replay"
			}
			fmt.Fprintf(w, "%s%s %d of %d %s, %s%s", pre, stage, done, total, what, now.Sub(start).Round(time.Second), end)
			if done >= total {
				start = now // the next stage's time starts here
				if terminal {
					fmt.Fprintln(w)
				}
			}
		}
	}
}

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("backup", "--to FILE [flags]", "write a consistent copy of a SQLite registry while it runs", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	to := fs.String("to", "", "file to write the copy to (must not exist); written as .NAME.partial-PID beside it until whole, and such a file a killed backup left is removed once its process no longer runs")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *to == "" {
		return &exitError{2, "give --to FILE"}
	}
	if err := d.existing(); err != nil {
		return err
	}
	db, err := store.OpenReadOnly(ctx, d.db)
	if err != nil {
		return err
	}
	defer db.Close()
	// A backup killed before it finished leaves its temporary file, which
	// is no backup and may be as large as one: removed first, when its
	// process no longer runs, so that its space is free for this copy.
	removed, err := store.RemoveStalePartials(*to)
	for _, f := range removed {
		fmt.Fprintf(stderr, "note: removed %s, what a backup that did not finish left (killed, or the machine stopped: its process no longer runs); it was no backup\n", f)
	}
	if err != nil {
		fmt.Fprintf(stderr, "note: %v\n", err)
	}
	if err := db.Backup(ctx, *to); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s; back up the key file separately, it is not in the database\n", *to)
	// What is left is said, rather than left to fill the folder unseen.
	if left, err := store.Partials(*to); err == nil {
		for _, p := range left {
			if p.Running {
				fmt.Fprintf(stderr, "note: %s is the temporary file of process %d, which runs: another backup to this name, or a process that took the number of one that was killed; it is not a backup: once no backup to this name runs, remove it\n", p.Path, p.PID)
			} else {
				fmt.Fprintf(stderr, "note: %s is what is left of a backup that did not finish (killed, or the machine stopped); it is not a backup: remove it\n", p.Path)
			}
		}
	}
	return nil
}

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("version", "", "print the version", stdout)
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "custos %s (schema %s)\n", version, server.SchemaSummary(server.Config{}))
	return nil
}
