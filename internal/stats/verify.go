package stats

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// verifyColumns is the statistics registry's part of log verify: the
// column chunks of each import (stats_columns) are not replayed from the
// log, but its entry carries their SHA-256 and their number, and the
// records' multiset digest (records_digest), which the replayed
// stats_imports holds. Each import's chunks are read back in the order
// they were stored and hashed as the import hashed them; a chunk missing,
// one past the number the entry gives, a column whose length is not its
// width times the chunk's records, or a digest that differs is a problem
// naming the import (and the chunk where one can be told: the entry has
// one digest for all the chunks). The records' digest is derived again
// from the chunks and the import's dictionary, as the import derived it
// from the file, and compared with the entry's: an entry whose digest is
// not its records' is a problem too. Chunks of an import that is not in
// the log (one that never finished) are a note: they are never counted.
func verifyColumns(ctx context.Context, c ledger.CheckRun) error {
	inLog, err := loggedImports(ctx, c.Replay)
	if err != nil {
		return err
	}
	q := "SELECT id, import_id, chunk, n, data FROM stats_columns ORDER BY id"
	if c.Live.Dialect() == store.Postgres {
		q += ` COLLATE "C"`
	}
	live, err := c.Live.Query(ctx, q)
	if err != nil {
		return err
	}
	defer live.Close()
	v := &columnCheck{CheckRun: c, inLog: inLog, orphans: map[string]int{}, done: map[string]bool{}}
	for live.Next() && !v.stop {
		var id, imp string
		var chunk, n int
		var data []byte
		if err := live.Scan(&id, &imp, &chunk, &n, &data); err != nil {
			return err
		}
		if err := v.row(id, imp, chunk, n, data); err != nil {
			return err
		}
	}
	if err := live.Err(); err != nil {
		return err
	}
	if v.stop {
		return nil
	}
	if err := v.finish(); err != nil || v.stop {
		return err
	}
	ids := make([]string, 0, len(inLog))
	for id, l := range inLog {
		if !v.done[id] && l.chunks > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		if c.Problem("stats_columns: import %s: its %d chunks, which entry %d counts, are all missing (deleted behind custos's back)", id, inLog[id].chunks, inLog[id].index) {
			return nil
		}
	}
	for _, id := range slices.Sorted(maps.Keys(v.orphans)) {
		c.Note("stats_columns: %d column(s) of import %s, which is not in the log (an import that did not finish): never counted", v.orphans[id], id)
	}
	return nil
}

// loggedImport is what an import's entry says of its stored chunks, as
// the replayed stats_imports holds it.
type loggedImport struct {
	sum        string // columns_sha256
	digest     string // records_digest; empty in the entries made before it
	chunks     int
	index      int64
	dictionary string // JSON
}

func loggedImports(ctx context.Context, q store.Queryer) (map[string]loggedImport, error) {
	rows, err := q.Query(ctx, "SELECT id, columns_sha256, records_digest, chunks, log_index, dictionary FROM stats_imports")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	inLog := map[string]loggedImport{}
	for rows.Next() {
		var id string
		var l loggedImport
		if err := rows.Scan(&id, &l.sum, &l.digest, &l.chunks, &l.index, &l.dictionary); err != nil {
			return nil, err
		}
		inLog[id] = l
	}
	return inLog, rows.Err()
}

// columnCheck reads stats_columns in key order: one import at a time (its
// chunks are consecutive), and within it one chunk at a time (its columns
// are), so that a chunk's records can be read whole for their digest.
type columnCheck struct {
	ledger.CheckRun
	inLog   map[string]loggedImport
	orphans map[string]int
	done    map[string]bool
	stop    bool

	// The import being read: its entry, the SHA-256 of its chunks so
	// far, the chunks seen, whether a problem named it already, and its
	// records' digest so far (nil when it is not derived: an entry from
	// before the digest, or a problem that makes it meaningless).
	cur     string
	l       loggedImport
	sum     hash.Hash
	seen    map[int]bool
	bad     bool
	records *recordsDigest

	// The chunk being read: its number, records and columns (nil where
	// none is stored).
	chunk int
	n     int
	cols  [numCols][]byte
}

func (v *columnCheck) problem(format string, args ...any) {
	v.bad = true
	v.stop = v.Problem(format, args...)
}

func (v *columnCheck) row(id, imp string, chunk, n int, data []byte) error {
	if imp != v.cur {
		if err := v.finish(); err != nil || v.stop {
			return err
		}
		if err := v.start(imp); err != nil {
			return err
		}
	}
	l, ok := v.inLog[imp]
	if !ok {
		v.orphans[imp]++
		return nil
	}
	col, err := strconv.Atoi(id[strings.LastIndexByte(id, '/')+1:])
	switch {
	case err != nil || col < 0 || col >= int(numCols) || id != columnKey(imp, chunk, col):
		v.problem("stats_columns: import %s: row id=%s is not a column of a chunk (inserted behind custos's back)", imp, id)
		return nil
	case chunk >= l.chunks:
		v.problem("stats_columns: import %s: chunk %d is past the %d chunks entry %d counts (inserted behind custos's back)", imp, chunk, l.chunks, l.index)
		return nil
	}
	if chunk != v.chunk {
		v.endChunk()
		v.chunk, v.n, v.cols = chunk, n, [numCols][]byte{}
	}
	switch {
	case len(data) != n*width(col):
		v.problem("stats_columns: import %s: chunk %d column %s holds %d bytes, not %d for its %d records (changed behind custos's back)", imp, chunk, colNames[col], len(data), n*width(col), n)
	case n != v.n:
		v.problem("stats_columns: import %s: chunk %d column %s counts %d records, the chunk's other columns %d (changed behind custos's back)", imp, chunk, colNames[col], n, v.n)
	default:
		v.cols[col] = data
	}
	v.seen[chunk] = true
	fmt.Fprintf(v.sum, "%d/%d/%d:", chunk, col, len(data))
	v.sum.Write(data)
	return nil
}

// start begins reading import imp's chunks.
func (v *columnCheck) start(imp string) error {
	v.cur, v.sum, v.seen, v.bad, v.records = imp, sha256.New(), map[int]bool{}, false, nil
	v.chunk, v.n, v.cols = -1, 0, [numCols][]byte{}
	l, ok := v.inLog[imp]
	v.l = l
	if !ok || l.digest == "" {
		return nil
	}
	var d Dictionary
	if err := json.Unmarshal([]byte(l.dictionary), &d); err != nil {
		return fmt.Errorf("stats_imports: import %s: its dictionary: %w", imp, err)
	}
	v.records = newRecordsDigest(d)
	return nil
}

// endChunk adds the records of the chunk read to the import's digest.
func (v *columnCheck) endChunk() {
	if v.chunk < 0 || v.records == nil || v.bad {
		return
	}
	for col := range numCols {
		if v.cols[col] == nil && col != colCount {
			// A column missing: the chunks' SHA-256 tells.
			v.records = nil
			return
		}
	}
	if i, col, x := v.records.add(&v.cols, v.n); col >= 0 {
		v.problem("stats_columns: import %s: chunk %d column %s: record %d holds %d, past the %d entries of the import's dictionary (changed behind custos's back)",
			v.cur, v.chunk, colNames[col], i, x, v.records.size(col))
	}
}

// finish ends the import being read: a chunk its entry counts that is
// missing, or chunks that do not make the entry's SHA-256, is a problem;
// so, when they do, is a records digest that is not the entry's.
func (v *columnCheck) finish() error {
	if v.cur == "" {
		return nil
	}
	v.endChunk()
	v.done[v.cur] = true
	l, ok := v.inLog[v.cur]
	if !ok || v.stop {
		return nil
	}
	for k := 0; k < l.chunks && !v.stop; k++ {
		if !v.seen[k] {
			v.problem("stats_columns: import %s: chunk %d, which entry %d counts, is missing (deleted behind custos's back)", v.cur, k, l.index)
		}
	}
	if v.bad || v.stop {
		return nil
	}
	if hex.EncodeToString(v.sum.Sum(nil)) != l.sum {
		v.problem("stats_columns: import %s: its %d chunks do not match the SHA-256 entry %d carries (changed behind custos's back; the entry has one digest for all of them)", v.cur, l.chunks, l.index)
		return nil
	}
	if v.records != nil {
		if got := v.records.String(); got != l.digest {
			v.problem("stats_imports: import %s: its records, which match the SHA-256 of its chunks, make the records digest %s, but entry %d carries %s (the entry's digest is not its records')",
				v.cur, got, l.index, l.digest)
		}
	}
	return nil
}

// recordsDigest derives an import's records digest (parsed.digest) again
// from its stored chunks and its dictionary.
type recordsDigest struct {
	p                       parsed
	regionHash, offenceHash []uint64
}

func newRecordsDigest(d Dictionary) *recordsDigest {
	r := &recordsDigest{regionHash: make([]uint64, len(d.Regions)), offenceHash: make([]uint64, len(d.Offences))}
	for i, s := range d.Regions {
		r.regionHash[i] = textHash(s)
	}
	for i, s := range d.Offences {
		r.offenceHash[i] = textHash(s)
	}
	return r
}

// add adds the n records of a chunk's columns. A record whose region or
// offence is not an index of the dictionary stops it: it returns the
// record, its column and value; col is -1 when every record was added.
func (r *recordsDigest) add(cols *[numCols][]byte, n int) (i, col int, x uint32) {
	var v [numCols]uint32
	for i := range n {
		for c := range numCols {
			v[c] = get(cols[c], c, i)
		}
		if int(v[colRegion]) >= len(r.regionHash) {
			return i, colRegion, v[colRegion]
		}
		if int(v[colOffence]) >= max(len(r.offenceHash), 1) {
			return i, colOffence, v[colOffence]
		}
		r.p.addRecord(&v, r.regionHash, r.offenceHash)
	}
	return 0, -1, 0
}

// size is how many entries the dictionary of col holds.
func (r *recordsDigest) size(col int) int {
	if col == colRegion {
		return len(r.regionHash)
	}
	return len(r.offenceHash)
}

func (r *recordsDigest) String() string { return r.p.Digest() }
