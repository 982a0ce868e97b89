package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHashmatchVideoSenderGoneWhileWaiting: an upload waiting for a video
// turn whose client goes away (an HTTP/2 stream reset, as custos serves
// over TLS) is logged at info level as the client gone and counted under
// 499, on match/video-file and on HMA's h/hash; never logged as an error
// nor answered 500.
func TestHashmatchVideoSenderGoneWhileWaiting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		logs := &apptest.LogBuffer{}
		e := apptest.NewHashmatchWorldWith(t, dsn, func(cfg *server.Config) {
			cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
			cfg.Hashmatch = hashmatch.Config{VideoJobs: 1, VideoWait: time.Minute}
		})
		// The one turn, held by an upload whose body is still coming
		// (see TestHashmatchVideoTurnBeforeBody).
		pr1, pw1 := io.Pipe()
		first := make(chan answer, 1)
		go func() { first <- sendExpecting(e, "/api/v1/hashmatch/match/video-file", "video/mp4", pr1) }()
		if _, err := pw1.Write([]byte("the first bytes of a video")); err != nil {
			t.Fatal(err)
		}
		defer func() { pw1.CloseWithError(errors.New("done")); <-first }()

		// The same app over HTTP/2, where a client that gives up
		// resets its stream and the server's request context ends.
		h2 := httptest.NewUnstartedServer(e.App.Handler())
		h2.EnableHTTP2 = true
		h2.StartTLS()
		defer h2.Close()
		// The client goes away: it gives up the request, and its
		// transport resets the stream.
		gone := func(path, contentType string, body []byte) {
			t.Helper()
			ctx, cancel := context.WithCancel(context.Background())
			req, err := http.NewRequestWithContext(ctx, "POST", h2.URL+path, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+e.Service)
			req.Header.Set("Content-Type", contentType)
			done := make(chan error, 1)
			go func() {
				resp, err := h2.Client().Do(req)
				if err == nil {
					resp.Body.Close()
					err = errors.New("answered " + resp.Status)
				}
				done <- err
			}()
			// Long enough for the request to wait for the turn (a minute).
			time.Sleep(time.Second)
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("%s: the client gave up, got %v", path, err)
			}
		}
		// The first bytes of a video: the server waits for a turn before
		// it reads them.
		gone("/api/v1/hashmatch/match/video-file", "video/mp4", []byte("the first bytes of a video"))
		// The file part's headers: the server reads them, then waits for a
		// turn before it reads the video's bytes.
		var head bytes.Buffer
		mw := multipart.NewWriter(&head)
		if _, err := mw.CreateFormFile("video", "v.mp4"); err != nil {
			t.Fatal(err)
		}
		gone("/hma/h/hash", mw.FormDataContentType(), head.Bytes())

		// Both are logged once their handlers return.
		var log string
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			log = logs.String()
			if strings.Count(log, `msg="client gone before the answer"`) == 2 || time.Now().After(deadline) {
				break
			}
		}
		for _, path := range []string{"/api/v1/hashmatch/match/video-file", "/hma/h/hash"} {
			if !regexp.MustCompile(`level=INFO msg="client gone before the answer" method=POST path=` + path + `\n`).MatchString(log) {
				t.Errorf("no info line for %s's client gone:\n%s", path, log)
			}
		}
		if strings.Contains(log, "level=ERROR") || strings.Contains(log, "request failed") {
			t.Errorf("a client gone logged as an error:\n%s", log)
		}
		resp, err := http.Get(e.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		metrics, _ := io.ReadAll(resp.Body)
		for _, want := range []string{
			`custos_http_requests_total{code="499",route="POST /api/v1/hashmatch/match/video-file"} 1`,
			`custos_http_requests_total{code="499",route="POST /hma/h/hash"} 1`,
		} {
			if !strings.Contains(string(metrics), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if strings.Contains(string(metrics), `code="500"`) {
			t.Errorf("/metrics counts a 500:\n%s", metrics)
		}
	})
}

// TestHashmatchVideoSenderGoneUnread: an HTTP/1 client that sends an
// upload's headers and the first bytes of its body, then closes its
// connection while the upload waits for a video turn, its body unread, is
// seen gone at once (server.watchPeer): its handler stops, logged at info
// level and counted under 499, not after VideoWait (a minute here) as a
// 503 nobody reads; on match/video-file and on HMA's h/hash. Once the
// turn's holder is done, the next upload is read at once.
func TestHashmatchVideoSenderGoneUnread(t *testing.T) {
	logs := &apptest.LogBuffer{}
	e := apptest.NewHashmatchWorldWith(t, storetest.SQLite(t), func(cfg *server.Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
		cfg.Hashmatch = hashmatch.Config{VideoJobs: 1, VideoWait: time.Minute}
	})
	const route = "/api/v1/hashmatch/match/video-file"
	// The one turn, held by an upload whose body is still coming
	// (see TestHashmatchVideoTurnBeforeBody).
	pr1, pw1 := io.Pipe()
	first := make(chan answer, 1)
	go func() { first <- sendExpecting(e, route, "video/mp4", pr1) }()
	if _, err := pw1.Write([]byte("the first bytes of a video")); err != nil {
		t.Fatal(err)
	}
	held := true
	defer func() {
		if held {
			pw1.CloseWithError(errors.New("done"))
			<-first
		}
	}()

	// A raw HTTP/1 client: the headers and the first bytes of a body
	// announced much longer, a moment to wait for the turn, then gone.
	addr := strings.TrimPrefix(e.URL, "http://")
	leave := func(path, contentType string, body []byte) {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
			path, addr, e.Service, contentType, len(body)+1<<20)
		if _, err := c.Write(body); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		c.Close()
	}
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	if _, err := mw.CreateFormFile("video", "v.mp4"); err != nil {
		t.Fatal(err)
	}
	head.WriteString("the first bytes of a video")
	gone := time.Now()
	leave(route, "video/mp4", []byte("the first bytes of a video"))
	leave("/hma/h/hash", mw.FormDataContentType(), head.Bytes())

	want := []string{
		`custos_http_requests_total{code="499",route="POST /api/v1/hashmatch/match/video-file"} 1`,
		`custos_http_requests_total{code="499",route="POST /hma/h/hash"} 1`,
	}
	var metrics string
	for deadline := gone.Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		metrics = apptest.Metrics(t, e.URL)
		if strings.Contains(metrics, want[0]) && strings.Contains(metrics, want[1]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("5 s after its clients left, the uploads still wait for a turn (VideoWait is a minute); /metrics lacks %q:\n%s",
				want, grepLines(metrics, "custos_http_requests_total"))
		}
	}
	if strings.Contains(metrics, `code="503"`) || strings.Contains(metrics, `code="500"`) {
		t.Errorf("a client gone counted as a failure of the server:\n%s", grepLines(metrics, "custos_http_requests_total"))
	}
	log := logs.String()
	if n := strings.Count(log, `level=INFO msg="client gone before the answer"`); n != 2 {
		t.Errorf("%d info lines for the clients gone, want 2:\n%s", n, log)
	}
	if strings.Contains(log, "level=ERROR") || strings.Contains(log, "request failed") {
		t.Errorf("a client gone logged as an error:\n%s", log)
	}

	// The holder goes too (its handler counted under 499 once it has
	// seen so): the next upload takes the turn at once, no client gone
	// before it (an empty body, refused for that and not as busy).
	pw1.CloseWithError(errors.New("the sender went away"))
	<-first
	held = false
	count499 := func(n int) {
		t.Helper()
		want := fmt.Sprintf(`custos_http_requests_total{code="499",route="POST /api/v1/hashmatch/match/video-file"} %d`+"\n", n)
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(metrics, want); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("/metrics lacks %s:\n%s", want, grepLines(metrics, "custos_http_requests_total"))
			}
			metrics = apptest.Metrics(t, e.URL)
		}
	}
	count499(2)
	start := time.Now()
	a := sendExpecting(e, route, "video/mp4", bytes.NewReader(nil))
	if a.busy() || a.status != 400 || a.body["error"].(map[string]any)["rule"] != "video" {
		t.Errorf("the next upload: %d %s %v, want 400 video (empty)", a.status, a.raw, a.err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the next upload was answered after %s, held back", took)
	}

	// A client that leaves while its video is read, the turn its own:
	// the read fails on the closed connection, and that is the client
	// gone too, not a malformed video (400).
	leave(route, "video/mp4", []byte("the first bytes of a video"))
	count499(3)
	if !strings.Contains(metrics, `custos_http_requests_total{code="400",route="POST /api/v1/hashmatch/match/video-file"} 1`+"\n") {
		t.Errorf("the upload cut short by its client counted as a refusal:\n%s", grepLines(metrics, "custos_http_requests_total"))
	}
}

// grepLines is the lines of s that start with prefix.
func grepLines(s, prefix string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
