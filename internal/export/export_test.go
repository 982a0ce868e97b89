package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"iter"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
)

func meta(f Format) Meta {
	return Meta{Registry: "transplant", List: "donors", Filter: url.Values{"blood_group": {"O"}}, Format: f,
		At: time.Date(2026, 12, 2, 9, 15, 0, 0, time.UTC), By: "PR-1", Checkpoint: ledger.Head{Size: 42, Root: []byte{0xab, 0xcd}},
		Entry: 43, ID: "EX-1"}
}

func rowsOf(rows ...[]any) iter.Seq2[[]any, error] {
	return func(yield func([]any, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// TestWriteCSV: the header, an empty line, the columns, the rows with each
// kind of cell, a formula defused, and the row count last.
func TestWriteCSV(t *testing.T) {
	seven := 7
	var buf bytes.Buffer
	n, err := Write(&buf, meta(CSV), []string{"id", "age", "note", "ok"}, rowsOf(
		[]any{"DN-1", &seven, "=HYPERLINK(\"http://x\")", true},
		[]any{"DN-2", (*int)(nil), "-1", false},
		[]any{"DN-3"},
	))
	if err != nil || n != 3 {
		t.Fatalf("Write: %d, %v", n, err)
	}
	want := strings.Join([]string{
		"registry,transplant", "list,donors", "filter,blood_group=O", "exported at (UTC),2026-12-02T09:15:00Z", "exported by,PR-1",
		"log checkpoint size,42", "log checkpoint root,q80= (hex abcd)", "export log entry,43", "export id,EX-1", "personal data,no",
		"", "id,age,note,ok", `DN-1,7,"'=HYPERLINK(""http://x"")",true`, "DN-2,,'-1,false", "DN-3,,,", "rows,3", "",
	}, "\n")
	if buf.String() != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", buf.String(), want)
	}
	if _, err := csv.NewReader(&buf).Read(); err != nil {
		t.Error(err)
	}
}

// TestWriteXLSX: the list's sheet holds numbers as numbers and the rest as
// text (a formula never becomes one), and About holds the header and the
// count.
func TestWriteXLSX(t *testing.T) {
	seven := 7
	var buf bytes.Buffer
	if _, err := Write(&buf, meta(XLSX), []string{"id", "age", "note"}, rowsOf([]any{"DN-1", &seven, "=1+1"}, []any{"DN-2", nil, "x"})); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{"About", "donors"}) {
		t.Errorf("sheets %v", got)
	}
	if typ, _ := f.GetCellType("donors", "B2"); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Errorf("age is of type %v", typ)
	}
	if v, _ := f.GetCellValue("donors", "B2"); v != "7" {
		t.Errorf("age %q", v)
	}
	if fm, _ := f.GetCellFormula("donors", "C2"); fm != "" {
		t.Errorf("a text became the formula %q", fm)
	}
	if v, _ := f.GetCellValue("donors", "C2"); v != "=1+1" {
		t.Errorf("note %q", v)
	}
	about, _ := f.GetRows("About")
	if len(about) != 11 || about[2][1] != "blood_group=O" || about[10][0] != "rows" || about[10][1] != "2" {
		t.Errorf("About %v", about)
	}
}

// TestWriteStopsAtAnError: the error of a row ends the file and is returned.
func TestWriteStopsAtAnError(t *testing.T) {
	boom := errors.New("boom")
	rows := func(yield func([]any, error) bool) {
		if yield([]any{"a"}, nil) {
			yield(nil, boom)
		}
	}
	for _, f := range []Format{CSV, XLSX} {
		var buf bytes.Buffer
		if n, err := Write(&buf, meta(f), []string{"id"}, rows); !errors.Is(err, boom) || n != 1 {
			t.Errorf("%s: %d, %v", f, n, err)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"csv", "xlsx"} {
		if f, err := ParseFormat(s); err != nil || string(f) != s {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, s := range []string{"", "CSV", "pdf", "xlsx "} {
		if _, err := ParseFormat(s); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("%q: %v", s, err)
		}
	}
}

func TestNames(t *testing.T) {
	m := meta(XLSX)
	if got := m.FileName(); got != "transplant-donors-log42-20261202T091500Z.xlsx" {
		t.Errorf("file name %s", got)
	}
	// A figure's id starts with its registry's name: the name says it once.
	fig := m
	fig.List, fig.Format = "transplant-months", CSV
	if got := fig.FileName(); got != "transplant-months-log42-20261202T091500Z.csv" {
		t.Errorf("a figure's file name %s", got)
	}
	for in, want := range map[string]string{"cases": "cases", "a/b:c": "a-b-c", "About": "rows", "": "rows",
		strings.Repeat("x", 40): strings.Repeat("x", 31)} {
		if got := sheetName(in); got != want {
			t.Errorf("sheetName(%q) = %q, want %q", in, got, want)
		}
	}
	m.Filter = nil
	if m.FilterText() != "none" {
		t.Errorf("no filter reads %q", m.FilterText())
	}
}

// french is a catalogue speaking English and French, the French of the
// words an XLSX file's header has (and of one column that is a message).
func french(t *testing.T) *i18n.Localizer {
	t.Helper()
	words := map[string]string{"registry": "registre", "list": "liste", "filter": "filtre", "exported at (UTC)": "exporté le (UTC)",
		"exported by": "exporté par", "log checkpoint size": "taille du point de contrôle du journal",
		"log checkpoint root": "racine du point de contrôle du journal", "export log entry": "entrée du journal de l'export",
		"export id": "identifiant de l'export", "personal data": "données personnelles", "no": "non", "none": "aucun",
		"yes: keep it as the registry keeps personal data": "oui : à conserver comme le registre conserve les données personnelles",
		"rows": "lignes", "About": "À propos", "Month": "Mois"}
	en, fr := map[string]string{}, map[string]string{}
	for id, text := range words {
		en[id], fr[id] = id, text
	}
	file := func(code, name string, msgs map[string]string) *fstest.MapFile {
		b, err := json.Marshal(map[string]any{"language": code, "name": name, "messages": msgs})
		if err != nil {
			t.Fatal(err)
		}
		return &fstest.MapFile{Data: b}
	}
	cat, err := i18n.Load(i18n.Source{Module: "core", FS: fstest.MapFS{"en.json": file("en", "English", en), "fr.json": file("fr", "Français", fr)}})
	if err != nil {
		t.Fatal(err)
	}
	return cat.Localizer("fr")
}

// TestWriteInALanguage: an XLSX file's header names, its About sheet's
// name and a column that is a message are in the exporter's language, a
// column named by a field's code and every value as they are; a CSV file
// is the same in every language (it is for machines), and an XLSX file in
// English is the file without a language.
func TestWriteInALanguage(t *testing.T) {
	fr := french(t)
	cols := []string{"Month", "centre_id"}
	rows := rowsOf([]any{"2026-11", 3})
	write := func(m Meta) []byte {
		var buf bytes.Buffer
		if _, err := Write(&buf, m, cols, rows); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	plain, inFrench := meta(CSV), meta(CSV)
	inFrench.Language = fr
	if a, b := write(plain), write(inFrench); !bytes.Equal(a, b) {
		t.Errorf("the CSV file differs in French:\n%s\n%s", a, b)
	}

	plain.Format, inFrench.Format = XLSX, XLSX
	plain.Personal, inFrench.Personal = true, true
	read := func(b []byte) (sheets []string, about, list [][]string) {
		f, err := excelize.OpenReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sheets = f.GetSheetList()
		about, _ = f.GetRows(sheets[0])
		list, _ = f.GetRows("donors")
		return sheets, about, list
	}
	sheets, about, list := read(write(inFrench))
	if !slices.Equal(sheets, []string{"À propos", "donors"}) {
		t.Errorf("sheets %v", sheets)
	}
	if !slices.Equal(list[0], []string{"Mois", "centre_id"}) || !slices.Equal(list[1], []string{"2026-11", "3"}) {
		t.Errorf("the list in French: %v", list)
	}
	want := [][]string{{"registre", "transplant"}, {"liste", "donors"}, {"filtre", "blood_group=O"}, {"exporté le (UTC)", "2026-12-02T09:15:00Z"},
		{"exporté par", "PR-1"}, {"taille du point de contrôle du journal", "42"}, {"racine du point de contrôle du journal", "q80= (hex abcd)"},
		{"entrée du journal de l'export", "43"}, {"identifiant de l'export", "EX-1"},
		{"données personnelles", "oui : à conserver comme le registre conserve les données personnelles"}, {"lignes", "1"}}
	if !slices.EqualFunc(about, want, slices.Equal) {
		t.Errorf("About in French:\n%q\nwant\n%q", about, want)
	}

	english := plain
	english.Language = i18n.CoreOnly().English()
	s1, a1, l1 := read(write(plain))
	s2, a2, l2 := read(write(english))
	if !slices.Equal(s1, s2) || !slices.EqualFunc(a1, a2, slices.Equal) || !slices.EqualFunc(l1, l2, slices.Equal) || s1[0] != "About" ||
		a1[9][1] != "yes: keep it as the registry keeps personal data" {
		t.Errorf("in English: %v %q %q; without a language: %v %q %q", s2, a2, l2, s1, a1, l1)
	}
	for i, h := range plain.Header() {
		if a1[i][0] != h[0] || a1[i][1] != h[1] {
			t.Errorf("About's line %d is %q, the header's %q", i, a1[i], h)
		}
	}
}

// TestCSVHeaderDefused: a value of the CSV header block that a spreadsheet
// would read as a formula gets the leading quote the rows' cells get: a
// checkpoint root whose base64 starts with + (one in 64), a note's value.
// Before, the header was written as it is. An XLSX file's values are text
// cells, never formulas, and stay as they are.
func TestCSVHeaderDefused(t *testing.T) {
	m := meta(CSV)
	m.Checkpoint.Root = []byte{0xfb, 0xef, 0xbe} // base64 "++++"
	m.Notes = []Note{{Name: i18n.M("note"), Value: "=1+1"}}
	var buf bytes.Buffer
	if _, err := Write(&buf, m, []string{"id"}, rowsOf()); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.SplitN(buf.String(), "\n\n", 2)[0])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range recs {
		got[r[0]] = r[1]
	}
	if want := "'++++ (hex fbefbe)"; got["log checkpoint root"] != want {
		t.Errorf("the root is written %q, want %q", got["log checkpoint root"], want)
	}
	if want := "'=1+1"; got["note"] != want {
		t.Errorf("the note is written %q, want %q", got["note"], want)
	}
	if got["log checkpoint size"] != "42" || got["registry"] != "transplant" {
		t.Errorf("the other values changed: %v", got)
	}
	buf.Reset()
	m.Format = XLSX
	if _, err := Write(&buf, m, []string{"id"}, rowsOf()); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	about, err := f.GetRows("About")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range about {
		if r[0] == "log checkpoint root" && r[1] != "++++ (hex fbefbe)" {
			t.Errorf("the XLSX file's root is %q", r[1])
		}
	}
}
