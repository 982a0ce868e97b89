package vpdq

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/custos-project/custos/internal/reftest"
)

// refDir returns the vPDQ reference data, read in place from
// ../shared/reference/vpdq; the test is skipped when it is absent.
func refDir(tb testing.TB) string {
	tb.Helper()
	reftest.Path(tb, "vpdq", "README.md") // skips unless the data set is complete
	return reftest.Path(tb, "vpdq")
}

// refHashes reads sample-hashes/<name>.
func refHashes(tb testing.TB, name string) []Frame {
	tb.Helper()
	f, err := os.Open(filepath.Join(refDir(tb), "sample-hashes", name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	frames, err := ParseHashes(f)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return frames
}

// refVideo returns the path of sample-videos/<name>, skipping the test when
// ffmpeg or ffprobe is not installed.
func refVideo(tb testing.TB, name string) string {
	tb.Helper()
	needFFmpeg(tb)
	p := filepath.Join(refDir(tb), "sample-videos", name)
	if _, err := os.Stat(p); err != nil {
		tb.Fatal(err)
	}
	return p
}

func needFFmpeg(tb testing.TB) {
	tb.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("%s not found on $PATH (install the ffmpeg package to run the video tests): %v", tool, err)
		}
	}
}
