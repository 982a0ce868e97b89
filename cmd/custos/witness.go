package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/witness"
)

// The exit statuses of log verify and log watch besides 0 (verified) and 2
// (usage): 1 is tampering found (verify) or an alarm raised (watch).
const (
	// exitNotPinned: log verify found the database consistent with its log,
	// but checked the signature only with the key that database records,
	// which a rewrite would have replaced too. Not a pass.
	exitNotPinned = 3
	// exitUnreachable: log watch could not check (the registry did not
	// answer); nothing contradicts what the witness saw.
	exitUnreachable = 4
)

// printKeyFingerprint prints the log key of a new registry and its
// fingerprint, for the operator to publish (custos init).
func printKeyFingerprint(w io.Writer, cfg server.Config) error {
	path, err := cfg.KeyPath()
	if err != nil {
		return err
	}
	keys, err := server.LoadKeys(path)
	if err != nil {
		return err
	}
	fp, err := ledger.KeyFingerprint(keys.LogKey)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "log key (publish it, or its fingerprint, where auditors will find it; they pin it with log verify and log watch):\n  %s\n  fingerprint %s\n", keys.LogKey, fp)
	return nil
}

// pinFlags are how an auditor pins the log's key: the key itself, its
// fingerprint, or a witness state file that holds it.
type pinFlags struct {
	key, fingerprint, state string
}

func (p *pinFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&p.key, "public-key", "", "the log's verifier key as the operator published it (pins the key)")
	fs.StringVar(&p.fingerprint, "key-fingerprint", "", "the fingerprint of the log's key as the operator published it (custos init prints it; pins the key)")
	fs.StringVar(&p.state, "witness-state", "", "a state file of custos log watch: pins the key it holds, and the log must still hold the checkpoint it kept")
}

// options fills the verify options the pin gives.
func (p *pinFlags) options(opt *ledger.VerifyOptions) error {
	n := 0
	for _, v := range []string{p.key, p.fingerprint, p.state} {
		if v != "" {
			n++
		}
	}
	if n > 1 {
		return &exitError{2, "give one of --public-key, --key-fingerprint and --witness-state"}
	}
	if err := p.check(); err != nil {
		return err
	}
	opt.VerifierKey, opt.KeyFingerprint = p.key, p.fingerprint
	if p.state != "" {
		st, err := witness.LoadState(p.state)
		if err != nil {
			return fmt.Errorf("--witness-state: %w", err)
		}
		opt.VerifierKey, opt.Witnessed = st.LogKey, st.Head()
	}
	return nil
}

// check refuses a pin that is not one: the auditor's slip, not the
// registry's fault, refused before anything is read.
func (p *pinFlags) check() error {
	if p.key != "" {
		if err := ledger.CheckVerifierKey(p.key); err != nil {
			return &exitError{2, fmt.Sprintf("--public-key: %v (the key the operator published reads like custos/XA+1a2b3c4d+AbC...; custos log key prints the one a registry records)", err)}
		}
	}
	if p.fingerprint != "" && !ledger.WellFormedFingerprint(p.fingerprint) {
		return &exitError{2, "--key-fingerprint: a fingerprint is SHA256: and the 64 hex digits custos log key prints (with or without its colons)"}
	}
	return nil
}

// notPinned is log verify's answer when nothing pinned the key.
func notPinned(stdout io.Writer, rep *ledger.Report) error {
	fmt.Fprintf(stdout, "KEY NOT PINNED: %d leaves, root %s; %d tables and %d rows match the log, but the checkpoint was checked only with the key this database records, which whoever rewrote the database could have replaced too.\n",
		rep.Size, ledger.RootText(rep.Root), rep.Tables, rep.Rows)
	fmt.Fprintln(stdout, "  Give the key the operator published: --public-key KEY, --key-fingerprint SHA256:..., or --witness-state FILE.")
	return &exitError{exitNotPinned, "the log is consistent, but its key is not pinned: this is not a pass"}
}

func runLogKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("log key", "[flags]", "print the log key this registry records and its fingerprint", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	if err := parse(fs, args); err != nil {
		return err
	}
	db, err := d.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	key, err := ledger.RecordedKey(ctx, db.Read())
	if err != nil {
		return err
	}
	fp, err := ledger.KeyFingerprint(key)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\nfingerprint %s\n(this is what the database says: compare it with what the operator published)\n", key, fp)
	// The key file, where there is one, must sign as the database says: an
	// operator about to publish the key learns here that the two do not
	// belong together (another registry's key file, or a database re-signed
	// with another key).
	path, err := server.Config{DSN: d.db, KeyFile: d.keyFile}.KeyPath()
	if err != nil {
		return nil // PostgreSQL without --key-file: the database alone
	}
	keys, err := server.LoadKeys(path)
	if errors.Is(err, os.ErrNotExist) && d.keyFile == "" {
		return nil // an auditor's copy of the database, without its key file
	}
	if err != nil {
		return err
	}
	if strings.TrimSpace(keys.LogKey) != strings.TrimSpace(key) {
		return &exitError{1, fmt.Sprintf("the key file %s signs as %s, not as the key this database records: they do not belong together (another registry's key file, or a log re-signed with another key); publish nothing until you know which", path, keys.LogKey)}
	}
	fmt.Fprintf(stdout, "(the key file %s signs with this key)\n", path)
	return checkMasterKey(ctx, db.Read(), keys.Master, path, stdout)
}

// checkMasterKey checks that master, the key file's master key, opens the
// registry's first sealed record (docs/operations.md, "The key file": a
// copy of the key file is tested against the registry): a key file whose
// log key is the registry's but whose master key is another's would sign
// and never open a name. A registry with no sealed record yet gives it
// nothing to open, and says so. custos subject check-index opens every
// sealed record.
func checkMasterKey(ctx context.Context, q store.Queryer, master []byte, path string, stdout io.Writer) error {
	vault, err := privacy.NewVault(master)
	if err != nil {
		return &exitError{1, fmt.Sprintf("the key file %s: %v", path, err)}
	}
	var ref string
	var wrapped, sealed []byte
	err = q.QueryRow(ctx, "SELECT ref, wrapped_key, sealed FROM subjects ORDER BY ref LIMIT 1").Scan(&ref, &wrapped, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		fmt.Fprintln(stdout, "(its master key is not checked: the registry holds no sealed record yet; test the key file again once it holds one)")
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := vault.OpenRow(ref, wrapped, sealed); err != nil {
		return &exitError{1, fmt.Sprintf("the key file %s signs as this registry, but its master key does not open the registry's sealed records (%v): it is not this registry's master key, or the row was altered (custos subject check-index opens every one)", path, err)}
	}
	fmt.Fprintln(stdout, "(its master key opens the registry's sealed records)")
	return nil
}

func runLogWatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("log watch", "URL --state FILE [flags]", "witness a registry's log: check each checkpoint against the last one seen, cosign it, alarm on a fork or rollback", stdout)
	state := fs.String("state", "", "the witness's state file: the pinned log key and the last checkpoint seen (created on the first run)")
	keyFile := fs.String("witness-key", "", "the witness's own signing key file (default: the state file + .key; created with --name if absent)")
	name := fs.String("name", "", "the witness's name, when its key is created (e.g. auditor.example.org)")
	noCosign := fs.Bool("no-cosign", false, "verify only: neither create a key nor send cosignatures")
	every := fs.Duration("every", 0, "check again at this interval until stopped (0: check once)")
	var pin pinFlags
	fs.StringVar(&pin.key, "public-key", "", "on the first run: the registry's log key as its operator published it")
	fs.StringVar(&pin.fingerprint, "key-fingerprint", "", "on the first run: the fingerprint of the registry's log key as its operator published it")
	if len(args) == 0 || len(args[0]) == 0 || args[0][0] == '-' {
		if err := parse(fs, args); err != nil {
			return err
		}
		return &exitError{2, "give the registry's URL: custos log watch URL --state FILE"}
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	url, err := witness.ParseURL(args[0])
	if err != nil {
		return &exitError{2, err.Error()}
	}
	if *state == "" {
		return &exitError{2, "give --state FILE, where the witness keeps what it saw"}
	}
	if err := pin.check(); err != nil {
		return err
	}
	if _, err := os.Stat(*state); errors.Is(err, os.ErrNotExist) && pin.key == "" && pin.fingerprint == "" {
		return &exitError{2, witness.ErrNoPin(*state).Error()}
	}
	w := &witness.Watcher{URL: url, StatePath: *state, PinKey: pin.key, PinFingerprint: pin.fingerprint}
	if !*noCosign {
		if w.Key, err = witnessKey(*keyFile, *state, *name, stdout); err != nil {
			return err
		}
	}
	log := logger(stderr, true)
	if *every <= 0 {
		return watchOnce(ctx, w, stdout)
	}
	return watchLoop(ctx, w, *every, log)
}

// witnessKey loads the witness's key, creating it when absent.
func witnessKey(path, state, name string, stdout io.Writer) (*witness.Key, error) {
	if path == "" {
		path = state + ".key"
	}
	k, err := witness.LoadKey(path)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if name == "" {
		return nil, &exitError{2, fmt.Sprintf("%s does not exist: give --name NAME to create the witness's key there (or --no-cosign to verify only)", path)}
	}
	if k, err = witness.NewKey(path, name); err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "created the witness key %s; ask the registry's operator to register this public key:\n  %s\n", path, k.Verifier)
	return k, nil
}

func watchOnce(ctx context.Context, w *witness.Watcher, stdout io.Writer) error {
	out, err := w.Check(ctx)
	var alarm *witness.Alarm
	if errors.As(err, &alarm) {
		fmt.Fprintln(stdout, alarm.Error())
		return &exitError{1, "the registry's log contradicts what this witness saw: keep the state file and tell the registry's oversight"}
	}
	if err != nil {
		return &exitError{exitUnreachable, err.Error()}
	}
	switch {
	case out.First:
		fmt.Fprintf(stdout, "pinned the log key and kept the checkpoint of %d leaves, root %s\n", out.Size, ledger.RootText(out.Root))
	case out.Size == out.Previous:
		fmt.Fprintf(stdout, "OK: the log still has %d leaves, root %s\n", out.Size, ledger.RootText(out.Root))
	default:
		fmt.Fprintf(stdout, "OK: the log grew from %d to %d leaves consistently, root %s\n", out.Previous, out.Size, ledger.RootText(out.Root))
	}
	if out.Cosigned {
		fmt.Fprintf(stdout, "cosigned the checkpoint of %d leaves; the registry accepted the cosignature\n", out.Size)
	} else if out.CosignNote != "" {
		fmt.Fprintf(stdout, "warning: %s\n", out.CosignNote)
	}
	return nil
}

// watchLoop checks at each interval until stopped. An alarm is logged at
// ERROR level (alarm=rollback|fork|signature) at every check while it
// lasts; the state keeps what the witness saw before. The exit status is 1
// if any check raised one.
func watchLoop(ctx context.Context, w *witness.Watcher, every time.Duration, log *slog.Logger) error {
	alarmed := false
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		out, err := w.Check(ctx)
		var alarm *witness.Alarm
		switch {
		case errors.As(err, &alarm):
			alarmed = true
			log.Error("ALARM", "alarm", alarm.Kind, "msg", alarm.Msg, "url", w.URL)
		case err != nil:
			log.Warn("witness: could not check the registry", "err", err.Error(), "url", w.URL)
		default:
			log.Info("witness: checkpoint verified", "size", out.Size, "previous", out.Previous, "cosigned", out.Cosigned, "cosign_error", out.CosignNote)
		}
		select {
		case <-ctx.Done():
			if alarmed {
				return &exitError{1, "the registry's log contradicted what this witness saw (see the ALARM lines)"}
			}
			return nil
		case <-t.C:
		}
	}
}
