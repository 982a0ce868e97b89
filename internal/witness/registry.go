// Package witness is the log's outside witnesses, both sides of them.
//
// The registry's side (Service): the operator registers each witness's
// public key (a log entry, log.witness_registered); a witness posts the
// registry's checkpoint back with its C2SP cosignature/v1 signature line
// (transparency-dev/formats/note), and the registry keeps the cosignatures
// of registered witnesses and serves the latest cosigned checkpoint, so that
// a client can require that outsiders saw the tree it is shown; it commits
// them to the log by digest (commit.go), so that log verify finds one
// deleted.
//
// The witness's side (Watcher, behind custos log watch): it pins the
// registry's log key, keeps the last checkpoint it saw in a state file of
// its own, checks that each new checkpoint is signed by the pinned key and
// consistent with the kept one (the registry's consistency proof), cosigns
// it, and raises an Alarm on a fork or a rollback. Any witness that speaks
// the C2SP formats can do the same job.
package witness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	tlog "github.com/transparency-dev/formats/log"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/par"
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
	ledger.On(p, TypeCosignaturesCommitted, projectCommitted)
	p.Tables(ledger.Table{Name: "log_witnesses", Order: "name"}, ledger.Table{Name: "log_cosignature_commits", Order: "id"})
	p.Check("log_cosignatures", verifyCosignatures) // each against its witness's key and the log, and the commitments
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

// List returns the registered witnesses by name, each with the largest
// tree it cosigned, its cosignatures checked (checker): one that does not
// verify is not counted, and is reported to log.
func List(ctx context.Context, q store.Queryer, log *slog.Logger) ([]Witness, error) {
	c, err := newChecker(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, "SELECT name, public_key, fingerprint, registered_at FROM log_witnesses ORDER BY name")
	if err != nil {
		return nil, err
	}
	ws, err := store.Rows(rows, func(r store.Scanner, w *Witness) error {
		return r.Scan(&w.Name, &w.PublicKey, &w.Fingerprint, &w.RegisteredAt)
	})
	if err != nil {
		return nil, err
	}
	for i := range ws {
		w := &ws[i]
		err := c.each(ctx, q, "WHERE witness = ? ORDER BY size DESC", []any{w.Name}, log, func(r *cosignature) bool {
			w.LastSize, w.LastAt = uint64(r.size), r.signedAt
			return false
		})
		if err != nil {
			return nil, err
		}
	}
	return ws, nil
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
	ws, err := witnessKeys(ctx, s.DB.Read())
	if err != nil {
		return nil, err
	}
	vs := make([]note.Verifier, 0, len(ws))
	for _, v := range ws {
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
	// The log's head held while the rows are written (on SQLite the write
	// transaction holds it): a commitment counts the rows not yet
	// committed in the writer's transaction, which its projector then
	// marks, and none may come between.
	if tx.Dialect() == store.Postgres {
		var size int64
		if err := tx.QueryRow(ctx, "SELECT size FROM log_state WHERE id = 1 FOR SHARE").Scan(&size); err != nil {
			return nil, err
		}
	}
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
		// A witness's cosignature of a size it cosigned before replaces the
		// earlier one, unless a commitment holds that one: the log names
		// it, and the witness's new one adds nothing.
		var committed int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM log_cosignatures WHERE witness = ? AND size = ? AND commit_index > 0", sig.Name, int64(cp.Size)).Scan(&committed); err != nil {
			return nil, err
		}
		names = append(names, sig.Name)
		if committed > 0 {
			continue
		}
		if _, err := tx.Exec(ctx, "DELETE FROM log_cosignatures WHERE witness = ? AND size = ?", sig.Name, int64(cp.Size)); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO log_cosignatures (witness, size, root, checkpoint, signature, signed_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			sig.Name, int64(cp.Size), cp.Hash, logOnly, sigText(sig), signedAt.UTC().Format(time.RFC3339), at); err != nil {
			return nil, err
		}
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
// cosignature the registry holds for it; nil when none has been. Each
// cosignature is checked (checker): one that does not verify is not
// shown, and is reported to log.
func Latest(ctx context.Context, q store.Queryer, log *slog.Logger) (*Cosigned, error) {
	c, err := newChecker(ctx, q)
	if err != nil {
		return nil, err
	}
	var out *Cosigned
	err = c.each(ctx, q, "ORDER BY size DESC, witness", nil, log, func(r *cosignature) bool {
		if out == nil {
			out = &Cosigned{Size: uint64(r.size), Root: r.root, Checkpoint: r.checkpoint}
		} else if uint64(r.size) != out.Size {
			return false
		}
		out.Witnesses = append(out.Witnesses, r.witness)
		out.Checkpoint += r.signature
		return true
	})
	return out, err
}

// cosignature is a row of log_cosignatures; commit is the index of the
// entry that committed it (0: not yet).
type cosignature struct {
	witness                                   string
	size                                      int64
	root                                      []byte
	checkpoint, signature, signedAt, received string
	commit                                    int64
}

// cosignatureColumns are the columns of log_cosignatures scanCosignature
// reads.
const cosignatureColumns = "witness, size, root, checkpoint, signature, signed_at, received_at, commit_index"

func scanCosignature(sc store.Scanner, r *cosignature) error {
	return sc.Scan(&r.witness, &r.size, &r.root, &r.checkpoint, &r.signature, &r.signedAt, &r.received, &r.commit)
}

// witnessKeys reads the registered witnesses' cosignature verifiers, by name.
func witnessKeys(ctx context.Context, q store.Queryer) (map[string]note.Verifier, error) {
	rows, err := q.Query(ctx, "SELECT name, public_key FROM log_witnesses")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]note.Verifier{}
	for rows.Next() {
		var name, key string
		if err := rows.Scan(&name, &key); err != nil {
			return nil, err
		}
		v, err := fnote.NewVerifierForCosignatureV1(key)
		if err != nil {
			return nil, fmt.Errorf("registered witness %s: %w", name, err)
		}
		out[name] = v
	}
	return out, rows.Err()
}

// checker checks stored cosignatures. log_cosignatures is not in the log
// (logging one would move the head it signs), so a row there proves
// nothing by being there: whoever can write the database could add one (an
// old signature on a new size) as well as custos could. A row is good only
// if its cosignature verifies with the key of the witness it names, which
// must be registered, over a checkpoint the log's key signed, whose size
// and root are the row's, at the time the row says.
type checker struct {
	logV      note.Verifier
	witnesses map[string]note.Verifier
	workers   int // goroutines checkAll keeps busy; 0: every core
}

// newChecker reads the log's key as the registry records it and the
// registered witnesses' keys from q.
func newChecker(ctx context.Context, q store.Queryer) (*checker, error) {
	key, err := ledger.RecordedKey(ctx, q)
	if err != nil {
		return nil, err
	}
	logV, err := note.NewVerifier(key)
	if err != nil {
		return nil, fmt.Errorf("the log's verifier key: %w", err)
	}
	ws, err := witnessKeys(ctx, q)
	if err != nil {
		return nil, err
	}
	return &checker{logV: logV, witnesses: ws}, nil
}

// check says why r's cosignature is not good, nil when it is.
func (c *checker) check(r *cosignature) error {
	cp, err := c.logCheckpoint(r.checkpoint)
	if err != nil {
		return err
	}
	return c.cosigned(r, cp)
}

// logCheckpoint opens the checkpoint a row says its witness signed: the
// log's own signed note, verified with the log's key. The rows of one size
// carry the same note, so a caller checking many rows opens each once.
func (c *checker) logCheckpoint(text string) (*tlog.Checkpoint, error) {
	cp, _, _, err := tlog.ParseCheckpoint([]byte(text), c.logV.Name(), c.logV)
	if err != nil {
		return nil, fmt.Errorf("the checkpoint it signs is not this log's (%v)", err)
	}
	return cp, nil
}

// cosigned checks r's cosignature line, by the key of the witness it names,
// over the checkpoint cp (r's, opened by logCheckpoint).
func (c *checker) cosigned(r *cosignature, cp *tlog.Checkpoint) error {
	v, ok := c.witnesses[r.witness]
	if !ok {
		return errors.New("no witness of that name is registered")
	}
	n, err := note.Open([]byte(r.checkpoint+r.signature), note.VerifierList(v))
	if err != nil {
		return fmt.Errorf("the cosignature does not verify with the witness's key (%v)", err)
	}
	var sig *note.Signature
	for i := range n.Sigs {
		if n.Sigs[i].Name == v.Name() && n.Sigs[i].Hash == v.KeyHash() {
			sig = &n.Sigs[i]
		}
	}
	if sig == nil {
		return errors.New("it carries no signature by the witness's key")
	}
	if cp.Size != uint64(r.size) || !bytes.Equal(cp.Hash, r.root) {
		return fmt.Errorf("the witness signed the checkpoint of size %d, not this row's size and root", cp.Size)
	}
	at, err := fnote.CoSigV1Timestamp(*sig)
	if err != nil {
		return err
	}
	if at.UTC().Format(time.RFC3339) != r.signedAt {
		return fmt.Errorf("the witness signed it at %s, not at %s", at.UTC().Format(time.RFC3339), r.signedAt)
	}
	return nil
}

// checkAll says why each of rows is not good ("" when it is), as check
// would, on every core: the log's signature over each distinct checkpoint
// once, then each row's cosignature. A registry cosigned every five
// minutes by three witnesses holds about 300,000 rows a year, each two
// Ed25519 verifications when checked one by one.
func (c *checker) checkAll(rows []cosignature) []string {
	type opened struct {
		cp  *tlog.Checkpoint
		err error
	}
	texts := map[string]*opened{}
	var distinct []string
	for _, r := range rows {
		if texts[r.checkpoint] == nil {
			texts[r.checkpoint] = &opened{}
			distinct = append(distinct, r.checkpoint)
		}
	}
	par.ForN(c.workers, len(distinct), func(i int) {
		o := texts[distinct[i]]
		o.cp, o.err = c.logCheckpoint(distinct[i])
	})
	problems := make([]string, len(rows))
	par.ForN(c.workers, len(rows), func(i int) {
		o := texts[rows[i].checkpoint]
		err := o.err
		if err == nil {
			err = c.cosigned(&rows[i], o.cp)
		}
		if err != nil {
			problems[i] = err.Error()
		}
	})
	return problems
}

// each calls fn with the good cosignatures of q's log_cosignatures rows
// chosen by where (and its args), in its order, until fn returns false;
// the rows whose cosignature is not good are skipped and said to log.
func (c *checker) each(ctx context.Context, q store.Queryer, where string, args []any, log *slog.Logger, fn func(*cosignature) bool) error {
	rows, err := q.Query(ctx, "SELECT "+cosignatureColumns+" FROM log_cosignatures "+where, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r cosignature
		if err := scanCosignature(rows, &r); err != nil {
			return err
		}
		if err := c.check(&r); err != nil {
			if log != nil {
				log.ErrorContext(ctx, "witness cosignature not shown: it does not verify (written behind custos's back?)",
					"witness", r.witness, "size", r.size, "err", err.Error())
			}
			continue
		}
		if !fn(&r) {
			return nil
		}
	}
	return rows.Err()
}

// verifyCosignatures is the witnesses' part of log verify: every stored
// cosignature is checked as the registry checks what it shows (checker),
// with the log's key and the registered witnesses as the log records them
// (the replay), and the root it cosigned must be the log's at its size, or
// the log was rewritten after the witness saw it. Every row, checked or
// not, is also handed to the commitments' check (commitCheck): the rows
// each log.cosignatures_committed entry marks must be those it committed,
// so that one deleted is named (a signature cannot show that).
//
// A verification from a kept state (--from) checks again only the
// cosignatures of sizes after the state's checkpoint, when those up to it
// are the ones checked then: it keeps (CheckRun.Keep) the size it checked
// up to and a SHA-256 over every row up to it, in order. Rows of a size the
// state's checkpoint covers need not be checked again: their signatures
// were good then, and their roots are the log's since the log still
// extends that checkpoint. When the digest differs (a cosignature of an
// old size sent late, or rows written behind custos's back), every row is
// checked. A registry cosigned every five minutes by three witnesses holds
// about 300,000 rows a year.
func verifyCosignatures(ctx context.Context, run ledger.CheckRun) error {
	head, _, err := ledger.ReadHead(ctx, run.Live)
	if err != nil {
		return err
	}
	logged, err := readCommitments(ctx, run.Replay)
	if err != nil {
		return err
	}
	sum := sha256.New()
	commits := newCommitCheck() // every row, in both passes
	start := cosignature{size: -1}
	unchanged, checked := 0, 0 // rows left unchecked by the memo, rows checked
	upTo, kept, memo := parseCosignedMemo(run.Kept)
	memo = memo && upTo <= int64(head.Size)
	if memo {
		n := 0
		err := cosignaturePages(ctx, run.Live, start, upTo, func(page []cosignature) bool {
			for i := range page {
				hashCosignature(sum, &page[i])
				commits.add(page[i])
			}
			n += len(page)
			return true
		})
		if err != nil {
			return err
		}
		if bytes.Equal(sum.Sum(nil), kept) {
			start = cosignature{size: upTo + 1} // every witness has a name: all rows of a later size
			unchanged = n
			run.Note("log_cosignatures: %d cosignatures of sizes up to %d unchanged since the verification the state was saved from: not checked again", n, upTo)
		} else {
			sum.Reset()
			commits = newCommitCheck()
			run.Note("log_cosignatures: the cosignatures of sizes up to %d changed since the verification the state was saved from (one of an old size sent late, or rows written behind custos's back): all checked again", upTo)
		}
	}
	var (
		c        *checker // once there is a row to check
		rootSize int64    = -1
		root     []byte
		rootErr  error
		stop     bool
		failed   error // what stopped fn
	)
	err = cosignaturePages(ctx, run.Live, start, math.MaxInt64, func(page []cosignature) bool {
		if c == nil {
			if c, failed = newChecker(ctx, run.Replay); failed == nil {
				c.workers = run.Workers
			} else {
				return false
			}
		}
		problems := c.checkAll(page)
		checked += len(page)
		for i, r := range page {
			hashCosignature(sum, &page[i])
			commits.add(r)
			problem := problems[i]
			switch {
			case problem != "": // not good: its root is not compared
			case r.size < 0 || uint64(r.size) > head.Size:
				problem = fmt.Sprintf("the log has %d leaves", head.Size)
			default:
				if r.size != rootSize { // rows come by size: one root a size
					if root, rootErr = ledger.RootAt(ctx, run.Live, uint64(r.size)); rootErr != nil && ctx.Err() != nil {
						failed = ctx.Err()
						return false
					}
					rootSize = r.size
				}
				if rootErr != nil {
					problem = fmt.Sprintf("the log's root at that size cannot be computed (%v)", rootErr)
				} else if !bytes.Equal(root, r.root) {
					problem = "the root it cosigned is not the log's at that size: the log was rewritten after the witness saw it"
				}
			}
			if problem != "" && run.Problem("log_cosignatures: the cosignature by %s of size %d: %s", r.witness, r.size, problem) {
				stop = true
				return false
			}
		}
		return true
	})
	if err == nil {
		err = failed
	}
	if err != nil || stop {
		return err
	}
	if commits.report(logged, run) {
		return nil
	}
	if memo {
		run.Covered("log_cosignatures: %d cosignatures checked against their witness's key and the log's root at their size, %d unchanged since the verification the state was saved from; %d commitments of the log against their rows",
			checked, unchanged, len(logged))
	} else {
		// A verification from no kept state (or one the log is now
		// shorter than) checked every row: it has no earlier one to
		// speak of.
		run.Covered("log_cosignatures: %d cosignatures checked against their witness's key and the log's root at their size; %d commitments of the log against their rows",
			checked, len(logged))
	}
	if run.Keep != nil {
		run.Keep(fmt.Sprintf("cosigned/v1 %d %x", head.Size, sum.Sum(nil)))
	}
	return nil
}

// cosignaturePages calls fn with the rows of log_cosignatures after the
// row after (by size, then witness) and of sizes up to upTo, a page at a
// time, until fn returns false or none is left. A page is read whole before
// fn runs: a PostgreSQL snapshot is one connection, which runs one query at
// once. The page starts with a range of the size index (size >= ?): with
// the condition written as one OR, SQLite scanned the whole table for each
// page of a prepared statement.
func cosignaturePages(ctx context.Context, q store.Queryer, after cosignature, upTo int64, fn func([]cosignature) bool) error {
	for {
		rows, err := q.Query(ctx, `SELECT `+cosignatureColumns+` FROM log_cosignatures
			WHERE size >= ? AND (size > ? OR witness > ?) AND size <= ? ORDER BY size, witness LIMIT 1000`, after.size, after.size, after.witness, upTo)
		if err != nil {
			return err
		}
		page, err := store.Rows(rows, scanCosignature)
		if err != nil || len(page) == 0 || !fn(page) {
			return err
		}
		after = page[len(page)-1]
	}
}

// hashCosignature adds a row to the digest a verification keeps: each
// column, length first.
func hashCosignature(h hash.Hash, r *cosignature) {
	var n [8]byte
	for _, col := range [][]byte{[]byte(r.witness), binary.BigEndian.AppendUint64(nil, uint64(r.size)), r.root,
		[]byte(r.checkpoint), []byte(r.signature), []byte(r.signedAt), []byte(r.received)} {
		binary.BigEndian.PutUint64(n[:], uint64(len(col)))
		h.Write(n[:])
		h.Write(col)
	}
}

// parseCosignedMemo reads what verifyCosignatures kept: the size it checked
// up to and the digest of the rows up to it.
func parseCosignedMemo(memo string) (upTo int64, sum []byte, ok bool) {
	f := strings.Fields(memo)
	if len(f) != 3 || f[0] != "cosigned/v1" {
		return 0, nil, false
	}
	n, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || n < 0 {
		return 0, nil, false
	}
	b, err := hex.DecodeString(f[2])
	if err != nil || len(b) != sha256.Size {
		return 0, nil, false
	}
	return n, b, true
}
