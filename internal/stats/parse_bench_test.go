package stats

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/stats/statstest"
)

// BenchmarkParse reads a file of 200,000 records coded with a mapping, as
// an import's first pass does (checking and coding every row), and reports
// the time a record; BenchmarkRecordsDigest the part of it the records'
// multiset digest takes (parsed.addRecord), for their ratio in one run.
func BenchmarkParse(b *testing.B) {
	data, cm := benchFile(b)
	b.ResetTimer()
	for b.Loop() {
		ps := &parser{m: cm, now: "2026-12-31", emit: func(*chunk) error { return nil }}
		if _, err := ps.parse(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/200_000, "ns/record")
}

func BenchmarkRecordsDigest(b *testing.B) {
	var v [numCols]uint32
	for i := range v {
		v[i] = uint32(i * 7)
	}
	v[colRegion], v[colOffence] = 1, 2
	regions, offences := []uint64{textHash(""), textHash("North")}, []uint64{textHash("N001"), textHash("N002"), textHash("N003")}
	var p parsed
	for b.Loop() {
		p.addRecord(&v, regions, offences)
	}
}

func benchFile(b *testing.B) ([]byte, *codeMap) {
	b.Helper()
	rows, err := ParseMapping(strings.NewReader(statstest.Mapping))
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := statstest.Write(io.Writer(&buf), 200_000, statstest.Options{Seed: 1, Counts: true}); err != nil {
		b.Fatal(err)
	}
	m := &Mapping{ID: "bench", Version: 1, Rows: rows}
	return buf.Bytes(), m.codeMap()
}
