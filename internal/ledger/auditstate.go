package ledger

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/transparency-dev/merkle/compact"

	"github.com/custos-project/custos/internal/privfile"
	"github.com/custos-project/custos/internal/store"
)

// AuditStateFormat names the layout of the auditor's state file.
const AuditStateFormat = "custos-verify-state/1"

// AuditState is what log verify --save-state keeps for the next run's
// --from: the checkpoint it verified (size, root, the signed note, the key
// it was checked with), the compact range of that tree (the few subtree
// hashes that let the next run extend it with the new leaves alone), and
// the name and SHA-256 of the replay file beside it: the tables replayed
// from the log up to that checkpoint, a SQLite file of the auditor's, never
// the registry's own tables. MAC seals all of it: HMAC-SHA-256 under the
// auditor's state key when one is given (--state-key), else a plain SHA-256,
// which catches a damaged or mismatched file but not someone who can
// rewrite the auditor's files and recompute it.
type AuditState struct {
	Format       string         `json:"format"`
	Origin       string         `json:"origin"`
	LogKey       string         `json:"log_key"`
	Fingerprint  string         `json:"key_fingerprint"`
	Size         uint64         `json:"size"`
	Root         []byte         `json:"root"`
	Checkpoint   string         `json:"checkpoint"`
	Range        [][]byte       `json:"range"`
	Schema       map[string]int `json:"schema"`
	Replay       string         `json:"replay"`
	ReplaySHA256 string         `json:"replay_sha256"`
	VerifiedAt   string         `json:"verified_at"`
	MAC          string         `json:"mac"`

	dir string // the folder the state was read from, where Replay is
}

// Head is the checkpoint the state kept.
func (s *AuditState) Head() Head { return Head{Size: s.Size, Root: s.Root} }

func (s *AuditState) mac(key []byte) (string, error) {
	c := *s
	c.MAC = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return "", err
	}
	if len(key) == 0 {
		sum := sha256.Sum256(append([]byte("custos verify state v1\x00"), b...))
		return "sha256:" + hex.EncodeToString(sum[:]), nil
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("custos verify state v1\x00"))
	m.Write(b)
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil)), nil
}

// LoadAuditState reads a state file and checks its seal with key (the
// auditor's state key, nil for none): a state sealed with a key is refused
// without it, and one sealed without a key is refused when a key is given.
func LoadAuditState(path string, key []byte) (*AuditState, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// Read strictly: a key in another case or given twice would be read
	// by encoding/json and written back by the seal's Marshal as one
	// exact key, so that a state changed that way kept its seal.
	var s AuditState
	if err := strictUnmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("verify state %s is not valid: %w", path, err)
	}
	if s.Format != AuditStateFormat {
		return nil, fmt.Errorf("verify state %s: format %q, this custos reads %q", path, s.Format, AuditStateFormat)
	}
	switch keyed := strings.HasPrefix(s.MAC, "hmac-sha256:"); {
	case keyed && len(key) == 0:
		return nil, fmt.Errorf("verify state %s is sealed with a state key: give it (--state-key)", path)
	case !keyed && len(key) > 0:
		return nil, fmt.Errorf("verify state %s is not sealed with a state key, but one was given: refused (it may have been replaced)", path)
	}
	want, err := s.mac(key)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal([]byte(want), []byte(s.MAC)) {
		return nil, fmt.Errorf("verify state %s: its seal does not match its content (the file was changed, or sealed with another key)", path)
	}
	if _, err := KeyFingerprint(s.LogKey); err != nil {
		return nil, fmt.Errorf("verify state %s: log_key: %w", path, err)
	}
	if s.Replay == "" || s.Replay != filepath.Base(s.Replay) {
		return nil, fmt.Errorf("verify state %s: replay %q is not a file name", path, s.Replay)
	}
	if _, err := s.compactRange(); err != nil {
		return nil, fmt.Errorf("verify state %s: %w", path, err)
	}
	s.dir = filepath.Dir(path)
	return &s, nil
}

// compactRange rebuilds the kept tree's compact range and checks that it
// makes the kept root.
func (s *AuditState) compactRange() (*compact.Range, error) {
	// The range takes the slice as its own and appends in place.
	rng, err := factory.NewRange(0, s.Size, slices.Clone(s.Range))
	if err != nil {
		return nil, fmt.Errorf("range: %w", err)
	}
	root, err := rng.GetRootHash(nil)
	if err != nil {
		return nil, err
	}
	if !equalHash(root, s.Root) {
		return nil, errors.New("range: its hashes do not make the root it names")
	}
	return rng, nil
}

// LoadStateKey reads the auditor's state key, at least 32 bytes of text;
// create makes a new random one when the file does not exist (mode 0600,
// written whole: privfile), and says it did (created).
func LoadStateKey(path string, create bool) (key []byte, created bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		var k [32]byte
		if _, err := rand.Read(k[:]); err != nil {
			return nil, false, err
		}
		b = []byte(hex.EncodeToString(k[:]))
		if err := privfile.Write(path, ".custos-state-key-*", b, os.Link); err != nil {
			return nil, false, err
		}
		created = true
	} else if err != nil {
		return nil, false, err
	}
	k := []byte(strings.TrimSpace(string(b)))
	if len(k) < 32 {
		return nil, false, fmt.Errorf("state key %s: %d bytes, at least 32 wanted", path, len(k))
	}
	return k, created, nil
}

// copyReplay copies the state's replay file to dst, checking its SHA-256
// on the way.
func (s *AuditState) copyReplay(dst string) error {
	in, err := os.Open(filepath.Join(s.dir, s.Replay))
	if err != nil {
		return fmt.Errorf("the state's replay file: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != s.ReplaySHA256 {
		return fmt.Errorf("the state's replay file %s has SHA-256 %s, the state says %s: it was changed", s.Replay, got, s.ReplaySHA256)
	}
	return nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// saveAuditState moves the closed replay file into place beside path under a
// name of its digest, then writes the state whole (mode 0600), then removes
// the replay file the state named before, so that a crash leaves either
// state whole.
func saveAuditState(path string, key []byte, s *AuditState, replay string) error {
	sum, err := fileSHA256(replay)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	s.Format = AuditStateFormat
	s.ReplaySHA256 = sum
	s.Replay = filepath.Base(path) + ".replay-" + sum[:16] + ".db"
	if err := os.Rename(replay, filepath.Join(dir, s.Replay)); err != nil {
		return err
	}
	var before string
	if old, err := os.ReadFile(path); err == nil {
		var o AuditState
		if json.Unmarshal(old, &o) == nil && o.Replay == filepath.Base(o.Replay) && o.Replay != s.Replay {
			before = o.Replay
		}
	}
	if s.MAC, err = s.mac(key); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := privfile.Write(path, ".custos-verify-state-*", b, os.Rename); err != nil {
		return err
	}
	if before != "" && strings.HasPrefix(before, filepath.Base(path)+".replay-") {
		os.Remove(filepath.Join(dir, before))
	}
	return nil
}

// The sealed-row commitments the leaves made (sealed.go) are kept in the
// replay file, in a table of the verifier's own, so that the next run
// checks the subjects table against all of them: each reference's
// commitment, the leaf and its time (at, added since: empty in a state
// saved before, whose rows' times the next run reads from their leaves),
// and the leaf that erased it.
const sealedTable = "custos_verify_sealed"

// sealedHasAt tells whether the replay file's commitments keep their
// entries' times (a state saved before they did has no column at).
func sealedHasAt(ctx context.Context, q store.Queryer) (bool, error) {
	var n int
	err := q.QueryRow(ctx, "SELECT COUNT(*) FROM pragma_table_info('"+sealedTable+"') WHERE name = 'at'").Scan(&n)
	return n > 0, err
}

func (s *sealedLog) save(ctx context.Context, db *store.DB) error {
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+sealedTable+" (ref TEXT PRIMARY KEY, commitment TEXT, idx BIGINT, erased BIGINT, at TEXT)"); err != nil {
		return err
	}
	if ok, err := sealedHasAt(ctx, tx); err != nil {
		return err
	} else if !ok {
		if _, err := tx.Exec(ctx, "ALTER TABLE "+sealedTable+" ADD COLUMN at TEXT"); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+sealedTable+"_first (at TEXT)"); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "DELETE FROM "+sealedTable+"_first"); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO "+sealedTable+"_first (at) VALUES (?)", s.firstAt); err != nil {
		return err
	}
	for ref := range s.dirty {
		var commitment, at any
		var idx, erased any
		if c, ok := s.committed[ref]; ok {
			commitment, idx, at = c.commitment, c.index, c.at
		}
		if e, ok := s.erased[ref]; ok {
			erased = e
		}
		if _, err := tx.Exec(ctx, "INSERT OR REPLACE INTO "+sealedTable+" (ref, commitment, idx, erased, at) VALUES (?, ?, ?, ?, ?)", ref, commitment, idx, erased, at); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func loadSealedLog(ctx context.Context, q store.Queryer) (*sealedLog, error) {
	s := newSealedLog()
	if err := q.QueryRow(ctx, "SELECT at FROM "+sealedTable+"_first").Scan(&s.firstAt); err != nil {
		return nil, fmt.Errorf("the replay file's commitments: %w", err)
	}
	at := "NULL"
	if ok, err := sealedHasAt(ctx, q); err != nil {
		return nil, err
	} else if ok {
		at = "at"
	}
	rows, err := q.Query(ctx, "SELECT ref, commitment, idx, erased, "+at+" FROM "+sealedTable)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var ref string
		var commitment, at *string
		var idx, erased *int64
		if err := rows.Scan(&ref, &commitment, &idx, &erased, &at); err != nil {
			return nil, err
		}
		if commitment != nil && idx != nil {
			s.committed[ref] = committedRow{*commitment, *idx, ""}
			if at != nil {
				s.committed[ref] = committedRow{*commitment, *idx, *at}
			}
			s.byCommitment[*commitment] = ref
		}
		if erased != nil {
			s.erased[ref] = *erased
		}
	}
	s.dirty = map[string]bool{}
	return s, rows.Err()
}
