package assets_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/storetest"
)

// TestBODSExportIsAnExport: a BODS export is recorded as every export of
// custos is: an export.made entry (registry assets, list bods, the state
// read as its filter, its format, whether it holds personal data) naming
// the log checkpoint the file was read at, and the answer names that
// checkpoint and entry in the export headers, the file itself unchanged
// (the persons as given to the officer, without their personal data to
// the regulator). It logs no lookup; HEAD and an unknown format are
// refused and log nothing; the log verifies.
func TestBODSExportIsAnExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newBODSWorld(t, dsn)
		b := &bods.Builder{Prefix: "ex", Date: "2026-03-01", Publisher: "Demoland companies register"}
		w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=register.jsonl", w.Officer,
			lines(b.Entity("A", "Alpha Holdings Ltd", "DL", ""), b.Person("P", "Pat Example", ""), b.Relationship("r1", "A", "P", []float64{60}, "")))
		state := w.Principal(t, w.Officer).Jurisdiction
		regulator := w.regulator(t)
		for _, c := range []struct {
			who, token, format, media string
			personal                  bool
		}{
			{"officer", w.Officer, "json", "application/json", true},
			{"regulator", regulator, "jsonl", "application/jsonl", false},
		} {
			cp := w.ServedRoot(t)
			exp := w.Do(t, "GET", "/api/v1/assets/bods/export?format="+c.format, c.token, nil)
			all, err := bods.ReadAll(bytes.NewReader(exp.Raw))
			if exp.Status != 200 || err != nil || len(all) != 3 {
				t.Fatalf("%s: %d, %d statements, %v: %s", c.who, exp.Status, len(all), err, exp.Raw)
			}
			if has := bytes.Contains(exp.Raw, []byte("Pat Example")); has != c.personal {
				t.Errorf("%s: the person's name in the file: %v, want %v", c.who, has, c.personal)
			}
			h := exp.Header
			for name, want := range map[string]string{export.LogSizeHeader: strconv.Itoa(cp.Size), export.LogRootHeader: cp.Base64,
				export.LogEntryHeader: strconv.Itoa(cp.Size), "Content-Type": c.media, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
				if got := h.Get(name); got != want {
					t.Errorf("%s: header %s is %q, want %q", c.who, name, got, want)
				}
			}
			if d := h.Get("Content-Disposition"); !strings.Contains(d, "assets-bods-log"+strconv.Itoa(cp.Size)+"-") || !strings.HasSuffix(strings.Trim(d, `"`), "."+c.format) {
				t.Errorf("%s: Content-Disposition %q", c.who, d)
			}
			entry, made := madeOf(t, w, exp)
			if made.Registry != "assets" || made.List != assets.ListBODS || made.Filter != "jurisdiction="+state || made.Format != c.format ||
				made.Personal != c.personal || made.CheckpointSize != uint64(cp.Size) || made.CheckpointRoot != cp.Hex {
				t.Errorf("%s: the export's entry is %+v; want checkpoint %d %s", c.who, made, cp.Size, cp.Hex)
			}
			if bytes.Contains(entry.Data, []byte("Pat")) {
				t.Errorf("%s: the entry holds personal data: %s", c.who, entry.Data)
			}
			// Sent whole, the file is checked against the log by its
			// digest (it has no header), as custos export check does;
			// one byte changed is not.
			got, err := export.Check(context.Background(), w.App.DB.Read(), exp.Raw)
			if err != nil || !got.OK() || got.Made != int64(cp.Size) || got.Logged == nil || got.Logged.Rows != 3 {
				t.Errorf("%s: the file checked against the log: %+v, %v; want its export %d completed with 3 statements", c.who, got, err, cp.Size)
			}
			changed := bytes.Replace(exp.Raw, []byte("Alpha"), []byte("Alpha!"), 1)
			if got, err := export.Check(context.Background(), w.App.DB.Read(), changed); err != nil || got.OK() {
				t.Errorf("%s: a changed file checked OK: %+v, %v", c.who, got, err)
			}
		}
		if n := w.count(t, "assets_bods_lookups"); n != 0 {
			t.Errorf("the exports logged %d lookups, want none: they are export.made entries", n)
		}
		size := w.LogSize(t)
		if r := w.Do(t, "HEAD", "/api/v1/assets/bods/export", w.Officer, nil); r.Status != 405 {
			t.Errorf("HEAD: %d, want 405", r.Status)
		}
		if r := w.Do(t, "GET", "/api/v1/assets/bods/export?format=xml", w.Officer, nil); r.Status != 422 || r.Str("error.field") != "format" {
			t.Errorf("format xml: %d %s", r.Status, r.Raw)
		}
		if got := w.LogSize(t); got != size {
			t.Errorf("refused exports grew the log by %d entries", got-size)
		}
		if rep := w.Verify(t); !rep.OK() {
			t.Fatalf("log verify: %v", rep.Problems)
		}
	})
}

// madeOf reads the log entry an export's answer names (its header
// Custos-Export-Log-Entry), which must be an export.made entry.
func madeOf(t *testing.T, w *bodsWorld, exp *apptest.Response) (*ledger.Entry, export.Made) {
	t.Helper()
	index, err := strconv.ParseInt(exp.Header.Get(export.LogEntryHeader), 10, 64)
	if err != nil {
		t.Fatalf("the export's answer names no entry: %v", exp.Header)
	}
	entry, err := ledger.ReadEntry(context.Background(), w.App.DB.Read(), index)
	if err != nil {
		t.Fatal(err)
	}
	var made export.Made
	if err := entry.Decode(&made); err != nil || entry.Type != export.TypeMade {
		t.Fatalf("entry %d is a %s, want %s (%v)", index, entry.Type, export.TypeMade, err)
	}
	return entry, made
}
