package assets

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
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
const bodsChunk = 65536

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
}

// bodsLookedUp is the data of assets.bods_looked_up: who asked (the
// entry's actor), what, through which channel, from which imports, and
// when the answer was read.
type bodsLookedUp struct {
	ID          string `json:"id"`
	Question    string `json:"question"` // owners, controls, export
	RecordID    string `json:"record_id"`
	Via         string `json:"via"` // api, web, cli
	Source      string `json:"source"`
	Imports     int64  `json:"imports"`
	RetrievedAt string `json:"retrieved_at"`
	Holdings    int    `json:"holdings"`
	// Personal: the answer gave personal data opened from sealed person
	// statements (names in an answer; the statements as given in an export).
	Personal bool `json:"personal,omitempty"`
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
		_, err = q.Exec(ctx, `INSERT INTO assets_bods_imports (id, source, file_sha256, statements, entities, persons, relationships, chunks, digests, imported_at, imported_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, d.Source, d.FileSHA256, d.Statements, d.Entities, d.Persons, d.Relationships, string(chunks), d.Digests, e.At, e.By, idx)
		return err
	})
	ledger.On(reg, TypeBODSLookedUp, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, d *bodsLookedUp) error {
		_, err := q.Exec(ctx, `INSERT INTO assets_bods_lookups (id, question, record_id, via, source, imports, retrieved_at, holdings, personal, looked_up_at, looked_up_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, d.Question, d.RecordID, d.Via, d.Source, d.Imports, d.RetrievedAt, d.Holdings, b2i(d.Personal), e.At, e.By, idx)
		return err
	})
	reg.Check("assets: beneficial ownership statements against their import's chunk digests", verifyBODS)
	reg.Tables(
		ledger.Table{Name: "assets_bods_imports", Order: "id"},
		ledger.Table{Name: "assets_bods_lookups", Order: "id"},
	)
}

// BODSProgress reports an import's progress: phase "validate" (bytes of
// the file read, of size) or "store" (statements stored, of all).
type BODSProgress func(phase string, done, total int64)

// ImportBODS validates a file of BODS 0.4 statements (a JSON array or JSON
// Lines) in full and, when every statement passes, stores them and appends
// one assets.bods_imported entry. A bad statement refuses the whole file,
// naming its JSON path and rule; nothing is written then. A statementId
// already imported is refused (rule duplicate_statement). size is the
// file's size for progress (0 when unknown); progress may be nil.
func (s *Service) ImportBODS(ctx context.Context, p *auth.Principal, source string, r io.Reader, size int64, progress BODSProgress) (*BODSImport, error) {
	if err := p.Require(ImportOwnership); err != nil {
		return nil, err
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
	spill, err := os.CreateTemp("", "custos-bods-*.spill")
	if err != nil {
		return nil, err
	}
	defer os.Remove(spill.Name())
	defer spill.Close()
	bw := bufio.NewWriterSize(spill, 1<<20)
	fileSum := sha256.New()
	cr := &countReader{r: io.TeeReader(r, fileSum)}
	d := bodsImported{ID: s.W.IDs().New("BO"), Source: source, Digests: digestsSealed}
	err = bods.Read(cr, func(n int, st *bods.Statement) error {
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
		return s.spillStatement(bw, statementKey(d.ID, int64(n)), st)
	})
	if err != nil {
		return nil, err
	}
	if d.Statements == 0 {
		return nil, errs.Invalidf("required", "statements", "the file holds no statements")
	}
	if progress != nil {
		progress("validate", cr.n, size)
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	if _, err := spill.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	d.FileSHA256 = hex.EncodeToString(fileSum.Sum(nil))
	d.Chunks, err = s.storeBODS(ctx, d.ID, d.Digests, bufio.NewReaderSize(spill, 1<<20), func(done int64) {
		if progress != nil {
			progress("store", done, d.Statements)
		}
	})
	if err != nil {
		s.discardBODS(d.ID)
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
		Relationships: d.Relationships, Chunks: d.Chunks, Digests: d.Digests, ImportedAt: res.Entry.At, ImportedBy: res.Entry.By, LogIndex: res.Index}, nil
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

// bodsRow is a statement as stored (and spilled before it is stored).
type bodsRow struct {
	f [13]string // statementId, recordId, recordType, recordStatus, statementDate, name, kind, subject, party, interests, body, wrapped key, sealed
}

// spillStatement writes a statement as it will be stored. A person's
// personal data is sealed here, before it touches the disk: its name is
// left out, its body is bods.PersonPublic, and the statement as given is
// sealed under a key of its own bound to ref (the statement's row key).
func (s *Service) spillStatement(w *bufio.Writer, ref string, st *bods.Statement) error {
	interests := ""
	if st.RecordType == bods.Relationship {
		b, err := json.Marshal(st.Interests)
		if err != nil {
			return err
		}
		interests = string(b)
	}
	name, body, wrapped, sealed := st.Name, st.Raw, []byte(nil), []byte(nil)
	if st.RecordType == bods.Person {
		var err error
		if wrapped, sealed, err = s.Vault.SealRow(ref, st.Raw); err != nil {
			return err
		}
		name, body = "", st.Public
	}
	for _, f := range []string{st.StatementID, st.RecordID, st.RecordType, st.RecordStatus, st.StatementDate, name, st.Kind,
		st.Subject, st.InterestedParty, interests, string(body), string(wrapped), string(sealed)} {
		var b [binary.MaxVarintLen64]byte
		if _, err := w.Write(b[:binary.PutUvarint(b[:], uint64(len(f)))]); err != nil {
			return err
		}
		if _, err := w.WriteString(f); err != nil {
			return err
		}
	}
	return nil
}

// How an import's chunk digests are made (bodsImported.Digests).
const digestsSealed = "sealed"

// bodsDigest adds one statement to its chunk's digest: its position, its
// stored body's length and the body, then (digests "sealed", for a sealed
// person statement) ":" and ledger.SealCommitment of its sealed bytes,
// which the log can check without the key.
func bodsDigest(h hash.Hash, digests string, pos int64, body string, wrapped, sealed []byte) {
	fmt.Fprintf(h, "%d:%d:", pos, len(body))
	h.Write([]byte(body))
	if digests == digestsSealed && len(sealed) > 0 {
		fmt.Fprintf(h, ":%s", ledger.SealCommitment(wrapped, sealed))
	}
}

func blob(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

func readSpilled(r *bufio.Reader, row *bodsRow) error {
	for i := range row.f {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			if i == 0 && err == io.EOF {
				return io.EOF
			}
			return io.ErrUnexpectedEOF
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return io.ErrUnexpectedEOF
		}
		row.f[i] = string(b)
	}
	return nil
}

func statementKey(importID string, pos int64) string { return fmt.Sprintf("%s/%09d", importID, pos) }

// bodsRowsPerInsert is how many statements one INSERT stores (16
// parameters each: under both engines' limits on parameters).
const bodsRowsPerInsert = 128

const bodsInsert = `INSERT INTO assets_bods_statements (id, import_id, pos, statement_id, record_id, record_type, record_status,
	statement_date, name, kind, subject, party, interests, body, wrapped_key, sealed) VALUES `

// storeBODS writes the spilled statements of import id in short write
// transactions, bodsRowsPerInsert rows to a statement (the statement is
// the same for every full batch, so it is prepared once), and returns
// each chunk's SHA-256 (of its statements' positions and bodies, in order).
func (s *Service) storeBODS(ctx context.Context, id, digests string, r *bufio.Reader, done func(int64)) ([]string, error) {
	var sums []string
	var sum hash.Hash
	var row bodsRow
	pos := int64(0)
	args := make([]any, 0, 16*bodsRowsPerInsert)
	ids := make([]string, 0, bodsRowsPerInsert)
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", 16), ", ") + ")"
	insert := func(tx *store.Tx) error {
		if len(ids) == 0 {
			return nil
		}
		q := bodsInsert + strings.TrimSuffix(strings.Repeat(tuple+", ", len(ids)), ", ")
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			tx.Rollback()
			first := pos - int64(len(ids))
			for k, sid := range ids {
				if s.statementKnown(ctx, sid) {
					return errs.New(errs.Conflict, "duplicate_statement", fmt.Sprintf("statements[%d].statementId", first+int64(k)),
						"statement %d repeats the statementId of a statement already imported", first+int64(k))
				}
			}
			return err
		}
		args, ids = args[:0], ids[:0]
		return nil
	}
	for {
		tx, err := s.DB.BeginWrite(ctx)
		if err != nil {
			return nil, err
		}
		end := false
		for k := 0; k < bodsRowsPerTx; k++ {
			if err := readSpilled(r, &row); err == io.EOF {
				end = true
				break
			} else if err != nil {
				tx.Rollback()
				return nil, err
			}
			if pos%bodsChunk == 0 {
				if sum != nil {
					sums = append(sums, hex.EncodeToString(sum.Sum(nil)))
				}
				sum = sha256.New()
			}
			wrapped, sealed := blob(row.f[11]), blob(row.f[12])
			bodsDigest(sum, digests, pos, row.f[10], wrapped, sealed)
			args = append(args, statementKey(id, pos), id, pos)
			for _, f := range row.f[:11] {
				args = append(args, f)
			}
			args = append(args, wrapped, sealed)
			ids = append(ids, row.f[0])
			pos++
			if len(ids) == bodsRowsPerInsert {
				if err := insert(tx); err != nil {
					return nil, err
				}
			}
		}
		if err := insert(tx); err != nil {
			return nil, err
		}
		if err := tx.Commit(); err != nil {
			return nil, err
		}
		done(pos)
		if end {
			break
		}
	}
	if sum != nil {
		sums = append(sums, hex.EncodeToString(sum.Sum(nil)))
	}
	return sums, nil
}

func (s *Service) statementKnown(ctx context.Context, statementID string) bool {
	var n int
	err := s.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM assets_bods_statements WHERE statement_id = ?", statementID).Scan(&n)
	return err == nil && n > 0
}

// discardBODS deletes the statements of an import whose entry is not in the log.
func (s *Service) discardBODS(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tx, err := s.DB.BeginWrite(ctx)
	if err != nil {
		return
	}
	if _, err := tx.Exec(ctx, "DELETE FROM assets_bods_statements WHERE import_id = ? AND NOT EXISTS (SELECT 1 FROM assets_bods_imports WHERE id = ?)", id, id); err != nil {
		tx.Rollback()
		return
	}
	_ = tx.Commit()
}

const bodsImportCols = "id, source, file_sha256, statements, entities, persons, relationships, chunks, digests, imported_at, imported_by, log_index"

func scanBODSImport(r store.Scanner, m *BODSImport) error {
	var chunks string
	if err := r.Scan(&m.ID, &m.Source, &m.FileSHA256, &m.Statements, &m.Entities, &m.Persons, &m.Relationships, &chunks, &m.Digests, &m.ImportedAt, &m.ImportedBy, &m.LogIndex); err != nil {
		return err
	}
	return json.Unmarshal([]byte(chunks), &m.Chunks)
}

// BODSImports lists the imports, oldest first.
func (s *Service) BODSImports(ctx context.Context, p *auth.Principal) ([]BODSImport, error) {
	if err := p.Require(ReadOwnership); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, "SELECT "+bodsImportCols+" FROM assets_bods_imports ORDER BY log_index")
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, scanBODSImport)
}

// ownership is a service's ownership graph: the statements of every
// import in the log, applied in log order, refreshed when an import is
// added (by this server or another).
type ownership struct {
	mu      sync.RWMutex
	g       *bods.Graph
	imports int64
	lastIdx int64
	latest  string
}

var graphs sync.Map // *store.DB -> *ownership

func (s *Service) ownership(ctx context.Context) (*ownership, error) {
	v, _ := graphs.LoadOrStore(s.DB, &ownership{g: bods.NewGraph(), lastIdx: -1})
	o := v.(*ownership)
	var n, last int64
	var latest string
	if err := s.DB.Read().QueryRow(ctx, "SELECT COUNT(*), COALESCE(MAX(log_index), -1) FROM assets_bods_imports").Scan(&n, &last); err != nil {
		return nil, err
	}
	o.mu.RLock()
	fresh := n == o.imports && last == o.lastIdx
	o.mu.RUnlock()
	if fresh {
		return o, nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if n == o.imports && last == o.lastIdx {
		return o, nil
	}
	rows, err := s.DB.Read().Query(ctx, "SELECT id, log_index FROM assets_bods_imports WHERE log_index > ? ORDER BY log_index", o.lastIdx)
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
		if err := s.applyImport(ctx, o.g, im.id); err != nil {
			return nil, err
		}
		o.imports++
		o.lastIdx = im.idx
		latest = im.id
	}
	if latest != "" {
		o.latest = latest
	}
	return o, nil
}

func (s *Service) applyImport(ctx context.Context, g *bods.Graph, id string) error {
	rows, err := s.DB.Read().Query(ctx, `SELECT record_id, record_type, record_status, name, kind, subject, party, interests
		FROM assets_bods_statements WHERE import_id = ? ORDER BY id`, id) // id is import/position: the key's order
	if err != nil {
		return err
	}
	defer rows.Close()
	var st bods.Statement
	var interests string
	for rows.Next() {
		st.Interests = nil
		if err := rows.Scan(&st.RecordID, &st.RecordType, &st.RecordStatus, &st.Name, &st.Kind, &st.Subject, &st.InterestedParty, &interests); err != nil {
			return err
		}
		if interests != "" {
			if err := json.Unmarshal([]byte(interests), &st.Interests); err != nil {
				return err
			}
		}
		g.Apply(&st)
	}
	return rows.Err()
}

// Ownership questions.
const (
	QuestionOwners   = "owners"
	QuestionControls = "controls"
	QuestionExport   = "export"
)

// Lookup channels.
var lookupVias = []string{"api", "web", "cli"}

// OwnershipAnswer is a lookup's answer with what the log recorded of it.
type OwnershipAnswer struct {
	bods.Answer
	// Erased are the persons of the answer whose personal data was erased
	// (EraseBODSPerson): their names are gone for every reader.
	Erased      []string `json:"erased,omitempty"`
	Question    string   `json:"question"`
	Source      string   `json:"source"`
	Imports     int64    `json:"imports"`
	RetrievedAt string   `json:"retrieved_at"`
	LogIndex    int64    `json:"log_index"`
}

// Ownership answers who ultimately owns or controls the entity recordID
// (question owners) or which entities the person or entity recordID holds
// interests in (controls), from every import in the log. The lookup is
// logged (assets.bods_looked_up: the question, the channel, the imports it
// was read from and when) before the answer is given; its entry joins the
// writer's group commit.
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
	o, err := s.ownership(ctx)
	if err != nil {
		return nil, err
	}
	o.mu.RLock()
	var a bods.Answer
	if question == QuestionOwners {
		a = o.g.UltimateOwners(recordID)
	} else {
		a = o.g.Controls(recordID)
	}
	imports, latest := o.imports, o.latest
	o.mu.RUnlock()
	if !a.Found {
		return nil, errs.New(errs.NotFound, "reference", "record_id", "no person or entity %s in the beneficial ownership statements", recordID)
	}
	personal, err := s.personNames(ctx, p, &a)
	if err != nil {
		return nil, err
	}
	ids, _ := personsOf(&a)
	erased, err := erasedPersons(ctx, s.DB.Read(), ids)
	if err != nil {
		return nil, err
	}
	ans := &OwnershipAnswer{Answer: a, Erased: erased, Question: question, Source: latest, Imports: imports, RetrievedAt: ledger.FormatTime(s.bodsNow())}
	ans.LogIndex, err = s.logLookup(ctx, p, question, recordID, via, ans.Source, imports, ans.RetrievedAt, len(a.Holdings), personal)
	if err != nil {
		return nil, err
	}
	return ans, nil
}

func checkVia(via string) error {
	for _, v := range lookupVias {
		if v == via {
			return nil
		}
	}
	return errs.Invalidf("one_of", "via", "the channel is api, web or cli")
}

func (s *Service) logLookup(ctx context.Context, p *auth.Principal, question, recordID, via, source string, imports int64, retrieved string, holdings int, personal bool) (int64, error) {
	d := bodsLookedUp{ID: s.W.IDs().New("BL"), Question: question, RecordID: recordID, Via: via, Source: source, Imports: imports, RetrievedAt: retrieved, Holdings: holdings, Personal: personal}
	res, err := s.W.Submit(ctx, p.Actor(), "look up beneficial ownership", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		return ledger.NewEntry(TypeBODSLookedUp, d)
	})
	return res.Index, err
}

func (s *Service) bodsNow() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ExportBODS writes every statement of every import in the log, in log
// order and as given, as one JSON array (a BODS package) or as JSON Lines.
// The export is logged like a lookup (question export) before it is
// written.
func (s *Service) ExportBODS(ctx context.Context, p *auth.Principal, via string, lines bool, w io.Writer) error {
	if err := p.Require(ReadOwnership); err != nil {
		return err
	}
	if err := checkVia(via); err != nil {
		return err
	}
	var n int64
	var latest string
	if err := s.DB.Read().QueryRow(ctx, "SELECT COUNT(*), COALESCE(MAX(id), '') FROM assets_bods_imports").Scan(&n, &latest); err != nil {
		return err
	}
	personal := p.Can(OpenPersonalData)
	if _, err := s.logLookup(ctx, p, QuestionExport, "", via, latest, n, ledger.FormatTime(s.bodsNow()), 0, personal); err != nil {
		return err
	}
	rows, err := s.DB.Read().Query(ctx, `SELECT s.id, s.body, s.wrapped_key, s.sealed FROM assets_bods_statements s JOIN assets_bods_imports i ON i.id = s.import_id
		ORDER BY i.log_index, s.pos`)
	if err != nil {
		return err
	}
	defer rows.Close()
	bw := bufio.NewWriterSize(w, 1<<16)
	sep := ""
	if !lines {
		bw.WriteString("[")
	}
	var key, body string
	var wrapped, sealed []byte
	for rows.Next() {
		if err := rows.Scan(&key, &body, &wrapped, &sealed); err != nil {
			return err
		}
		if personal && len(sealed) > 0 {
			raw, err := s.Vault.OpenRow(key, wrapped, sealed)
			if err != nil {
				return err
			}
			body = string(raw)
		}
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
		return err
	}
	if !lines {
		bw.WriteString("\n]\n")
	}
	return bw.Flush()
}
