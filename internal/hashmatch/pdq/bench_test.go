package pdq

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkFromLuma512 measures the hash core on one 512x512 buffer, the
// size every large photo is reduced to, on one goroutine. The C++ -O3
// reference takes about 5.5 ms per op on comparable hardware.
func BenchmarkFromLuma512(b *testing.B) {
	luma := synthLuma(b, 512, 512, "noise", 8)
	var h Hasher
	if _, _, err := h.FromLuma(luma, 512, 512); err != nil { // size the scratch buffers
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := h.FromLuma(luma, 512, 512); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashFileJPEG measures the whole file path, JPEG decoding
// included, over the reference's bridge-mods photos.
func BenchmarkHashFileJPEG(b *testing.B) {
	paths, err := filepath.Glob(refPath(b, "data", "bridge-mods", "*.jpg"))
	if err != nil || len(paths) == 0 {
		b.Fatalf("no bridge-mods JPEGs: %v", err)
	}
	var size int64
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		size += fi.Size()
	}
	b.SetBytes(size / int64(len(paths)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := HashFile(paths[i%len(paths)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkDistance measures a linear scan, the inner loop of a brute-force
// search: one query against 4096 hashes per op; ns/distance is the figure
// of merit.
func BenchmarkDistance(b *testing.B) {
	hs := make([]Hash, 4096)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range hs {
		for w := range hs[i] {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			hs[i][w] = x
		}
	}
	q := hs[len(hs)/2]
	sink := 0
	for b.Loop() {
		sink += scan(q, hs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(hs)), "ns/distance")
	if sink < 0 {
		b.Fatal(sink)
	}
}

// scan counts the hashes within the usual match threshold of q.
func scan(q Hash, hs []Hash) int {
	n := 0
	for i := range hs {
		if Distance(q, hs[i]) <= 31 {
			n++
		}
	}
	return n
}
