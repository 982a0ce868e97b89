package dataset

import (
	"context"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/server"
)

// InputFile is the harnesses' input file: path when given, else a new
// temporary file (removed by the returned cleanup). write fills it when it
// does not exist or is empty, and its time is logged.
func InputFile(path, pattern, what string, write func(path string) error) (string, func(), error) {
	cleanup := func() {}
	if path == "" {
		f, err := os.CreateTemp("", pattern)
		if err != nil {
			return "", nil, err
		}
		f.Close()
		path = f.Name()
		cleanup = func() { os.Remove(path) }
	}
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		start := time.Now()
		if err := write(path); err != nil {
			cleanup()
			return "", nil, err
		}
		log.Printf("wrote %s to %s in %v", what, path, time.Since(start).Round(time.Millisecond))
	}
	return path, cleanup, nil
}

// Backends runs a harness on a fresh SQLite registry at sqlitePath (its
// files removed first) unless noSQLite, then, when pgURL is given, on a
// fresh PostgreSQL schema dropped after it (PostgresSchema). The registries
// log only warnings.
func Backends(ctx context.Context, sqlitePath, pgURL string, noSQLite bool, run func(backend string, cfg server.Config) error) error {
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if !noSQLite {
		for _, f := range []string{sqlitePath, sqlitePath + "-wal", sqlitePath + "-shm", sqlitePath + ".key"} {
			os.Remove(f)
		}
		if err := run("sqlite", server.Config{DSN: sqlitePath, Logger: quiet}); err != nil {
			return err
		}
	}
	if pgURL == "" {
		return nil
	}
	dsn, keyFile, cleanup, err := PostgresSchema(ctx, pgURL)
	if err != nil {
		return err
	}
	defer cleanup()
	return run("postgres", server.Config{DSN: dsn, KeyFile: keyFile, Logger: quiet})
}

// OpenAs initialises a registry at cfg and opens it, then makes an
// authority and a principal in it (as the registry's administrator) and
// returns the application, the administrator and that principal. The
// caller closes the application.
func OpenAs(ctx context.Context, cfg server.Config, authority auth.NewAuthority, principal auth.NewPrincipal) (app *server.App, admin, p *auth.Principal, err error) {
	token, err := server.Init(ctx, cfg, server.InitOptions{Jurisdiction: "XA", Authority: "Benchmark authority"})
	if err != nil {
		return nil, nil, nil, err
	}
	app, err = server.Open(ctx, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	defer func() {
		if err != nil {
			app.Close()
		}
	}()
	if admin, err = auth.Authenticate(ctx, app.DB.Read(), token); err != nil {
		return nil, nil, nil, err
	}
	a, err := app.Authorities.CreateAuthority(ctx, admin, authority)
	if err != nil {
		return nil, nil, nil, err
	}
	principal.AuthorityID = a.ID
	created, err := app.Authorities.CreatePrincipal(ctx, admin, principal)
	if err != nil {
		return nil, nil, nil, err
	}
	if p, err = auth.Authenticate(ctx, app.DB.Read(), created.Token); err != nil {
		return nil, nil, nil, err
	}
	return app, admin, p, nil
}
