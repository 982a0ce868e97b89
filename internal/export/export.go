// Package export downloads the lists of every registry as CSV or XLSX. An
// export reads its whole list in one snapshot of the registry, the state of
// one log checkpoint, and names that checkpoint in its header with the
// registry, the list, the filter and the time, so that every figure in it can
// be traced back to the log. Every export is itself an entry of the log
// (TypeMade), written before its first row, and the file names that entry;
// once its last byte is sent a second entry (TypeCompleted) records its row
// count and the SHA-256 of the bytes sent, so that a file can be checked
// against the log (Check).
//
// A registry exports a list with Serve (over HTTP) or Export (to any
// writer): it gives the list's columns and a function that yields its rows,
// reading them with the context it is handed (the snapshot), for example by
// walking its pages with Pages.
//
// Languages: a CSV file is for machines (and is the format custos's
// figures are published in), so it is the same whoever makes it, in
// whatever language they read custos: its header's names, its columns and
// its values as they are. An XLSX file is opened by people: the names of
// its header (the sheet "About") are written in the exporter's language
// (Request.Language), as is every column's header that is a message (a
// figure's "Month"); a column named by a field's code ("centre_id", the
// name the API and the filters give it) keeps it in every language, as
// rules and fields do, and every value keeps its standard format (RFC 3339
// times, plain numbers) in both formats.
package export

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"iter"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/store"
)

// Format is a file format of an export.
type Format string

// The formats an export is written in.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
	// SDMXCSV is SDMX-CSV, what statistical offices exchange: the columns
	// and the rows only, without the header block and the closing row
	// count, so that SDMX tools read it. The export is logged as any other
	// (its entry and the headers of SetHeaders say which checkpoint it
	// reflects). Lists do not offer it (ParseFormat refuses it); the
	// statistics registry's tables do.
	SDMXCSV Format = "sdmx-csv"
)

// Formats are the formats, as the format query parameter names them.
var Formats = []string{string(CSV), string(XLSX)}

// ParseFormat reads the format query parameter: csv or xlsx; anything else
// is refused (invalid, rule format, field format).
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case CSV, XLSX:
		return Format(s), nil
	}
	return "", errs.Invalidf("format", "format", "format must be one of csv, xlsx")
}

// ContentType is the media type of a file of format f.
func (f Format) ContentType() string {
	if f == XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// Query reads the query parameters of a list's export: the format (csv or
// xlsx, once), and the list's filter, which is the rest less its empty
// parameters (they filter nothing). An export holds the whole filtered list:
// limit and cursor are refused (rule query). The list refuses a filter it
// does not have when it reads the filter.
func Query(q url.Values) (Format, url.Values, error) {
	filter := url.Values{}
	for k, vs := range q {
		if len(vs) == 1 && vs[0] == "" {
			continue
		}
		filter[k] = append([]string(nil), vs...)
	}
	if len(filter["format"]) > 1 {
		return "", nil, errs.Invalidf("query", "format", "format is given more than once")
	}
	format, err := ParseFormat(filter.Get("format"))
	if err != nil {
		return "", nil, err
	}
	filter.Del("format")
	for _, name := range []string{"limit", "cursor"} {
		if filter.Has(name) {
			return "", nil, errs.Invalidf("query", name, "an export holds the whole filtered list: it takes no %s", name)
		}
	}
	return format, filter, nil
}

// Request is one export asked for.
type Request struct {
	// Registry and List name what is exported ("transplant", "donors").
	Registry, List string
	// Filter is the list's filter as the request gave it (its query
	// parameters, without limit, cursor and format).
	Filter url.Values
	Format Format
	// Personal says that the rows carry personal data. The registry has
	// checked that the principal may export them; the log entry says so.
	Personal bool
	// Columns are the names of the columns, in the order of each row's cells.
	Columns []string
	// Language is the language of the file's words for people: an XLSX
	// file's header names and the columns that are messages (see the
	// package's comment). Nil is the request's (Serve: the API's
	// Accept-Language), else English.
	Language *i18n.Localizer
	// Notes are lines the header block adds after its own (CSV, and the
	// sheet "About" of an XLSX file): what the rows alone do not say of
	// their figures. An SDMX-CSV file has no header block: it carries such
	// a fact in its columns.
	Notes []Note
	// Rows yields the rows, each a cell per column (string, int, int64,
	// *int, bool, time.Time or nil), reading with ctx: under it, every read
	// of the registry's store sees the snapshot of the export. An error ends
	// the export.
	Rows func(ctx context.Context) iter.Seq2[[]any, error]
	// Rand is the source of a file of personal data's digest salt
	// (Meta.Salt); nil is crypto/rand. The golden log's generator gives a
	// seeded one, so that the history it records is the same at every run.
	Rand io.Reader
}

// Note is a line of an export's header block that a registry adds: a name
// (words for people, written in an XLSX file's language) and a value
// (data, as it is).
type Note struct {
	Name  i18n.Msg
	Value string
}

// Meta is the header of an export: what it is and which state of the log it
// reflects.
type Meta struct {
	Registry, List string
	Filter         url.Values
	Format         Format
	// At is when the export was made (UTC).
	At time.Time
	// By is the principal who made it.
	By string
	// Checkpoint is the log head the rows reflect: every row was written by a
	// leaf below Checkpoint.Size, and no later leaf is reflected.
	Checkpoint ledger.Head
	// Entry is the log index of the export's own entry (at or after
	// Checkpoint.Size).
	Entry int64
	// ID is the export's identifier, as its log entry names it.
	ID       string
	Personal bool
	// Language is the language of an XLSX file's header names (nil:
	// English); a CSV file's are the same in every language.
	Language *i18n.Localizer
	// Notes are the registry's lines after the header's own (Request.Notes).
	Notes []Note
	// Salt, when set, is a header line of random hex that the log does not
	// hold: Export sets it in a file of personal data, so that the digest
	// its TypeCompleted entry logs cannot be used to confirm a guess of a
	// small file's rows by whoever reads the log.
	Salt string
}

// FilterText is the filter as a query string in name order ("none" when the
// list is not filtered).
func (m Meta) FilterText() string {
	if len(m.Filter) == 0 {
		return noFilter
	}
	return m.Filter.Encode()
}

// The words of the header block, messages: Header writes them in English,
// an XLSX file in the exporter's language.
var (
	noFilter       = i18n.M("none")
	notPersonal    = i18n.M("no")
	personal       = i18n.M("yes: keep it as the registry keeps personal data")
	rowsName       = i18n.M("rows")
	aboutSheetName = i18n.M("About")
)

// FileName is the name a download of the export is saved under:
// registry-list-checkpoint size-time.format. A list whose name starts with
// its registry's (a dashboard's figure, transplant-months) names it once:
// transplant-months-log..., not transplant-transplant-months-log....
func (m Meta) FileName() string {
	ext := string(m.Format)
	if m.Format == SDMXCSV {
		ext = "csv"
	}
	what := m.Registry + "-" + m.List
	if strings.HasPrefix(m.List, m.Registry+"-") {
		what = m.List
	}
	return fmt.Sprintf("%s-log%d-%s.%s", what, m.Checkpoint.Size, m.At.UTC().Format("20060102T150405Z"), ext)
}

// Header is the header block: one name and value a line, in the order the
// file shows them, in English (as a CSV file has it).
func (m Meta) Header() [][2]string { return m.header(english) }

// header is the header block with its words (names, and the values that
// are words) written by t. The values that are data (the registry's and
// list's codes, the filter, times, sizes, identifiers) stay as they are.
func (m Meta) header(t func(i18n.Msg) string) [][2]string {
	filter := m.FilterText()
	if len(m.Filter) == 0 {
		filter = t(noFilter)
	}
	yes := t(notPersonal)
	if m.Personal {
		yes = t(personal)
	}
	out := [][2]string{
		{t(i18n.M("registry")), m.Registry},
		{t(i18n.M("list")), m.List},
		{t(i18n.M("filter")), filter},
		{t(i18n.M("exported at (UTC)")), m.At.UTC().Format(time.RFC3339)},
		{t(i18n.M("exported by")), m.By},
		{t(i18n.M("log checkpoint size")), strconv.FormatUint(m.Checkpoint.Size, 10)},
		{t(i18n.M("log checkpoint root")), ledger.RootText(m.Checkpoint.Root)},
		{t(i18n.M("export log entry")), strconv.FormatInt(m.Entry, 10)},
		{t(i18n.M("export id")), m.ID},
		{t(i18n.M("personal data")), yes},
	}
	if m.Salt != "" {
		out = append(out, [2]string{t(i18n.M("digest salt")), m.Salt})
	}
	for _, n := range m.Notes {
		out = append(out, [2]string{t(n.Name), n.Value})
	}
	return out
}

// TypeMade is the log entry of an export: who exported which list, with
// which filter, reflecting which checkpoint. It is written before the
// export's first row: an export that cannot be logged is not made.
const TypeMade = "export.made"

// Made is the data of a TypeMade entry.
type Made struct {
	ID             string `json:"id"`
	Registry       string `json:"registry"`
	List           string `json:"list"`
	Filter         string `json:"filter"`
	Format         string `json:"format"`
	CheckpointSize uint64 `json:"checkpoint_size"`
	// CheckpointRoot is the checkpoint's root in hex, as the entries have
	// always carried it: a log entry's field keeps its format (an older
	// release's verify reads it; ledger.RootText shows it to people).
	CheckpointRoot string `json:"checkpoint_root"`
	Personal       bool   `json:"personal"`
}

// SetCheckpoint names in the entry the checkpoint h the export reflects.
func (m *Made) SetCheckpoint(h ledger.Head) {
	m.CheckpointSize, m.CheckpointRoot = h.Size, hex.EncodeToString(h.Root)
}

// TypeCompleted is the log entry of an export written whole: every row of
// a CSV streamed, an XLSX file built and sent. It is written after the
// last byte, so an export cut short (the client gone, an error mid-way)
// has none; it names the export's TypeMade entry and says what was sent.
const TypeCompleted = "export.completed"

// Completed is the data of a TypeCompleted entry. It holds no personal
// data: counts, and a digest of a file that, when the file holds personal
// data, carries a salt the log does not (Meta.Salt).
type Completed struct {
	ID string `json:"id"`
	// Made is the log index of the export's TypeMade entry, the one its
	// file's header names.
	Made  int64 `json:"made"`
	Rows  int   `json:"rows"`
	Bytes int64 `json:"bytes"`
	// SHA256 is the hex SHA-256 of exactly the bytes sent.
	SHA256 string `json:"sha256"`
}

// Project adds the export entries' projectors and their table, exports
// (core migration 26): a row for each TypeMade entry, completed by its
// TypeCompleted entry, which the list of exports reads (List).
func Project(p *ledger.Projections) {
	ledger.On(p, TypeMade, projectMade)
	ledger.On(p, TypeCompleted, projectCompleted)
	p.Tables(ledger.Table{Name: "exports", Order: "id"})
}

// projectMade writes the row of an export made.
func projectMade(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, m *Made) error {
	personal := 0 // booleans are integers (docs/architecture.md, Storage)
	if m.Personal {
		personal = 1
	}
	_, err := q.Exec(ctx, `INSERT INTO exports (log_index, id, made_at, made_by, authority, registry, list, filter, format,
		checkpoint_size, checkpoint_root, personal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		idx, m.ID, e.At, e.By, e.Authority, m.Registry, m.List, m.Filter, m.Format, int64(m.CheckpointSize), m.CheckpointRoot, personal)
	return err
}

// projectCompleted writes what an export's TypeCompleted entry says was
// sent into the row of the TypeMade entry it names, when that entry is
// the export's and has no completed entry yet: the first that names it is
// the export's, as the list has always read them.
func projectCompleted(ctx context.Context, q store.Queryer, idx int64, _ *ledger.Entry, d *Completed) error {
	_, err := q.Exec(ctx, `UPDATE exports SET completed_index = ?, sent_rows = ?, sent_bytes = ?, sha256 = ?
		WHERE id = ? AND log_index = ? AND completed_index IS NULL`, idx, d.Rows, d.Bytes, d.SHA256, d.ID, d.Made)
	return err
}

// FillTable is core migration 26's step: it writes the rows of the exports
// the log held before, through the projectors of their entries, so that log
// verify's replay finds the same rows.
func FillTable(ctx context.Context, tx *store.Tx) error {
	if err := ledger.EntriesOf(ctx, tx, TypeMade, func(idx int64, e *ledger.Entry) error {
		var m Made
		if err := e.Decode(&m); err != nil {
			return fmt.Errorf("leaf %d: %w", idx, err)
		}
		return projectMade(ctx, tx, idx, e, &m)
	}); err != nil {
		return err
	}
	return ledger.EntriesOf(ctx, tx, TypeCompleted, func(idx int64, e *ledger.Entry) error {
		var d Completed
		if err := e.Decode(&d); err != nil {
			return fmt.Errorf("leaf %d: %w", idx, err)
		}
		return projectCompleted(ctx, tx, idx, e, &d)
	})
}

// digestWriter passes what is written on to w, counting and hashing what
// w took.
type digestWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (d *digestWriter) Write(p []byte) (int, error) {
	n, err := d.w.Write(p)
	d.h.Write(p[:n])
	d.n += int64(n)
	return n, err
}

// flusher is an out that holds bytes back until flushed (an HTTP answer):
// Export flushes it before it logs the export as completed.
type flusher interface{ Flush() error }

// Export makes the export req for actor and writes it to out, once its
// first row is read: open a snapshot, read the log head it holds, log the
// export, then write the header and the rows. start is called once before
// the first byte is written, with the header (to set HTTP headers, say); an
// error before it (a refused filter, a failed log write) leaves out
// untouched. It returns the number of rows written.
//
// Once the last byte is written (and out, if it is a flusher, flushed)
// Export logs TypeCompleted with the rows, the bytes and their SHA-256; an
// error before leaves the export without it.
func Export(ctx context.Context, db *store.DB, w *ledger.Writer, actor ledger.Actor, req Request, start func(Meta), out io.Writer) (int, error) {
	snap, err := db.Snapshot(ctx)
	if err != nil {
		return 0, err
	}
	defer snap.Rollback()
	head, _, err := ledger.ReadHead(ctx, snap)
	if err != nil {
		return 0, err
	}
	next, stop := iter.Pull2(req.Rows(store.InSnapshot(ctx, snap)))
	defer stop()
	first, err, ok := next()
	if err != nil {
		return 0, err
	}
	m := Meta{Registry: req.Registry, List: req.List, Filter: req.Filter, Format: req.Format, By: actor.Principal,
		Checkpoint: head, Personal: req.Personal, ID: w.IDs().New("EX"), Language: req.Language, Notes: req.Notes}
	if m.Personal {
		src := req.Rand
		if src == nil {
			src = rand.Reader
		}
		salt := make([]byte, 16)
		if _, err := io.ReadFull(src, salt); err != nil {
			return 0, err
		}
		m.Salt = hex.EncodeToString(salt)
	}
	if err := logMade(ctx, w, actor, &m); err != nil {
		return 0, err
	}
	if start != nil {
		start(m)
	}
	rows := func(yield func([]any, error) bool) {
		if !ok {
			return
		}
		if !yield(first, nil) {
			return
		}
		for {
			row, err, ok := next()
			if !ok || !yield(row, err) || err != nil {
				return
			}
		}
	}
	return logCompleted(ctx, w, actor, m, out, func(out io.Writer) (int, error) { return Write(out, m, req.Columns, rows) })
}

// logMade logs m's TypeMade entry (m.Checkpoint set: the snapshot's head)
// and sets m.Entry and m.At from it.
func logMade(ctx context.Context, w *ledger.Writer, actor ledger.Actor, m *Meta) error {
	made := Made{ID: m.ID, Registry: m.Registry, List: m.List, Filter: m.FilterText(), Format: string(m.Format),
		Personal: m.Personal}
	made.SetCheckpoint(m.Checkpoint)
	res, err := w.Submit(ctx, actor, "export "+m.Registry+" "+m.List, func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
		return ledger.NewEntry(TypeMade, made)
	})
	if err != nil {
		return err
	}
	m.Entry = res.Index
	m.At, err = time.Parse(ledger.TimeLayout, res.Entry.At)
	return err
}

// logCompleted writes the export m's file to out with write (which
// returns its rows), counting and hashing the bytes out took, flushes out
// when it is a flusher, and then logs TypeCompleted: an error before
// leaves the export without it.
func logCompleted(ctx context.Context, w *ledger.Writer, actor ledger.Actor, m Meta, out io.Writer, write func(io.Writer) (int, error)) (int, error) {
	dw := &digestWriter{w: out, h: sha256.New()}
	n, err := write(dw)
	if err != nil {
		return n, err
	}
	if f, ok := out.(flusher); ok {
		if err := f.Flush(); err != nil {
			return n, err
		}
	}
	// The file is out: the client going now does not unmake it.
	done := Completed{ID: m.ID, Made: m.Entry, Rows: n, Bytes: dw.n, SHA256: hex.EncodeToString(dw.h.Sum(nil))}
	_, err = w.Submit(context.WithoutCancel(ctx), actor, "export completed "+m.Registry+" "+m.List, func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
		return ledger.NewEntry(TypeCompleted, done)
	})
	return n, err
}

// Write writes an export of the rows to out in m.Format: the header block,
// then the columns and the rows. It is the one function a registry calls to
// write a table as a file; Export adds the snapshot and the log entry. It
// returns the number of rows written, and stops at the first error of rows.
//
// CSV: the header's lines (name, value), an empty line, the column names,
// the rows, and a last line "rows,N", so that a file cut short shows it.
// XLSX: a sheet named after the list with the column names and the rows, and
// a sheet "About" with the header and the row count; the header's names,
// the sheet's name and the columns that are messages in m.Language.
func Write(out io.Writer, m Meta, columns []string, rows iter.Seq2[[]any, error]) (int, error) {
	if m.Format == XLSX {
		return writeXLSX(out, m, columns, rows)
	}
	return writeCSV(out, m, columns, rows)
}

func writeCSV(out io.Writer, m Meta, columns []string, rows iter.Seq2[[]any, error]) (int, error) {
	cw := csv.NewWriter(out)
	plain := m.Format == SDMXCSV
	if !plain {
		// The header's values are defused as the rows are: the file is
		// for spreadsheets, and a value may start as a formula does (a
		// checkpoint root in base64 starts with + once in 64).
		for _, h := range m.Header() {
			_ = cw.Write([]string{Cell(h[0]), Cell(h[1])})
		}
		_ = cw.Write(nil)
	}
	// The column names are data too where a table's columns are the
	// values of a dimension (the statistics' regions, read from an
	// imported file): a formula among them is defused as in the rows.
	names := make([]string, len(columns))
	for i, c := range columns {
		names[i] = Cell(c)
	}
	_ = cw.Write(names)
	n := 0
	line := make([]string, len(columns))
	for row, err := range rows {
		if err != nil {
			return n, err
		}
		for i := range line {
			line[i] = ""
			if i < len(row) {
				line[i] = text(row[i])
			}
		}
		if err := cw.Write(line); err != nil {
			return n, err
		}
		n++
	}
	if !plain {
		_ = cw.Write([]string{rowsName, strconv.Itoa(n)})
	}
	cw.Flush()
	return n, cw.Error()
}

// Cell is a text as a CSV file custos writes holds it, in its header block,
// its column names and its rows: one that a spreadsheet would read as a
// formula (starting with =, +, -, @, a tab or a carriage return) gets a
// leading quote, so that opening an export never runs what a record holds.
func Cell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// text is a cell as CSV writes it. A text that a spreadsheet would read as a
// formula (starting with =, +, - or @) is written with a leading quote, so
// that opening an export never runs what a record holds.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return Cell(v)
	case *int:
		if v == nil {
			return ""
		}
		return strconv.Itoa(*v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	case time.Time:
		return v.UTC().Format(time.RFC3339)
	default:
		return fmt.Sprint(v)
	}
}

// cell is a value as XLSX writes it: numbers as numbers, the rest as text,
// as it is (a string cell is text, never a formula).
func cell(v any) any {
	switch v := v.(type) {
	case string:
		return v
	case *int:
		if v == nil {
			return nil
		}
		return *v
	case int, int64, nil:
		return v
	case time.Time:
		return v.UTC().Format(time.RFC3339)
	default:
		return text(v)
	}
}

func writeXLSX(out io.Writer, m Meta, columns []string, rows iter.Seq2[[]any, error]) (n int, err error) {
	f := excelize.NewFile()
	defer f.Close()
	sheet := sheetName(m.List)
	if _, err := f.NewSheet(sheet); err != nil {
		return 0, err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return 0, err
	}
	t := english
	if m.Language != nil {
		t = func(id i18n.Msg) string { return m.Language.T(id) }
	}
	head := make([]any, len(columns))
	for i, c := range columns {
		head[i] = excelize.Cell{Value: t(c), StyleID: 0}
	}
	if err := sw.SetRow("A1", head); err != nil {
		return 0, err
	}
	vals := make([]any, len(columns))
	for row, err := range rows {
		if err != nil {
			return n, err
		}
		for i := range vals {
			vals[i] = nil
			if i < len(row) {
				vals[i] = cell(row[i])
			}
		}
		ref, _ := excelize.CoordinatesToCellName(1, n+2)
		if err := sw.SetRow(ref, vals); err != nil {
			return n, err
		}
		n++
	}
	if err := sw.Flush(); err != nil {
		return n, err
	}
	about := aboutName(t, sheet)
	if err := f.SetSheetName("Sheet1", about); err != nil {
		return n, err
	}
	hdr := append(m.header(t), [2]string{t(rowsName), strconv.Itoa(n)})
	for i, h := range hdr {
		if err := f.SetSheetRow(about, fmt.Sprintf("A%d", i+1), &[]any{h[0], h[1]}); err != nil {
			return n, err
		}
	}
	if err := f.SetColWidth(about, "A", "A", 22); err != nil {
		return n, err
	}
	if err := f.SetColWidth(about, "B", "B", 70); err != nil {
		return n, err
	}
	return n, f.Write(out)
}

// english writes a message in English: its ID, as a CSV file and an
// export without a language have it.
func english(id i18n.Msg) string { return id }

// sheetName is a list's name as a sheet may be named (sheetChars), and
// not the name of the other sheet.
func sheetName(s string) string {
	s = sheetChars(s)
	if s == "" || strings.EqualFold(s, aboutSheetName) || strings.EqualFold(s, "Sheet1") {
		s = "rows"
	}
	return s
}

// aboutName is the name of the sheet "About" written by t: English when
// the language's name is not one a sheet may take or is the list's.
func aboutName(t func(i18n.Msg) string, list string) string {
	s := sheetChars(t(aboutSheetName))
	if s == "" || strings.EqualFold(s, list) || strings.EqualFold(s, "Sheet1") {
		return aboutSheetName
	}
	return s
}

// sheetChars is s as a sheet may be named: at most 31 characters, none of
// []:*?/\.
func sheetChars(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return '-'
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 31 {
		s = string(r[:31])
	}
	return s
}

// Pages yields the items of a paged list from its first page to its last:
// list reads the page r asks for, as the registry's list function does, and
// each next page starts at the cursor of the one before. Under Export's
// context, every page reads the same snapshot.
func Pages[T any](ctx context.Context, size int, list func(ctx context.Context, r page.Request) (page.Of[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		r := page.Request{Limit: size}
		for {
			p, err := list(ctx, r)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range p.Items {
				if !yield(it, nil) {
					return
				}
			}
			if p.Next == "" {
				return
			}
			k, err := page.ParseCursor(p.Next)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			r.After = &k
		}
	}
}

// Rows turns the items of a list into rows: cells gives an item's cells, in
// the order of the columns.
func Rows[T any](items iter.Seq2[T, error], cells func(*T) []any) iter.Seq2[[]any, error] {
	return func(yield func([]any, error) bool) {
		for it, err := range items {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(cells(&it), nil) {
				return
			}
		}
	}
}

// Serve answers an HTTP request with the export req made for actor: the
// file, streamed as its rows are read (a CSV download shows its progress in
// the browser as it comes; an XLSX file is sent once built), saved under
// Meta.FileName. An error returned means nothing was written: the caller
// answers it as it answers any error (the API's error body, the UI's page).
// An error once the file has begun aborts the response, so that a download
// cut short fails in the browser rather than looking complete.
func Serve(w http.ResponseWriter, r *http.Request, db *store.DB, lw *ledger.Writer, actor ledger.Actor, req Request) error {
	if req.Language == nil {
		req.Language = i18n.FromContext(r.Context())
	}
	return ServeFile(w, r, func(start func(headers func(http.Header)), out io.Writer) error {
		_, err := Export(r.Context(), db, lw, actor, req, func(m Meta) {
			start(func(h http.Header) { SetHeaders(h, m.Format.ContentType(), m.FileName(), m.Checkpoint, m.Entry) })
		}, out)
		return err
	})
}

// ServeFile answers an HTTP request with an export: exp makes it (Export,
// or File for one that is not a table: a BODS package, a bank's list),
// writing to out, and calls start before its first byte with the function
// that sets the answer's headers (SetHeaders: the checkpoint the file
// reflects, its export.made entry, and what else the answer says). out is
// flushed before the export is logged as completed, so that a client gone
// during the last bytes leaves the export without that entry. An error
// once the file has begun aborts the answer, so that a download cut short
// fails rather than looking complete. HEAD is not a download: the file
// would be made, and its export logged, for nobody to receive it.
func ServeFile(w http.ResponseWriter, r *http.Request, exp func(start func(headers func(http.Header)), out io.Writer) error) error {
	if r.Method == http.MethodHead {
		w.Header().Set("Allow", "GET")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return nil
	}
	started := false
	err := exp(func(headers func(http.Header)) {
		started = true
		headers(w.Header())
		w.WriteHeader(http.StatusOK)
	}, responseFlusher{w})
	if err != nil && started {
		panic(http.ErrAbortHandler)
	}
	return err
}

// responseFlusher is an HTTP answer as Export writes it: flushed before
// the export is logged as completed, so that an error sending its last
// bytes (the client gone) leaves it without the entry.
type responseFlusher struct{ http.ResponseWriter }

func (r responseFlusher) Flush() error {
	err := http.NewResponseController(r.ResponseWriter).Flush()
	if errors.Is(err, http.ErrNotSupported) {
		return nil // a writer that holds nothing back
	}
	return err
}

// The headers in which an export's HTTP answer names the log checkpoint
// its file reflects and the export's own log entry (SetHeaders): what a
// file's header block says, for the files that have none (a bank's list
// in a list format).
const (
	LogSizeHeader  = "Custos-Log-Size"         // the checkpoint's size
	LogRootHeader  = "Custos-Log-Root"         // its root in base64, as the signed checkpoint's root line
	LogEntryHeader = "Custos-Export-Log-Entry" // the leaf index of the export.made entry
)

// SetHeaders sets the headers of an export's HTTP answer, every export's
// (a list's, a figure's, a bank's list): the file's media type and its
// name (an attachment), no cache and no sniffing, and the checkpoint the
// file reflects and the export's log entry (LogSizeHeader, LogRootHeader,
// LogEntryHeader).
func SetHeaders(h http.Header, contentType, fileName string, checkpoint ledger.Head, entry int64) {
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fileName}))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set(LogSizeHeader, strconv.FormatUint(checkpoint.Size, 10))
	h.Set(LogRootHeader, base64.StdEncoding.EncodeToString(checkpoint.Root))
	h.Set(LogEntryHeader, strconv.FormatInt(entry, 10))
}

// CheckpointLine is what a command-line export prints on standard error
// (never into its file) of what SetHeaders' headers name, in the same
// forms: the checkpoint the file reflects (its size, its root in base64)
// and the leaf index of the export's export.made entry, for an auditor to
// tie the file to the log.
func CheckpointLine(checkpoint ledger.Head, entry int64) string {
	return fmt.Sprintf("log checkpoint: size %d, root %s; export.made entry %d",
		checkpoint.Size, base64.StdEncoding.EncodeToString(checkpoint.Root), entry)
}
