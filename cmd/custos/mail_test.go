package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/mail"
	"github.com/custos-project/custos/internal/mail/mailtest"
	"github.com/custos-project/custos/internal/server"
)

// TestMailCommands: custos mail test sends through a real SMTP server on
// loopback with STARTTLS, the test CA given as --smtp-ca and the password
// read from a file (never printed); a server that refuses the recipient
// makes it fail with the reply; custos mail outbox lists a registry's
// outbox and refuses a state it does not have; log verify passes on that
// registry, its e-mails' module registered.
func TestMailCommands(t *testing.T) {
	ca := mailtest.NewCA(t)
	srv := mailtest.Start(t, mailtest.Options{TLS: ca.Server, User: "custos", Password: "pa55word"})
	dir := t.TempDir()
	caFile, pwFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "smtp.password")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pwFile, []byte("pa55word\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cmd := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(ctx, args, &out, &errb)
		return code, out.String(), errb.String()
	}
	smtp := []string{"--smtp-addr", srv.Addr, "--smtp-ca", caFile, "--smtp-user", "custos", "--smtp-password-file", pwFile, "--smtp-from", "registry@custos.example", "--mail-language", "fr"}
	code, out, errOut := cmd(append([]string{"mail", "test", "--to", "operator@registry.example"}, smtp...)...)
	if code != 0 || !strings.Contains(out, "accepted the test e-mail") {
		t.Fatalf("mail test: %d %s %s", code, out, errOut)
	}
	r := srv.Received()
	if len(r) != 1 || !r[0].TLS || r[0].User != "custos" || !strings.Contains(r[0].Data, "Content-Language: fr") {
		t.Fatalf("received %+v", r)
	}
	if strings.Contains(out+errOut, "pa55word") {
		t.Fatal("the password was printed")
	}
	// The address from a file (--from-file), out of the process list.
	toFile := filepath.Join(dir, "to.json")
	if err := os.WriteFile(toFile, []byte(`{"to": "desk@registry.example"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = cmd(append([]string{"mail", "test", "--from-file", toFile}, smtp...)...)
	if r := srv.Received(); code != 0 || len(r) != 2 || len(r[1].To) != 1 || r[1].To[0] != "desk@registry.example" {
		t.Fatalf("mail test --from-file: %d %s %s; received %+v", code, out, errOut, r)
	}
	srv.Refuse("550 5.1.1 no such user")
	if code, _, errOut := cmd(append([]string{"mail", "test", "--to", "nobody@registry.example"}, smtp...)...); code != 1 || !strings.Contains(errOut, "550") {
		t.Fatalf("a refused test e-mail: %d %s", code, errOut)
	}
	if code, _, errOut := cmd("mail", "test", "--to", "a@b.example", "--smtp-addr", srv.Addr, "--smtp-from", "registry@custos.example", "--smtp-user", "u", "--smtp-tls", "none"); code != 2 || !strings.Contains(errOut, "in clear") {
		t.Fatalf("a password in clear: %d %s", code, errOut)
	}

	db := filepath.Join(dir, "reg.db")
	if code, out, errOut := cmd("init", "--db", db, "--jurisdiction", "XA", "--admin-token-file", filepath.Join(dir, "admin.token")); code != 0 {
		t.Fatalf("init: %s %s", out, errOut)
	}
	if code, out, errOut := cmd("mail", "outbox", "--db", db, "--state", "failed"); code != 0 || !strings.HasPrefix(out, "ID") {
		t.Fatalf("mail outbox: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := cmd("mail", "outbox", "--db", db, "--state", "lost"); code != 1 || !strings.Contains(errOut, "state must be one of pending, sent, failed") {
		t.Fatalf("an unknown state: %d %s", code, errOut)
	}

	// An e-mail marked sent in the database behind custos's back is listed
	// as tampered (its MAC, checked with the key file, does not match);
	// the one custos queued is listed as it is. Another registry's key
	// file is refused rather than taken to mark every e-mail.
	// The e-mails are queued by a command that notifies, as a module's does
	// (mailtest.Notify: its entry names them, and the log commits them).
	app, err := server.Open(ctx, server.Config{DSN: db, Modules: mailtest.Modules(), Logger: logger(&bytes.Buffer{}, false)})
	if err != nil {
		t.Fatal(err)
	}
	token, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := auth.Authenticate(ctx, app.DB.Read(), strings.TrimSpace(string(token)))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := mailtest.Notify(ctx, app, admin.Actor(), mail.Message{To: []mail.Recipient{{Address: "hidden@centre.example"}, {Address: "kept@centre.example"}},
		Subject: "Reference: %s", SubjectArgs: []string{"SAE-XA-1"}, Body: "Open it in the registry: %s", BodyArgs: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := app.DB.BeginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "UPDATE mail_outbox SET state = 'sent', sent_at = created_at WHERE id = ?", ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	app.Close()
	code, out, errOut = cmd("mail", "outbox", "--db", db)
	if code != 1 || !strings.Contains(errOut, "the outbox does not match the log: 1 e-mail(s) listed TAMPERED on this page, 0 MISSING") ||
		!regexp.MustCompile(`(?m)^`+ids[0]+` .* TAMPERED \(says sent\) .*hidden@centre\.example`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^`+ids[1]+` .* pending .*kept@centre\.example`).MatchString(out) {
		t.Fatalf("mail outbox after a row was marked sent in the database: %d\n%s%s", code, out, errOut)
	}
	other := filepath.Join(dir, "other.db")
	if code, out, errOut := cmd("init", "--db", other, "--jurisdiction", "XA", "--admin-token-file", filepath.Join(dir, "other.token")); code != 0 {
		t.Fatalf("init: %s %s", out, errOut)
	}
	if code, _, errOut := cmd("mail", "outbox", "--db", db, "--key-file", other+".key"); code != 1 || !strings.Contains(errOut, "does not belong to this registry") {
		t.Fatalf("mail outbox with another registry's key file: %d %s", code, errOut)
	}

	// custos mail contact sets the regulator's notification address, and
	// removes it; a refusal names its rule's sentence.
	var authority string
	if code, out, errOut := cmd("mail", "contact", "--db", db, "--authority", "AU-NOSUCH", "--email", "vigilance@regulator.example"); code != 1 || !strings.Contains(errOut, "no authority AU-NOSUCH") {
		t.Fatalf("an unknown authority: %d %s %s", code, out, errOut)
	}
	app, err = (&dbFlags{db: db}).open(ctx, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.DB.Read().QueryRow(ctx, "SELECT id FROM authorities").Scan(&authority); err != nil {
		t.Fatal(err)
	}
	app.Close()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--authority", authority, "--email", "not an address"}, 1, "email is not an e-mail address"},
		{[]string{"--authority", authority}, 2, "either --email ADDRESS or --remove"},
		{[]string{"--authority", authority, "--email", "vigilance@regulator.example", "--language", "fr"}, 0, "is notified at vigilance@regulator.example; language: fr"},
		{[]string{"--authority", authority, "--remove"}, 0, "in the web UI only"},
	} {
		code, out, errOut := cmd(append([]string{"mail", "contact", "--db", db}, c.args...)...)
		if code != c.code || !strings.Contains(out+errOut, c.want) {
			t.Errorf("mail contact %v: %d %s %s, want %d and %q", c.args, code, out, errOut, c.code, c.want)
		}
	}

	// The log names the operator by the operating-system account that ran
	// the command, not an anonymous "cli".
	account := ""
	if u, err := user.Current(); err == nil {
		account = u.Username
	}
	want := operatorID(account, os.Getenv("SUDO_USER"))
	if !strings.HasPrefix(want, "cli:") {
		t.Errorf("the operator is %q, want cli: and the account", want)
	}
	if app, err = (&dbFlags{db: db}).open(ctx, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	var data []byte
	if err := app.DB.Read().QueryRow(ctx, "SELECT data FROM log_leaves ORDER BY idx DESC LIMIT 1").Scan(&data); err != nil {
		t.Fatal(err)
	}
	var e struct {
		Type string `json:"type"`
		By   string `json:"by"`
	}
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	if e.By != want {
		t.Errorf("the last entry (%s) is by %q, want %q", e.Type, e.By, want)
	}

	// The registry the commands were checked on is one log verify passes:
	// verified with the module whose command queued its e-mails
	// registered, as its deployment would run it (the default modules
	// cannot replay that module's entries), its log key pinned. The row
	// marked sent without being sent is the outbox list's finding (its
	// MAC), not the log's: the log never said it was sent.
	verifier, err := server.OpenReadOnly(ctx, server.Config{DSN: db, Modules: mailtest.Modules(), Logger: logger(&bytes.Buffer{}, false)})
	if err != nil {
		t.Fatal(err)
	}
	defer verifier.Close()
	rep, err := ledger.Verify(ctx, verifier.DB, verifier.Projections, ledger.VerifyOptions{VerifierKey: verifier.Keys.LogKey})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.KeyFromLog || !slices.Contains(rep.Covered, "mail_outbox: 2 e-mails the log queued and 0 it logs sent, each against its row") {
		t.Errorf("log verify of the registry: problems %q, key from the log %v, covered %q; want none, the key pinned, the outbox's 2 e-mails checked",
			rep.Problems, rep.KeyFromLog, rep.Covered)
	}
}

// TestOperatorID: the log names the operator by the account that ran the
// command and, when sudo ran it as another account (custos's own), by the
// person sudo names; before, every "sudo -u custos custos ..." was
// "cli:custos".
func TestOperatorID(t *testing.T) {
	for _, c := range []struct{ account, sudo, want string }{
		{"custos", "alice", "cli:custos (sudo alice)"},
		{"custos", "", "cli:custos"},
		{"alice", "alice", "cli:alice"},
		{"custos", "bob smith\n", "cli:custos (sudo bobsmith)"},
		{"", "", "cli"},
		{"", "alice", "cli (sudo alice)"},
	} {
		if got := operatorID(c.account, c.sudo); got != c.want {
			t.Errorf("operatorID(%q, %q) = %q, want %q", c.account, c.sudo, got, c.want)
		}
	}
}

func TestAccountName(t *testing.T) {
	for in, want := range map[string]string{
		"alice":                 "alice",
		"DOMAIN\\bob":           "DOMAIN\\bob",
		"carol smith":           "carolsmith",
		"eve\n\x00":             "eve",
		strings.Repeat("é", 70): strings.Repeat("é", 64),
		"":                      "",
	} {
		if got := accountName(in); got != want {
			t.Errorf("accountName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLooseSecretWarned: a secret file that other users may read (the SMTP
// password's, the metrics token's) is warned of, naming it; one of mode
// 0600 is not.
func TestLooseSecretWarned(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		mode os.FileMode
		warn bool
	}{{0o644, true}, {0o640, true}, {0o600, false}} {
		path := filepath.Join(dir, "smtp.password")
		if err := os.WriteFile(path, []byte("secret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, c.mode); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		warnLooseSecret(slog.New(slog.NewTextHandler(&out, nil)), "the SMTP password file", path)
		if got := strings.Contains(out.String(), "the SMTP password file may be read by other users") && strings.Contains(out.String(), path); got != c.warn {
			t.Errorf("mode %v: warned %v, want %v: %q", c.mode, got, c.warn, out.String())
		}
	}
}
