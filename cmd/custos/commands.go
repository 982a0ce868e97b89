package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"

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
	if *jur == "" {
		return &exitError{2, "give --jurisdiction, the ISO 3166-1 alpha-2 code of the registry's country (e.g. --jurisdiction FR)"}
	}
	if *tokenFile != "" {
		if _, err := os.Stat(*tokenFile); err == nil {
			return fmt.Errorf("%s already exists; remove it or choose another --admin-token-file", *tokenFile)
		}
	}
	token, err := server.Init(ctx, server.Config{DSN: d.db, KeyFile: d.keyFile, Logger: logger(stderr, false)},
		server.InitOptions{Jurisdiction: strings.ToUpper(*jur), Authority: *authority})
	if err != nil {
		return err
	}
	if token == "" {
		fmt.Fprintf(stdout, "database %s is initialised; its schema is at %s\n", store.Redact(d.db), server.SchemaSummary(server.Config{}))
		return nil
	}
	if err := printKeyFingerprint(stdout, server.Config{DSN: d.db, KeyFile: d.keyFile}); err != nil {
		return err
	}
	if *tokenFile != "" {
		if err := os.WriteFile(*tokenFile, []byte(token+"\n"), 0o600); err != nil {
			return fmt.Errorf("write admin token: %w", err)
		}
		fmt.Fprintf(stdout, "created %s; the administrator token is in %s\n", store.Redact(d.db), *tokenFile)
		return nil
	}
	fmt.Fprintf(stdout, "created %s\nadministrator token (shown once, keep it safe):\n%s\n", store.Redact(d.db), token)
	return nil
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("migrate", "[flags]", "apply the schema migrations this binary embeds", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	if err := parse(fs, args); err != nil {
		return err
	}
	db, err := store.Open(ctx, d.db)
	if err != nil {
		return err
	}
	defer db.Close()
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

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("serve", "[flags]", "serve the API and the web UI", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	dbRead := fs.String("db-read", os.Getenv("CUSTOS_DB_READ"), "a PostgreSQL streaming replica of --db: the API's traces and lists read it (env CUSTOS_DB_READ; docs/operations.md)")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this PEM certificate (chain) file; with --tls-key")
	tlsKey := fs.String("tls-key", "", "the PEM private key of --tls-cert")
	var t tuneFlags
	t.add(fs)
	var x exchangeFlags
	x.add(fs)
	var m mailFlags
	m.add(fs)
	var sf signInFlags
	sf.add(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg := server.Config{DSN: d.db, ReadDSN: *dbRead, KeyFile: d.keyFile, Logger: logger(stderr, true)}
	if err := sf.apply(&cfg); err != nil {
		return err
	}
	if err := t.apply(&cfg); err != nil {
		return err
	}
	if err := m.apply(&cfg); err != nil {
		return err
	}
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
	})
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("demo", "[flags]", "create a synthetic national registry (if absent) and serve it", stdout)
	var d dbFlags
	d.add(fs, "custos-demo.db")
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
	return app.Serve(ctx, &http.Server{Addr: *addr}, func(a string) {
		fmt.Fprintf(stdout, "\ncustos demo: open http://%s/ and sign in with one of these tokens:\n", a)
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
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	opt := ledger.VerifyOptions{Progress: func(done, total uint64) { fmt.Fprintf(stderr, "checked %d of %d leaves\n", done, total) }}
	if err := pin.options(&opt); err != nil {
		return err
	}
	if err := d.existing(); err != nil {
		return err
	}
	db, err := store.Open(ctx, d.db)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := ledger.Verify(ctx, db, server.NewProjections(), opt)
	if err != nil {
		return err
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
	fmt.Fprintf(stdout, "OK: %d leaves, root %x; %d tables and %d rows match the log\n", rep.Size, rep.Root, rep.Tables, rep.Rows)
	printSealedCheck(stdout, rep)
	return nil
}

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("backup", "--to FILE [flags]", "write a consistent copy of a SQLite registry while it runs", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	to := fs.String("to", "", "file to write the copy to (must not exist)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *to == "" {
		return &exitError{2, "give --to FILE"}
	}
	if err := d.existing(); err != nil {
		return err
	}
	db, err := store.Open(ctx, d.db)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, *to); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s; back up the key file separately, it is not in the database\n", *to)
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
