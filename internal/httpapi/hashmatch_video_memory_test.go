package httpapi_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHashmatchVideoMemory: the ffmpeg that hashes an uploaded video starts
// with VideoMemory as its memory limit, and one that runs out of memory
// under it gives a clear refusal (413, rule video_memory), not an internal
// error nor a damaged-file refusal. The ffmpeg on $PATH is a script that
// waits for its limit, writes it down, lowers it to 1 MiB (a video that
// needs more than the server gives) and runs the real one.
func TestHashmatchVideoMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the decoders' memory is bounded on Linux only")
	}
	var real string
	for _, tool := range []string{"ffprobe", "ffmpeg"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s not installed (Debian package ffmpeg): the decoders' memory limit not tested", tool)
		}
		real = p // ffmpeg's, the last
	}
	dir := t.TempDir()
	data := writeTestVideo(t, filepath.Join(dir, "v.mp4"))
	bin, limits := filepath.Join(dir, "bin"), filepath.Join(dir, "limits")
	script := "#!/bin/sh\ni=0\nwhile [ \"$(ulimit -d)\" = unlimited ] && [ $i -lt 3000 ]; do i=$((i+1)); done\n" +
		"ulimit -d >> '" + limits + "'\nulimit -d 1024\nexec '" + real + "' \"$@\"\n"
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "ffmpeg"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	e := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{VideoMemory: 1 << 30})
	r := e.Upload(t, "/api/v1/hashmatch/match/video-file", e.Service, "video/mp4", data)
	if r.Status != 413 || r.Str("error.code") != "too_large" || r.Str("error.rule") != "video_memory" ||
		!strings.Contains(r.Str("error.message"), "1024 MiB") {
		t.Errorf("a video whose ffmpeg runs out of memory: %d %s, want 413 too_large video_memory naming 1024 MiB", r.Status, r.Raw)
	}
	got, err := os.ReadFile(limits)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(got)) != "1048576" {
		t.Errorf("ffmpeg's limit (KiB): %q, want 1048576", got)
	}
}
