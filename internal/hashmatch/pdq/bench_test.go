package pdq

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user plus system CPU time so far.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the CPU time per op since start (the whole process's: run
// with GOMAXPROCS=1 to read it as one core's) as cpu-ms/op. On the shared
// machine it is steadier than ns/op, which includes the time the scheduler
// gives to other sessions.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N)/1e6, "cpu-ms/op")
}

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
	defer reportCPU(b, cpuTime(b))
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
	defer reportCPU(b, cpuTime(b))
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

// BenchmarkMatchHashes measures what hashing an upload for matching costs
// on the 1600x1004 bridge JPEG, one goroutine, in one run: "nine" is the
// way hashmatch did it before (the header parsed by Inspect and again by
// Decode, then the displayed hash and the eight orientations, each through
// its own luma fill and blur), "variants" the way it does now (one header
// parse, Hasher.Variants: four luma fills, eight blurs, the same hashes),
// "stored" one hash of the stored pixels (pdq.HashReader), and
// "decode-only" the JPEG decode alone. Each reports its CPU time per op.
func BenchmarkMatchHashes(b *testing.B) {
	data, err := Options{}.ReadFile(refPath(b, "data", "bridge-mods", "aaa-orig.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	var opts Options
	b.Run("nine", func(b *testing.B) {
		var h Hasher
		defer reportCPU(b, cpuTime(b))
		for b.Loop() {
			if _, err := opts.Inspect(data); err != nil {
				b.Fatal(err)
			}
			img, o, err := opts.Decode(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := h.FromImage(img, o); err != nil {
				b.Fatal(err)
			}
			for o := OrientationNormal; o <= OrientationRotate270; o++ {
				if _, _, err := h.FromImage(img, o); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("variants", func(b *testing.B) {
		var h Hasher
		defer reportCPU(b, cpuTime(b))
		for b.Loop() {
			e, err := opts.Open(data)
			if err != nil {
				b.Fatal(err)
			}
			img, o, err := e.Decode()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := h.Variants(img, o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stored", func(b *testing.B) {
		defer reportCPU(b, cpuTime(b))
		for b.Loop() {
			if _, err := opts.HashReader(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode-only", func(b *testing.B) {
		defer reportCPU(b, cpuTime(b))
		for b.Loop() {
			if _, _, err := opts.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkYCC420 measures the 4:2:0 conversion of the 512x512 samples of
// the bridge JPEG: "two-step" is fancy420 per plane then jpegYCbCrToRGB (the
// previous fetcher), "one-step" ycc420, "fillLuma" the whole luma fill of a
// hash (samples, conversion and luma).
func BenchmarkYCC420(b *testing.B) {
	data, err := Options{}.ReadFile(refPath(b, "data", "bridge-mods", "aaa-orig.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	img, _, err := Options{}.Decode(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	m := img.(*image.YCbCr)
	w, h := m.Rect.Dx(), m.Rect.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	sink := 0
	run := func(b *testing.B, f func(x, y int) (uint8, uint8, uint8)) {
		for b.Loop() {
			for y := range ResizeDim {
				sy := y * h / ResizeDim
				for x := range ResizeDim {
					r, g, bl := f(x*w/ResizeDim, sy)
					sink += int(r) + int(g) + int(bl)
				}
			}
		}
		if sink == 0 {
			b.Fatal("no pixels")
		}
	}
	b.Run("two-step", func(b *testing.B) {
		run(b, func(x, y int) (uint8, uint8, uint8) {
			return jpegYCbCrToRGB(m.Y[y*m.YStride+x], fancy420(m.Cb, m.CStride, cw, ch, x, y), fancy420(m.Cr, m.CStride, cw, ch, x, y))
		})
	})
	b.Run("one-step", func(b *testing.B) {
		run(b, func(x, y int) (uint8, uint8, uint8) { return ycc420(m, cw, ch, x, y) })
	})
	b.Run("fillLuma", func(b *testing.B) {
		var h Hasher
		defer reportCPU(b, cpuTime(b))
		for b.Loop() {
			if _, _, err := h.fillLuma(img, OrientationNormal); err != nil {
				b.Fatal(err)
			}
		}
	})
}
