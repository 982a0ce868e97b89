package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestFormsAcrossServers checks that a web form rendered by one server is
// accepted by another server of the same registry (same key file), as behind
// a load balancer without sticky sessions.
func TestFormsAcrossServers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		second := w.SecondServer(t)

		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		signin := func(base string) {
			t.Helper()
			resp, err := c.PostForm(base+"/signin", url.Values{"token": {w.CoordA}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in on %s: %d", base, resp.StatusCode)
			}
		}
		signin(w.URL)
		signin(second)
		resp, err := c.Get(w.URL + "/transplant/recipients")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
		if m == nil {
			t.Fatalf("no CSRF field on the recipients page of server 1")
		}
		form := url.Values{"csrf": {string(m[1])}, "name": {"Form Across (synthetic)"}, "sex": {"female"}, "blood_group": {"A"},
			"date_of_birth": {"1990-01-01"}, "residence": {"XA"}, "organ_needed": {"kidney"}, "listed_on": {"2024-05-01"}}
		resp, err = c.PostForm(second+"/transplant/recipients", form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("server 2 refused server 1's form: %d %s", resp.StatusCode, strings.TrimSpace(string(body))[:min(300, len(body))])
		}
	})
}

// TestMetricsToken checks that with a token set (--metrics-token-file)
// /metrics answers 401 without it or with another, and the counts with it.
func TestMetricsToken(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef-metrics"
	w := apptest.NewWorldWith(t, storetest.SQLite(t), func(cfg *server.Config) { cfg.MetricsToken = token })
	get := func(auth string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", w.URL+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(b)
	}
	for _, auth := range []string{"", "Bearer " + token[:len(token)-1], "Bearer " + token + "x", token, "Bearer " + w.Admin} {
		code, challenge, body := get(auth)
		if code != http.StatusUnauthorized || !strings.HasPrefix(challenge, "Bearer") || strings.Contains(body, "custos_") {
			t.Errorf("Authorization %q: %d %q %.80q, want 401 with a challenge and no counts", auth, code, challenge, body)
		}
	}
	for _, auth := range []string{"Bearer " + token, "bearer " + token} { // the scheme's name is case-insensitive
		if code, _, body := get(auth); code != 200 || !strings.Contains(body, "custos_http_requests_total") {
			t.Errorf("with the token (%.7s): %d %.200q", auth, code, body)
		}
	}
	// The rest of the server does not take the metrics token, nor need it.
	if r := w.Do(t, "GET", "/api/v1/me", token, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("the metrics token on the API: %d, want 401", r.Status)
	}
	resp, err := http.Get(w.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/healthz with a metrics token set: %d", resp.StatusCode)
	}
}

// TestHealthAndMetrics checks /healthz and that /metrics counts requests by
// route pattern and the commands the log accepted and refused.
func TestHealthAndMetrics(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(w.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	// One refused command (a coordinator recording for another centre).
	w.Do(t, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreB, "kidney"))
	code, body := get("/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`custos_http_requests_total\{code="201",route="POST /api/v1/transplant/centres"\} 2`),
		regexp.MustCompile(`custos_http_requests_total\{code="403",route="POST /api/v1/transplant/recipients"\} 1`),
		regexp.MustCompile(`custos_commands_accepted_total [1-9][0-9]*`),
		regexp.MustCompile(`custos_commands_refused_total [1-9][0-9]*`),
		regexp.MustCompile(`custos_log_commit_seconds_count [1-9][0-9]*`),
		// Nothing has run again; what was read ahead depends on the engine
		// and on how commands grouped.
		regexp.MustCompile(`custos_log_batch_reruns_total 0\n`),
		// Events no one has had yet have their series, at 0.
		regexp.MustCompile(`custos_mail_events_total\{event="failed"\} 0\n`),
		regexp.MustCompile(`custos_exchange_events_total\{event="attempt_failed"\} 0\n`),
		regexp.MustCompile(`custos_commands_read_ahead_total [0-9]+\n`),
		regexp.MustCompile(`custos_commands_read_ahead_wait_seconds_total [0-9.e+-]+\n`),
		// A batch committed, so each of its phases took some time.
		regexp.MustCompile(`custos_log_batch_phase_seconds_total\{phase="begin"\} [0-9.]*[1-9][0-9.e+-]*\n`),
		regexp.MustCompile(`custos_log_batch_phase_seconds_total\{phase="commands"\} [0-9.]*[1-9][0-9.e+-]*\n`),
		regexp.MustCompile(`custos_log_batch_phase_seconds_total\{phase="append"\} [0-9.]*[1-9][0-9.e+-]*\n`),
		regexp.MustCompile(`custos_log_batch_phase_seconds_total\{phase="commit"\} [0-9.]*[1-9][0-9.e+-]*\n`),
	} {
		if !want.MatchString(body) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestBodyStopsComing checks that a request whose body stops coming is
// ended once Config.BodyIdle passes without a byte, refused or not: a
// client that sends its headers and then nothing no longer holds a
// connection for ever. A body that keeps coming, slower than that in all
// but faster between its bytes, is read to its end.
func TestBodyStopsComing(t *testing.T) {
	const idle = 400 * time.Millisecond
	w := apptest.NewWorldWith(t, storetest.SQLite(t), func(c *server.Config) { c.BodyIdle = idle })
	addr := strings.TrimPrefix(w.URL, "http://")
	for _, path := range []string{"/api/v1/transplant/donors", "/no/such/route"} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", path)
		conn.SetReadDeadline(time.Now().Add(20 * idle))
		_, err = io.ReadAll(conn)
		took := time.Since(start)
		conn.Close()
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Errorf("%s: the server still held the connection after %v", path, took)
		} else if took < idle {
			t.Errorf("%s: ended after %v, before the body had been idle %v", path, took, idle)
		}
	}
	// A body sent in pieces, each within idle of the last, the whole longer
	// than idle: read, and refused for what it says, not for its pace.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"kind":"deceased_brain_death"}`
	fmt.Fprintf(conn, "POST /api/v1/transplant/donors HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", w.Admin, len(body))
	for _, piece := range []string{body[:10], body[10:20], body[20:]} {
		time.Sleep(idle / 2)
		io.WriteString(conn, piece)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusRequestTimeout || !strings.Contains(string(b), `"rule"`) {
		t.Errorf("a body that kept coming: %d %s", resp.StatusCode, b)
	}
}

// TestRefusedBeforeTheBody checks that a request refused before its body
// is read is answered at once, its body neither asked for nor waited for:
// a client that sent "Expect: 100-continue" gets the refusal and no
// "100 Continue", and one that sends a large body gets the refusal
// without the server reading the body to its end first.
func TestRefusedBeforeTheBody(t *testing.T) {
	const idle = 5 * time.Second
	w := apptest.NewWorldWith(t, storetest.SQLite(t), func(c *server.Config) { c.BodyIdle = idle })
	addr := strings.TrimPrefix(w.URL, "http://")
	for _, expect := range []string{"Expect: 100-continue\r\n", ""} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		// No token: refused (401) before the body is read.
		fmt.Fprintf(conn, "POST /api/v1/hashmatch/match/video-file HTTP/1.1\r\nHost: x\r\nContent-Type: video/mp4\r\nContent-Length: 100000000\r\n%s\r\n", expect)
		if expect == "" {
			io.WriteString(conn, "a body of which only these bytes come")
		}
		conn.SetReadDeadline(time.Now().Add(3 * idle))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		took := time.Since(start)
		conn.Close()
		if err != nil {
			t.Fatalf("%q: %v after %v", expect, err, took)
		}
		if resp.StatusCode != http.StatusUnauthorized || took >= idle {
			t.Errorf("%q: %d after %v, want 401 at once, before the body's idle %v", expect, resp.StatusCode, took, idle)
		}
	}
}
