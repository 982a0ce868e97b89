package bods

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/cputime"
)

// benchGroups is the size of the benchmarks' graph: 100,000 groups of ten
// statements of bench/bods's shape, 1,000,000 statements.
const benchGroups = 100_000

var benchG *Graph

// benchGraph is a graph of bench/bods's shape (two persons, three
// entities, five shareholdings a group; chains of five groups; a loop every
// tenth group), each statement's interests its own objects as the service
// decodes them from the store.
func benchGraph() *Graph {
	if benchG != nil {
		return benchG
	}
	g := NewGraph()
	rec := func(kind string, i int) string { return fmt.Sprintf("%s%07d", kind, i) }
	share := func(v ...float64) []Interest {
		sh := &Share{}
		if len(v) == 1 {
			sh.Exact = &v[0]
		} else {
			sh.Minimum, sh.Maximum = &v[0], &v[1]
		}
		return []Interest{{Type: "shareholding", Direct: "direct", BO: true, Share: sh}}
	}
	rel := func(id, subject, party string, in []Interest) {
		g.Apply(&Statement{RecordID: id, RecordType: Relationship, RecordStatus: StatusNew, Subject: subject, InterestedParty: party, Interests: in})
	}
	for i := 0; i < benchGroups; i++ {
		for _, p := range []string{"P1-", "P2-"} {
			g.Apply(&Statement{RecordID: rec(p, i), RecordType: Person, RecordStatus: StatusNew, Kind: "knownPerson"})
		}
		for _, e := range []string{"E1-", "E2-", "E3-"} {
			g.Apply(&Statement{RecordID: rec(e, i), RecordType: Entity, RecordStatus: StatusNew, Kind: "registeredEntity", Name: fmt.Sprintf("Company %d %s Ltd", i, e)})
		}
		rel(rec("R1-", i), rec("E1-", i), rec("E2-", i), share(60))
		rel(rec("R2-", i), rec("E1-", i), rec("E3-", i), share(40))
		rel(rec("R3-", i), rec("E2-", i), rec("P1-", i), share(25, 50))
		rel(rec("R4-", i), rec("E3-", i), rec("P1-", i), share(100))
		switch {
		case i%10 == 9:
			rel(rec("R5-", i), rec("E3-", i), rec("E1-", i), share(5))
		case i%5 != 4 && i+1 < benchGroups:
			rel(rec("R5-", i), rec("E3-", i), rec("E1-", i+1), share(30))
		default:
			rel(rec("R5-", i), rec("E2-", i), rec("P2-", i), share(10))
		}
	}
	benchG = g
	return g
}

// BenchmarkGraphCollection is what the collector pays for a graph of
// 1,000,000 statements: the CPU of one full collection with the graph
// live, and the heap's objects and bytes after it.
func BenchmarkGraphCollection(b *testing.B) {
	g := benchGraph()
	runtime.GC()
	c0, _ := cputime.Process()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
	}
	b.StopTimer()
	c1, _ := cputime.Process()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.ReportMetric(float64((c1-c0)/time.Microsecond)/float64(b.N)/1000, "cpu-ms/gc")
	b.ReportMetric(float64(m.HeapObjects), "heap-objects")
	b.ReportMetric(float64(m.HeapAlloc)/1e6, "heap-MB")
	runtime.KeepAlive(g)
}

// BenchmarkUltimateOwners answers who owns an entity of that graph, the
// walk and the answer without the service around them.
func BenchmarkUltimateOwners(b *testing.B) {
	g := benchGraph()
	b.ReportAllocs()
	c0, _ := cputime.Process()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a := g.UltimateOwners(fmt.Sprintf("E1-%07d", (i*7919)%benchGroups))
		if len(a.Holdings) == 0 {
			b.Fatal("no owners")
		}
	}
	b.StopTimer()
	c1, _ := cputime.Process()
	b.ReportMetric(float64((c1-c0)/time.Nanosecond)/float64(b.N)/1000, "cpu-µs/op")
}
