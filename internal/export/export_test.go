package export

import (
	"bytes"
	"encoding/csv"
	"errors"
	"iter"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/custos-project/custos/internal/errs"
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
		"log checkpoint size,42", "log checkpoint root,abcd", "export log entry,43", "export id,EX-1", "personal data,no",
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
