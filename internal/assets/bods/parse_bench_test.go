package bods

import "testing"

// BenchmarkParse checks a mix of statements like bench/bods's (two persons,
// three entities, five shareholdings), one at a time on one core.
func BenchmarkParse(b *testing.B) {
	bd := &Builder{Prefix: "bench", Date: "2026-11-30", Publisher: "Demoland companies register", Subject: "E1-0000000"}
	raws := [][]byte{
		bd.Person("P1-0000000", "Person 0 A", ""), bd.Person("P2-0000000", "Person 0 B", ""),
		bd.Entity("E1-0000000", "Company 0 One Ltd", "DL", ""), bd.Entity("E2-0000000", "Company 0 Two Ltd", "DL", ""),
		bd.Entity("E3-0000000", "Company 0 Three Ltd", "DL", ""),
		bd.Relationship("R1-0000000", "E1-0000000", "E2-0000000", []float64{60}, ""),
		bd.Relationship("R2-0000000", "E1-0000000", "E3-0000000", []float64{40}, ""),
		bd.Relationship("R3-0000000", "E2-0000000", "P1-0000000", []float64{25, 50}, ""),
		bd.Relationship("R4-0000000", "E3-0000000", "P1-0000000", []float64{100}, ""),
		bd.Relationship("R5-0000000", "E2-0000000", "E3-0000000", nil, ""),
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Parse(i, raws[i%len(raws)]); err != nil {
			b.Fatal(err)
		}
	}
}
