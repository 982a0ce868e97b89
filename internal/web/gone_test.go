package web_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestClientGoneWhileWaiting: a form whose client goes away while its
// command waits for the writer (busy with another) is logged at info
// level as the client gone and counted under 499, as the API's are; never
// logged as "web request failed" at error level nor answered 500. Its
// command does not run.
func TestClientGoneWhileWaiting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		logs := &apptest.LogBuffer{}
		w := apptest.NewWorldWith(t, dsn, func(c *server.Config) {
			c.Logger = slog.New(slog.NewTextHandler(logs, nil))
		})
		ad := newBrowser(t, w.URL)
		ad.signIn(w.Admin)
		form := url.Values{"language": {"fr"}, "next": {"/"}, "csrf": {ad.csrf()}}

		// The writer is busy: a command that waits until released.
		entered, release := make(chan struct{}), make(chan struct{})
		blocked := make(chan error, 1)
		go func() {
			_, err := w.App.Writer.Submit(context.Background(), ledger.Actor{}, "wait", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
				close(entered)
				<-release
				return nil, errs.Invalidf("test", "", "released")
			})
			blocked <- err
		}()
		<-entered

		// The client gives up the change of language while its command
		// waits for the writer; its connection closes.
		queued := make(chan context.Context, 1)
		w.App.Writer.OnQueued(func(ctx context.Context, name string) {
			if name == "set preferences" {
				queued <- ctx
			}
		})
		t.Cleanup(func() { w.App.Writer.OnQueued(nil) })
		ctx, cancel := context.WithCancel(context.Background())
		req, err := http.NewRequestWithContext(ctx, "POST", w.URL+"/language", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(ad.cookie)
		done := make(chan error, 1)
		go func() {
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				err = errors.New("answered " + resp.Status)
			}
			done <- err
		}()
		var command context.Context
		select {
		case command = <-queued: // the form read, its command queued
		case err := <-done:
			t.Fatalf("the form was answered before its command was queued: %v", err)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("the client gave up, got %v", err)
		}
		<-command.Done() // the server saw the connection closed: the request's context ended
		close(release)
		if err := <-blocked; err == nil {
			t.Fatal("the waiting command was not refused")
		}

		// The handler logs once its command is refused, and the request is
		// counted once the handler returns: wait for both (the deadline
		// only bounds a failure; what is asserted is read after).
		var log, metrics string
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			log, metrics = logs.String(), apptest.Metrics(t, w.URL)
			if strings.Contains(log, `msg="client gone before the answer"`) && strings.Contains(metrics, `route="POST /language"`) ||
				time.Now().After(deadline) {
				break
			}
		}
		if !regexp.MustCompile(`level=INFO msg="client gone before the answer" method=POST path=/language\n`).MatchString(log) {
			t.Errorf("no info line for the client gone:\n%s", log)
		}
		if strings.Contains(log, "level=ERROR") || strings.Contains(log, "web request failed") {
			t.Errorf("a client gone logged as an error:\n%s", log)
		}
		if !strings.Contains(metrics, `custos_http_requests_total{code="499",route="POST /language"} 1`) {
			t.Errorf("/metrics does not count the request under 499:\n%s", metrics)
		}
		if strings.Contains(metrics, `code="500"`) {
			t.Errorf("/metrics counts a 500")
		}
		if p := w.Principal(t, w.Admin); p.Language == "fr" {
			t.Error("the command of the client gone ran")
		}
	})
}
