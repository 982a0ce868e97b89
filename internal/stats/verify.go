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
// log, but its entry carries their SHA-256 and their number, the digest of
// each of its rows (row_sha256, rowSum) and the records' multiset digest
// (records_digest), which the replayed stats_imports holds. Each import's
// chunks are read back in the order they were stored and hashed as the
// import hashed them; a row that is not a column of a chunk the entry
// counts, one missing, one whose length is not its width times the chunk's
// records, or one whose digest is not the entry's is a problem naming the
// table and the row's key (id), as an auditor looks it up. An entry made
// before row digests has one digest for all the chunks: a difference is
// then named by the rows of the import (the prefix of their key). The
// records' digest is derived again from the chunks and the import's
// dictionary, as the import derived it from the file, and compared with
// the entry's: an entry whose digest is not its records' is a problem too.
// Chunks of an import that is not in the log (one that never finished)
// are a note: they are never counted.
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
		if c.Problem("table stats_columns: the rows whose id starts %q (the %d chunks of import %s, which entry %d counts) are all missing (deleted behind custos's back)",
			id+"/", inLog[id].chunks, id, inLog[id].index) {
			return nil
		}
	}
	c.Covered("stats_columns: %d records in %d chunks of %d imports, each chunk against the digests its import's entry carries", v.recordsRead, v.chunks, v.imports)
	for _, id := range slices.Sorted(maps.Keys(v.orphans)) {
		c.Note("table stats_columns: %d row(s) whose id starts %q, of import %s, which is not in the log (an import that did not finish): never counted", v.orphans[id], id+"/", id)
	}
	return nil
}

// loggedImport is what an import's entry says of its stored chunks, as
// the replayed stats_imports holds it.
type loggedImport struct {
	sum        string // columns_sha256
	rows       string // row_sha256 (JSON); empty in the entries made before it
	digest     string // records_digest; empty in the entries made before it
	chunks     int
	index      int64
	dictionary string // JSON
}

func loggedImports(ctx context.Context, q store.Queryer) (map[string]loggedImport, error) {
	rows, err := q.Query(ctx, "SELECT id, columns_sha256, row_sha256, records_digest, chunks, log_index, dictionary FROM stats_imports")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	inLog := map[string]loggedImport{}
	for rows.Next() {
		var id string
		var l loggedImport
		if err := rows.Scan(&id, &l.sum, &l.rows, &l.digest, &l.chunks, &l.index, &l.dictionary); err != nil {
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

	// What was read of the imports in the log, for the report.
	imports, chunks int
	recordsRead     int64

	// The import being read: its entry and its rows' digests (nil in an
	// entry from before them), the SHA-256 of its chunks so far, the
	// chunks seen, whether a problem named it already, and its records'
	// digest so far (nil when it is not derived: an entry from before the
	// digest, or a problem that makes it meaningless).
	cur     string
	l       loggedImport
	rowSums [][]string
	sum     hash.Hash
	seen    map[int]bool
	bad     bool
	records *recordsDigest

	// The chunk being read: its number, records, the columns it has a
	// row of, and their bytes (nil where a problem named the row).
	chunk int
	n     int
	have  [numCols]bool
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
		v.problem("table stats_columns: row id=%q is not a column of a chunk of import %s (inserted behind custos's back)", id, imp)
		return nil
	case chunk >= l.chunks:
		v.problem("table stats_columns: row id=%q is of chunk %d, past the %d chunks entry %d counts for import %s (inserted behind custos's back)", id, chunk, l.chunks, l.index, imp)
		return nil
	}
	if chunk != v.chunk {
		v.endChunk()
		v.chunk, v.n, v.have, v.cols = chunk, n, [numCols]bool{}, [numCols][]byte{}
	}
	v.have[col] = true
	switch want := v.rowSum(chunk, col); {
	case len(data) != n*width(col):
		v.problem("table stats_columns: row id=%q (column %s) holds %d bytes, not %d for its %d records (changed behind custos's back)", id, colNames[col], len(data), n*width(col), n)
	case n != v.n:
		v.problem("table stats_columns: row id=%q counts %d records, the other columns of its chunk %d (changed behind custos's back)", id, n, v.n)
	case v.rowSums != nil && want == "":
		v.problem("table stats_columns: row id=%q is not one entry %d stored for import %s (inserted behind custos's back)", id, l.index, imp)
	case v.rowSums != nil && rowSum(chunk, col, data) != want:
		v.problem("table stats_columns: row id=%q does not match the SHA-256 entry %d carries for it (changed behind custos's back)", id, l.index)
	default:
		v.cols[col] = data
	}
	v.seen[chunk] = true
	fmt.Fprintf(v.sum, "%d/%d/%d:", chunk, col, len(data))
	v.sum.Write(data)
	return nil
}

// rowSum is the digest the entry of the import being read carries for a
// row: "" where it stored none (or names no such chunk).
func (v *columnCheck) rowSum(chunk, col int) string {
	if chunk >= len(v.rowSums) || col >= len(v.rowSums[chunk]) {
		return ""
	}
	return v.rowSums[chunk][col]
}

// start begins reading import imp's chunks.
func (v *columnCheck) start(imp string) error {
	v.cur, v.rowSums, v.sum, v.seen, v.bad, v.records = imp, nil, sha256.New(), map[int]bool{}, false, nil
	v.chunk, v.n, v.have, v.cols = -1, 0, [numCols]bool{}, [numCols][]byte{}
	l, ok := v.inLog[imp]
	v.l = l
	if !ok {
		return nil
	}
	v.imports++
	if l.rows != "" {
		if err := json.Unmarshal([]byte(l.rows), &v.rowSums); err != nil {
			return fmt.Errorf("stats_imports: import %s: its row digests: %w", imp, err)
		}
	}
	if l.digest == "" {
		return nil
	}
	var d Dictionary
	if err := json.Unmarshal([]byte(l.dictionary), &d); err != nil {
		return fmt.Errorf("stats_imports: import %s: its dictionary: %w", imp, err)
	}
	v.records = newRecordsDigest(d)
	return nil
}

// endChunk ends the chunk read: a row of it that the entry stored (or,
// for an entry from before row digests, a column other than the count,
// which every chunk stores) and that is missing is a problem; else its
// records are added to the import's digest.
func (v *columnCheck) endChunk() {
	if v.chunk < 0 || v.stop {
		return
	}
	v.chunks++
	v.recordsRead += int64(v.n)
	for col := range numCols {
		if !v.have[col] && (v.rowSums != nil && v.rowSum(v.chunk, col) != "" || v.rowSums == nil && col != colCount) {
			v.problem("table stats_columns: row id=%q, which entry %d stored for import %s, is missing (deleted behind custos's back)",
				columnKey(v.cur, v.chunk, col), v.l.index, v.cur)
			if v.stop {
				return
			}
		}
	}
	if v.records == nil || v.bad {
		return
	}
	if i, col, x := v.records.add(&v.cols, v.n); col >= 0 {
		v.problem("table stats_columns: row id=%q: record %d holds %d, past the %d entries of the dictionary of import %s (changed behind custos's back)",
			columnKey(v.cur, v.chunk, col), i, x, v.records.size(col), v.cur)
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
			v.problem("table stats_columns: the rows whose id starts %q (chunk %d of import %s, which entry %d counts) are missing (deleted behind custos's back)",
				chunkKey(v.cur, k), k, v.cur, l.index)
		}
	}
	if v.bad || v.stop {
		return nil
	}
	if hex.EncodeToString(v.sum.Sum(nil)) != l.sum {
		why := "changed behind custos's back"
		if v.rowSums == nil {
			why += "; the entry, made before row digests, has one digest for all of them"
		}
		v.problem("table stats_columns: the rows whose id starts %q (the %d chunks of import %s) do not match the SHA-256 entry %d carries (%s)",
			v.cur+"/", l.chunks, v.cur, l.index, why)
		return nil
	}
	if v.records != nil {
		if got := v.records.String(); got != l.digest {
			v.problem("table stats_imports: row id=%q: column records_digest is %s in entry %d, but the import's records, which match the SHA-256 of its chunks, make %s (the entry's digest is not its records')",
				v.cur, l.digest, l.index, got)
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
