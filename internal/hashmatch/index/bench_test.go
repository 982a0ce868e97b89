package index

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/cputime"
)

// Benchmarks for the acceptance figures. They build their data only
// when selected with -bench, so plain "go test" stays fast. N=1M always
// runs; N=10M holds two datasets of 10M hashes (about 3.5 GB in all) and
// takes a minute or so of setup on two cores, so it runs only without
// -short and with CUSTOS_BENCH_10M=1:
//
//	go test -run '^$' -bench 'Search/N=1M' -benchtime 2s ./internal/hashmatch/index/
//	CUSTOS_BENCH_10M=1 go test -run '^$' -bench 'Search/N=10M' -benchtime 2s -timeout 30m ./internal/hashmatch/index/
//
// Per dataset (random, clustered): scan-1thread is the brute-force linear
// scan, the baseline for the x-scan speed-up; mih-1thread is Search (the
// automatic path) on one goroutine; batch-allcores is SearchBatch over all
// 1,000 queries at once. Rates are reported per wall-clock second and per
// CPU second; the latter is steadier on a shared machine.

const (
	benchQueries = 1000
	benchRadius  = 31
)

type benchSet struct {
	ids     []uint64
	hashes  []Hash
	queries []Hash
	x       *Index
	buildS  float64
	heapB   float64 // Go heap the index holds, per hash (runtime.MemStats)
	scanQPS float64 // best of scan-1thread and scan4-1thread, for the mih speed-up
}

var (
	benchMu    sync.Mutex
	benchCache = map[string]*benchSet{}
)

func benchSizes() []int {
	// CUSTOS_BENCH_SIZES (comma-separated hash counts) replaces the sizes,
	// for experiments at other scales; -short ignores it.
	if env := os.Getenv("CUSTOS_BENCH_SIZES"); env != "" && !testing.Short() {
		var sizes []int
		for _, f := range strings.Split(env, ",") {
			if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
				sizes = append(sizes, n)
			}
		}
		return sizes
	}
	sizes := []int{1_000_000}
	if !testing.Short() && os.Getenv("CUSTOS_BENCH_10M") == "1" {
		sizes = append(sizes, 10_000_000)
	}
	return sizes
}

// getBenchSet builds (once per process) a haystack of n hashes with ids
// 0..n-1, 1,000 queries of which half lie within distance 31 of a stored
// hash and half are random, and the index over it.
func getBenchSet(b *testing.B, n int, kind string) *benchSet {
	b.Helper()
	key := fmt.Sprint(n, kind)
	benchMu.Lock()
	defer benchMu.Unlock()
	if s, ok := benchCache[key]; ok {
		return s
	}
	rng := rand.New(rand.NewPCG(uint64(n), 31))
	s := &benchSet{hashes: make([]Hash, n), ids: make([]uint64, n)}
	var centres []Hash
	if kind == "clustered" {
		centres = randomHaystack(rng, 100)
	}
	for i := range s.hashes {
		s.ids[i] = uint64(i)
		h := randHash(rng)
		if centres != nil && rng.IntN(10) != 0 {
			// 90% of the haystack within ~48 bits of one of 100 centres:
			// these slot values repeat, so some buckets are huge.
			h = centres[rng.IntN(len(centres))]
			for range rng.IntN(49) {
				bit := rng.IntN(256)
				h[bit>>6] ^= 1 << (bit & 63)
			}
		}
		s.hashes[i] = h
	}
	for i := range benchQueries {
		if i%2 == 0 {
			s.queries = append(s.queries, flipBits(rng, s.hashes[rng.IntN(n)], rng.IntN(benchRadius+1)))
		} else {
			s.queries = append(s.queries, randHash(rng))
		}
	}
	heap0 := heapInUse()
	start := time.Now()
	x, err := Build(s.ids, s.hashes)
	if err != nil {
		b.Fatal(err)
	}
	s.buildS = time.Since(start).Seconds()
	s.heapB = float64(heapInUse()-heap0) / float64(n)
	s.x = x
	benchCache[key] = s
	return s
}

func sizeLabel(n int) string {
	if n%1_000_000 == 0 {
		return fmt.Sprintf("%dM", n/1_000_000)
	}
	return fmt.Sprint(n)
}

// BenchmarkSearch reports, per dataset, queries/s and p99 latency of single
// queries on one goroutine for the index and for the brute-force scan,
// SearchBatch throughput on all cores, bytes per hash and build time.
func BenchmarkSearch(b *testing.B) {
	for _, n := range benchSizes() {
		for _, kind := range []string{"random", "clustered"} {
			b.Run(fmt.Sprintf("N=%s/%s", sizeLabel(n), kind), func(b *testing.B) {
				s := getBenchSet(b, n, kind)
				b.Run("scan-1thread", func(b *testing.B) {
					seg := s.x.main
					var buf []Match
					s.scanQPS = max(s.scanQPS, runSingle(b, func(q *Hash) {
						buf = scanHashes(buf[:0], seg.hashes, seg.ids, 0, q, benchRadius, nil)
					}, s))
				})
				b.Run("scan4-1thread", func(b *testing.B) {
					s.scanQPS = max(s.scanQPS, runScan(b, s.x.main, s.queries, 4))
				})
				b.Run("scan8-1thread", func(b *testing.B) {
					if !haveScan8 {
						b.Skip("no AVX-512 VPOPCNTQ")
					}
					s.scanQPS = max(s.scanQPS, runScan(b, s.x.main, s.queries, 8))
				})
				b.Run("mih-1thread", func(b *testing.B) {
					var buf []Match
					matches := 0
					qps := runSingle(b, func(q *Hash) {
						buf, _ = s.x.AppendSearch(buf[:0], *q, benchRadius)
						matches += len(buf)
					}, s)
					st := s.x.Stats()
					b.ReportMetric(float64(st.MemoryBytes)/float64(st.Len), "B/hash")
					b.ReportMetric(float64(st.Groups), "groups")
					b.ReportMetric(float64(st.Grouped)/float64(st.Len), "grouped-share")
					b.ReportMetric(s.heapB, "heap-B/hash")
					b.ReportMetric(s.buildS, "build-s")
					b.ReportMetric(float64(matches)/float64(b.N), "matches/q")
					if s.scanQPS > 0 {
						b.ReportMetric(qps/s.scanQPS, "x-scan")
					}
				})
				b.Run("batch-allcores", func(b *testing.B) {
					cpu0, cpuOK := cputime.Process()
					b.ResetTimer()
					for b.Loop() {
						if _, err := s.x.SearchBatch(s.queries, benchRadius); err != nil {
							b.Fatal(err)
						}
					}
					nq := float64(b.N * len(s.queries))
					b.ReportMetric(nq/b.Elapsed().Seconds(), "queries/s")
					if cpu1, ok := cputime.Process(); ok && cpuOK && cpu1 > cpu0 {
						// Process-wide CPU, all threads: compare with the
						// single-thread figure to see the parallel overhead.
						b.ReportMetric(nq/(cpu1-cpu0).Seconds(), "queries/cpu-s")
					}
				})
			})
		}
	}
}

// runSingle times search on each query in turn, reporting queries/s and the
// 99th-percentile latency, and returns queries/s.
func runSingle(b *testing.B, search func(q *Hash), s *benchSet) float64 {
	b.Helper()
	lat := make([]time.Duration, 0, 1024)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0, cpuOK := cputime.Thread()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		q := &s.queries[i%len(s.queries)]
		t0 := time.Now()
		search(q)
		lat = append(lat, time.Since(t0))
		i++
	}
	qps := float64(i) / b.Elapsed().Seconds()
	if cpu1, ok := cputime.Thread(); ok && cpuOK && cpu1 > cpu0 {
		b.ReportMetric(float64(i)/(cpu1-cpu0).Seconds(), "queries/cpu-s")
	}
	slices.Sort(lat)
	b.ReportMetric(qps, "queries/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
	return qps
}

// BenchmarkBuild reports the time to build an index from a slice, random
// (N=...) and clustered (N=...-clustered, where the groups are found).
func BenchmarkBuild(b *testing.B) {
	for _, n := range benchSizes() {
		for _, kind := range []string{"random", "clustered"} {
			name := "N=" + sizeLabel(n)
			if kind != "random" {
				name += "-" + kind
			}
			b.Run(name, func(b *testing.B) {
				s := getBenchSet(b, n, kind)
				cpu0, cpuOK := cputime.Process()
				for b.Loop() {
					if _, err := Build(s.ids, s.hashes); err != nil {
						b.Fatal(err)
					}
				}
				if cpu1, ok := cputime.Process(); ok && cpuOK && cpu1 > cpu0 {
					b.ReportMetric((cpu1-cpu0).Seconds()/float64(b.N), "cpu-s/op")
				}
			})
		}
	}
}

// heapInUse returns the bytes of Go heap in use after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// runScan times a good brute-force baseline on one thread: k queries a
// pass over the whole segment (the haystack read once per k queries), with
// scanQuads (k = 4, Go) or scanOctets (k = 8, AVX-512), and reports
// queries/s, per CPU-second, and the rate at which it reads the haystack
// (GB/s), to compare with BenchmarkBandwidth.
func runScan(b *testing.B, seg *segment, queries []Hash, k int) float64 {
	b.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	out := make([][]Match, len(queries))
	cpu0, cpuOK := cputime.Thread()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		var g [8]int
		for j := range k {
			g[j] = (i + j) % len(queries)
			out[g[j]] = out[g[j]][:0]
		}
		if k == 8 {
			scanOctets(out, seg.hashes, seg.ids, 0, queries, &g, benchRadius, nil)
		} else {
			scanQuads(out, seg.hashes, seg.ids, 0, queries, (*[4]int)(g[:4]), benchRadius, nil)
		}
		i += k
	}
	qps := float64(i) / b.Elapsed().Seconds()
	b.ReportMetric(qps, "queries/s")
	bytes := float64(len(seg.hashes)) * 32 * float64(i/k)
	if cpu1, ok := cputime.Thread(); ok && cpuOK && cpu1 > cpu0 {
		b.ReportMetric(float64(i)/(cpu1-cpu0).Seconds(), "queries/cpu-s")
		b.ReportMetric(bytes/(cpu1-cpu0).Seconds()/1e9, "GB/cpu-s")
	}
	return qps
}

// BenchmarkBandwidth measures the machine's sequential read bandwidth on
// one thread, the limit of any linear scan: it sums a 512 MiB array (far
// larger than the caches) with four independent accumulators.
func BenchmarkBandwidth(b *testing.B) {
	buf := make([]uint64, 64<<20)
	for i := range buf {
		buf[i] = uint64(i)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0, cpuOK := cputime.Thread()
	b.ResetTimer()
	var sink uint64
	for b.Loop() {
		var s0, s1, s2, s3 uint64
		for i := 0; i+3 < len(buf); i += 4 {
			s0 += buf[i]
			s1 += buf[i+1]
			s2 += buf[i+2]
			s3 += buf[i+3]
		}
		sink += s0 + s1 + s2 + s3
	}
	total := float64(len(buf)*8) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds()/1e9, "GB/s")
	if cpu1, ok := cputime.Thread(); ok && cpuOK && cpu1 > cpu0 {
		b.ReportMetric(total/(cpu1-cpu0).Seconds()/1e9, "GB/cpu-s")
	}
	if sink == 1 {
		b.Log(sink)
	}
}

// BenchmarkFile is the 100-million-hash path: it generates
// CUSTOS_BENCH_FILE_N hashes on the fly (random, or clustered with
// CUSTOS_BENCH_FILE_KIND=clustered), writes the index with BuildFile into
// CUSTOS_BENCH_DIR (default the temporary directory), drops the generated
// hashes, then Opens the file (a restart: checksum pass and mapping) and
// searches the mapped index on one thread, beside the four-query scan of
// the same mapped hashes. The file is removed at the end. Only with the
// variable set:
//
//	CUSTOS_BENCH_FILE_N=100000000 go test -run '^$' -bench File -benchtime 3000x -timeout 60m ./internal/hashmatch/index/
func BenchmarkFile(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("CUSTOS_BENCH_FILE_N"))
	if n <= 0 || testing.Short() {
		b.Skip("set CUSTOS_BENCH_FILE_N")
	}
	kind := os.Getenv("CUSTOS_BENCH_FILE_KIND")
	if kind == "" {
		kind = "random"
	}
	dir := os.Getenv("CUSTOS_BENCH_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	path := fmt.Sprintf("%s/custos-bench-%d-%s.idx", dir, n, kind)
	defer os.Remove(path)
	buildCPU := 0.0 // CPU seconds of BuildFile, all threads
	queries, buildS := func() ([]Hash, float64) {
		rng := rand.New(rand.NewPCG(uint64(n), 100))
		hs := make([]Hash, n)
		var centres []Hash
		if kind == "clustered" {
			centres = randomHaystack(rng, 100)
		}
		for i := range hs {
			h := randHash(rng)
			if centres != nil && rng.IntN(10) != 0 {
				h = centres[rng.IntN(len(centres))]
				for range rng.IntN(49) {
					bit := rng.IntN(256)
					h[bit>>6] ^= 1 << (bit & 63)
				}
			}
			hs[i] = h
		}
		var qs []Hash
		for i := range benchQueries {
			if i%2 == 0 {
				qs = append(qs, flipBits(rng, hs[rng.IntN(n)], rng.IntN(benchRadius+1)))
			} else {
				qs = append(qs, randHash(rng))
			}
		}
		start := time.Now()
		cpu0, cpuOK := cputime.Process()
		if err := BuildFile(path, hs, testKey); err != nil {
			b.Fatal(err)
		}
		if cpu1, ok := cputime.Process(); ok && cpuOK {
			buildCPU = (cpu1 - cpu0).Seconds()
		}
		return qs, time.Since(start).Seconds()
	}()
	// Give the generated hashes' memory back to the system, so that the
	// mapped file has the page cache to itself (a restart has no such
	// heap either).
	debug.FreeOSMemory()
	start := time.Now()
	x, err := Open(path, testKey)
	if err != nil {
		b.Fatal(err)
	}
	var buf []Match
	buf, _ = x.AppendSearch(buf, queries[0], benchRadius)
	openS := time.Since(start).Seconds()
	st, _ := os.Stat(path)
	b.Run(fmt.Sprintf("N=%s/%s/mih-1thread", sizeLabel(n), kind), func(b *testing.B) {
		s := &benchSet{queries: queries}
		matches := 0
		runSingle(b, func(q *Hash) {
			buf, _ = x.AppendSearch(buf[:0], *q, benchRadius)
			matches += len(buf)
		}, s)
		b.ReportMetric(float64(st.Size())/float64(n), "file-B/hash")
		b.ReportMetric(buildS, "build-s")
		b.ReportMetric(buildCPU, "build-cpu-s")
		b.ReportMetric(openS, "open-s")
		b.ReportMetric(float64(matches)/float64(b.N), "matches/q")
	})
	// The scan baseline: eight queries in two passes, whatever -benchtime
	// says (a pass over 100M hashes takes seconds): one pass of the
	// AVX-512 eight-query kernel where the CPU has it, else two of the Go
	// four-query kernel.
	b.Run(fmt.Sprintf("N=%s/%s/scan-1thread", sizeLabel(n), kind), func(b *testing.B) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		out := make([][]Match, len(queries))
		cpu0, cpuOK := cputime.Thread()
		start := time.Now()
		passes := 2
		for p := range 2 {
			if haveScan8 {
				passes = 1
				scanOctets(out, x.main.hashes, x.main.ids, 0, queries, &[8]int{0, 1, 2, 3, 4, 5, 6, 7}, benchRadius, nil)
				break
			}
			g := [4]int{4 * p, 4*p + 1, 4*p + 2, 4*p + 3}
			scanQuads(out, x.main.hashes, x.main.ids, 0, queries, &g, benchRadius, nil)
		}
		wall := time.Since(start).Seconds()
		b.ReportMetric(8/wall, "queries/s")
		if cpu1, ok := cputime.Thread(); ok && cpuOK && cpu1 > cpu0 {
			b.ReportMetric(8/(cpu1-cpu0).Seconds(), "queries/cpu-s")
			b.ReportMetric(float64(passes)*float64(n)*32/(cpu1-cpu0).Seconds()/1e9, "GB/cpu-s")
		}
	})
	runtime.KeepAlive(x)
}

// BenchmarkOpenCheck is what a restart pays to trust an index file of
// CUSTOS_BENCH_OPEN_N hashes (default 1,000,000; random, so tables and no
// groups, 128 bytes a hash) with its file in the page cache: open, the
// MAC on every core (GOMAXPROCS), its mapping and structure checks;
// mac-1core, the same on one core; crc32c, the one CRC-32C pass of the
// payload that format 2 checked, for comparison. GB/s is of the file.
//
//	CUSTOS_BENCH_OPEN_N=10000000 go test -run '^$' -bench OpenCheck -benchtime 5x ./internal/hashmatch/index/
func BenchmarkOpenCheck(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("CUSTOS_BENCH_OPEN_N"))
	if n <= 0 {
		n = 1_000_000
	}
	path := fmt.Sprintf("%s/custos-bench-open-%d.idx", b.TempDir(), n)
	func() {
		rng := rand.New(rand.NewPCG(uint64(n), 101))
		hs := make([]Hash, n)
		for i := range hs {
			hs[i] = randHash(rng)
		}
		if err := BuildFile(path, hs, testKey); err != nil {
			b.Fatal(err)
		}
	}()
	debug.FreeOSMemory()
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	size := float64(st.Size())
	report := func(b *testing.B) {
		b.ReportMetric(size*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		b.ReportMetric(size/1e9, "file-GB")
	}
	open := func(b *testing.B) {
		for b.Loop() {
			x, err := Open(path, testKey)
			if err != nil {
				b.Fatal(err)
			}
			runtime.KeepAlive(x)
		}
		report(b)
	}
	label := sizeLabel(n)
	b.Run("N="+label+"/open", open)
	b.Run("N="+label+"/mac-1core", func(b *testing.B) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		open(b)
	})
	b.Run("N="+label+"/crc32c", func(b *testing.B) {
		// Over the mapped file, as format 2's Open did (a copy in the heap
		// would not fit beside the page cache at 100M).
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		m, err := mapFile(f, st.Size())
		if err != nil {
			b.Fatal(err)
		}
		defer m.unmap()
		for b.Loop() {
			crc32c(m.data[headerSize:])
		}
		report(b)
	})
}
