package stats

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// chunksPerTx is how many chunks one write transaction stores: short
// enough that the log's writer, which waits for it on SQLite, hardly
// notices.
const chunksPerTx = 4

// Import validates a national records file (CSV, ImportColumns) in full and,
// when every row passes, stores it and appends one stats.records_imported
// entry. A bad row refuses the whole file, naming its line, field and rule;
// nothing is written then. So does a file imported before and still counted
// (importedBefore). size is the file's size for progress (0 when
// unknown); progress may be nil.
//
// The file is read once: each row is checked and coded, and each full
// chunk of codes is kept in a temporary file. Only when the last row has
// passed are the chunks written to the database, in short transactions,
// then the entry; chunks whose entry never makes it into the log are
// deleted and never counted.
func (s *Service) Import(ctx context.Context, p *auth.Principal, in ImportRequest, r io.Reader, size int64, progress Progress) (*Import, error) {
	if err := p.Require(ImportRecords); err != nil {
		return nil, err
	}
	source, err := check.Line("source", filepath.Base(strings.ReplaceAll(in.Source, `\`, "/")), 200, false)
	if err != nil {
		return nil, err
	}
	if source == "." || source == "/" {
		source = ""
	}
	var cm *codeMap
	var m *Mapping
	if in.Mapping != "" {
		if m, err = loadMapping(ctx, s.DB.Read(), in.Mapping, in.MappingVersion); err != nil {
			return nil, err
		}
		cm = m.codeMap()
	}
	spill, err := os.CreateTemp("", "custos-stats-*.chunks")
	if err != nil {
		return nil, err
	}
	defer os.Remove(spill.Name())
	defer spill.Close()
	bw := bufio.NewWriterSize(spill, 1<<20)
	fileSum := sha256.New()
	ps := &parser{m: cm, now: s.now().UTC().Format(check.DateLayout), emit: func(c *chunk) error { return writeChunk(bw, c) }}
	if progress != nil {
		ps.progress = func(n int64) { progress("validate", n, size) }
	}
	anyVersion := m != nil && in.MappingVersion == 0
	tee := io.TeeReader(r, fileSum)
	out, err := ps.parse(tee)
	if err != nil {
		// A retry naming no version of a file imported under an earlier
		// one may not read under the latest (a code it no longer maps):
		// it is still that import, and answered so. Only then is the rest
		// of the file read for its digest: any other refusal (a line over
		// the limit, a bad date) stops reading at once.
		if e, bad := errs.As(err); bad && anyVersion && e.Rule == "unmapped_offence" && importedUnderOtherVersion(ctx, s.DB.Read(), m) {
			if _, cerr := io.Copy(io.Discard, tee); cerr == nil {
				if im, aerr := importedAlready(ctx, s.DB.Read(), hex.EncodeToString(fileSum.Sum(nil)), m, true); aerr == nil && im != nil {
					return im, nil
				}
			}
		}
		return nil, err
	}
	sum, digest := hex.EncodeToString(fileSum.Sum(nil)), out.Digest()
	if im, err := importedAlready(ctx, s.DB.Read(), sum, m, anyVersion); err != nil || im != nil {
		return im, err
	}
	if err := importedBefore(ctx, s.DB.Read(), sum, digest); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	if _, err := spill.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if _, err := s.Sweep(ctx); err != nil {
		return nil, err
	}
	id := s.W.IDs().New("SI")
	colSum := sha256.New()
	rows, err := s.store(ctx, id, bufio.NewReaderSize(spill, 1<<20), colSum, func(done int64) {
		if progress != nil {
			progress("store", done, out.records)
		}
	})
	if err != nil {
		s.discard(id)
		return nil, err
	}
	data := recordsImported{ID: id, Source: source, FileSHA256: sum, ColumnsSHA256: hex.EncodeToString(colSum.Sum(nil)), RowSHA256: rows,
		RecordsDigest: digest, Records: out.records, Total: out.total, Chunks: len(rows), FirstDate: out.first, LastDate: out.last, Dictionary: out.dict}
	if m != nil {
		data.Mapping, data.MappingVersion = m.ID, m.Version
	}
	var again *Import
	_, err = s.W.Submit(ctx, p.Actor(), "import national crime records", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		// Again in the transaction: the same file imported meanwhile (a
		// retry sent while the first was being stored).
		var err error
		if again, err = importedAlready(ctx, tx, sum, m, anyVersion); err != nil {
			return nil, err
		}
		if again != nil {
			return nil, errImportUnchanged
		}
		if err := importedBefore(ctx, tx, sum, digest); err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeRecordsImported, data)
	})
	if err != nil {
		s.discard(id)
		if errors.As(err, new(ledger.Unchanged)) && again != nil {
			return again, nil
		}
		return nil, err
	}
	return s.importByID(ctx, s.DB.Read(), id)
}

// writeChunk spills a chunk: its record count, then each column's length
// and bytes.
func writeChunk(w io.Writer, c *chunk) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(c.n))
	if _, err := w.Write(b[:]); err != nil {
		return err
	}
	for i := range numCols {
		binary.LittleEndian.PutUint32(b[:], uint32(len(c.cols[i])))
		if _, err := w.Write(b[:]); err != nil {
			return err
		}
		if _, err := w.Write(c.cols[i]); err != nil {
			return err
		}
	}
	return nil
}

// readChunk reads a spilled chunk into c; io.EOF after the last.
func readChunk(r io.Reader, c *chunk) error {
	var b [4]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return err
	}
	c.n = int(binary.LittleEndian.Uint32(b[:]))
	for i := range numCols {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return io.ErrUnexpectedEOF
		}
		n := int(binary.LittleEndian.Uint32(b[:]))
		if cap(c.cols[i]) < n {
			c.cols[i] = make([]byte, n)
		}
		c.cols[i] = c.cols[i][:n]
		if _, err := io.ReadFull(r, c.cols[i]); err != nil {
			return io.ErrUnexpectedEOF
		}
	}
	return nil
}

func columnKey(id string, chunk, col int) string {
	return fmt.Sprintf("%s/%06d/%02d", id, chunk, col)
}

// chunkKey is where chunk's columns start in stats_columns' order.
func chunkKey(id string, chunk int) string {
	return fmt.Sprintf("%s/%06d/", id, chunk)
}

// rowSum is a stored column's digest as its import's entry names it
// (row_sha256): the first 16 bytes, in hex, of the SHA-256 of what the
// digest of all the chunks takes of it (its chunk, column and length, then
// its bytes). It lets log verify name the row that differs; the digest of
// all the chunks, whole, is what proves them.
func rowSum(chunk, col int, data []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d/%d/%d:", chunk, col, len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// store writes the spilled chunks of import id and returns, for each, its
// columns' rowSum ("" for a column not stored); sum gets each stored
// column (chunk, column, bytes) in order.
func (s *Service) store(ctx context.Context, id string, r io.Reader, sum hash.Hash, done func(int64)) ([][]string, error) {
	c := newChunk()
	var rows [][]string
	records := int64(0)
	for {
		n := len(rows)
		tx, err := s.DB.BeginWrite(ctx)
		if err != nil {
			return rows, err
		}
		// The import's beat (stats_writing): its chunks are not orphans.
		now := ledger.FormatTime(s.now())
		beat := "UPDATE stats_writing SET beat_at = ? WHERE import_id = ?"
		args := []any{now, id}
		if n == 0 {
			beat = "INSERT INTO stats_writing (beat_at, import_id, started_at) VALUES (?, ?, ?)"
			args = append(args, now)
		}
		if _, err := tx.Exec(ctx, beat, args...); err != nil {
			tx.Rollback()
			return rows, err
		}
		end := false
		for k := 0; k < chunksPerTx; k++ {
			if err := readChunk(r, c); err == io.EOF {
				end = true
				break
			} else if err != nil {
				tx.Rollback()
				return rows, err
			}
			n := len(rows)
			sums := make([]string, numCols)
			for col := range numCols {
				data := c.cols[col]
				if col == colCount && len(data) == 0 {
					continue
				}
				fmt.Fprintf(sum, "%d/%d/%d:", n, col, len(data))
				sum.Write(data)
				sums[col] = rowSum(n, col, data)
				if _, err := tx.Exec(ctx, "INSERT INTO stats_columns (id, import_id, chunk, col, n, data) VALUES (?, ?, ?, ?, ?, ?)",
					columnKey(id, n, col), id, n, colNames[col], c.n, data); err != nil {
					tx.Rollback()
					return rows, err
				}
			}
			rows = append(rows, sums)
			records += int64(c.n)
		}
		if err := tx.Commit(); err != nil {
			return rows, err
		}
		done(records)
		if end {
			return rows, nil
		}
	}
}

// discard deletes the chunks of an import whose entry is not in the log.
// What it cannot delete (the database is gone for a while, the process
// ends) the next import sweeps.
func (s *Service) discard(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tx, err := s.DB.BeginWrite(ctx)
	if err != nil {
		return
	}
	defer tx.Rollback()
	if err := dropChunks(ctx, tx, id); err != nil {
		return
	}
	_ = tx.Commit()
}

// dropChunks deletes the chunks of import id, and its beat, unless its
// entry is in the log.
func dropChunks(ctx context.Context, tx *store.Tx, id string) error {
	if _, err := tx.Exec(ctx, "DELETE FROM stats_columns WHERE import_id = ? AND NOT EXISTS (SELECT 1 FROM stats_imports WHERE id = ?)", id, id); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, "DELETE FROM stats_writing WHERE import_id = ? AND NOT EXISTS (SELECT 1 FROM stats_columns WHERE import_id = ?)", id, id)
	return err
}

// Orphaned is how long an import's chunks may go without a beat before,
// its entry not in the log, they are taken for orphans: an import beats
// with each transaction of chunks, seconds apart, and appends its entry
// just after its last.
const Orphaned = 15 * time.Minute

// Sweep deletes orphan chunks: those of imports whose entry is not in the
// log and that are not being written (no beat for Orphaned, or written
// before beats were kept). A process that died while importing, or could
// not delete the chunks of an import the log refused, leaves them; they
// were never counted, and now take no room. Import sweeps first; Sweep
// returns the imports whose chunks it deleted.
func (s *Service) Sweep(ctx context.Context) ([]string, error) {
	rows, err := s.DB.Read().Query(ctx, `SELECT DISTINCT c.import_id FROM stats_columns c
		WHERE NOT EXISTS (SELECT 1 FROM stats_imports i WHERE i.id = c.import_id)
		AND NOT EXISTS (SELECT 1 FROM stats_writing w WHERE w.import_id = c.import_id AND w.beat_at >= ?)
		ORDER BY c.import_id`, ledger.FormatTime(s.now().Add(-Orphaned)))
	if err != nil {
		return nil, err
	}
	ids, err := store.Rows(rows, func(r store.Scanner, id *string) error { return r.Scan(id) })
	if err != nil {
		return nil, err
	}
	stale := ledger.FormatTime(s.now().Add(-Orphaned))
	tx, err := s.DB.BeginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	for _, id := range ids {
		// Checked again in the transaction: a beat since the read keeps them.
		if _, err := tx.Exec(ctx, `DELETE FROM stats_columns WHERE import_id = ? AND NOT EXISTS (SELECT 1 FROM stats_imports WHERE id = ?)
			AND NOT EXISTS (SELECT 1 FROM stats_writing WHERE import_id = ? AND beat_at >= ?)`, id, id, id, stale); err != nil {
			return nil, err
		}
	}
	// Beats with no chunks left: an import that died before its first.
	if _, err := tx.Exec(ctx, "DELETE FROM stats_writing WHERE beat_at < ? AND NOT EXISTS (SELECT 1 FROM stats_columns c WHERE c.import_id = stats_writing.import_id)", stale); err != nil {
		return nil, err
	}
	return ids, tx.Commit()
}

const importCols = `id, mapping_id, mapping_version, source, file_sha256, columns_sha256, records_digest, records, total, chunks, first_date, last_date, imported_at, imported_by,
	COALESCE((SELECT authority_id FROM principals WHERE principals.id = imported_by), ''), log_index,
	withdrawn_at, withdrawn_by, withdrawal_reason, withdrawal_index`

func scanImport(r store.Scanner, m *Import) error {
	return r.Scan(&m.ID, &m.Mapping, &m.MappingVersion, &m.Source, &m.FileSHA256, &m.ColumnsSHA256, &m.RecordsDigest, &m.Records, &m.Total, &m.Chunks,
		&m.FirstDate, &m.LastDate, &m.ImportedAt, &m.ImportedBy, &m.Authority, &m.LogIndex, &m.WithdrawnAt, &m.WithdrawnBy, &m.WithdrawalReason, &m.WithdrawalIndex)
}

// importedUnderOtherVersion tells whether a file is counted under a version
// of m's mapping other than m's.
func importedUnderOtherVersion(ctx context.Context, q store.Queryer, m *Mapping) bool {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM stats_imports WHERE mapping_id = ? AND mapping_version <> ? AND withdrawn_at = '' LIMIT 1) x`, m.ID, m.Version).Scan(&n)
	return err == nil && n > 0
}

// importedAlready is the import still counted of the same file (its
// SHA-256) coded with the same mapping version (m; nil for a file of ICCS
// codes), with Unchanged set; nil when there is none. Importing that file
// again would change nothing: it is the sender's retry (an answer lost,
// a script run twice), not an error, and is answered with that import,
// nothing written. anyVersion (the request named no version) takes an
// import of the file under any version of m's mapping: the retry of a
// file imported before a newer version was published means that import,
// which names its version, not the same records coded anew. The same file
// under another mapping, or a named other version, or another file holding
// the same records, is refused by importedBefore.
func importedAlready(ctx context.Context, q store.Queryer, sum string, m *Mapping, anyVersion bool) (*Import, error) {
	mapping, version := "", 0
	if m != nil {
		mapping, version = m.ID, m.Version
	}
	cond := " AND mapping_version = ?"
	args := []any{sum, mapping, version}
	if anyVersion {
		cond, args = "", args[:2]
	}
	rows, err := q.Query(ctx, "SELECT "+importCols+` FROM stats_imports WHERE file_sha256 = ? AND mapping_id = ?`+cond+` AND withdrawn_at = ''
		ORDER BY log_index LIMIT 1`, args...)
	if err != nil {
		return nil, err
	}
	list, err := store.Rows(rows, scanImport)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	list[0].Unchanged = true
	return &list[0], nil
}

// errImportUnchanged is how the import's decision says the same file was
// imported meanwhile: nothing is written, and the writer does not count
// it among the refusals (ledger.Unchanged); the caller answers the import
// found. Never shown, so no catalogue message (built without errs.New).
var errImportUnchanged = ledger.Unchanged{Refusal: &errs.Error{Code: errs.Conflict, Rule: "unchanged", Message: "the file is imported already"}}

// importedBefore refuses a file whose SHA-256 is that of an import still
// counted, whatever its mapping: its records would be counted twice (under
// another mapping too); and a file that holds the same records as one (the
// same records digest: a copy with other line endings, quoting, column or
// row order, coded with the same mapping). The refusal names the earlier
// import; withdrawn, the file may be imported again (coded with a corrected
// mapping, say).
func importedBefore(ctx context.Context, q store.Queryer, sum, digest string) error {
	rows, err := q.Query(ctx, "SELECT "+importCols+` FROM stats_imports WHERE (file_sha256 = ? OR records_digest = ?) AND withdrawn_at = ''
		ORDER BY log_index LIMIT 1`, sum, digest)
	if err != nil {
		return err
	}
	list, err := store.Rows(rows, scanImport)
	if err != nil || len(list) == 0 {
		return err
	}
	im := list[0]
	if im.FileSHA256 != sum {
		return errs.New(errs.Conflict, "imported_before", "file",
			"this file holds the same records as %s (%s), imported on %s and still counted: a copy of that file, with other line endings, quoting, column or row order; withdraw that import first to import these records again",
			im.ID, im.Source, im.ImportedAt)
	}
	return errs.New(errs.Conflict, "imported_before", "file",
		"this file (SHA-256 %s) was imported on %s as %s, which is still counted; withdraw that import first to import the file again", sum, im.ImportedAt, im.ID)
}

// Withdraw withdraws an import, with a reason (one log entry): its records
// are no longer counted; it stays listed, shown as withdrawn, and its stored
// columns stay for log verify. An import withdrawn already is refused; so,
// with an alert, is another authority's import: a statistics office
// withdraws its own figures, never another's (rule authority, answered
// before the reason and the import's state).
func (s *Service) Withdraw(ctx context.Context, p *auth.Principal, id string, in Withdrawal) (*Import, error) {
	if err := p.Require(WithdrawImports); err != nil {
		return nil, err
	}
	const name = "withdraw national crime records import"
	id = strings.TrimSpace(id)
	var im *Import
	owned := func(ctx context.Context, q store.Queryer) (err error) {
		if im, err = s.importByID(ctx, q, id); err != nil {
			return err
		}
		if !im.OwnedBy(p) {
			return errs.Alertf(errs.Forbidden, "authority", "import_id", "import %s was made by another authority (%s): only its statisticians withdraw it", im.ID, im.Authority)
		}
		return nil
	}
	// Another office is refused before the reason and the import's state.
	if err := s.authorityFirst(ctx, p, name, owned); err != nil {
		return nil, err
	}
	reason, err := check.Text("reason", in.Reason, 2000, true)
	if err != nil {
		return nil, err
	}
	_, err = s.W.Submit(ctx, p.Actor(), name, func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		if err := owned(ctx, tx); err != nil {
			return nil, err
		}
		if im.WithdrawnAt != "" {
			return nil, errs.New(errs.Conflict, "withdrawn", "id", "import %s was withdrawn on %s", im.ID, im.WithdrawnAt)
		}
		return ledger.NewEntry(TypeImportWithdrawn, importWithdrawn{ImportID: im.ID, Reason: reason})
	})
	if err != nil {
		return nil, err
	}
	return s.importByID(ctx, s.DB.Read(), id)
}

// OwnedBy tells whether the import was made by p's authority, whose
// statisticians alone may withdraw it (Withdraw).
func (im *Import) OwnedBy(p *auth.Principal) bool { return im.Authority == p.AuthorityID }

func (s *Service) importByID(ctx context.Context, q store.Queryer, id string) (*Import, error) {
	rows, err := q.Query(ctx, "SELECT "+importCols+" FROM stats_imports WHERE id = ?", id)
	if err != nil {
		return nil, err
	}
	list, err := store.Rows(rows, scanImport)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errs.New(errs.NotFound, "reference", "import_id", "no import %s", errs.Echo(id, errs.MaxEchoed))
	}
	return &list[0], nil
}

// Imports lists the imports, newest first.
func (s *Service) Imports(ctx context.Context, p *auth.Principal) ([]Import, error) {
	if err := p.Require(ReadStatistics); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, "SELECT "+importCols+" FROM stats_imports ORDER BY log_index DESC")
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, scanImport)
}

// importDictionary reads an import's dictionary.
func importDictionary(raw string) (Dictionary, error) {
	var d Dictionary
	err := json.Unmarshal([]byte(raw), &d)
	return d, err
}
