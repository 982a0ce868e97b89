package assets

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// Beneficial ownership: who may import BODS statements and who may look up
// the ownership graph.
var (
	ImportOwnership = auth.NewAction("import beneficial ownership statements (BODS)", RoleCentralAuthority, auth.Admin)
	ReadOwnership   = auth.NewAction("look up beneficial ownership", RoleCentralAuthority, RoleProsecutor, auth.Regulator, auth.Auditor)
)

// Entry types of beneficial ownership.
const (
	TypeBODSImported = "assets.bods_imported"
	TypeBODSLookedUp = "assets.bods_looked_up"
)

// bodsChunk is how many statements one stored chunk (one digest) holds.
// It is part of what the log commits to (the digests of imports made);
// a variable only so that tests can make many chunks of a few statements.
var bodsChunk int64 = 65536

// bodsRowsPerTx is how many statements one write transaction stores, so
// that other commands get the writer between them.
const bodsRowsPerTx = 8192

// bodsImported is the data of assets.bods_imported: what was imported and
// the SHA-256 of each stored chunk of statements, never the statements.
type bodsImported struct {
	ID            string   `json:"id"`
	Source        string   `json:"source"`
	FileSHA256    string   `json:"file_sha256"`
	Statements    int64    `json:"statements"`
	Entities      int64    `json:"entities"`
	Persons       int64    `json:"persons"`
	Relationships int64    `json:"relationships"`
	Chunks        []string `json:"chunks"`
	// Digests is how the chunks' digests were made: "" (imports before
	// person statements were sealed) or "sealed" (bodsDigest).
	Digests string `json:"digests,omitempty"`
	// Jurisdiction is the state whose register the statements are: the
	// jurisdiction of the importing principal's authority. An entry
	// without it (before registers were a state's) is the registry's
	// jurisdiction's (bodsState).
	Jurisdiction string `json:"jurisdiction,omitempty"`
}

// bodsLookedUp is the data of assets.bods_looked_up: who asked (the
// entry's actor), what, through which channel, from which imports, and
// when the answer was read.
type bodsLookedUp struct {
	ID string `json:"id"`
	// Question is owners or controls; export in the entries of BODS
	// exports logged before they were export.made entries (ExportBODS).
	Question    string `json:"question"`
	RecordID    string `json:"record_id"`
	Via         string `json:"via"` // api, web, cli
	Source      string `json:"source"`
	Imports     int64  `json:"imports"`
	RetrievedAt string `json:"retrieved_at"`
	Holdings    int    `json:"holdings"`
	// Holders counts the other parties the answer listed (its holders:
	// direct and intermediate holders, the parties of a circle), zero for
	// a question that lists none.
	Holders int `json:"holders,omitempty"`
	// Personal: the answer gave personal data opened from sealed person
	// statements (names in an answer; the statements as given in an export).
	Personal bool `json:"personal,omitempty"`
	// Jurisdiction is the state whose register was read: the asker's
	// (bodsImported.Jurisdiction).
	Jurisdiction string `json:"jurisdiction,omitempty"`
}

// BODSImport is an import as listed.
type BODSImport struct {
	ID            string   `json:"id"`
	Source        string   `json:"source"`
	FileSHA256    string   `json:"file_sha256"`
	Statements    int64    `json:"statements"`
	Entities      int64    `json:"entities"`
	Persons       int64    `json:"persons"`
	Relationships int64    `json:"relationships"`
	Chunks        []string `json:"chunks"`
	Digests       string   `json:"digests,omitempty"`
	Jurisdiction  string   `json:"jurisdiction"`
	ImportedAt    string   `json:"imported_at"`
	ImportedBy    string   `json:"imported_by"`
	LogIndex      int64    `json:"log_index"`
}

func projectBODS(reg *ledger.Projections) {
	ledger.On(reg, TypeBODSImported, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, d *bodsImported) error {
		chunks, err := json.Marshal(d.Chunks)
		if err != nil {
			return err
		}
		state, err := bodsState(ctx, q, d.Jurisdiction)
		if err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `INSERT INTO assets_bods_imports (id, source, file_sha256, statements, entities, persons, relationships, chunks, digests, jurisdiction, imported_at, imported_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, d.Source, d.FileSHA256, d.Statements, d.Entities, d.Persons, d.Relationships, string(chunks), d.Digests, state, e.At, e.By, idx); err != nil {
			return err
		}
		_, err = q.Exec(ctx, "DELETE FROM assets_bods_writing WHERE import_id = ?", d.ID)
		return err
	})
	ledger.On(reg, TypeBODSLookedUp, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, d *bodsLookedUp) error {
		state, err := bodsState(ctx, q, d.Jurisdiction)
		if err != nil {
			return err
		}
		_, err = q.Exec(ctx, `INSERT INTO assets_bods_lookups (id, question, record_id, via, source, imports, retrieved_at, holdings, holders, personal, jurisdiction, looked_up_at, looked_up_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, d.Question, d.RecordID, d.Via, d.Source, d.Imports, d.RetrievedAt, d.Holdings, d.Holders, b2i(d.Personal), state, e.At, e.By, idx)
		return err
	})
	reg.Check("assets: beneficial ownership statements against their import's chunk digests", verifyBODS)
	reg.Tables(
		ledger.Table{Name: "assets_bods_imports", Order: "id"},
		ledger.Table{Name: "assets_bods_lookups", Order: "id"},
	)
}

// bodsState is the state whose register an entry's statements or lookup
// are: the jurisdiction the entry names, or for an entry logged before
// registers were a state's (none named), the registry's own jurisdiction
// (the setting its first entry made), as migration assets 6 gave the rows
// of such entries.
func bodsState(ctx context.Context, q store.Queryer, named string) (string, error) {
	if named != "" {
		return named, nil
	}
	var state string
	err := q.QueryRow(ctx, "SELECT COALESCE(MAX(value), '') FROM settings WHERE name = 'jurisdiction'").Scan(&state)
	return state, err
}

// BODSProgress reports an import's progress: phase "validate" (bytes of
// the file read, of size) or "store" (statements stored, of all).
type BODSProgress func(phase string, done, total int64)

// bodsBatch is how many checked statements go to the storing goroutine at
// once, and bodsQueue how many such batches may wait for it.
const (
	bodsBatch = 1024
	bodsQueue = 8
)

// ImportBODS validates a file of BODS 0.4 statements (a JSON array or JSON
// Lines) and, when every statement passes, appends one assets.bods_imported
// entry naming the stored statements' chunk digests. Statements are stored
// as they pass, by a goroutine of their own beside the reading and
// checking (storeBODS), but nothing reads them before their import's
// entry is in the log. A bad statement refuses the whole file, naming its
// JSON path and rule: the statements already stored are deleted again and
// nothing is logged. A statementId already imported is refused (rule
// duplicate_statement). size is the file's size for progress (0 when
// unknown); progress may be nil, and is called on the caller's goroutine.
func (s *Service) ImportBODS(ctx context.Context, p *auth.Principal, source string, r io.Reader, size int64, progress BODSProgress) (*BODSImport, error) {
	if err := p.Require(ImportOwnership); err != nil {
		return nil, err
	}
	if !auth.ValidCountry(p.Jurisdiction) {
		return nil, noState()
	}
	if s.Vault == nil {
		return nil, errs.New(errs.Unavailable, "vault", "vault", "this registry is opened without its key vault: person statements are sealed on import, so nothing can be imported")
	}
	source, err := check.Line("source", filepath.Base(strings.ReplaceAll(source, `\`, "/")), 200, false)
	if err != nil {
		return nil, err
	}
	if source == "." || source == "/" {
		source = ""
	}
	d, err := s.stageBODS(ctx, source, p.Jurisdiction, r, size, progress)
	if err != nil {
		return nil, err
	}
	res, err := s.W.Submit(ctx, p.Actor(), "import beneficial ownership statements", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		return ledger.NewEntry(TypeBODSImported, d)
	})
	if err != nil {
		s.discardBODS(d.ID)
		return nil, err
	}
	return &BODSImport{ID: d.ID, Source: d.Source, FileSHA256: d.FileSHA256, Statements: d.Statements, Entities: d.Entities, Persons: d.Persons,
		Relationships: d.Relationships, Chunks: d.Chunks, Digests: d.Digests, Jurisdiction: d.Jurisdiction, ImportedAt: res.Entry.At, ImportedBy: res.Entry.By, LogIndex: res.Index}, nil
}

// stageBODS reads and checks the statements of r and stores them under a
// new import id, as ImportBODS does before its entry, which it returns; on
// a refusal it deletes what it stored. It first removes the statements of
// imports that stopped before their entry (sweepBODS).
func (s *Service) stageBODS(ctx context.Context, source, state string, r io.Reader, size int64, progress BODSProgress) (*bodsImported, error) {
	if err := s.sweepBODS(ctx); err != nil {
		return nil, err
	}
	fileSum := sha256.New()
	cr := &countReader{r: io.TeeReader(r, fileSum)}
	d := &bodsImported{ID: s.W.IDs().New("BO"), Source: source, Digests: digestsSealed, Jurisdiction: state}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	queue := make(chan []bodsRow, bodsQueue)
	var stored atomic.Int64
	var storeErr error
	storing := make(chan struct{})
	go func() {
		defer close(storing)
		d.Chunks, storeErr = s.storeBODS(sctx, d.ID, state, d.Digests, queue, &stored)
		if storeErr != nil {
			stop() // the reading stops at its next batch
		}
	}()
	batch := make([]bodsRow, 0, bodsBatch)
	send := func() error {
		if len(batch) == 0 {
			return nil
		}
		select {
		case queue <- batch:
			batch = make([]bodsRow, 0, bodsBatch)
			return nil
		case <-sctx.Done():
			return errStoreStopped
		}
	}
	// A statement dated ahead of the import is a mistyped year, or a
	// clock wrong at its source; a day is left for a source whose day
	// begins before UTC's.
	last := s.bodsNow().UTC().AddDate(0, 0, 1).Format(check.DateLayout)
	err := bods.Read(cr, func(n int, st *bods.Statement) error {
		if err := st.Ahead(n, last); err != nil {
			return err
		}
		switch st.RecordType {
		case bods.Entity:
			d.Entities++
		case bods.Person:
			d.Persons++
		case bods.Relationship:
			d.Relationships++
		}
		d.Statements++
		if progress != nil && n%4096 == 0 {
			progress("validate", cr.n, size)
		}
		row, err := s.bodsRowOf(statementKey(d.ID, int64(n)), st)
		if err != nil {
			return err
		}
		if batch = append(batch, row); len(batch) == bodsBatch {
			return send()
		}
		return nil
	})
	if err == nil {
		err = send()
	}
	if err == nil && d.Statements == 0 {
		err = errs.Invalidf("required", "statements", "the file holds no statements")
	}
	if err != nil {
		stop()
	} else if progress != nil {
		progress("validate", cr.n, size)
	}
	close(queue)
	s.awaitStore(storing, &stored, d.Statements, progress)
	if errors.Is(err, errStoreStopped) || (err == nil && storeErr != nil) {
		err = storeErr
	}
	if err != nil {
		s.discardBODS(d.ID)
		return nil, err
	}
	d.FileSHA256 = hex.EncodeToString(fileSum.Sum(nil))
	return d, nil
}

// errStoreStopped tells ImportBODS that the storing goroutine stopped (on
// its own error, or the caller's context): that error is the import's.
var errStoreStopped = errors.New("the storing of the statements stopped")

// awaitStore waits for the storing goroutine to end, reporting the
// statements stored of total (phase "store") on the caller's goroutine.
func (s *Service) awaitStore(storing <-chan struct{}, stored *atomic.Int64, total int64, progress BODSProgress) {
	if progress == nil {
		<-storing
		return
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-storing:
			progress("store", stored.Load(), total)
			return
		case <-tick.C:
			progress("store", stored.Load(), total)
		}
	}
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// bodsRow is a statement as stored.
type bodsRow struct {
	key                                                                                                         string
	statementID, recordID, recordType, recordStatus, statementDate, name, kind, subject, party, interests, body string
	wrapped, sealed                                                                                             []byte
}

// bodsRowOf is a statement as it will be stored under key (its row key). A
// person's personal data is sealed here, before it is queued to be stored:
// its name is left out, its body is bods.PersonPublic, and the statement
// as given is sealed under a key of its own bound to the row key.
func (s *Service) bodsRowOf(key string, st *bods.Statement) (bodsRow, error) {
	row := bodsRow{key: key, statementID: st.StatementID, recordID: st.RecordID, recordType: st.RecordType, recordStatus: st.RecordStatus,
		statementDate: st.StatementDate, name: st.Name, kind: st.Kind, subject: st.Subject, party: st.InterestedParty, body: string(st.Raw)}
	if st.RecordType == bods.Relationship {
		b, err := json.Marshal(st.Interests)
		if err != nil {
			return row, err
		}
		row.interests = string(b)
	}
	if st.RecordType == bods.Person {
		var err error
		if row.wrapped, row.sealed, err = s.Vault.SealRow(key, st.Raw); err != nil {
			return row, err
		}
		row.name, row.body = "", string(st.Public)
	}
	return row, nil
}

// How an import's chunk digests are made (bodsImported.Digests).
const digestsSealed = "sealed"

// bodsDigest adds one statement to its chunk's digest: its position, its
// stored body's length and the body, then (digests "sealed", for a sealed
// person statement) ":" and ledger.SealCommitment of its sealed bytes,
// which the log can check without the key.
func bodsDigest(h hash.Hash, digests string, pos int64, body string, wrapped, sealed []byte) {
	h.Write(appendBODSDigest(nil, pos, body, bodsSealTail(digests, wrapped, sealed)))
}

// bodsSealTail is what follows a statement's body in its chunk's digest:
// the commitment to its sealed bytes (digests "sealed", a sealed person
// statement), "" when nothing does.
func bodsSealTail(digests string, wrapped, sealed []byte) string {
	if digests == digestsSealed && len(sealed) > 0 {
		return ledger.SealCommitment(wrapped, sealed)
	}
	return ""
}

// appendBODSDigest appends to b what a statement adds to its chunk's
// digest: "pos:len:body", then ":tail" when tail is not "" (bodsSealTail,
// or the commitment an erased person's row keeps).
func appendBODSDigest(b []byte, pos int64, body, tail string) []byte {
	b = strconv.AppendInt(b, pos, 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, ':')
	b = append(b, body...)
	if tail != "" {
		b = append(b, ':')
		b = append(b, tail...)
	}
	return b
}

func statementKey(importID string, pos int64) string { return fmt.Sprintf("%s/%09d", importID, pos) }

// bodsRowsPerInsert is how many statements one INSERT stores (16
// parameters each: under both engines' limits on parameters).
const bodsRowsPerInsert = 128

const bodsInsert = ` INTO assets_bods_statements (id, import_id, pos, statement_id, record_id, record_type, record_status,
	statement_date, name, kind, subject, party, interests, body, wrapped_key, sealed) VALUES `

// bodsInsertVerb begins the INSERT: on SQLite, a conflict rolls back the
// whole transaction (as storeBODS does on any failure), so that SQLite
// keeps no statement journal to undo one statement of many rows (a
// temporary file it writes every page the statement changes to).
func bodsInsertVerb(d store.Dialect) string {
	if d == store.SQLite {
		return "INSERT OR ROLLBACK"
	}
	return "INSERT"
}

// storeBODS stores the statements of import id that arrive on queue, in
// order, in short write transactions (bodsRowsPerTx, so that other
// commands get the writer between them), bodsRowsPerInsert rows to a
// statement (the statement is the same for every full batch, so it is
// prepared once), counting them in stored; it returns each chunk's SHA-256
// (of its statements' positions and bodies, in order) once queue is
// closed, or the first error (ctx's when it is cancelled). state is the
// importing principal's, whose own imports a refusal may name.
func (s *Service) storeBODS(ctx context.Context, id, state, digests string, queue <-chan []bodsRow, stored *atomic.Int64) ([]string, error) {
	if s.DB.Dialect == store.SQLite {
		restore, err := s.writerCache(ctx, bodsCacheKiB)
		if err != nil {
			return nil, err
		}
		defer restore()
	}
	var sums []string
	var sum hash.Hash
	pos := int64(0)
	args := make([]any, 0, 16*bodsRowsPerInsert)
	ids := make([]string, 0, bodsRowsPerInsert)
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", 16), ", ") + ")"
	verb := bodsInsertVerb(s.DB.Dialect)
	insert := func(tx *store.Tx) error {
		if len(ids) == 0 {
			return nil
		}
		q := verb + bodsInsert + strings.TrimSuffix(strings.Repeat(tuple+", ", len(ids)), ", ")
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			tx.Rollback()
			first := pos - int64(len(ids))
			for k, sid := range ids {
				if refusal := s.statementHeld(ctx, state, first+int64(k), sid); refusal != nil {
					return refusal
				}
			}
			return err
		}
		args, ids = args[:0], ids[:0]
		return nil
	}
	var tx *store.Tx
	inTx := 0
	commit := func() error {
		if tx == nil {
			return nil
		}
		if err := insert(tx); err != nil {
			return err
		}
		err := tx.Commit()
		tx, inTx = nil, 0
		stored.Store(pos)
		return err
	}
	for {
		var rows []bodsRow
		var more bool
		select {
		case rows, more = <-queue:
		case <-ctx.Done():
			more = false
		}
		if err := ctx.Err(); err != nil {
			if tx != nil {
				tx.Rollback()
			}
			return nil, err
		}
		if !more {
			break
		}
		for i := range rows {
			row := &rows[i]
			if tx == nil {
				var err error
				if tx, err = s.DB.BeginWrite(ctx); err != nil {
					return nil, err
				}
				// The import's beat: its statements are not orphans.
				now := ledger.FormatTime(s.now())
				if _, err := tx.Exec(ctx, `INSERT INTO assets_bods_writing (import_id, started_at, beat_at) VALUES (?, ?, ?)
					ON CONFLICT (import_id) DO UPDATE SET beat_at = excluded.beat_at`, id, now, now); err != nil {
					tx.Rollback()
					return nil, err
				}
			}
			if pos%bodsChunk == 0 {
				if sum != nil {
					sums = append(sums, hex.EncodeToString(sum.Sum(nil)))
				}
				sum = sha256.New()
			}
			bodsDigest(sum, digests, pos, row.body, row.wrapped, row.sealed)
			args = append(args, row.key, id, pos, row.statementID, row.recordID, row.recordType, row.recordStatus, row.statementDate,
				row.name, row.kind, row.subject, row.party, row.interests, row.body, row.wrapped, row.sealed)
			ids = append(ids, row.statementID)
			pos++
			inTx++
			if len(ids) == bodsRowsPerInsert {
				if err := insert(tx); err != nil {
					return nil, err
				}
			}
			if inTx == bodsRowsPerTx {
				if err := commit(); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := commit(); err != nil {
		return nil, err
	}
	if sum != nil {
		sums = append(sums, hex.EncodeToString(sum.Sum(nil)))
	}
	return sums, nil
}

// bodsCacheKiB is the page cache (KiB) of the SQLite writing connection
// while an import stores its statements: the statements' table and its
// indexes outgrow SQLite's default 2 MiB within the first 100,000
// statements, and a page that falls out of the cache is written out and
// read back.
const bodsCacheKiB = 64 << 10

// writerCache sets the page cache of SQLite's writing connection to kib
// KiB and returns what sets it back.
func (s *Service) writerCache(ctx context.Context, kib int) (restore func(), err error) {
	set := func(ctx context.Context, size int) (prev int, err error) {
		tx, err := s.DB.BeginWrite(ctx)
		if err != nil {
			return 0, err
		}
		defer tx.Rollback()
		if err := tx.QueryRow(ctx, "PRAGMA cache_size").Scan(&prev); err != nil {
			return 0, err
		}
		if _, err := tx.Exec(ctx, "PRAGMA cache_size = "+strconv.Itoa(size)); err != nil {
			return 0, err
		}
		return prev, tx.Commit()
	}
	prev, err := set(ctx, -kib)
	if err != nil {
		return nil, err
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = set(ctx, prev)
	}, nil
}

// statementHeld is the refusal of statement n of a file imported by a
// principal of state, whose statementId a stored statement holds already
// (nil if none does): one of an import in the log (duplicate_statement), or
// one of an import not in the log, under way or stopped within Orphaned
// (import_under_way). A statementId is unique in the whole deployment, but
// a register is a state's: the refusal names the import that holds the
// statement only when it is of state's register, which the importer lists
// anyway; another state's import is neither named nor said to be another
// state's, since the importer may not read that state's register. An
// import not in the log names no state, so none is named.
func (s *Service) statementHeld(ctx context.Context, state string, n int64, statementID string) error {
	var importID, jurisdiction string
	var logged bool
	var beat *string
	err := s.DB.Read().QueryRow(ctx, `SELECT s.import_id, EXISTS (SELECT 1 FROM assets_bods_imports i WHERE i.id = s.import_id),
		COALESCE((SELECT i.jurisdiction FROM assets_bods_imports i WHERE i.id = s.import_id), ''),
		(SELECT w.beat_at FROM assets_bods_writing w WHERE w.import_id = s.import_id)
		FROM assets_bods_statements s WHERE s.statement_id = ?`, statementID).Scan(&importID, &logged, &jurisdiction, &beat)
	if err != nil {
		return nil
	}
	field := fmt.Sprintf("statements[%d].statementId", n)
	if logged {
		if held, err := bodsState(ctx, s.DB.Read(), jurisdiction); err == nil && held == state {
			return errs.New(errs.Conflict, "duplicate_statement", field, "statement %d repeats the statementId of a statement already imported (import %s)", n, importID)
		}
		return errs.New(errs.Conflict, "duplicate_statement", field,
			"statement %d repeats a statementId this registry already holds: statement ids are unique in the whole registry, not in your state's register alone; ask the registry's administrator", n)
	}
	if beat == nil {
		return errs.New(errs.Conflict, "duplicate_statement", field,
			"statement %d repeats the statementId of a statement stored behind custos's back, of no import in the log and never being written (log verify names it); ask the registry's administrator", n)
	}
	at, err := time.Parse(ledger.TimeLayout, *beat)
	if err != nil {
		return errs.New(errs.Conflict, "import_under_way", field,
			"statement %d repeats the statementId of a statement of an import that stopped before its entry: the next import removes its statements", n)
	}
	return errs.New(errs.Conflict, "import_under_way", field,
		"statement %d repeats the statementId of a statement of an import not in the log: one under way, or one that stopped before its entry, whose statements the first import after %s removes", n, ledger.FormatTime(at.Add(Orphaned)))
}

// Orphaned is how long the statements of an import not in the log may go
// without a beat (assets_bods_writing) before they are taken for those of
// an import that stopped: an import beats with each transaction of
// statements, a second or so apart, and appends its entry just after its
// last.
const Orphaned = 15 * time.Minute

// sweepBODS removes the statements of imports whose entry is not in the log
// and whose beat is older than Orphaned: a process killed while importing
// leaves them, and they would hold their statementIds against the file
// imported again. They were never read.
func (s *Service) sweepBODS(ctx context.Context) error {
	rows, err := s.DB.Read().Query(ctx, `SELECT import_id FROM assets_bods_writing w WHERE beat_at < ?
		AND NOT EXISTS (SELECT 1 FROM assets_bods_imports i WHERE i.id = w.import_id)`, ledger.FormatTime(s.now().Add(-Orphaned)))
	if err != nil {
		return err
	}
	ids, err := store.Rows(rows, func(r store.Scanner, id *string) error { return r.Scan(id) })
	if err != nil || len(ids) == 0 {
		return err
	}
	for _, id := range ids {
		s.discardBODS(id)
	}
	return nil
}

// discardBODS deletes the statements of an import whose entry is not in
// the log, and its beat; what it cannot delete the next import sweeps.
func (s *Service) discardBODS(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tx, err := s.DB.BeginWrite(ctx)
	if err != nil {
		return
	}
	defer tx.Rollback()
	if _, err := tx.Exec(ctx, "DELETE FROM assets_bods_statements WHERE import_id = ? AND NOT EXISTS (SELECT 1 FROM assets_bods_imports WHERE id = ?)", id, id); err != nil {
		return
	}
	if _, err := tx.Exec(ctx, "DELETE FROM assets_bods_writing WHERE import_id = ?", id); err != nil {
		return
	}
	_ = tx.Commit()
}

const bodsImportCols = "id, source, file_sha256, statements, entities, persons, relationships, chunks, digests, jurisdiction, imported_at, imported_by, log_index"

func scanBODSImport(r store.Scanner, m *BODSImport) error {
	var chunks string
	if err := r.Scan(&m.ID, &m.Source, &m.FileSHA256, &m.Statements, &m.Entities, &m.Persons, &m.Relationships, &chunks, &m.Digests, &m.Jurisdiction, &m.ImportedAt, &m.ImportedBy, &m.LogIndex); err != nil {
		return err
	}
	return json.Unmarshal([]byte(chunks), &m.Chunks)
}

// BODSImports lists the imports of p's state, oldest first.
func (s *Service) BODSImports(ctx context.Context, p *auth.Principal) ([]BODSImport, error) {
	if err := p.Require(ReadOwnership); err != nil {
		return nil, err
	}
	if p.Jurisdiction == "" {
		return []BODSImport{}, nil
	}
	rows, err := s.DB.Read().Query(ctx, "SELECT "+bodsImportCols+" FROM assets_bods_imports WHERE jurisdiction = ? ORDER BY log_index", p.Jurisdiction)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, scanBODSImport)
}

// ownership is a service's ownership graph of one state's register: the
// statements of every import of that state in the log, applied in log
// order. It is loaded by the first
// lookup and refreshed when a lookup finds that an import was added since
// (by this server or another): the entry of each lookup checks, in the
// writer's transaction, that the imports it was answered from are still
// all there are (bodsLookup.decide).
type ownership struct {
	state   string // the jurisdiction whose register it is
	mu      sync.RWMutex
	g       *bods.Graph
	loaded  bool
	imports int64
	lastIdx int64
	latest  string
	// sealed is, for each person with sealed statements (by its number
	// in the graph, bods.Graph.Ref), the row of its latest statement
	// sealed on import (in log order): where its name is opened from, or
	// where its erasure shows. A row is an import's place in ids and the
	// statement's position in it (sealedRow), so that the map holds no
	// pointer for the collector to follow.
	sealed map[int32]int64
	ids    []string // the imports applied, in log order
}

// sealedRow is where the row of the statement at pos of the import
// numbered imp (in ownership.ids) is kept in ownership.sealed.
func sealedRow(imp int, pos int64) int64 { return int64(imp)<<40 | pos }

// rowKey is the key of a row that sealedRow gave.
func (o *ownership) rowKey(row int64) string {
	return statementKey(o.ids[row>>40], row&(1<<40-1))
}

var graphs sync.Map // graphKey -> *ownership

// graphKey is whose graph: a database's, of one state's register.
type graphKey struct {
	db    *store.DB
	state string
}

// ownership returns the service's graph of state's register, loading it
// on first use; with refresh it first applies the imports added to the
// log since it was loaded.
func (s *Service) ownership(ctx context.Context, state string, refresh bool) (*ownership, error) {
	v, _ := graphs.LoadOrStore(graphKey{s.DB, state}, &ownership{state: state, g: bods.NewGraph(), lastIdx: -1, sealed: map[int32]int64{}})
	o := v.(*ownership)
	o.mu.RLock()
	loaded := o.loaded
	o.mu.RUnlock()
	if loaded && !refresh {
		return o, nil
	}
	var n, last int64
	if err := s.DB.Read().QueryRow(ctx, bodsVersion, state).Scan(&n, &last); err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if n == o.imports && last == o.lastIdx {
		o.loaded = true
		return o, nil
	}
	rows, err := s.DB.Read().Query(ctx, "SELECT id, log_index FROM assets_bods_imports WHERE jurisdiction = ? AND log_index > ? ORDER BY log_index", state, o.lastIdx)
	if err != nil {
		return nil, err
	}
	type imp struct {
		id  string
		idx int64
	}
	list, err := store.Rows(rows, func(r store.Scanner, m *imp) error { return r.Scan(&m.id, &m.idx) })
	if err != nil {
		return nil, err
	}
	for _, im := range list {
		o.ids = append(o.ids, im.id)
		if err := s.applyImport(ctx, o, len(o.ids)-1); err != nil {
			return nil, err
		}
		o.imports++
		o.lastIdx = im.idx
		o.latest = im.id
	}
	o.loaded = true
	return o, nil
}

// bodsVersion is what an ownership graph is the state of: how many
// imports of its jurisdiction (the argument) the log holds and the log
// index of the latest.
const bodsVersion = "SELECT COUNT(*), COALESCE(MAX(log_index), -1) FROM assets_bods_imports WHERE jurisdiction = ?"

// importGraphSQL reads an import's statements for the ownership graph, in
// the order of their ids (import/position), through the index
// assets_bods_import (TestImportReadsUseTheIndex).
const importGraphSQL = `SELECT record_id, record_type, record_status, name, kind, subject, party, interests, pos,
		CASE WHEN sealed IS NOT NULL OR erased_commitment <> '' THEN 1 ELSE 0 END
		FROM assets_bods_statements WHERE import_id = ? ORDER BY id`

func (s *Service) applyImport(ctx context.Context, o *ownership, imp int) error {
	id := o.ids[imp]
	rows, err := s.DB.Read().Query(ctx, importGraphSQL, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	var st bods.Statement
	var interests string
	var pos, sealed int64
	for rows.Next() {
		st.Interests = nil
		if err := rows.Scan(&st.RecordID, &st.RecordType, &st.RecordStatus, &st.Name, &st.Kind, &st.Subject, &st.InterestedParty, &interests, &pos, &sealed); err != nil {
			return err
		}
		if interests != "" {
			if err := json.Unmarshal([]byte(interests), &st.Interests); err != nil {
				return err
			}
		}
		// A person statement of an import made before persons were
		// sealed (assets migration 4) keeps its name in clear in its row:
		// it is read as a sealed one is, so that the graph holds no
		// person's name and a lookup gives it only to whoever may open
		// personal data, listing it in sealed for the others.
		clear := st.RecordType == bods.Person && sealed == 0 && st.Name != ""
		if clear {
			st.Name = ""
		}
		o.g.Apply(&st)
		if sealed == 1 || clear {
			o.sealed[o.g.Ref(st.RecordID)] = sealedRow(imp, pos)
		}
	}
	return rows.Err()
}

// Ownership questions.
const (
	QuestionOwners   = "owners"
	QuestionControls = "controls"
)

// Lookup channels.
var lookupVias = []string{"api", "web", "cli"}

// What the ownership page, its drawing and the command line write in
// place of a person's name they do not show (NameLabel): one wording each
// everywhere, never a blank nor bods.Unnamed ("Unspecified"), which reads
// as a party no statement names.
var (
	// ErasedName: a person whose personal data was erased.
	ErasedName = i18n.M("(erased)")
	// SealedName: a natural person whose name is sealed and that the
	// reader may not open (OpenPersonalData: the regulator, the auditor).
	SealedName = i18n.M("(name sealed)")
)

// OwnershipAnswer is a lookup's answer with what the log recorded of it.
type OwnershipAnswer struct {
	bods.Answer
	// Erased are the persons of the answer whose personal data was erased
	// (EraseBODSPerson): their names are gone for every reader.
	Erased []string `json:"erased,omitempty"`
	// Sealed are the persons of the answer whose names are sealed and that
	// the reader may not open: their names are there for whoever may.
	Sealed      []string `json:"sealed,omitempty"`
	Question    string   `json:"question"`
	Source      string   `json:"source"`
	Imports     int64    `json:"imports"`
	RetrievedAt string   `json:"retrieved_at"`
	LogIndex    int64    `json:"log_index"`
}

// Ownership answers who ultimately owns or controls the entity recordID
// (question owners) or which entities the person or entity recordID holds
// interests in (controls), from every import of p's state in the log: a
// register is a state's, and another state's is asked for through a
// request, so a record of another state's register is not found. The lookup is
// logged (assets.bods_looked_up: the question, the channel, the imports it
// was read from and when) before the answer is given; its entry joins the
// writer's group commit, and what the answer takes from the registry
// beside the graph (the persons' names, their erasure) is read in that
// entry's transaction (bodsLookup.decide).
func (s *Service) Ownership(ctx context.Context, p *auth.Principal, question, recordID, via string) (*OwnershipAnswer, error) {
	if err := p.Require(ReadOwnership); err != nil {
		return nil, err
	}
	if question != QuestionOwners && question != QuestionControls {
		return nil, errs.Invalidf("one_of", "question", "the question is owners or controls")
	}
	if err := checkVia(via); err != nil {
		return nil, err
	}
	recordID, err := check.Line("record_id", recordID, 200, true)
	if err != nil {
		return nil, err
	}
	for try := 0; ; try++ {
		if p.Jurisdiction == "" {
			return nil, errs.New(errs.NotFound, "reference", "record_id", "no person or entity %s in the beneficial ownership statements", recordID)
		}
		o, err := s.ownership(ctx, p.Jurisdiction, try > 0)
		if err != nil {
			return nil, err
		}
		l := &bodsLookup{s: s, open: p.Can(OpenPersonalData), d: bodsLookedUp{Question: question, RecordID: recordID, Via: via, Jurisdiction: p.Jurisdiction}}
		o.mu.RLock()
		if question == QuestionOwners {
			l.a.Answer = o.g.UltimateOwners(recordID)
		} else {
			l.a.Answer = o.g.Controls(recordID)
		}
		l.imports, l.lastIdx, l.d.Source = o.imports, o.lastIdx, o.latest
		l.persons(o)
		o.mu.RUnlock()
		if !l.a.Found {
			if try == 0 {
				continue // an import this graph has not seen yet may hold it
			}
			return nil, errs.New(errs.NotFound, "reference", "record_id", "no person or entity %s in the beneficial ownership statements", recordID)
		}
		l.d.ID, l.d.Imports, l.d.Holdings, l.d.Holders = s.W.IDs().New("BL"), l.imports, len(l.a.Holdings), len(l.a.Holders)
		res, err := s.W.Submit(ctx, p.Actor(), "look up beneficial ownership", l.decide)
		if errors.Is(err, errBODSChanged) && try < 3 {
			continue // answer again from the graph with the imports added
		}
		if err != nil {
			return nil, err
		}
		l.a.Question, l.a.Source, l.a.Imports, l.a.RetrievedAt, l.a.LogIndex = question, l.d.Source, l.imports, l.d.RetrievedAt, res.Index
		return &l.a, nil
	}
}

// NameLabel is what the ownership page, its drawing and the command line
// write for the party n of the answer: its name; ErasedName for a person
// whose personal data was erased; SealedName for a person whose name is
// sealed and that the reader may not open; bods.Unnamed for a party no
// statement names (an unspecified party, the empty node of its holding; a
// record no statement declares; a party whose statement gives no name).
// It is never "". placeholder tells that the label is one of those
// wordings, a message to translate, not a name.
func (a *OwnershipAnswer) NameLabel(n bods.Node) (label string, placeholder bool) {
	switch {
	case n.ID != "" && slices.Contains(a.Erased, n.ID):
		return ErasedName, true
	case n.Name == "" && n.ID != "" && slices.Contains(a.Sealed, n.ID):
		return SealedName, true
	case n.Name == "":
		return bods.Unnamed, true
	}
	return n.Name, false
}

// errBODSChanged refuses a lookup's entry when an import was added to the
// log after the graph it was answered from: Ownership answers again.
var errBODSChanged = ledger.Stale{Refusal: errs.New(errs.Conflict, "bods_changed", "record_id", "the beneficial ownership statements changed while the answer was made: look it up again")}

// bodsLookup is a lookup between its answer from the graph and its entry.
type bodsLookup struct {
	s                *Service
	a                OwnershipAnswer
	d                bodsLookedUp
	open             bool // the principal may open personal data
	imports, lastIdx int64
	// nodes are the answer's nodes of persons whose names are not in the
	// graph (sealed, or not given), rows the rows their names are opened
	// from ("" for none), keys those rows, each once.
	nodes []*bods.Node
	rows  []string
	keys  []any
}

// persons lists the persons of the answer whose names are not in the
// graph, and the rows of those that have sealed statements.
func (l *bodsLookup) persons(o *ownership) {
	a := &l.a.Answer
	add := func(n *bods.Node) {
		if n.Type != bods.Person || n.Name != "" {
			return
		}
		row := ""
		if ref, ok := o.g.Find(n.ID); ok {
			if r, ok := o.sealed[ref]; ok {
				row = o.rowKey(r)
			}
		}
		l.nodes, l.rows = append(l.nodes, n), append(l.rows, row)
		if row != "" && !slices.Contains(l.keys, any(row)) {
			l.keys = append(l.keys, row)
		}
	}
	add(&a.Root)
	for i := range a.Holdings {
		add(&a.Holdings[i].Node)
	}
	for i := range a.Holders {
		add(&a.Holders[i].Node)
	}
	for i := range a.Nodes {
		add(&a.Nodes[i])
	}
}

// bodsRowsAtOnce is how many rows one read of the persons' sealed rows asks
// for: one statement text whatever the answer's size (the keys not needed
// are given as the empty string, which no row's key is).
const bodsRowsAtOnce = 16

var bodsRowsQuery = "SELECT id, wrapped_key, sealed, erased_commitment, name FROM assets_bods_statements WHERE id IN (?" +
	strings.Repeat(", ?", bodsRowsAtOnce-1) + ")"

// decide is the lookup's command, in the writer's transaction: it refuses
// (errBODSChanged) when an import was added since the graph was read,
// reads the persons' rows (opening their names for whoever may, and
// naming those erased) and returns the entry. What the answer gives is
// thus the registry's state at the entry's place in the log.
func (l *bodsLookup) decide(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
	var n, last int64
	if err := tx.QueryRow(ctx, bodsVersion, l.d.Jurisdiction).Scan(&n, &last); err != nil {
		return nil, err
	}
	if n != l.imports || last != l.lastIdx {
		return nil, errBODSChanged
	}
	names := map[string]string{}
	erased := map[string]bool{}
	args := make([]any, bodsRowsAtOnce)
	for i := 0; i < len(l.keys); i += bodsRowsAtOnce {
		for k := range args {
			args[k] = ""
			if i+k < len(l.keys) {
				args[k] = l.keys[i+k]
			}
		}
		rows, err := tx.Query(ctx, bodsRowsQuery, args...)
		if err != nil {
			return nil, err
		}
		type personRow struct {
			key, commitment, name string
			wrapped, sealed       []byte
		}
		read, err := store.Rows(rows, func(sc store.Scanner, r *personRow) error {
			return sc.Scan(&r.key, &r.wrapped, &r.sealed, &r.commitment, &r.name)
		})
		if err != nil {
			return nil, err
		}
		for _, r := range read {
			switch {
			case r.commitment != "":
				erased[r.key] = true
			case l.open && len(r.sealed) > 0:
				raw, err := l.s.Vault.OpenRow(r.key, r.wrapped, r.sealed)
				if err != nil {
					return nil, err
				}
				names[r.key] = bods.PersonName(raw)
			case l.open && len(r.sealed) == 0:
				names[r.key] = r.name // a statement imported before persons were sealed, its name in clear
			}
		}
	}
	l.a.Erased, l.a.Sealed, l.d.Personal = nil, nil, false
	for i, n := range l.nodes {
		switch row := l.rows[i]; {
		case erased[row]:
			if !slices.Contains(l.a.Erased, n.ID) {
				l.a.Erased = append(l.a.Erased, n.ID)
			}
		case row != "" && !l.open:
			n.Name = "" // sealed, and so again when the batch runs twice
			if !slices.Contains(l.a.Sealed, n.ID) {
				l.a.Sealed = append(l.a.Sealed, n.ID)
			}
		default:
			n.Name = names[row] // "" unless opened (and so again when the batch runs twice)
			l.d.Personal = l.d.Personal || n.Name != ""
		}
	}
	slices.Sort(l.a.Erased)
	slices.Sort(l.a.Sealed)
	l.d.RetrievedAt = ledger.FormatTime(l.s.bodsNow())
	return ledger.NewEntry(TypeBODSLookedUp, l.d)
}

func checkVia(via string) error {
	for _, v := range lookupVias {
		if v == via {
			return nil
		}
	}
	return errs.Invalidf("one_of", "via", "the channel is api, web or cli")
}

func (s *Service) bodsNow() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ListBODS is the list an export of the beneficial ownership statements
// names in its export.made entry (registry assets).
const ListBODS = "bods"

// The formats of a BODS export, as its entry names them: a JSON array (a
// BODS package) or JSON Lines.
const (
	BODSJSON  export.Format = "json"
	BODSLines export.Format = "jsonl"
)

// BODSMediaType is the media type of a BODS export of format f.
func BODSMediaType(f export.Format) string {
	if f == BODSLines {
		return "application/jsonl"
	}
	return "application/json"
}

// ExportBODS writes every statement of every import of p's state in the
// log, in log order and as given, as one JSON array (a BODS package, format
// BODSJSON) or as JSON Lines (BODSLines): another state's register is not
// exported (an empty package for a principal of no state). The export is
// recorded as every export of custos is (export.File): its export.made
// entry, written before the file, names the state read (filter
// jurisdiction), whether the file holds personal data and the log
// checkpoint the file reflects, since the statements are read in the
// snapshot of that checkpoint. start, when not nil, is called with the
// export's Meta before the first byte is written; an error before it
// leaves w untouched.
func (s *Service) ExportBODS(ctx context.Context, p *auth.Principal, format export.Format, start func(export.Meta), w io.Writer) error {
	if err := p.Require(ReadOwnership); err != nil {
		return err
	}
	if format != BODSJSON && format != BODSLines {
		return errs.Invalidf("one_of", "format", "the format is json or jsonl")
	}
	personal := p.Can(OpenPersonalData)
	req := export.Request{Registry: Module.Name, List: ListBODS, Format: format, Personal: personal,
		Filter: url.Values{"jurisdiction": {p.Jurisdiction}}}
	return export.File(ctx, s.DB, s.W, p.Actor(), req, w, func(ctx context.Context, m export.Meta, w io.Writer) (int, error) {
		if start != nil {
			start(m)
		}
		return s.writeBODS(ctx, p.Jurisdiction, personal, format == BODSLines, w)
	})
}

// writeBODS writes the statements of state's register as ExportBODS
// does, reading them with ctx (the export's snapshot): opened from their
// sealed rows when personal, else a person's without its personal data.
func (s *Service) writeBODS(ctx context.Context, state string, personal, lines bool, w io.Writer) (int, error) {
	rows, err := s.DB.Read().Query(ctx, `SELECT s.id, s.body, s.wrapped_key, s.sealed, s.record_type, s.name FROM assets_bods_statements s JOIN assets_bods_imports i ON i.id = s.import_id
		WHERE i.jurisdiction = ? ORDER BY i.log_index, s.pos`, state)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	bw := bufio.NewWriterSize(w, 1<<16)
	sep, n := "", 0
	if !lines {
		bw.WriteString("[")
	}
	var key, body, recordType, name string
	var wrapped, sealed []byte
	for rows.Next() {
		if err := rows.Scan(&key, &body, &wrapped, &sealed, &recordType, &name); err != nil {
			return 0, err
		}
		switch {
		case personal && len(sealed) > 0:
			raw, err := s.Vault.OpenRow(key, wrapped, sealed)
			if err != nil {
				return 0, err
			}
			body = string(raw)
		case !personal && recordType == bods.Person && name != "":
			// A person statement imported before persons were sealed,
			// stored as given: written as a sealed one's public body is.
			st, err := bods.Derive([]byte(body))
			if err != nil {
				return 0, err
			}
			body = string(st.Public)
		}
		n++
		if lines {
			bw.WriteString(body)
			bw.WriteString("\n")
			continue
		}
		bw.WriteString(sep)
		bw.WriteString("\n")
		bw.WriteString(body)
		sep = ","
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	if !lines {
		bw.WriteString("\n]\n")
	}
	return n, bw.Flush()
}
