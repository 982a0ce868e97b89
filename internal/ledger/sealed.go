package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
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
}

func newSealedLog() *sealedLog {
	return &sealedLog{committed: map[string]committedRow{}, erased: map[string]int64{}, byCommitment: map[string]string{}, dirty: map[string]bool{}}
}

func (s *sealedLog) add(idx int64, e *Entry) {
	for _, c := range e.Sealed {
		s.committed[c.Ref] = committedRow{c.Commitment, idx}
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

// verifySealed compares the subjects table with the commitments of the log.
// A row that no leaf commits to is counted in Uncommitted when it was
// written before the first commitment (a leaf from before custos logged
// them), and a problem after; an erased row that is gone is a note, one
// still there a problem.
func verifySealed(ctx context.Context, q store.Queryer, s *sealedLog, rep *Report, problem func(string, ...any) bool) error {
	rows, err := q.Query(ctx, "SELECT ref, wrapped_key, sealed, created_at FROM subjects")
	if err != nil {
		return err
	}
	type row struct {
		ref, at string
		hash    string
	}
	live, err := store.Rows(rows, func(r store.Scanner, x *row) error {
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
	slices.SortFunc(live, func(a, b row) int { return strings.Compare(a.ref, b.ref) })
	seen := make(map[string]bool, len(live))
	var firstUncommitted string
	for _, x := range live {
		seen[x.ref] = true
		rep.SealedRows++
		c, committed := s.committed[x.ref]
		var stop bool
		switch idx, erased := s.erased[x.ref]; {
		case erased:
			stop = problem("subjects: row ref=%s is in the database though entry %d erased it (restored behind custos's back)", x.ref, idx)
		case committed && c.commitment == x.hash:
		case committed && s.byCommitment[x.hash] != "":
			other := s.byCommitment[x.hash]
			stop = problem("subjects: row ref=%s holds the sealed data entry %d committed for %s (swapped behind custos's back)", x.ref, s.committed[other].index, other)
		case committed:
			stop = problem("subjects: row ref=%s does not match its commitment in entry %d (changed behind custos's back)", x.ref, c.index)
		case s.firstAt != "" && secondOf(x.at) > secondOf(s.firstAt):
			stop = problem("subjects: row ref=%s is in the database but no entry commits to it (inserted behind custos's back)", x.ref)
		default:
			rep.Uncommitted++
			if firstUncommitted == "" {
				firstUncommitted = x.ref
			}
		}
		if stop {
			return nil
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

// secondOf cuts a time in the log's or the subjects table's layout to the
// second, so that the two compare.
func secondOf(t string) string {
	if len(t) > 19 {
		return t[:19]
	}
	return t
}
