package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/demo"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"custos": func() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI scenarios in testdata/script: each is a real
// custos process on a real SQLite file.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		// The demo's administrator and regulator tokens, fixed and public,
		// for scripts that act on a demo registry, and TODAY.
		Setup: func(env *testscript.Env) error {
			env.Setenv("DEMO_ADMIN", demo.Tokens()[0].Token)
			// TODAY is the day in UTC, for a date that must not be past
			// (a request's deadline).
			env.Setenv("TODAY", time.Now().UTC().Format("2006-01-02"))
			for _, t := range demo.Tokens() {
				if t.Role == auth.Regulator {
					env.Setenv("DEMO_REGULATOR", t.Token)
				}
			}
			return nil
		},
		// [postgres]: CUSTOS_TEST_POSTGRES names a PostgreSQL server to
		// test against (pgschema makes a schema of the script's own there).
		Condition: func(cond string) (bool, error) {
			if cond == "postgres" {
				return os.Getenv(storetest.EnvPostgres) != "", nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"pgschema":  pgschema,
			"sqlexec":   sqlexec,
			"sqlget":    sqlget,
			"principal": principal,
			"bank":      bank,
			"flipbyte":  flipbyte,
		},
	})
}

// pgschema VAR makes a fresh schema on the PostgreSQL server of
// CUSTOS_TEST_POSTGRES, dropped when the script ends, and sets VAR to the
// URL whose search_path selects it (a script that uses it starts with
// [!postgres] skip).
func pgschema(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: pgschema VAR")
	}
	base := os.Getenv(storetest.EnvPostgres)
	if base == "" {
		ts.Fatalf("pgschema: %s is not set (begin the script with [!postgres] skip)", storetest.EnvPostgres)
	}
	dsn, drop, err := storetest.NewSchema(base, "script_")
	if err != nil {
		ts.Fatalf("pgschema: %v", err)
	}
	ts.Defer(drop)
	ts.Setenv(args[0], dsn)
}

// dbArg is a script's DB argument: a SQLite file in the script's
// directory, or a PostgreSQL URL (pgschema's) as it is.
func dbArg(ts *testscript.TestScript, db string) string {
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		return db
	}
	return ts.MkAbs(db)
}

// sqlexec DB SQL changes a database behind custos's back, as an attacker or
// a careless administrator with file access would.
func sqlexec(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: sqlexec DB SQL")
	}
	db, err := store.Open(context.Background(), dbArg(ts, args[0]))
	ts.Check(err)
	defer db.Close()
	_, err = db.Read().Exec(context.Background(), args[1])
	if neg != (err != nil) {
		ts.Fatalf("sqlexec: %v", err)
	}
}

// flipbyte FILE AT changes one bit of one byte of FILE: at AT, an offset
// (negative: from the end), or else at the last byte of the first AT in
// it: a file edited by the smallest change there is.
func flipbyte(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: flipbyte FILE OFFSET|TEXT")
	}
	b := []byte(ts.ReadFile(args[0]))
	at, err := strconv.Atoi(args[1])
	switch {
	case err != nil:
		at = strings.Index(string(b), args[1]) + len(args[1]) - 1
		if at < len(args[1])-1 {
			ts.Fatalf("flipbyte: no %q in %s", args[1], args[0])
		}
	case at < 0:
		at += len(b)
	}
	if at < 0 || at >= len(b) {
		ts.Fatalf("flipbyte: %s has %d bytes", args[0], len(b))
	}
	b[at] ^= 1
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o644))
}

// sqlget VAR DB SQL sets VAR to the first column of the first row.
func sqlget(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: sqlget VAR DB SQL")
	}
	db, err := store.Open(context.Background(), dbArg(ts, args[1]))
	ts.Check(err)
	defer db.Close()
	var v any
	ts.Check(db.Read().QueryRow(context.Background(), args[2]).Scan(&v))
	s := fmt.Sprint(v)
	if b, ok := v.([]byte); ok {
		s = string(b)
	}
	ts.Setenv(args[0], strings.TrimSpace(s))
}

// principal VAR DB ADMIN_TOKEN_FILE ROLE KIND JURISDICTION creates, as the
// administrator, an authority of KIND in JURISDICTION and a principal of
// ROLE in it (the API's /api/v1/admin routes), and sets VAR to its token.
func principal(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 6 || neg {
		ts.Fatalf("usage: principal VAR DB ADMIN_TOKEN_FILE ROLE KIND JURISDICTION")
	}
	ctx := context.Background()
	app, admin := signedIn(ts, args[1], strings.TrimSpace(ts.ReadFile(args[2])))
	defer app.Close()
	a, err := app.Authorities.CreateAuthority(ctx, admin, auth.NewAuthority{Name: args[5] + " " + args[4], Kind: args[4], Jurisdiction: args[5]})
	ts.Check(err)
	p, err := app.Authorities.CreatePrincipal(ctx, admin, auth.NewPrincipal{Name: args[5] + " " + args[3], Role: auth.Role(args[3]), AuthorityID: a.ID})
	ts.Check(err)
	ts.Setenv(args[0], p.Token)
}

// bank VAR DB TOKEN NAME creates, as the analyst of TOKEN, a hash bank
// named NAME of the analyst's authority, and sets VAR to its id.
func bank(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 4 || neg {
		ts.Fatalf("usage: bank VAR DB TOKEN NAME")
	}
	app, analyst := signedIn(ts, args[1], args[2])
	defer app.Close()
	b, err := app.Hashmatch.CreateBank(context.Background(), analyst, hashmatch.NewBank{Name: args[3]})
	ts.Check(err)
	ts.Setenv(args[0], b.ID)
}

// signedIn opens the registry DB (a file of the script's directory) and
// signs in the principal of token; the caller closes the app.
func signedIn(ts *testscript.TestScript, db, token string) (*server.App, *auth.Principal) {
	ctx := context.Background()
	app, err := server.Open(ctx, server.Config{DSN: ts.MkAbs(db)})
	ts.Check(err)
	p, err := auth.Authenticate(ctx, app.DB.Read(), token)
	if err != nil {
		app.Close()
		ts.Fatalf("%v", err)
	}
	return app, p
}
