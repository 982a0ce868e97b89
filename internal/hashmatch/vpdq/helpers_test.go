package vpdq

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// refDir returns the directory of the vPDQ reference data, which lives
// outside the module at <repo root>/../shared/reference/vpdq, skipping the
// test when it is absent.
func refDir(tb testing.TB) string {
	tb.Helper()
	dir, err := refDirOnce()
	if err != nil {
		tb.Skipf("vPDQ reference data not available (%v); expected at <repo root>/../shared/reference/vpdq", err)
	}
	return dir
}

var refDirOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
	ref := filepath.Join(dir, "..", "shared", "reference", "vpdq")
	if _, err := os.Stat(filepath.Join(ref, "README.md")); err != nil {
		return "", err
	}
	return ref, nil
})

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
