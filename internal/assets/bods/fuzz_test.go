package bods

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/custos-project/custos/internal/errs"
)

// FuzzRead feeds the importer's reader any bytes: it never panics, refuses
// with an errs error, and what it accepts reads back the same from the
// statements it kept (the stored form).
func FuzzRead(f *testing.F) {
	for _, name := range examples {
		if b, err := os.ReadFile(filepath.Join(reference, "examples", name)); err == nil {
			f.Add(b)
		}
	}
	b := &Builder{Prefix: "fuzz", Date: "2026-01-01", Publisher: "p"}
	f.Add(bytes.Join([][]byte{b.Entity("A", "A", "DL", ""), b.Person("P", "P", ""), b.Relationship("r", "A", "P", []float64{10, 20}, "")}, []byte("\n")))
	f.Add([]byte(`[` + string(b.Entity("A", "A", "", "")) + `]`))
	f.Add([]byte(`{"statementId": 1}`))
	f.Add([]byte(`[{}, {}]`))
	f.Add([]byte("\xef\xbb\xbf[]"))
	f.Fuzz(func(t *testing.T, in []byte) {
		all, err := ReadAll(bytes.NewReader(in))
		if err != nil {
			if _, ok := errs.As(err); !ok {
				t.Fatalf("not a refusal: %v", err)
			}
			return
		}
		var again bytes.Buffer
		for _, s := range all {
			again.Write(s.Raw)
			again.WriteByte('\n')
		}
		back, err := ReadAll(&again)
		if len(all) > 0 && (err != nil || len(back) != len(all)) {
			t.Fatalf("accepted %d statements that read back as %d: %v", len(all), len(back), err)
		}
		for i := range back {
			if back[i].StatementID != all[i].StatementID || back[i].RecordID != all[i].RecordID {
				t.Fatalf("statement %d changed on reading back", i)
			}
		}
	})
}
