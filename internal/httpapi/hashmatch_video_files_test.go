package httpapi_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHashmatchVideoUploadReadsNoOtherFile uploads, as a video, HLS
// playlists and an FFmpeg concatenation list naming a video on the
// server's disk, on both routes that hash an uploaded video. Each is
// refused (422, rule video, field video; 400 on HMA's route) before it is decoded, with the
// same answer whether the file named exists or not, and no refusal names
// the server's temporary files or quotes ffprobe; the video itself, sent
// as the body, is hashed.
// writeTestVideo writes a 3-second 64x48 MP4 to path with ffmpeg and
// returns its bytes.
func writeTestVideo(t *testing.T, path string) []byte {
	t.Helper()
	if out, err := exec.Command("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=64x48:rate=5", "-t", "3", "-pix_fmt", "yuv420p", path).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestHashmatchVideoUploadReadsNoOtherFile(t *testing.T) {
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian package ffmpeg): uploaded playlists not tested", tool)
		}
	}
	dir := t.TempDir()
	local := filepath.Join(dir, "server-local.mp4")
	localBytes := writeTestVideo(t, local)
	hls := func(target string) string {
		return "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3.0,\n" + target + "\n#EXT-X-ENDLIST\n"
	}
	files := []struct{ name, body string }{
		{"playlist", hls(local)},
		{"playlist missing", hls(filepath.Join(dir, "missing.mp4"))},
		{"playlist file: url", hls("file:" + local)},
		{"concat list", "ffconcat version 1.0\nfile '" + local + "'\n"},
	}
	// What a refusal must not show: where the server keeps its files and
	// what ffprobe said.
	leaks := []string{os.TempDir(), dir, "custos-video", "ffprobe", "ffmpeg:", "@ 0x", "hls", "concat @"}
	leaked := func(msg string) string {
		for _, l := range leaks {
			if strings.Contains(msg, l) {
				return l
			}
		}
		return ""
	}

	e := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{})
	var messages []string
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			r := e.Upload(t, "/api/v1/hashmatch/match/video-file", e.Service, "application/octet-stream", []byte(f.body))
			if r.Status != 422 || errField(r) != "video video" {
				t.Fatalf("match/video-file: %d %s, want 422, rule video, field video", r.Status, r.Raw)
			}
			msg := r.Str("error.message")
			if l := leaked(msg); l != "" {
				t.Errorf("match/video-file: the refusal shows %q: %s", l, msg)
			}
			messages = append(messages, msg)

			ct, body := hmaFile(t, "video", f.body)
			status, got := hmaSend(t, e, "POST", "/h/hash?types=vpdq", e.Service, ct, body)
			m, _ := got.(map[string]any)
			hmaMsg, _ := m["message"].(string)
			if status != 400 || hmaMsg == "" || m["vpdq"] != nil {
				t.Fatalf("hma h/hash: %d %s, want 400 and a message", status, asJSON(got))
			}
			if l := leaked(hmaMsg); l != "" {
				t.Errorf("hma h/hash: the refusal shows %q: %s", l, hmaMsg)
			}
			messages = append(messages, hmaMsg)
		})
	}
	for _, m := range messages {
		if m != messages[0] {
			t.Errorf("refusals differ (a file's existence shows): %q, %q", messages[0], m)
		}
	}

	// Bytes that are no video at all: refused without the temporary path.
	r := e.Upload(t, "/api/v1/hashmatch/match/video-file", e.Service, "video/mp4", []byte("not really a video"))
	if r.Status != 422 || errField(r) != "video video" {
		t.Errorf("not a video: %d %s", r.Status, r.Raw)
	}
	if l := leaked(r.Str("error.message")); l != "" {
		t.Errorf("not a video: the refusal shows %q: %s", l, r.Raw)
	}

	// The video itself is hashed on both routes.
	if r := e.Upload(t, "/api/v1/hashmatch/match/video-file", e.Service, "video/mp4", localBytes); r.Status != 200 || r.Str("status") != "no_match" {
		t.Errorf("the video itself: %d %s", r.Status, r.Raw)
	}
	ct, body := hmaFile(t, "video", string(localBytes))
	if status, got := hmaSend(t, e, "POST", "/h/hash?types=vpdq", e.Service, ct, body); status != 200 || got.(map[string]any)["vpdq"] == nil {
		t.Errorf("hma h/hash of the video itself: %d %s", status, asJSON(got))
	}
}
