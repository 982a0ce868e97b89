package bods

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/errs"
)

// sizedEntity is an entity statement of exactly size bytes (compact JSON),
// its name padded to reach it (statement ids are all of one length).
func sizedEntity(tb testing.TB, b *Builder, recordID string, size int) []byte {
	tb.Helper()
	base := len(b.Entity(recordID, "", "", ""))
	s := b.Entity(recordID, strings.Repeat("a", size-base), "", "")
	if len(s) != size {
		tb.Fatalf("a statement of %d bytes, want %d", len(s), size)
	}
	return s
}

// TestStatementSize: a statement of MaxStatement bytes is read, one byte
// more is refused naming it (statements[N], rule statement_size), in a JSON
// array and in JSON Lines, after the statements before it are read.
func TestStatementSize(t *testing.T) {
	b := &Builder{Prefix: "size", Date: "2026-01-01", Publisher: "p"}
	first := b.Entity("A", "Alpha", "", "")
	under, over := sizedEntity(t, b, "U", MaxStatement), sizedEntity(t, b, "O", MaxStatement+1)
	for _, form := range []struct {
		name string
		join func(...[]byte) []byte
	}{
		{"lines", func(s ...[]byte) []byte { return bytes.Join(s, []byte("\n")) }},
		{"array", func(s ...[]byte) []byte { return append(append([]byte("[\n"), bytes.Join(s, []byte(",\n"))...), ']') }},
	} {
		all, err := ReadAll(bytes.NewReader(form.join(first, under)))
		if err != nil || len(all) != 2 || all[1].Name != strings.Repeat("a", len(all[1].Name)) || len(all[1].Raw) != MaxStatement {
			t.Fatalf("%s: a statement of MaxStatement bytes: %d read, %v", form.name, len(all), err)
		}
		var got []int
		err = Read(bytes.NewReader(form.join(first, under, over, first)), func(n int, _ *Statement) error {
			got = append(got, n)
			return nil
		})
		e, ok := errs.As(err)
		if !ok || e.Rule != "statement_size" || e.Field != "statements[2]" || e.Code != errs.Invalid || len(got) != 2 {
			t.Fatalf("%s: a statement of MaxStatement+1 bytes: %v (read %v)", form.name, err, got)
		}
	}
}

// endless is a statement whose name runs on for 64 MiB (then the stream
// ends, so that a reader without a bound fails rather than hangs),
// counting what is read.
type endless struct {
	head []byte
	n    int
}

func (r *endless) Read(p []byte) (int, error) {
	if r.n < len(r.head) {
		k := copy(p, r.head[r.n:])
		r.n += k
		return k, nil
	}
	if r.n >= 64<<20 {
		return 0, io.EOF
	}
	for i := range p {
		p[i] = 'a'
	}
	r.n += len(p)
	return len(p), nil
}

// TestStatementSizeBounded: a statement whose name goes on for ever is
// refused after reading about MaxStatement bytes of it, not all of it.
func TestStatementSizeBounded(t *testing.T) {
	b := &Builder{Prefix: "endless", Date: "2026-01-01", Publisher: "p"}
	head := append(b.Entity("A", "Alpha", "", ""), "\n"+`{"statementId":"x","recordDetails":{"name":"`...)
	r := &endless{head: head}
	err := Read(io.Reader(r), func(int, *Statement) error { return nil })
	if e, ok := errs.As(err); !ok || e.Rule != "statement_size" || e.Field != "statements[1]" {
		t.Fatalf("an endless statement: %v", err)
	}
	if r.n > 4*MaxStatement {
		t.Fatalf("%d bytes read to refuse a statement over %d", r.n, MaxStatement)
	}
}

// TestShareOverHundredByText: a share whose text is over 100 is refused
// even where it rounds to 100 as a float64 (the schema's bound is
// compared with the number as given).
func TestShareOverHundredByText(t *testing.T) {
	b := &Builder{Prefix: "over", Date: "2026-01-01", Publisher: "p"}
	for _, v := range []string{"100.0000000000000000001", "1.000000000000000000001e2", "100000000000000000000001e-21"} {
		for _, f := range []string{"exact", "minimum", "maximum", "exclusiveMaximum"} {
			r := bytes.Replace(b.Relationship("r1", "A", "P", []float64{50}, ""), []byte(`"exact":50`), []byte(`"`+f+`":`+v), 1)
			_, err := ReadAll(bytes.NewReader(r))
			if e, ok := errs.As(err); !ok || e.Rule != "bods_schema" || e.Field != "statements[0].recordDetails.interests[0].share."+f {
				t.Fatalf("%s %s: %v", f, v, err)
			}
		}
	}
	if _, err := ReadAll(bytes.NewReader(bytes.Replace(b.Relationship("r2", "A", "P", []float64{50}, ""), []byte(`"exact":50`), []byte(`"exact":100.0000000000000000000`), 1))); err != nil {
		t.Fatalf("100 written with zeros: %v", err)
	}
}
