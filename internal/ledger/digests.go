package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/custos-project/custos/internal/store"
)

// Range digests: a verification that saves its state keeps, in the replay
// file, a digest of each key range of every table it compared in ranges
// (splitKeys). The next one, from that state, reads only the live side of a
// range the new leaves did not touch, and compares its digest with the kept
// one; the replayed side of a touched range is digested again. A range
// whose digests differ is compared row by row, to name the rows.
//
// A range's digest is SHA-256 over its column names and the SHA-256 of each
// of its rows, sorted: the same rows make the same digest whatever order
// they are read in (the live side is read in its stored order, without
// looking each row up by key), and another set of rows would need a
// collision of SHA-256 to make it. Each value is hashed as sameValue
// compares it (rowHash).
const (
	digestsTable = "custos_verify_digests_v1"
	touchedTable = "custos_verify_touched"
)

// keptRange is the digest of the rows of one key range of a table: keys at
// least lo (nil: from the first) and below hi (nil: to the last).
type keptRange struct {
	lo, hi *string
	rows   int64
	sum    []byte
}

// rangeIndex returns the index of the range of ranges that holds key.
func rangeIndex(ranges []keptRange, key string) int {
	return sort.Search(len(ranges), func(i int) bool { return ranges[i].hi == nil || key < *ranges[i].hi }) // the last has no hi
}

func bound(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// rowHash hashes a row's values: a tag and the length of each, so that
// values that sameValue tells apart hash apart, and those it tells the same
// (an integer and the boolean it renders as) hash the same. V is any for a
// scanned row, driver.Value for one hashed in SQLite (rangeHashesFunc).
func rowHash[V any](buf []byte, vals []V) ([32]byte, []byte) {
	buf = buf[:0]
	add := func(tag byte, b []byte) {
		buf = append(buf, tag)
		buf = binary.AppendUvarint(buf, uint64(len(b)))
		buf = append(buf, b...)
	}
	for _, v := range vals {
		switch x := any(v).(type) {
		case nil:
			add('n', nil)
		case []byte:
			add('b', x)
		case string:
			buf = append(buf, 's')
			buf = binary.AppendUvarint(buf, uint64(len(x)))
			buf = append(buf, x...)
		default:
			add('v', []byte(normalize(x)))
		}
	}
	return sha256.Sum256(buf), buf
}

// rangeHashesFunc is hashRows as an SQLite aggregate:
// custos_range_hashes(ranges, key, col1, col2, …) hashes each row's
// columns as rowHash of the scanned row does, files the hash under the
// range its key falls in (rangeIndex; ranges as encodeRanges writes them),
// and gives them all as one blob (decodeRangeHashes). A SQLite side is so
// hashed in the statement that reads it, its rows never read one by one
// into Go (each of modernc's column reads takes the connection's mutex).
// The values it is given are those a scan of the row gives (custos declares
// no column type that modernc's scan turns into another Go type, such as
// DATE), so a row hashes as the same row read from PostgreSQL does:
// TestRowHashFunc.
const rangeHashesFunc = "custos_range_hashes"

func init() {
	store.SQLiteAggregate(rangeHashesFunc, func() (func([]driver.Value) error, func() driver.Value) {
		var (
			ranges []keptRange
			parsed bool
			whole  bool
			byKey  [][][32]byte
			buf    []byte
		)
		step := func(args []driver.Value) error {
			if len(args) < 2 {
				return fmt.Errorf("%s needs the ranges and a key", rangeHashesFunc)
			}
			if !parsed {
				enc, _ := args[0].([]byte)
				var err error
				if ranges, err = decodeRanges(enc); err != nil {
					return err
				}
				byKey, parsed = make([][][32]byte, len(ranges)), true
			}
			k, ok := args[1].(string)
			if !ok {
				whole = true
				return nil
			}
			var h [32]byte
			h, buf = rowHash(buf, args[2:])
			r := rangeIndex(ranges, k)
			byKey[r] = append(byKey[r], h)
			return nil
		}
		final := func() driver.Value {
			if !parsed {
				return nil // no rows
			}
			out := []byte{0}
			if whole {
				out[0] = 1
			}
			for _, hs := range byKey {
				out = binary.AppendUvarint(out, uint64(len(hs)))
				for _, h := range hs {
					out = append(out, h[:]...)
				}
			}
			return out
		}
		return step, final
	})
}

// encodeRanges writes the upper bounds of ranges for rangeHashesFunc.
func encodeRanges(ranges []keptRange) []byte {
	var b []byte
	for _, r := range ranges {
		if r.hi == nil {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = binary.AppendUvarint(b, uint64(len(*r.hi)))
		b = append(b, *r.hi...)
	}
	return b
}

// decodeRanges reads what encodeRanges wrote (the upper bounds only).
func decodeRanges(b []byte) ([]keptRange, error) {
	var ranges []keptRange
	for len(b) > 0 {
		var r keptRange
		if b[0] == 1 {
			n, k := binary.Uvarint(b[1:])
			if k <= 0 || uint64(len(b)-1-k) < n {
				return nil, fmt.Errorf("%s: bad ranges", rangeHashesFunc)
			}
			hi := string(b[1+k : 1+k+int(n)])
			r.hi, b = &hi, b[1+k+int(n):]
		} else {
			b = b[1:]
		}
		ranges = append(ranges, r)
	}
	if len(ranges) == 0 {
		return nil, fmt.Errorf("%s: no ranges", rangeHashesFunc)
	}
	return ranges, nil
}

// decodeRangeHashes reads rangeHashesFunc's result for n ranges.
func decodeRangeHashes(b []byte, n int) ([][][32]byte, bool, error) {
	bad := fmt.Errorf("%s: a result of %d bytes for %d ranges", rangeHashesFunc, len(b), n)
	if len(b) < 1 {
		return nil, false, bad
	}
	whole := b[0] == 1
	b = b[1:]
	hashes := make([][][32]byte, n)
	for r := range hashes {
		c, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k)/32 < c {
			return nil, false, bad
		}
		b = b[k:]
		hashes[r] = make([][32]byte, c)
		for i := range hashes[r] {
			hashes[r][i] = [32]byte(b[:32])
			b = b[32:]
		}
	}
	if len(b) != 0 {
		return nil, false, bad
	}
	return hashes, whole, nil
}

// rangeSum is the digest of a range from its rows' hashes (sorted in place).
func rangeSum(cols []string, rows [][32]byte) []byte {
	slices.SortFunc(rows, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	h := sha256.New()
	h.Write([]byte("custos verify range v1\x00" + strings.Join(cols, ",") + "\x00"))
	for _, r := range rows {
		h.Write(r[:])
	}
	return h.Sum(nil)
}

// loadDigests reads the range digests a replay file kept, none when it
// kept none (a state saved before they were).
func loadDigests(ctx context.Context, q store.Queryer) (map[string][]keptRange, error) {
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", digestsTable).Scan(&n); err != nil || n == 0 {
		return nil, err
	}
	rows, err := q.Query(ctx, "SELECT tbl, lo, hi, nrows, digest FROM "+digestsTable+" ORDER BY tbl, part")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	kept := map[string][]keptRange{}
	for rows.Next() {
		var t string
		var r keptRange
		if err := rows.Scan(&t, &r.lo, &r.hi, &r.rows, &r.sum); err != nil {
			return nil, err
		}
		kept[t] = append(kept[t], r)
	}
	return kept, rows.Err()
}

// saveDigests replaces the range digests kept in the replay file.
func saveDigests(ctx context.Context, db *store.DB, kept map[string][]keptRange) error {
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, s := range []string{
		"DROP TABLE IF EXISTS " + touchedTable,
		"DROP TABLE IF EXISTS " + digestsTable,
		"CREATE TABLE " + digestsTable + " (tbl TEXT NOT NULL, part INTEGER NOT NULL, lo TEXT, hi TEXT, nrows BIGINT NOT NULL, digest BLOB NOT NULL, PRIMARY KEY (tbl, part))",
	} {
		if _, err := tx.Exec(ctx, s); err != nil {
			return err
		}
	}
	for t, ranges := range kept {
		for i, r := range ranges {
			if _, err := tx.Exec(ctx, "INSERT INTO "+digestsTable+" (tbl, part, lo, hi, nrows, digest) VALUES (?, ?, ?, ?, ?, ?)", t, i, bound(r.lo), bound(r.hi), r.rows, r.sum); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// trackTouched makes the replay file note the key of every row the replay
// inserts, updates or deletes in the tables whose digests it kept (on
// true), or stops noting (on false; the keys noted stay).
func trackTouched(ctx context.Context, db *store.DB, tables []Table, on bool) error {
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if on {
		if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+touchedTable+" (tbl TEXT NOT NULL, k TEXT)"); err != nil {
			return err
		}
	}
	for _, t := range tables {
		name := "custos_verify_touch_" + t.Name
		note := func(row string) string {
			return "INSERT INTO " + touchedTable + " (tbl, k) VALUES ('" + t.Name + "', " + row + "." + t.Order + ");"
		}
		stmts := []string{"DROP TRIGGER IF EXISTS " + name + "_i", "DROP TRIGGER IF EXISTS " + name + "_u", "DROP TRIGGER IF EXISTS " + name + "_d"}
		if on {
			stmts = []string{
				"CREATE TRIGGER IF NOT EXISTS " + name + "_i AFTER INSERT ON " + t.Name + " BEGIN " + note("NEW") + " END",
				"CREATE TRIGGER IF NOT EXISTS " + name + "_u AFTER UPDATE ON " + t.Name + " BEGIN " + note("OLD") + " " + note("NEW") + " END",
				"CREATE TRIGGER IF NOT EXISTS " + name + "_d AFTER DELETE ON " + t.Name + " BEGIN " + note("OLD") + " END",
			}
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
		}
	}
	return tx.Commit()
}

// keptTables are the projected tables whose range digests were kept.
func keptTables(reg *Projections, kept map[string][]keptRange) []Table {
	var ts []Table
	for _, t := range reg.ProjectedTables() {
		if len(kept[t.Name]) > 0 {
			ts = append(ts, t)
		}
	}
	return ts
}

// touchedRanges tells which of a table's ranges hold a row the replay
// touched: all of them when a touched key is not text.
func touchedRanges(ctx context.Context, replay store.Queryer, t Table, ranges []keptRange) ([]bool, error) {
	touched := make([]bool, len(ranges))
	rows, err := replay.Query(ctx, "SELECT k FROM "+touchedTable+" WHERE tbl = ?", t.Name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k any
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		s, ok := k.(string)
		if !ok {
			for i := range touched {
				touched[i] = true
			}
			continue
		}
		touched[rangeIndex(ranges, s)] = true
	}
	return touched, rows.Err()
}

// digestAcc gathers the row hashes of one table compared by digests.
type digestAcc struct {
	mu      sync.Mutex
	pending int          // jobs not finished
	cols    []string     // the live table's columns
	live    [][][32]byte // the live rows' hashes, by range
	replay  [][][32]byte // the replayed rows' hashes, by touched range
	whole   bool         // a key is not text: compare the table whole
}

// digestJobs returns the jobs that compare a table by the digests of its
// ranges: the live table read in parts in its stored order (on SQLite by
// rowid, on PostgreSQL by range), each row hashed into its range, and the
// replayed rows of each range that needs them; the job that ends last
// compares the digests, compares the ranges that differ row by row, and
// hands the digests of the live ranges to done.
//
// From a kept state (kept) a range the replay did not touch is compared
// with the digest the state kept, and only the touched ranges' replayed
// rows are read, by key. In a full verification (kept false; the ranges'
// digests are not known) every range's replayed rows are, in parts in
// their stored order too: read in key order, each row is a search of the
// table by its rowid (BenchmarkCompareTable).
func digestJobs(ctx context.Context, live0 *store.Tx, replay store.Queryer, t Table, ranges []keptRange, kept bool, opt VerifyOptions, done func([]keptRange)) ([]compareJob, error) {
	touched := make([]bool, len(ranges))
	if kept {
		var err error
		if touched, err = touchedRanges(ctx, replay, t, ranges); err != nil {
			return nil, err
		}
	} else {
		for i := range touched {
			touched[i] = true
		}
	}
	acc := &digestAcc{live: make([][][32]byte, len(ranges)), replay: make([][][32]byte, len(ranges))}
	type part struct {
		where string
		args  []any
		size  int64
	}
	// byRowid cuts a SQLite table into as many parts as ranges, by rowid.
	byRowid := func(q store.Queryer) ([]part, error) {
		var first, last sql.NullInt64
		if err := q.QueryRow(ctx, "SELECT MIN(rowid), MAX(rowid) FROM "+t.Name).Scan(&first, &last); err != nil {
			return nil, err
		}
		if !first.Valid {
			return []part{{}}, nil
		}
		var parts []part
		span, m := last.Int64-first.Int64+1, int64(len(ranges))
		for i := range m {
			parts = append(parts, part{" WHERE rowid >= ? AND rowid < ?", []any{first.Int64 + span*i/m, first.Int64 + span*(i+1)/m}, ranges[i].rows})
		}
		return parts, nil
	}
	var parts, replayParts []part
	var err error
	if live0.Dialect() == store.SQLite {
		if parts, err = byRowid(live0); err != nil {
			return nil, err
		}
	} else {
		for _, r := range ranges {
			w, args := rangeWhere(t.Order+` COLLATE "C"`, bound(r.lo), bound(r.hi))
			parts = append(parts, part{w, args, r.rows})
		}
	}
	if !kept {
		if replayParts, err = byRowid(replay); err != nil {
			return nil, err
		}
	}
	end := func(ctx context.Context, live store.Queryer, out *jobOut) error {
		acc.mu.Lock()
		acc.pending--
		last := acc.pending == 0
		acc.mu.Unlock()
		if !last {
			return nil
		}
		problem := out.problem(opt.MaxProblems)
		if acc.whole {
			n, err := compareTable(ctx, live, replay, t, nil, nil, problem)
			out.rows += n
			done(nil)
			return err
		}
		now := make([]keptRange, len(ranges))
		for i, r := range ranges {
			sum, rows := rangeSum(acc.cols, acc.live[i]), int64(len(acc.live[i]))
			want, wantRows := r.sum, r.rows
			if touched[i] {
				want, wantRows = rangeSum(acc.cols, acc.replay[i]), int64(len(acc.replay[i]))
			}
			out.rows += rows
			now[i] = keptRange{lo: r.lo, hi: r.hi, rows: rows, sum: sum}
			if rows == wantRows && bytes.Equal(sum, want) {
				if !touched[i] {
					out.digestRows += rows
				}
				continue
			}
			found := len(out.problems)
			if _, err := compareTable(ctx, live, replay, t, bound(r.lo), bound(r.hi), problem); err != nil {
				return err
			}
			if len(out.problems) == found && kept {
				problem("table %s: the rows of keys from %s to %s match the replayed ones but not the digest kept with the verify state: the state's replay file and its digests disagree (verify once in full)",
					t.Name, normalize(bound(r.lo)), normalize(bound(r.hi)))
			}
		}
		done(now)
		return nil
	}
	var jobs []compareJob
	for i, p := range parts {
		jobs = append(jobs, compareJob{name: t.Name, size: p.size, run: func(ctx context.Context, live store.Queryer, out *jobOut) error {
			out.table = i == 0
			cols, hashes, whole, err := hashRows(ctx, live, t, p.where, p.args, ranges)
			if err != nil {
				return err
			}
			acc.mu.Lock()
			acc.cols = cols
			acc.whole = acc.whole || whole
			for r := range hashes {
				acc.live[r] = append(acc.live[r], hashes[r]...)
			}
			acc.mu.Unlock()
			return end(ctx, live, out)
		}})
	}
	for _, p := range replayParts {
		jobs = append(jobs, compareJob{name: t.Name, size: p.size, run: func(ctx context.Context, live store.Queryer, out *jobOut) error {
			_, hashes, whole, err := hashRows(ctx, replay, t, p.where, p.args, ranges)
			if err != nil {
				return err
			}
			acc.mu.Lock()
			acc.whole = acc.whole || whole
			for r := range hashes {
				acc.replay[r] = append(acc.replay[r], hashes[r]...)
			}
			acc.mu.Unlock()
			return end(ctx, live, out)
		}})
	}
	for i, r := range ranges {
		if !kept || !touched[i] {
			continue
		}
		jobs = append(jobs, compareJob{name: t.Name, size: r.rows, run: func(ctx context.Context, live store.Queryer, out *jobOut) error {
			w, args := rangeWhere(t.Order, bound(r.lo), bound(r.hi))
			_, hashes, whole, err := hashRows(ctx, replay, t, w, args, ranges)
			if err != nil {
				return err
			}
			acc.mu.Lock()
			acc.whole = acc.whole || whole
			acc.replay[i] = hashes[i]
			acc.mu.Unlock()
			return end(ctx, live, out)
		}})
	}
	acc.pending = len(jobs) // each ends with end
	return jobs, nil
}

// hashRows reads the rows of t that where selects, in the order they come,
// and hashes each into the range of its key; whole tells that a key was not
// text. On SQLite the rows are hashed and filed in the statement
// (rangeHashesFunc).
func hashRows(ctx context.Context, q store.Queryer, t Table, where string, args []any, ranges []keptRange) ([]string, [][][32]byte, bool, error) {
	if q.Dialect() != store.SQLite {
		return hashScanned(ctx, q, t, where, args, ranges)
	}
	rs, err := q.Query(ctx, "SELECT * FROM "+t.Name+" LIMIT 0")
	if err != nil {
		return nil, nil, false, err
	}
	cols, err := rs.Columns()
	rs.Close()
	if err != nil {
		return nil, nil, false, err
	}
	if !slices.Contains(cols, t.Order) {
		return nil, nil, false, fmt.Errorf("order column %s not in table", t.Order)
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = `"` + c + `"`
	}
	var out []byte
	err = q.QueryRow(ctx, `SELECT `+rangeHashesFunc+`(?, "`+t.Order+`", `+strings.Join(quoted, ", ")+") FROM "+t.Name+where,
		append([]any{encodeRanges(ranges)}, args...)...).Scan(&out)
	if err != nil {
		return nil, nil, false, err
	}
	if out == nil {
		return cols, make([][][32]byte, len(ranges)), false, nil // no rows
	}
	hashes, whole, err := decodeRangeHashes(out, len(ranges))
	if err != nil {
		return nil, nil, false, fmt.Errorf("table %s: %w", t.Name, err)
	}
	return cols, hashes, whole, nil
}

// hashScanned is hashRows reading each row's values into Go and hashing them
// there (rowHash).
func hashScanned(ctx context.Context, q store.Queryer, t Table, where string, args []any, ranges []keptRange) ([]string, [][][32]byte, bool, error) {
	rs, err := q.Query(ctx, "SELECT * FROM "+t.Name+where, args...)
	if err != nil {
		return nil, nil, false, err
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return nil, nil, false, err
	}
	key := slices.Index(cols, t.Order)
	if key < 0 {
		return nil, nil, false, fmt.Errorf("order column %s not in table", t.Order)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	hashes := make([][][32]byte, len(ranges))
	var buf []byte
	whole := false
	for rs.Next() {
		if err := rs.Scan(ptrs...); err != nil {
			return nil, nil, false, err
		}
		k, ok := vals[key].(string)
		if !ok {
			whole = true
			continue
		}
		var h [32]byte
		h, buf = rowHash(buf, vals)
		r := rangeIndex(ranges, k)
		hashes[r] = append(hashes[r], h)
	}
	return cols, hashes, whole, rs.Err()
}
