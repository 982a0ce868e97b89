package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
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
