package jpegdec

import (
	"bytes"
	"image/jpeg"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/reftest"
)

// cpuTime is the process's user plus system CPU time so far.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDecode decodes the reference's 1600x1004 bridge photo (4:2:0,
// no restart markers) with this package and with image/jpeg. cpu-ms/op is
// the process's CPU time per op: run with GOMAXPROCS=1 to read it as one
// core's, steadier than ns/op on a shared machine.
func BenchmarkDecode(b *testing.B) {
	data, err := os.ReadFile(reftest.Path(b, "pdq", "data", "bridge-mods", "aaa-orig.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("jpegdec", func(b *testing.B) {
		b.ReportAllocs()
		start := cpuTime(b)
		defer func() { b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N)/1e6, "cpu-ms/op") }()
		for b.Loop() {
			if _, err := Decode(data, testMaxPixels); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("image-jpeg", func(b *testing.B) {
		b.ReportAllocs()
		start := cpuTime(b)
		defer func() { b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N)/1e6, "cpu-ms/op") }()
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
