package hashmatch

import (
	"fmt"
	"slices"
	"testing"
)

// TestWithoutHeld: the entries whose ids are held (in quarantine) are
// dropped, the others kept in order.
func TestWithoutHeld(t *testing.T) {
	entries := []DocEntry{{EntryID: "a"}, {EntryID: "b"}, {EntryID: "c"}, {EntryID: "d"}}
	ids := func(es []DocEntry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.EntryID)
		}
		return out
	}
	for _, c := range []struct {
		held []string
		want []string
	}{{nil, []string{"a", "b", "c", "d"}}, {[]string{"d", "b", "x"}, []string{"a", "c"}}, {[]string{"a", "b", "c", "d"}, nil}} {
		if got := ids(withoutHeld(slices.Clone(entries), c.held)); !slices.Equal(got, c.want) {
			t.Errorf("held %v: kept %v, want %v", c.held, got, c.want)
		}
	}
}

// BenchmarkWithoutHeld: a version of 20,000 entries of a bank with 20,000
// entries in quarantine (half of them the version's).
func BenchmarkWithoutHeld(b *testing.B) {
	const n = 20_000
	entries := make([]DocEntry, n)
	held := make([]string, n)
	for i := range n {
		entries[i].EntryID = fmt.Sprintf("entry-%06d", 2*i)
		held[i] = fmt.Sprintf("entry-%06d", 3*i)
	}
	work := make([]DocEntry, n)
	b.ReportAllocs()
	for b.Loop() {
		copy(work, entries)
		if got := withoutHeld(work, held); len(got) == n {
			b.Fatal("nothing dropped")
		}
	}
}
