package vpdq

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutOfMemory checks the words that tell a decoder out of memory, on
// lines ffmpeg 5.1, ffprobe and the dynamic loader printed under
// RLIMIT_DATA, against lines they print for damaged or foreign files.
func TestOutOfMemory(t *testing.T) {
	for _, line := range []string{
		"/usr/bin/ffmpeg: error while loading shared libraries: libavformat.so.59: failed to map segment from shared object",
		"/usr/bin/ffprobe: error while loading shared libraries: cannot allocate symbol search list: Cannot allocate memory",
		"Error while opening decoder for input stream #0:0 : Resource temporarily unavailable",
		"Error while filtering: Cannot allocate memory",
		"[h264 @ 0x55eaf2fd0380] Could not allocate memory",
		"[h264 @ 0x55cf0a18b380] get_buffer() failed",
		"[rawvideo @ 0x555a9e2b0500] Failed to allocate packet of size 6220800",
	} {
		if !outOfMemory([]byte("[h264 @ 0x1] no frame!\n" + line + "\n")) {
			t.Errorf("not taken for want of memory: %q", line)
		}
	}
	for _, line := range []string{
		"[mov,mp4,m4a,3gp,3g2,mj2 @ 0x1] moov atom not found",
		"file:/tmp/x.mp4: Invalid data found when processing input",
		"[h264 @ 0x1] decode_slice_header error",
		"[h264 @ 0x1] Invalid NAL unit size (1234 > 56).",
		"Format hls is not on whitelist",
	} {
		if outOfMemory([]byte(line)) {
			t.Errorf("taken for want of memory: %q", line)
		}
	}
}

// TestHashVideoMemoryLimit: on Linux, ffprobe and ffmpeg each start with
// MaxMemory as their RLIMIT_DATA, and an ffmpeg that cannot get the memory
// it needs is refused with ErrMemory. Each tool is a script that waits
// for the limit to arrive, writes it down and runs the real one; to run
// out of memory, the ffmpeg script lowers its limit to 1 MiB first.
func TestHashVideoMemoryLimit(t *testing.T) {
	if !memoryLimited {
		t.Skip("MaxMemory is enforced on Linux only")
	}
	needFFmpeg(t)
	dir := t.TempDir()
	video := filepath.Join(dir, "v.mp4")
	if out, err := exec.Command("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=64x48:rate=5", "-t", "2", "-pix_fmt", "yuv420p", video).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	tool := func(name, lower string) string {
		real, err := exec.LookPath(name)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name+lower)
		script := "#!/bin/sh\ni=0\nwhile [ \"$(ulimit -d)\" = unlimited ] && [ $i -lt 3000 ]; do i=$((i+1)); done\n" +
			"ulimit -d >> '" + filepath.Join(dir, "limits") + "'\n"
		if lower != "" {
			script += "ulimit -d " + lower + "\n"
		}
		if err := os.WriteFile(p, []byte(script+"exec '"+real+"' \"$@\"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const max = 1 << 30
	opt := Options{SecondsPerHash: 1, MaxMemory: max, FFprobe: tool("ffprobe", ""), FFmpeg: tool("ffmpeg", "")}
	frames, err := HashVideo(context.Background(), video, opt)
	if err != nil || len(frames) != 2 {
		t.Fatalf("with 1 GiB: %d frames, %v", len(frames), err)
	}
	limits, err := os.ReadFile(filepath.Join(dir, "limits"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(limits)); len(got) != 2 || got[0] != "1048576" || got[1] != "1048576" {
		t.Errorf("ffprobe's and ffmpeg's limits (KiB): %q, want 1048576 each", got)
	}

	opt.FFmpeg = tool("ffmpeg", "1024")
	frames, err = HashVideo(context.Background(), video, opt)
	if !errors.Is(err, ErrMemory) || frames != nil {
		t.Fatalf("ffmpeg limited to 1 MiB: %d frames, err = %v, want ErrMemory", len(frames), err)
	}
	t.Log(err)
}
