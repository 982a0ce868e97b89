package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHashmatchDisputesCLI: a reviewer's dispute shows in the owner's ranked
// list on the command line, not in another authority's.
func TestHashmatchDisputesCLI(t *testing.T) {
	r := newCLIRegistry(t)
	r.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+r.bank+"/versions", r.Analyst,
		map[string]any{"adds": []map[string]any{{"entry_id": "e1", "pdq": apptest.PDQHex(1), "classification": "A1"}}})
	res := r.Must(t, 200, "POST", "/api/v1/hashmatch/match", r.Service, map[string]any{"items": []map[string]any{{"pdq": apptest.PDQHex(1), "quality": 90}}})
	caseID := res.Body["results"].([]any)[0].(map[string]any)["case_id"].(string)
	r.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+caseID+"/review", r.Reviewer, map[string]any{"decision": "reject", "note": "benign"})
	r.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+caseID+"/dispute", r.Reviewer, map[string]any{"note": "a company logo"})

	out, _ := custos(t, 0, "hashmatch", "disputes", "--db", r.dsn, "--key-file", r.Cfg.KeyFile, "--authority", r.Authority)
	if !strings.Contains(out, "1. "+r.bank+" e1 (A1): services 1, disputes 1") || !strings.Contains(out, "a company logo") || strings.Contains(out, caseID) {
		t.Fatalf("disputes: %s", out)
	}
	out, _ = custos(t, 0, "hashmatch", "disputes", "--db", r.dsn, "--key-file", r.Cfg.KeyFile, "--authority", r.Other)
	if !strings.HasPrefix(out, "0 disputed entries") {
		t.Fatalf("another authority's disputes: %s", out)
	}
	custos(t, 2, "hashmatch", "disputes", "--db", r.dsn)
}

// TestHashmatchCommandsDoNotIndex: the commands that do not match (disputes,
// thresholds shown and set, import, export) open the registry without
// building any bank's index, which at 100 million hashes takes minutes; a
// server about to serve (App.Warm) on the same registry builds them, and
// logs each.
func TestHashmatchCommandsDoNotIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := w.Bank(t, "Known")
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst,
			map[string]any{"adds": []map[string]any{{"entry_id": "e1", "pdq": apptest.PDQHex(1), "classification": "A1"}}})
		list := filepath.Join(t.TempDir(), "list.txt")
		if err := os.WriteFile(list, []byte(apptest.PDQHex(2)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		db := []string{"--db", dsn, "--key-file", w.Cfg.KeyFile}
		for _, args := range [][]string{
			{"disputes", "--authority", w.Authority},
			{"thresholds", "--bank", bank},
			{"thresholds", "--bank", bank, "--query-match-threshold-pct", "70"},
			{"import", "--bank", bank, "--format", "hex", list},
			{"export", "--bank", bank, "--format", "hex"},
		} {
			_, stderr := custos(t, 0, append(append([]string{"hashmatch"}, args...), db...)...)
			if strings.Contains(stderr, "hash bank indexed") {
				t.Errorf("hashmatch %s indexed a bank:\n%s", args[0], stderr)
			}
		}
		logs := &apptest.LogBuffer{}
		cfg := w.Cfg
		cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
		app, err := server.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer app.Close()
		if err := app.Warm(context.Background()); err != nil {
			t.Fatal(err)
		}
		// The import's version is the bank's second generation: 2 hashes.
		if !strings.Contains(logs.String(), `msg="hash bank indexed" bank=`+bank+` generation=2 hashes=2 how="in memory"`) {
			t.Errorf("a server about to serve did not index the bank:\n%s", logs)
		}
	})
}
