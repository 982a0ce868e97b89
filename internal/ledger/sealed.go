package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/custos-project/custos/internal/store"
)

// Sealed is a leaf's commitment to one personal-data row its command sealed
// in the subjects table: the row's reference and SealCommitment of its
// bytes. The sealed bytes are ciphertext under a random key and nonce, so
// the commitment says nothing of the value; it lets log verify tell a
// changed, swapped or deleted row from one the log says is there.
type Sealed struct {
	Ref        string `json:"ref"`
	Commitment string `json:"commitment"`
}

// SealCommitment is the commitment to a sealed row: SHA-256 over its wrapped
// key and its ciphertext, each with its length.
func SealCommitment(wrappedKey, sealed []byte) string {
	h := sha256.New()
	h.Write([]byte("custos sealed row v1\x00"))
	for _, b := range [][]byte{wrappedKey, sealed} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// sealedLog is what the leaves say of the subjects table: the last
// commitment of each reference, and the entries that erased references.
type sealedLog struct {
	committed    map[string]committedRow
	erased       map[string]int64
	byCommitment map[string]string // commitment -> reference
	firstAt      string            // when the first leaf with a commitment was written
	dirty        map[string]bool   // references added since the state was loaded
}

type committedRow struct {
	commitment string
	index      int64
	at         string // the entry's time; empty in a state saved before it was kept
}

func newSealedLog() *sealedLog {
	return &sealedLog{committed: map[string]committedRow{}, erased: map[string]int64{}, byCommitment: map[string]string{}, dirty: map[string]bool{}}
}

func (s *sealedLog) add(idx int64, e *Entry) {
	for _, c := range e.Sealed {
		s.committed[c.Ref] = committedRow{c.Commitment, idx, e.At}
		s.byCommitment[c.Commitment] = c.Ref
		s.dirty[c.Ref] = true
		if s.firstAt == "" {
			s.firstAt = e.At
		}
	}
	for _, ref := range e.Erased {
		s.erased[ref] = idx
		s.dirty[ref] = true
	}
}

// sealedRow is a row of the subjects table as log verify reads it: its
// reference, when it was written (created_at) and SealCommitment of its
// bytes.
type sealedRow struct {
	ref, at string
	hash    string
}

// verifySealed compares the subjects table with the commitments of the log.
// A committed row must hold the bytes its entry committed to, and have
// been written (created_at) in the second its entry was. A row that no leaf
// commits to is counted in Uncommitted when a leaf written before the first
// commitment, in the second of its created_at, names its reference (a leaf
// from before custos logged commitments, which names the subject it
// registers), and is a problem otherwise: written after the first
// commitment, or dated before it with no such leaf (backdated). An erased
// row that is gone is a note, one still there a problem.
func verifySealed(ctx context.Context, q store.Queryer, s *sealedLog, rep *Report, problem func(string, ...any) bool) error {
	rows, err := q.Query(ctx, "SELECT ref, wrapped_key, sealed, created_at FROM subjects")
	if err != nil {
		return err
	}
	live, err := store.Rows(rows, func(r store.Scanner, x *sealedRow) error {
		var wrapped, sealed []byte
		if err := r.Scan(&x.ref, &wrapped, &sealed, &x.at); err != nil {
			return err
		}
		x.hash = SealCommitment(wrapped, sealed)
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(live, func(a, b sealedRow) int { return strings.Compare(a.ref, b.ref) })
	if err := s.leafTimes(ctx, q, live); err != nil {
		return err
	}
	seen := make(map[string]bool, len(live))
	var firstUncommitted string
	var legacy []sealedRow // rows no leaf commits to, dated before the first commitment
	for _, x := range live {
		seen[x.ref] = true
		rep.SealedRows++
		c, committed := s.committed[x.ref]
		var stop bool
		switch idx, erased := s.erased[x.ref]; {
		case erased:
			stop = problem("subjects: row ref=%s is in the database though entry %d erased it (restored behind custos's back)", x.ref, idx)
		case committed && c.commitment == x.hash && c.at != "" && secondOf(x.at) != secondOf(c.at):
			stop = problem("subjects: row ref=%s was written at %s, not at %s as entry %d that committed it (changed behind custos's back)", x.ref, x.at, c.at, c.index)
		case committed && c.commitment == x.hash:
		case committed && s.byCommitment[x.hash] != "":
			other := s.byCommitment[x.hash]
			stop = problem("subjects: row ref=%s holds the sealed data entry %d committed for %s (swapped behind custos's back)", x.ref, s.committed[other].index, other)
		case committed:
			stop = problem("subjects: row ref=%s does not match its commitment in entry %d (changed behind custos's back)", x.ref, c.index)
		case s.firstAt != "" && secondOf(x.at) > secondOf(s.firstAt):
			stop = problem("subjects: row ref=%s is in the database but no entry commits to it (inserted behind custos's back)", x.ref)
		default:
			legacy = append(legacy, x)
		}
		if stop {
			return nil
		}
	}
	named, err := namedBefore(ctx, q, legacy)
	if err != nil {
		return err
	}
	for _, x := range legacy {
		if !named[x.ref] {
			if problem("subjects: row ref=%s is in the database but no entry commits to it, and no leaf written before the log's first commitment at its created_at %s names it (inserted behind custos's back, backdated)", x.ref, x.at) {
				return nil
			}
			continue
		}
		rep.Uncommitted++
		if firstUncommitted == "" {
			firstUncommitted = x.ref
		}
	}
	refs := make([]string, 0, len(s.committed)+len(s.erased))
	for ref := range s.committed {
		refs = append(refs, ref)
	}
	for ref := range s.erased {
		if _, ok := s.committed[ref]; !ok {
			refs = append(refs, ref)
		}
	}
	slices.Sort(refs)
	for _, ref := range refs {
		if seen[ref] {
			continue
		}
		if idx, ok := s.erased[ref]; ok {
			rep.Notes = append(rep.Notes, fmt.Sprintf("subjects: ref=%s was erased by entry %d", ref, idx))
			continue
		}
		if problem("subjects: row ref=%s is committed by entry %d but missing from the database (deleted behind custos's back)", ref, s.committed[ref].index) {
			return nil
		}
	}
	if rep.Uncommitted > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("subjects: %d sealed row(s), the first ref=%s, were written by leaves without a commitment (before custos logged them): they cannot be checked against the log", rep.Uncommitted, firstUncommitted))
	}
	return nil
}

// leafTimes fills in the entry's time of the committed rows of live that a
// state saved before it was kept lacks (committedRow.at), from their
// leaves, so that their created_at is compared too (and kept by the state
// saved next).
func (s *sealedLog) leafTimes(ctx context.Context, q store.Queryer, live []sealedRow) error {
	var idxs []int64
	for _, x := range live {
		if c, ok := s.committed[x.ref]; ok && c.at == "" {
			idxs = append(idxs, c.index)
		}
	}
	if len(idxs) == 0 {
		return nil
	}
	at := map[int64]string{}
	for len(idxs) > 0 {
		n := min(len(idxs), 500)
		args := make([]any, n)
		for i, idx := range idxs[:n] {
			args[i] = idx
		}
		rows, err := q.Query(ctx, "SELECT idx, data FROM log_leaves WHERE idx IN ("+strings.TrimSuffix(strings.Repeat("?, ", n), ", ")+")", args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var idx int64
			var data string
			var e struct {
				At string `json:"at"`
			}
			if err := rows.Scan(&idx, &data); err != nil {
				rows.Close()
				return err
			}
			if json.Unmarshal([]byte(data), &e) == nil {
				at[idx] = e.At
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		idxs = idxs[n:]
	}
	for ref, c := range s.committed {
		if t, ok := at[c.index]; ok && c.at == "" {
			c.at = t
			s.committed[ref] = c
			s.dirty[ref] = true
		}
	}
	return nil
}

// namedBefore tells which of the rows no leaf commits to are named, by
// their reference, by a leaf written before the log's first commitment in
// the second of their created_at: the leaf of a release before commitments
// that registered the subject. It reads those leaves only when there are
// such rows, and stops at the first leaf that commits to a row.
func namedBefore(ctx context.Context, q store.Queryer, legacy []sealedRow) (map[string]bool, error) {
	named := map[string]bool{}
	if len(legacy) == 0 {
		return named, nil
	}
	bySecond := map[string][]string{}
	for _, x := range legacy {
		bySecond[secondOf(x.at)] = append(bySecond[secondOf(x.at)], x.ref)
	}
	rows, err := q.Query(ctx, "SELECT data FROM log_leaves ORDER BY idx")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		var e struct {
			At     string            `json:"at"`
			Sealed []json.RawMessage `json:"sealed"`
		}
		if json.Unmarshal([]byte(data), &e) != nil {
			continue // log verify reports it with the leaves
		}
		if len(e.Sealed) > 0 {
			break
		}
		for _, ref := range bySecond[secondOf(e.At)] {
			if strings.Contains(data, `"`+ref+`"`) {
				named[ref] = true
			}
		}
	}
	return named, rows.Err()
}

// secondOf cuts a time in the log's or the subjects table's layout to the
// second, so that the two compare.
func secondOf(t string) string {
	if len(t) > 19 {
		return t[:19]
	}
	return t
}
