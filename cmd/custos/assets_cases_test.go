package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/server"
)

// TestAssetsCasesCLI: a prosecutor opens a case, lists and shows it, and
// records a freeze on an asset from the command line; an illegal step is
// refused with its rule and changes nothing; without a token nothing runs.
func TestAssetsCasesCLI(t *testing.T) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "a.db")
	cfg := server.Config{DSN: dsn}
	admin, err := server.Init(ctx, cfg, server.InitOptions{Jurisdiction: "XA", Authority: "Test authority"})
	if err != nil {
		t.Fatal(err)
	}
	app, err := server.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ap, err := auth.Authenticate(ctx, app.DB.Read(), admin)
	if err != nil {
		t.Fatal(err)
	}
	po, err := app.Authorities.CreateAuthority(ctx, ap, auth.NewAuthority{Name: "Asset Recovery Office", Kind: assets.KindProsecution, Jurisdiction: "XA"})
	if err != nil {
		t.Fatal(err)
	}
	pros, err := app.Authorities.CreatePrincipal(ctx, ap, auth.NewPrincipal{Name: "Prosecutor", Role: assets.RoleProsecutor, AuthorityID: po.ID})
	if err != nil {
		t.Fatal(err)
	}
	app.Close()
	tok := pros.Token

	custos(t, 2, "assets", "cases", "list", "--db", dsn)
	out, _ := custos(t, 0, "assets", "cases", "add", "--db", dsn, "--token", tok, "--reference", "ARO-CLI-1", "--title", "Harbour bribes",
		"--kind", "domestic", "--offences", "0703", "--opened-on", "2026-01-05")
	var c assets.Case
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ID == "" || c.State != "XA" {
		t.Fatalf("cases add: %v %s", err, out)
	}
	out, _ = custos(t, 0, "assets", "cases", "list", "--db", dsn, "--token", tok, "--q", "harbour")
	if !strings.Contains(out, c.ID) || !strings.Contains(out, "1 case(s)") {
		t.Fatalf("cases list: %s", out)
	}

	// An asset through the service (the CLI records measures on it).
	app, err = server.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	pp, err := auth.Authenticate(ctx, app.DB.Read(), tok)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Service("assets").(*assets.Service).IdentifyAsset(ctx, pp, c.ID, assets.NewAsset{Type: "bank_account", Jurisdiction: "XA",
		Description: "Account at Demo Bank", Value: "250000.00", Currency: "EUR", IdentifiedOn: "2026-01-10", Instrument: "Financial investigation report 1", Authority: "ARO"})
	app.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, errOut := custos(t, 1, "assets", "measures", "record", a.ID, "--db", dsn, "--token", tok, "--step", "returned", "--decided-on", "2026-01-12",
		"--instrument", "Order 7", "--amount", "100", "--currency", "EUR", "--authority", "Court", "--returned-to", "XB")
	if !strings.Contains(errOut, "measure_transition") {
		t.Fatalf("an illegal step: %s", errOut)
	}
	out, _ = custos(t, 0, "assets", "measures", "record", a.ID, "--db", dsn, "--token", tok, "--step", "frozen", "--decided-on", "2026-01-12",
		"--instrument", "Freezing order 7/2026", "--amount", "250000.00", "--currency", "EUR", "--authority", "Investigating judge")
	if !strings.Contains(out, `"step": "frozen"`) || !strings.Contains(out, `"seq": 1`) {
		t.Fatalf("measures record: %s", out)
	}
	out, _ = custos(t, 0, "assets", "cases", "show", c.ID, "--db", dsn, "--token", tok)
	var f assets.CaseFile
	if err := json.Unmarshal([]byte(out), &f); err != nil || len(f.Assets) != 1 || len(f.Assets[0].Measures) != 2 || f.Assets[0].Status != "frozen" {
		t.Fatalf("cases show: %v %s", err, out)
	}
}
