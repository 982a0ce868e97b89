// Package witness is the log's outside witnesses, both sides of them.
//
// The registry's side (Service): the operator registers each witness's
// public key (a log entry, log.witness_registered); a witness posts the
// registry's checkpoint back with its C2SP cosignature/v1 signature line
// (transparency-dev/formats/note), and the registry keeps the cosignatures
// of registered witnesses and serves the latest cosigned checkpoint, so that
// a client can require that outsiders saw the tree it is shown.
//
// The witness's side (Watcher, behind custos log watch): it pins the
// registry's log key, keeps the last checkpoint it saw in a state file of
// its own, checks that each new checkpoint is signed by the pinned key and
// consistent with the kept one (the registry's consistency proof), cosigns
// it, and raises an Alarm on a fork or a rollback. Any witness that speaks
// the C2SP formats can do the same job.
package witness

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	tlog "github.com/transparency-dev/formats/log"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// TypeRegistered is the entry type of a witness's registration.
const TypeRegistered = "log.witness_registered"

// ManageWitnesses is registering the log's witnesses: the administrator's.
var ManageWitnesses = auth.NewAction("register the log's witnesses", auth.Admin)

// NewWitness is the input of Register: the witness's note verifier key
// (name+hash+key, Ed25519, as custos log watch prints it).
type NewWitness struct {
	PublicKey string `json:"public_key"`
}

// Witness is a registered witness with its latest cosignature.
type Witness struct {
	Name         string `json:"name"`
	PublicKey    string `json:"public_key"`
	Fingerprint  string `json:"fingerprint"`
	RegisteredAt string `json:"registered_at"`
	// LastSize and LastAt are the largest tree size it cosigned and when
	// it signed it (0 and "" when it has not yet).
	LastSize uint64 `json:"last_size"`
	LastAt   string `json:"last_at,omitempty"`
}

// registered is the data of a log.witness_registered leaf.
type registered struct {
	Name        string `json:"name"`
	PublicKey   string `json:"public_key"`
	Fingerprint string `json:"fingerprint"`
}

// Project adds the witnesses' projector and table.
func Project(p *ledger.Projections) {
	ledger.On(p, TypeRegistered, func(ctx context.Context, q store.Queryer, i int64, e *ledger.Entry, d *registered) error {
		_, err := q.Exec(ctx, `INSERT INTO log_witnesses (name, public_key, fingerprint, registered_at, log_index) VALUES (?, ?, ?, ?, ?)`,
			d.Name, d.PublicKey, d.Fingerprint, e.At, i)
		return err
	})
	p.Tables(ledger.Table{Name: "log_witnesses", Order: "name"})
}

// Service is the registry's side of the witnesses.
type Service struct {
	W  *ledger.Writer
	DB *store.DB
	// LogKey is the log's verifier key: a cosigned checkpoint must carry
	// the log's own signature.
	LogKey string
	Now    func() time.Time
}

// Register records a witness whose cosignatures the registry will accept;
// only an administrator may. A name or a key registered already is refused.
func (s *Service) Register(ctx context.Context, p *auth.Principal, in NewWitness) (*Witness, error) {
	if err := p.Require(ManageWitnesses); err != nil {
		return nil, err
	}
	key := strings.TrimSpace(in.PublicKey)
	if key == "" {
		return nil, errs.Invalidf("required", "public_key", "give the witness's public key (its note verifier key, name+hash+key, as custos log watch prints it)")
	}
	v, err := fnote.NewVerifierForCosignatureV1(key)
	if err != nil {
		return nil, errs.Invalidf("witness_key", "public_key", "the witness's public key is not an Ed25519 note verifier key (name+hash+key, as custos log watch prints it)")
	}
	fp, err := ledger.KeyFingerprint(key)
	if err != nil {
		return nil, errs.Invalidf("witness_key", "public_key", "the witness's public key is not an Ed25519 note verifier key (name+hash+key, as custos log watch prints it)")
	}
	d := registered{Name: v.Name(), PublicKey: key, Fingerprint: fp}
	res, err := s.W.Submit(ctx, p.Actor(), "register witness", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM log_witnesses WHERE name = ? OR fingerprint = ?", d.Name, d.Fingerprint).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, errs.New(errs.Conflict, "witness_registered", "public_key", "a witness named %s or with this key is registered already", d.Name)
		}
		return ledger.NewEntry(TypeRegistered, d)
	})
	if err != nil {
		return nil, err
	}
	return &Witness{Name: d.Name, PublicKey: d.PublicKey, Fingerprint: d.Fingerprint, RegisteredAt: res.Entry.At}, nil
}

// List returns the registered witnesses by name, each with its latest
// cosignature.
func List(ctx context.Context, q store.Queryer) ([]Witness, error) {
	rows, err := q.Query(ctx, `SELECT w.name, w.public_key, w.fingerprint, w.registered_at,
		COALESCE((SELECT MAX(c.size) FROM log_cosignatures c WHERE c.witness = w.name), 0),
		COALESCE((SELECT MAX(c.signed_at) FROM log_cosignatures c WHERE c.witness = w.name), '')
		FROM log_witnesses w ORDER BY w.name`)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, w *Witness) error {
		var size int64
		err := r.Scan(&w.Name, &w.PublicKey, &w.Fingerprint, &w.RegisteredAt, &size, &w.LastAt)
		w.LastSize = uint64(size)
		return err
	})
}

// Cosigned is a checkpoint with the cosignatures the registry holds for it.
type Cosigned struct {
	Size       uint64   `json:"size"`
	Root       []byte   `json:"root"`
	Witnesses  []string `json:"witnesses"`  // who cosigned it, by name
	Checkpoint string   `json:"checkpoint"` // the log's signed note with every cosignature line
}

// Accept reads a checkpoint a witness sends back cosigned: the log's own
// signed note of some size, with one or more cosignature/v1 lines. Each line
// by a registered witness whose signature verifies is kept; the checkpoint
// must be signed by the log and its root must be the log's at that size. It
// returns the witnesses whose cosignatures it kept. Nobody signs in to send
// one: the signature is the credential.
func (s *Service) Accept(ctx context.Context, signed string) (*Cosigned, error) {
	logV, err := note.NewVerifier(s.LogKey)
	if err != nil {
		return nil, err
	}
	ws, err := List(ctx, s.DB.Read())
	if err != nil {
		return nil, err
	}
	vs := make([]note.Verifier, 0, len(ws))
	for _, w := range ws {
		v, err := fnote.NewVerifierForCosignatureV1(w.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("registered witness %s: %w", w.Name, err)
		}
		vs = append(vs, v)
	}
	cp, _, n, err := tlog.ParseCheckpoint([]byte(signed), logV.Name(), logV, vs...)
	if err != nil {
		if n == nil {
			return nil, errs.New(errs.Invalid, "cosignature", "checkpoint", "the checkpoint does not carry both this log's signature and a cosignature by a registered witness")
		}
		return nil, errs.New(errs.Invalid, "cosignature", "checkpoint", "the checkpoint is not one of this log's")
	}
	var lines []note.Signature
	for _, sig := range n.Sigs {
		if sig.Name == logV.Name() && sig.Hash == logV.KeyHash() {
			continue
		}
		lines = append(lines, sig)
	}
	if len(lines) == 0 {
		return nil, errs.New(errs.Invalid, "cosignature", "checkpoint", "the checkpoint carries no cosignature by a registered witness")
	}
	// The checkpoint as the log signed it, without the cosignatures.
	logOnly := n.Text + "\n" + sigLine(n.Sigs, logV)
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	tx, err := s.DB.BeginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	head, _, err := ledger.ReadHead(ctx, tx)
	if err != nil {
		return nil, err
	}
	if cp.Size > head.Size {
		return nil, errs.New(errs.Conflict, "cosignature_size", "checkpoint", "the checkpoint is of a tree of %d leaves; this log has %d", cp.Size, head.Size)
	}
	root, err := ledger.RootAt(ctx, tx, cp.Size)
	if err != nil {
		return nil, err
	}
	if string(root) != string(cp.Hash) {
		return nil, errs.New(errs.Conflict, "cosignature_root", "checkpoint", "the checkpoint's root is not this log's at size %d", cp.Size)
	}
	at := now().UTC().Format(time.RFC3339)
	var names []string
	for _, sig := range lines {
		signedAt, err := fnote.CoSigV1Timestamp(sig)
		if err != nil {
			return nil, errs.New(errs.Invalid, "cosignature", "checkpoint", "the cosignature by %s is not a cosignature/v1 signature", sig.Name)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM log_cosignatures WHERE witness = ? AND size = ?", sig.Name, int64(cp.Size)); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO log_cosignatures (witness, size, root, checkpoint, signature, signed_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			sig.Name, int64(cp.Size), cp.Hash, logOnly, sigText(sig), signedAt.UTC().Format(time.RFC3339), at); err != nil {
			return nil, err
		}
		names = append(names, sig.Name)
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	sort.Strings(names)
	return &Cosigned{Size: cp.Size, Root: cp.Hash, Witnesses: names, Checkpoint: signed}, nil
}

// sigText is a signature line of a signed note, newline included.
func sigText(s note.Signature) string { return "\u2014 " + s.Name + " " + s.Base64 + "\n" }

// sigLine is the log's own signature line among sigs.
func sigLine(sigs []note.Signature, v note.Verifier) string {
	for _, s := range sigs {
		if s.Name == v.Name() && s.Hash == v.KeyHash() {
			return sigText(s)
		}
	}
	return ""
}

// Latest returns the largest checkpoint the witnesses cosigned, with every
// cosignature the registry holds for it; nil when none has been.
func Latest(ctx context.Context, q store.Queryer) (*Cosigned, error) {
	var size int64
	err := q.QueryRow(ctx, "SELECT size FROM log_cosignatures ORDER BY size DESC LIMIT 1").Scan(&size)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, "SELECT witness, root, checkpoint, signature FROM log_cosignatures WHERE size = ? ORDER BY witness", size)
	if err != nil {
		return nil, err
	}
	type row struct {
		witness, checkpoint, signature string
		root                           []byte
	}
	rs, err := store.Rows(rows, func(r store.Scanner, x *row) error { return r.Scan(&x.witness, &x.root, &x.checkpoint, &x.signature) })
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	c := &Cosigned{Size: uint64(size), Root: rs[0].root, Checkpoint: rs[0].checkpoint}
	for _, x := range rs {
		c.Witnesses = append(c.Witnesses, x.witness)
		c.Checkpoint += x.signature
	}
	return c, nil
}
