package httpapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// watchedBody is a request body that records whether the client's
// transport ever read it: with "Expect: 100-continue" it reads the body
// only once the server has begun to read it.
type watchedBody struct {
	r    io.Reader
	read atomic.Bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.read.Store(true)
	return b.r.Read(p)
}

// answer is a response read whole, or the error of the round trip.
type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
	err    error
}

// sendExpecting posts body with "Expect: 100-continue", so that no byte
// of it leaves the client before the server reads it.
func sendExpecting(e *apptest.HashmatchWorld, path, contentType string, body io.Reader) answer {
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	req, err := http.NewRequest("POST", e.URL+path, body)
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+e.Service)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Expect", "100-continue")
	resp, err := client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

// busy tells whether a is the refusal of a video for want of a turn: 503
// with rule busy (custos's error body or HMA's) and Retry-After.
func (a answer) busy() bool {
	rule, _ := a.body["rule"].(string)
	if e, ok := a.body["error"].(map[string]any); ok {
		rule, _ = e["rule"].(string)
	}
	return a.err == nil && a.status == 503 && rule == "busy" && a.header.Get("Retry-After") != ""
}

// TestHashmatchVideoTurnBeforeBody: an uploaded video takes its turn
// (VideoJobs) before a byte of its body is read. With one turn, held by an
// upload whose body is still coming, a second upload is refused (503 busy,
// Retry-After) without its body being read, on match/video-file and on
// HMA's h/hash of a video; and the turn comes back when the first sender
// goes away. No ffmpeg is needed: nothing here is decoded.
func TestHashmatchVideoTurnBeforeBody(t *testing.T) {
	e := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{VideoJobs: 1, VideoWait: 200 * time.Millisecond})
	const route = "/api/v1/hashmatch/match/video-file"

	// The first upload: its first bytes leave the client only when the
	// server reads them, so once they are written the server holds the
	// turn (it reads only after taking it).
	pr1, pw1 := io.Pipe()
	first := make(chan answer, 1)
	go func() { first <- sendExpecting(e, route, "video/mp4", pr1) }()
	wrote := make(chan error, 1)
	go func() { _, err := pw1.Write([]byte("the first bytes of a video")); wrote <- err }()
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the server never read the first upload's body")
	}

	// The second: refused at once, its body never asked for.
	// The bodies never sent end after 5 s, so that a server which waits
	// for them fails the test rather than hang it.
	pr2, pw2 := io.Pipe()
	defer time.AfterFunc(5*time.Second, func() { pw2.Close() }).Stop()
	body := &watchedBody{r: pr2}
	if a := sendExpecting(e, route, "video/mp4", body); !a.busy() {
		t.Errorf("a second video while the first is received: %d %s %v (Retry-After %q), want 503 busy", a.status, a.raw, a.err, a.header.Get("Retry-After"))
	}
	if body.read.Load() {
		t.Error("the refused video's body was read")
	}

	// HMA's hash of a video: the part's headers are read, its bytes are
	// not waited for.
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	if _, err := mw.CreateFormFile("video", "v.mp4"); err != nil {
		t.Fatal(err)
	}
	pr3, pw3 := io.Pipe()
	defer time.AfterFunc(5*time.Second, func() { pw3.Close() }).Stop()
	if a := sendExpecting(e, "/hma/h/hash", mw.FormDataContentType(), io.MultiReader(&head, pr3)); !a.busy() {
		t.Errorf("HMA h/hash of a video while one is received: %d %s %v (Retry-After %q), want 503 busy", a.status, a.raw, a.err, a.header.Get("Retry-After"))
	}

	// The first sender goes away: its turn comes back, and the next video
	// is read (an empty body, refused for that and not as busy).
	pw1.CloseWithError(errors.New("the sender went away"))
	if a := <-first; a.err == nil {
		t.Logf("the first upload, its sender gone: %d %s", a.status, a.raw)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		a := sendExpecting(e, route, "video/mp4", bytes.NewReader(nil))
		if !a.busy() {
			if a.status != 400 || a.body["error"].(map[string]any)["rule"] != "video" {
				t.Errorf("a video after the first sender went: %d %s %v, want 400 video (empty)", a.status, a.raw, a.err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the turn of an upload whose sender went away was never given back")
		}
	}
}

// TestHashmatchVideoSlowSender: a video whose bytes keep coming, too slowly
// to arrive within VideoTimeout, is refused (413, rule video_time) rather
// than hold its turn for as long as its sender likes; its turn comes back.
func TestHashmatchVideoSlowSender(t *testing.T) {
	e := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{VideoJobs: 1, VideoWait: 200 * time.Millisecond, VideoTimeout: 300 * time.Millisecond})
	const route = "/api/v1/hashmatch/match/video-file"
	pr, pw := io.Pipe()
	go func() {
		defer pw.Close()
		for range 200 { // 10 s at most, a byte every 50 ms
			if _, err := pw.Write([]byte{0}); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	a := sendExpecting(e, route, "video/mp4", pr)
	pr.CloseWithError(errors.New("answered"))
	var rule string
	if m, ok := a.body["error"].(map[string]any); ok {
		rule, _ = m["rule"].(string)
	}
	if a.status != 413 || rule != "video_time" {
		t.Errorf("a video sent a byte every 50 ms, timeout 300 ms: %d %s %v, want 413 video_time", a.status, a.raw, a.err)
	}
	if a := sendExpecting(e, route, "video/mp4", bytes.NewReader(nil)); a.busy() {
		t.Errorf("the slow sender's turn was not given back: %d %s", a.status, a.raw)
	}
}
