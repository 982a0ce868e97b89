package main

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
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
