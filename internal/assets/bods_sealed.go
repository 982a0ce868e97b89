package assets

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"hash"
	"runtime"
	"sync"

	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// Beneficial ownership and personal data (docs/personal-data.md): a person
// statement is stored without its personal data, the statement as given
// sealed beside it (spillStatement); the graph reads only what is in clear.
// Who may open personal data (OpenPersonalData) gets the persons' names in
// answers and the statements as given in exports, and the lookup's entry
// says so (personal).

// verifyBODS is log verify's check of the stored statements: every import
// in the log has its statements, and each chunk of them (bodies, and the
// commitments to sealed persons) hashes to the digest its entry names.
func verifyBODS(ctx context.Context, c ledger.CheckRun) error {
	rows, err := c.Replay.Query(ctx, "SELECT id, statements, chunks, digests FROM assets_bods_imports ORDER BY log_index")
	if err != nil {
		return err
	}
	type imp struct {
		id, digests string
		n           int64
		chunks      []string
	}
	imps, err := store.Rows(rows, func(r store.Scanner, m *imp) error {
		var chunks string
		if err := r.Scan(&m.id, &m.n, &chunks, &m.digests); err != nil {
			return err
		}
		return json.Unmarshal([]byte(chunks), &m.chunks)
	})
	if err != nil {
		return err
	}
	var statements, chunks int64
	for _, im := range imps {
		stop := false
		got, n, err := bodsChunkDigests(ctx, c.Live, im.id, im.digests, c.Workers, func(key, column string) bool {
			stop = c.Problem("table assets_bods_statements: row id=%q: column %s differs from its statement's body (changed behind custos's back)", key, column)
			return stop
		})
		if err != nil {
			return err
		}
		if stop {
			return nil
		}
		statements, chunks = statements+n, chunks+int64(len(got))
		if n != im.n {
			if c.Problem("assets_bods_statements: import %s holds %d statements, its entry says %d", im.id, n, im.n) {
				return nil
			}
			continue
		}
		for i := range im.chunks {
			if i >= len(got) || got[i] != im.chunks[i] {
				if c.Problem("assets_bods_statements: chunk %d of import %s does not match its digest in the log (changed behind custos's back)", i, im.id) {
					return nil
				}
				break
			}
		}
	}
	c.Covered("assets_bods_statements: %d beneficial ownership statements in %d chunks of %d imports, each chunk against its digest in the log and the graph's columns derived again from each body", statements, chunks, len(imps))
	// Statements of imports not in the log: an import under way or stopped
	// before its entry beats its row of assets_bods_writing; custos stores
	// none without one.
	var orphans, unbeaten int64
	if err := c.Live.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN w.import_id IS NULL THEN 1 ELSE 0 END), 0)
		FROM assets_bods_statements s LEFT JOIN assets_bods_writing w ON w.import_id = s.import_id
		WHERE NOT EXISTS (SELECT 1 FROM assets_bods_imports i WHERE i.id = s.import_id)`).Scan(&orphans, &unbeaten); err != nil {
		return err
	}
	if unbeaten > 0 {
		if c.Problem("assets_bods_statements: %d statements of no import, in the log or under way (stored behind custos's back)", unbeaten) {
			return nil
		}
	}
	if orphans > unbeaten {
		c.Note("assets_bods_statements: %d statements of an import not in the log (an import under way, or stopped before its entry: the next import removes them; never read)", orphans-unbeaten)
	}
	return verifyBODSErasures(ctx, c)
}

// bodsChunkDigests recomputes the chunk digests of import id from the
// stored statements, and counts them. The digests cover each statement's
// position and body (and a sealed person's commitment); the columns stored
// beside the body, which the ownership graph reads (record id, type and
// status, name, kind, subject, party, interests...), are derived from the
// body again and compared (bodsColumnsDiffer): differs is told of the first
// column of a row that is not what its body gives, and stops the reading
// when it returns true.
//
// It runs on every core: one goroutine reads the statements in one stream
// in key order (the order the digests are made in, and one scan of the
// table's key), and hands them in batches (bodsVerifyBatch) to GOMAXPROCS
// workers, which derive each row's columns and its seal's commitment; the
// caller's goroutine takes the batches back in the order they were read,
// adds each statement to its chunk's digest and tells differs of the rows
// in that order, so that the problems, and the first of them, are those a
// reading on one goroutine finds. At most twice as many batches as there
// are workers are read ahead, so memory does not grow with the import.
// chunkCheckSQL reads an import's statements back for the check of its
// chunk digests, in the order of their ids, through the index
// assets_bods_import (TestImportReadsUseTheIndex).
const chunkCheckSQL = `SELECT id, pos, statement_id, record_id, record_type, record_status, statement_date, name, kind, subject, party, interests,
		body, wrapped_key, sealed, erased_commitment FROM assets_bods_statements WHERE import_id = ? ORDER BY id`

func bodsChunkDigests(ctx context.Context, q store.Queryer, id, digests string, workers int, differs func(key, column string) bool) ([]string, int64, error) {
	rows, err := q.Query(ctx, chunkCheckSQL, id)
	if err != nil {
		return nil, 0, err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// stop tells the reader that the caller reads no more batches.
	stop := make(chan struct{})
	ordered := make(chan *bodsReadBatch, 2*workers)
	work := make(chan *bodsReadBatch)
	var readErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(ordered)
		defer close(work)
		defer rows.Close()
		readErr = readBODSBatches(rows, ordered, work, stop)
	})
	for range workers {
		wg.Go(func() {
			for b := range work {
				for i := range b.rows {
					r := &b.rows[i]
					if r.tail == "" { // not erased: the commitment to its sealed bytes, if any
						r.tail = bodsSealTail(digests, r.row.wrapped, r.row.sealed)
					}
					r.column = bodsColumnsDiffer(id, r.pos, &r.row)
				}
				close(b.done)
			}
		})
	}
	defer wg.Wait()
	defer close(stop)
	var sums []string
	var h hash.Hash
	var n int64
	var buf []byte
	for b := range ordered {
		<-b.done
		for i := range b.rows {
			r := &b.rows[i]
			if n%bodsChunk == 0 {
				if h != nil {
					sums = append(sums, hex.EncodeToString(h.Sum(nil)))
				}
				h = sha256.New()
			}
			buf = appendBODSDigest(buf[:0], r.pos, r.row.body, r.tail)
			h.Write(buf)
			if r.column != "" && differs(r.row.key, r.column) {
				return nil, 0, nil
			}
			n++
		}
	}
	// The reader has closed ordered: readErr is set.
	if readErr != nil {
		return nil, 0, readErr
	}
	if h != nil {
		sums = append(sums, hex.EncodeToString(h.Sum(nil)))
	}
	return sums, n, nil
}

// bodsVerifyBatch is how many statements log verify's check hands a worker
// at a time: enough that handing them over costs nothing beside deriving
// their columns, few enough that the batches read ahead hold a few
// megabytes. A variable so that tests can spread a few statements over
// several workers.
var bodsVerifyBatch = 512

// bodsReadBatch is statements read in order, done closed once a worker has
// derived their columns and commitments.
type bodsReadBatch struct {
	rows []bodsVerifyRow
	done chan struct{}
}

// bodsVerifyRow is a stored statement and what a worker found of it.
type bodsVerifyRow struct {
	row bodsRow
	pos int64
	// tail follows the body in its chunk's digest: the commitment an
	// erased person's row keeps (read: its digest over that commitment,
	// as bodsDigest made it over the sealed row), or the commitment to its
	// sealed bytes (a worker's, bodsSealTail).
	tail string
	// column is the first column that differs from the body ("" if none).
	column string
}

// readBODSBatches reads rows into batches, each sent to ordered and then
// to work, until the rows end, an error, or stop is closed.
func readBODSBatches(rows *sql.Rows, ordered, work chan<- *bodsReadBatch, stop <-chan struct{}) error {
	send := func(b *bodsReadBatch) bool {
		for _, ch := range []chan<- *bodsReadBatch{ordered, work} {
			select {
			case ch <- b:
			case <-stop:
				return false
			}
		}
		return true
	}
	b := &bodsReadBatch{done: make(chan struct{})}
	for rows.Next() {
		if b.rows == nil {
			b.rows = make([]bodsVerifyRow, 0, bodsVerifyBatch)
		}
		b.rows = append(b.rows, bodsVerifyRow{})
		r := &b.rows[len(b.rows)-1]
		row := &r.row
		if err := rows.Scan(&row.key, &r.pos, &row.statementID, &row.recordID, &row.recordType, &row.recordStatus, &row.statementDate, &row.name, &row.kind,
			&row.subject, &row.party, &row.interests, &row.body, &row.wrapped, &row.sealed, &r.tail); err != nil {
			return err
		}
		if len(b.rows) == bodsVerifyBatch {
			if !send(b) {
				return nil
			}
			b = &bodsReadBatch{done: make(chan struct{})}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(b.rows) > 0 {
		send(b)
	}
	return nil
}

// bodsColumnsDiffer names the first column of the stored row (at pos of
// import id) that is not what its body gives, as bodsRowOf derived it on
// import: "" when none. A person's body is its public statement, so its
// name column is empty (an import made before persons were sealed keeps
// the statement as given, and its name).
func bodsColumnsDiffer(id string, pos int64, row *bodsRow) string {
	if row.key != statementKey(id, pos) {
		return "pos"
	}
	st, err := bods.Derive([]byte(row.body))
	if err != nil {
		return "body"
	}
	interests := ""
	if st.RecordType == bods.Relationship {
		b, err := json.Marshal(st.Interests)
		if err != nil {
			return "interests"
		}
		interests = string(b)
	}
	for _, c := range []struct{ name, stored, derived string }{
		{"statement_id", row.statementID, st.StatementID},
		{"record_id", row.recordID, st.RecordID},
		{"record_type", row.recordType, st.RecordType},
		{"record_status", row.recordStatus, st.RecordStatus},
		{"statement_date", row.statementDate, st.StatementDate},
		{"name", row.name, st.Name},
		{"kind", row.kind, st.Kind},
		{"subject", row.subject, st.Subject},
		{"party", row.party, st.InterestedParty},
		{"interests", row.interests, interests},
	} {
		if c.stored != c.derived {
			return c.name
		}
	}
	if st.RecordType != bods.Person && (row.wrapped != nil || row.sealed != nil) {
		return "sealed"
	}
	return ""
}
