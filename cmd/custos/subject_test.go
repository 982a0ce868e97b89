package main

import (
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/demo"
	"github.com/custos-project/custos/internal/store"
)

// TestSubjectCLI: the regulator erases a recipient registered unlawfully
// from the command line; a donor's erasure is refused under retention with the
// day it ends; log verify names the erasure, then reports a sealed row
// deleted behind custos's back.
func TestSubjectCLI(t *testing.T) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "d.db")
	custos(t, 0, "demo", "--no-serve", "--years", "1", "--scale", "0.05", "--db", dsn)
	var regulator string
	for _, tk := range demo.Tokens() {
		if tk.Role == auth.Regulator {
			regulator = tk.Token
		}
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	var waiting, donor, other, logKey string
	q := db.Read()
	if err := q.QueryRow(ctx, "SELECT value FROM settings WHERE name = 'log_key'").Scan(&logKey); err != nil {
		t.Fatal(err)
	}
	if err := q.QueryRow(ctx, "SELECT id FROM recipients ORDER BY id LIMIT 1").Scan(&waiting); err != nil {
		t.Fatal(err)
	}
	if err := q.QueryRow(ctx, "SELECT donor_id FROM procurements ORDER BY id LIMIT 1").Scan(&donor); err != nil {
		t.Fatal(err)
	}
	if err := q.QueryRow(ctx, "SELECT subject_ref FROM donors WHERE id = ?", donor).Scan(&other); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// The auditor's state, kept for incremental verification (--from).
	dir := t.TempDir()
	state, stateKey := filepath.Join(dir, "audit.json"), filepath.Join(dir, "audit.key")
	out, errOut := custos(t, 0, "log", "verify", "--db", dsn, "--public-key", logKey, "--save-state", state, "--state-key", stateKey)
	if !strings.HasPrefix(out, "OK: ") || !strings.Contains(out, "saved the verify state to "+state) {
		t.Errorf("log verify --save-state: %s", out)
	}
	if !strings.Contains(errOut, "created the state key "+stateKey) {
		t.Errorf("log verify made the state key and did not say so: %s", errOut)
	}

	out, _ = custos(t, 0, "subject", "erase", waiting, "--db", dsn, "--token", regulator, "--ground", "unlawfully_processed", "--reference", "DPO-2026-4")
	if !strings.Contains(out, `"subject_id": "`+waiting+`"`) || !strings.Contains(out, `"ground": "unlawfully_processed"`) {
		t.Errorf("subject erase: %s", out)
	}
	_, errOut = custos(t, 1, "subject", "erase", donor, "--db", dsn, "--token", regulator, "--ground", "consent_withdrawn", "--reference", "DPO-2026-5")
	if !strings.Contains(errOut, "is kept until") {
		t.Errorf("an erasure under retention: %s", errOut)
	}
	out, _ = custos(t, 0, "subject", "access", waiting, "--db", dsn, "--token", regulator, "--purpose", "the person's request of 2 December")
	if !strings.Contains(out, `"erasure": {`) || strings.Contains(out, `"personal_data": {`) {
		t.Errorf("subject access after erasure: %s", out)
	}
	out, _ = custos(t, 0, "log", "verify", "--db", dsn, "--public-key", logKey)
	if !strings.Contains(out, " was erased by entry ") || !strings.HasPrefix(out, "OK: ") {
		t.Errorf("log verify after erasure: %s", out)
	}
	out, _ = custos(t, 0, "log", "verify", "--db", dsn, "--from", state, "--save-state", state, "--state-key", stateKey)
	if !strings.Contains(out, " was erased by entry ") || !strings.Contains(out, " new leaves replayed\nOK: ") {
		t.Errorf("log verify --from after erasure: %s", out)
	}
	_, errOut = custos(t, 1, "log", "verify", "--db", dsn, "--from", state)
	if !strings.Contains(errOut, "is sealed with a state key: give it (--state-key)") {
		t.Errorf("log verify --from without the state key: %s", errOut)
	}

	db, err = store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM subjects WHERE ref = ?", other); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, _ = custos(t, 1, "log", "verify", "--db", dsn, "--public-key", logKey)
	if !strings.Contains(out, "FAIL subjects: row ref="+other+" is committed by entry ") {
		t.Errorf("log verify after a deleted sealed row: %s", out)
	}
	// The row was committed before the checkpoint the state kept.
	out, _ = custos(t, 1, "log", "verify", "--db", dsn, "--from", state, "--state-key", stateKey)
	if !strings.Contains(out, "FAIL subjects: row ref="+other+" is committed by entry ") {
		t.Errorf("log verify --from after a deleted sealed row: %s", out)
	}
}

// TestDemoPrintsTheKeyFingerprint: custos demo says, beside its URL, the
// fingerprint of its log's key, and log verify pinned to it passes
// (docs/operations.md's first verify needs it).
func TestDemoPrintsTheKeyFingerprint(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "d.db")
	custos(t, 0, "demo", "--no-serve", "--years", "1", "--scale", "0.05", "--db", dsn)
	ctx, cancel := context.WithCancel(context.Background())
	out := &apptest.LogBuffer{}
	done := make(chan int)
	go func() { done <- run(ctx, []string{"demo", "--db", dsn, "--addr", "127.0.0.1:0"}, out, io.Discard) }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "sign in with one of these tokens") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("custos demo: exit %d: %s", code, out.String())
	}
	m := regexp.MustCompile(`(?m)^custos demo: open http://\S+/\nlog key fingerprint (SHA256:[0-9a-f:]+) `).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("the demo's output names no fingerprint beside its URL:\n%s", out.String())
	}
	if got, _ := custos(t, 0, "log", "verify", "--db", dsn, "--key-fingerprint", m[1]); !strings.HasPrefix(got, "OK: ") {
		t.Errorf("log verify pinned to the demo's fingerprint: %s", got)
	}
}
