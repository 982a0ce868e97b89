//go:build unix

package demo_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/custos-project/custos/internal/demo"
	"github.com/custos-project/custos/internal/server"
)

// BenchmarkDemo builds the demo registry of custos demo (five years, scale 1)
// into a new file per iteration, and reports the CPU time it took of every
// thread (user and system), which a loaded machine disturbs less than the
// wall time. For a profile: go test -run '^$' -bench Demo -benchtime 1x
// -cpuprofile cpu.out ./internal/demo/
func BenchmarkDemo(b *testing.B) {
	ctx := context.Background()
	cpu := func() float64 {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	}
	var spent float64
	for i := 0; b.Loop(); i++ {
		cfg := server.Config{DSN: filepath.Join(b.TempDir(), fmt.Sprintf("demo-%d.db", i)), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		c := cpu()
		if created, err := demo.Ensure(ctx, cfg, demo.Options{}); err != nil || !created {
			b.Fatalf("demo: created %v, %v", created, err)
		}
		spent += cpu() - c
	}
	b.ReportMetric(spent/float64(b.N), "cpu-s/op")
}
