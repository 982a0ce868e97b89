package hashmatch_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestVideoUploadLeavesNothingNamed: an uploaded video, which may be abuse
// material, is received into a file in memory (memfd), never under a name
// nor on a disk, so that nothing of it is left in the temporary directory
// or on the disk's blocks, by a crash or after; ffprobe and ffmpeg read it
// by its descriptor, and it matches as before.
func TestVideoUploadLeavesNothingNamed(t *testing.T) {
	known, copyPath, _ := apptest.Videos(t, t.TempDir())
	knownFrames := hashVideo(t, known)
	copyBytes, err := os.ReadFile(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	w := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{})
	bank := w.Bank(t, "Known videos (synthetic)")
	w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": []any{
		map[string]any{"entry_id": "vid-1", "classification": "A1", "video": map[string]any{"frames": hashmatch.VideoFrames(knownFrames)}}}})
	w.Subscribe(t, bank)

	// The first half of the video sent, the rest held back: the server is
	// receiving it.
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", w.URL+"/api/v1/hashmatch/match/video-file", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+w.Service)
	req.Header.Set("Content-Type", "video/mp4")
	req.Header.Set("Custos-User-Id", "user-9")
	req.Header.Set("Custos-Content-Ref", "upload/123")
	type answer struct {
		status int
		body   []byte
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answered <- answer{resp.StatusCode, b, err}
	}()
	half := len(copyBytes) / 2
	if _, err := pw.Write(copyBytes[:half]); err != nil {
		t.Fatal(err)
	}
	// The server (this process) holds the file open: its descriptor's link
	// names a memfd, and the temporary directory holds nothing.
	open := func() string {
		fds, _ := os.ReadDir("/proc/self/fd")
		for _, fd := range fds {
			if l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(l, "/memfd:custos-video") {
				return l
			}
		}
		return ""
	}
	var held string
	for deadline := time.Now().Add(10 * time.Second); held == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		held = open()
	}
	if !strings.HasSuffix(held, " (deleted)") {
		t.Fatalf("the file the video is received into: %q, want a memfd (/memfd:custos-video (deleted))", held)
	}
	if names, err := os.ReadDir(tmp); err != nil || len(names) != 0 {
		t.Fatalf("the temporary directory while a video is received: %v %v, want nothing named", names, err)
	}
	if _, err := io.Copy(pw, bytes.NewReader(copyBytes[half:])); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	a := <-answered
	if a.err != nil || a.status != 200 {
		t.Fatalf("the upload: %d %s %v", a.status, a.body, a.err)
	}
	var out struct {
		Status  string `json:"status"`
		Matches []struct {
			EntryID string `json:"entry_id"`
		} `json:"matches"`
	}
	if err := json.Unmarshal(a.body, &out); err != nil || out.Status != "match" || len(out.Matches) == 0 || out.Matches[0].EntryID != "vid-1" {
		t.Fatalf("the upload's answer: %s %v, want a match of vid-1", a.body, err)
	}
	if open() != "" {
		t.Error("the video's file is still open after the answer")
	}
}
