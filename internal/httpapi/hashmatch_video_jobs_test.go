package httpapi_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHashmatchVideoJobs: with one video hashed at a time (VideoJobs 1),
// an upload sent while another is being hashed waits VideoWait, then is
// refused (503 unavailable, rule busy, Retry-After); once the first is
// done, the next is hashed. The first is held by an ffprobe that waits for
// the test's word before it runs the real one.
func TestHashmatchVideoJobs(t *testing.T) {
	var real string
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s not installed (Debian package ffmpeg): the video jobs' cap not tested", tool)
		}
		if tool == "ffprobe" {
			real = p
		}
	}
	dir := t.TempDir()
	data := writeTestVideo(t, filepath.Join(dir, "v.mp4"))
	started, proceed := filepath.Join(dir, "started"), filepath.Join(dir, "proceed")
	bin := filepath.Join(dir, "bin")
	// Only the first run waits, so that a server without the cap answers
	// the second upload rather than hanging.
	script := "#!/bin/sh\nif [ ! -e '" + started + "' ]; then\n: > '" + started + "'\n" +
		"while [ ! -e '" + proceed + "' ]; do /bin/sleep 0.05; done\nfi\nexec '" + real + "' \"$@\"\n"
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "ffprobe"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	e := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{VideoJobs: 1, VideoWait: 200 * time.Millisecond})
	first := make(chan *apptest.Response, 1)
	go func() { first <- e.Upload(t, "/api/v1/hashmatch/match/video-file", e.Service, "video/mp4", data) }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first upload's ffprobe never started")
		}
	}
	r := e.Upload(t, "/api/v1/hashmatch/match/video-file", e.Service, "video/mp4", data)
	if r.Status != 503 || r.Str("error.code") != "unavailable" || r.Str("error.rule") != "busy" || r.Header.Get("Retry-After") == "" {
		t.Errorf("a second video while one is hashed: %d %s (Retry-After %q), want 503 unavailable busy", r.Status, r.Raw, r.Header.Get("Retry-After"))
	}
	if err := os.WriteFile(proceed, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := <-first; r.Status != 200 {
		t.Errorf("the first video: %d %s", r.Status, r.Raw)
	}
	if r := e.Upload(t, "/api/v1/hashmatch/match/video-file", e.Service, "video/mp4", data); r.Status != 200 {
		t.Errorf("a video after the first was done: %d %s", r.Status, r.Raw)
	}
}
