package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/web"
)

// clock is a server's clock that a test moves forward.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// startProvider starts the OpenID provider that zitadel/oidc ships as its
// example (a real one: discovery, authorization code with PKCE, signed ID
// tokens, userinfo, its own login page) on a loopback port, with custos's
// client (custos / custos-secret) whose callback is redirect. Its users
// are test-user@127.0.0.1 and test-user2, both with password verysecure,
// e-mails test-user@zitadel.ch and test-user2@zitadel.ch.
func startProvider(t *testing.T, redirect string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startProviderOn(t, ln, redirect)
}

// startProviderOn is startProvider on the listener ln.
func startProviderOn(t *testing.T, ln net.Listener, redirect string) string {
	t.Helper()
	issuer := "http://" + ln.Addr().String()
	clients := map[string]*storage.Client{"custos": storage.WebClient("custos", "custos-secret", redirect)}
	st := storage.NewStorageWithClients(storage.NewUserStore(issuer), clients)
	srv := httptest.NewUnstartedServer(exampleop.SetupServer(issuer, st, nil, false, op.WithAllowInsecure()))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return issuer
}

// oidcRegistry is a custos registry whose pages sign in through a provider.
type oidcRegistry struct {
	URL, Issuer, Admin, Regulator string // Regulator: the regulator authority's id
	App                           *server.App
	Clock                         *clock
	Log                           *strings.Builder
}

// startOIDCRegistry initialises a registry, starts a provider whose client
// calls it back, maps test-user@zitadel.ch (by its email claim) to the
// regulator role, and serves the registry with that sign-in and the
// sessions' timeouts given.
func startOIDCRegistry(t *testing.T, idle, max time.Duration) *oidcRegistry {
	t.Helper()
	return startOIDCRegistryWith(t, idle, max, func(redirect string) string { return startProvider(t, redirect) })
}

// startOIDCRegistryWith is startOIDCRegistry with the provider that
// provider starts (it returns the issuer).
func startOIDCRegistryWith(t *testing.T, idle, max time.Duration, provider func(redirect string) string) *oidcRegistry {
	t.Helper()
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	r := &oidcRegistry{URL: base, Clock: &clock{}, Log: &strings.Builder{}}
	r.Issuer = provider(base + "/signin/oidc/callback")
	var mu sync.Mutex
	logw := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return r.Log.Write(p) })
	cfg := server.Config{DSN: storetest.SQLite(t), Logger: slog.New(slog.NewTextHandler(logw, nil)), Now: r.Clock.Now,
		SessionIdle: idle, SessionMax: max}
	if r.Admin, err = server.Init(ctx, cfg, server.InitOptions{Jurisdiction: "XA", Authority: "Test Transplant Authority"}); err != nil {
		t.Fatal(err)
	}
	plain, err := server.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	as, err := auth.ListAuthorities(ctx, plain.DB.Read(), auth.KindRegulator)
	plain.Close()
	if err != nil || len(as) != 1 {
		t.Fatalf("regulator authority: %v %v", as, err)
	}
	r.Regulator = as[0].ID
	conf := map[string]any{"issuer": r.Issuer, "client_id": "custos", "client_secret": "custos-secret",
		"redirect_url": base + "/signin/oidc/callback", "name": "Ministry ID",
		"roles": []map[string]any{{"claim": "email", "value": "test-user@zitadel.ch", "role": "regulator", "authority": r.Regulator}}}
	cfg.OIDCConfig = writeJSON(t, conf)
	if r.App, err = server.Open(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(r.App.Handler())
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() { srv.Close(); r.App.Close() })
	return r
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func writeJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "oidc.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var authRequestRE = regexp.MustCompile(`name="id" value="([^"]+)"`)

// oidcSignIn walks the sign-in as a browser without script does: custos
// sends it to the provider, whose login page takes the user's name and
// password and sends it back with a code. It returns the last answer.
func oidcSignIn(t *testing.T, r *oidcRegistry, c *http.Client, user string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(r.URL + "/signin/oidc?next=/account")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := authRequestRE.FindSubmatch(body)
	if resp.StatusCode != 200 || m == nil || !strings.HasPrefix(resp.Request.URL.String(), r.Issuer+"/login/username") {
		t.Fatalf("the provider's login page: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	resp, err = c.PostForm(r.Issuer+"/login/username", url.Values{"id": {string(m[1])}, "username": {user}, "password": {"verysecure"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func jarClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

// TestOIDCSignIn signs in through a real OpenID provider started by the
// test: the account the rules map gets a principal (a log entry naming the
// provider's subject) with the rule's role and authority, and a session;
// signing in again finds the same principal; an account no rule maps is
// refused; a callback that did not start in this browser is refused.
func TestOIDCSignIn(t *testing.T) {
	r := startOIDCRegistry(t, 0, 0)
	c := jarClient(t)
	resp, body := oidcSignIn(t, r, c, "test-user@127.0.0.1")
	if resp.StatusCode != 200 || !strings.Contains(body, `http-equiv="refresh" content="0;url=/account"`) || resp.Request.URL.Path != "/signin/oidc/callback" {
		t.Fatalf("after the provider: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	u, _ := url.Parse(r.URL)
	var session *http.Cookie
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == web.CookieName {
			session = ck
		}
	}
	if session == nil || !strings.HasPrefix(session.Value, auth.SessionPrefix) {
		t.Fatalf("no session cookie after the sign-in: %v", c.Jar.Cookies(u))
	}
	resp, err := c.Get(r.URL + "/account")
	if err != nil {
		t.Fatal(err)
	}
	acc, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(acc), "Test User") || !strings.Contains(string(acc), "Identity provider") {
		t.Fatalf("My account after the OIDC sign-in: %d\n%s", resp.StatusCode, acc)
	}
	ctx := context.Background()
	var id, role, authority, subject, issuer string
	if err := r.App.DB.Read().QueryRow(ctx, "SELECT id, role, authority_id, oidc_subject, oidc_issuer FROM principals WHERE oidc_subject <> ''").
		Scan(&id, &role, &authority, &subject, &issuer); err != nil {
		t.Fatal(err)
	}
	if role != "regulator" || authority != r.Regulator || subject != "id1" || issuer != r.Issuer {
		t.Errorf("the OIDC principal is %s %s %s %s, want regulator of %s, subject id1 of %s", role, authority, subject, issuer, r.Regulator, r.Issuer)
	}
	var leaf string
	if err := r.App.DB.Read().QueryRow(ctx, "SELECT data FROM log_leaves ORDER BY idx DESC LIMIT 1").Scan(&leaf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(leaf, auth.TypePrincipalCreated) || !strings.Contains(leaf, `"oidc_subject":"id1"`) || !strings.Contains(leaf, id) {
		t.Errorf("the log's principal.created does not name the subject: %s", leaf)
	}
	if strings.Contains(r.Log.String(), session.Value) || strings.Contains(r.Log.String(), "127.0.0.1/") {
		t.Error("the server log holds the session secret or an address")
	}
	if !strings.Contains(r.Log.String(), `msg="web sign-in" principal=`+id+` role=regulator method=oidc session=`) {
		t.Errorf("no sign-in line in the server log:\n%s", r.Log.String())
	}

	// Again, in another browser: the same principal.
	if resp, _ := oidcSignIn(t, r, jarClient(t), "test-user@127.0.0.1"); resp.StatusCode != 200 {
		t.Fatalf("second sign-in: %d", resp.StatusCode)
	}
	var n int
	if err := r.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM principals WHERE oidc_subject = 'id1'").Scan(&n); err != nil || n != 1 {
		t.Errorf("%d principals for the subject after two sign-ins (%v), want 1", n, err)
	}

	// An account no rule maps.
	resp, body = oidcSignIn(t, r, jarClient(t), "test-user2")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "oidc_role") || !strings.Contains(body, "Ministry ID") {
		t.Errorf("unmapped account: %d\n%s", resp.StatusCode, body)
	}

	// A callback this browser did not start.
	resp, err = jarClient(t).Get(r.URL + "/signin/oidc/callback?state=forged&code=x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), "oidc_state") {
		t.Errorf("forged callback: %d\n%s", resp.StatusCode, b)
	}

	// A principal an administrator revokes is not created again.
	if err := r.App.Authorities.RevokePrincipal(ctx, adminOf(t, r), id); err != nil {
		t.Fatal(err)
	}
	resp, body = oidcSignIn(t, r, jarClient(t), "test-user@127.0.0.1")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "revoked") {
		t.Errorf("revoked account: %d\n%s", resp.StatusCode, body)
	}
	resp, err = c.Get(r.URL + "/account")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path != "/" || !strings.Contains(string(b), "Your session has ended") {
		t.Errorf("the revoked principal's session still opens My account: at %s", resp.Request.URL)
	}
}

func adminOf(t *testing.T, r *oidcRegistry) *auth.Principal {
	t.Helper()
	p, err := auth.Authenticate(context.Background(), r.App.DB.Read(), r.Admin)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOIDCProviderDown: a registry whose identity provider does not answer
// at start serves (tokens sign in), answers a sign-in through the provider
// with 503 identity_provider, and signs in through it once it answers,
// with no restart.
func TestOIDCProviderDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing answers there yet
	var redirect string
	r := startOIDCRegistryWith(t, 0, 0, func(cb string) string { redirect = cb; return "http://" + addr })
	if !strings.Contains(r.Log.String(), "sign-in through the identity provider is unavailable until it answers") {
		t.Errorf("the server log does not say the provider is unavailable:\n%s", r.Log.String())
	}
	c := jarClient(t)
	resp, err := c.Get(r.URL + "/signin/oidc")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "identity_provider") || !strings.Contains(string(b), "sign in with your token") {
		t.Fatalf("a sign-in through a provider that does not answer: %d\n%s", resp.StatusCode, b)
	}
	if resp, err := c.PostForm(r.URL+"/signin", url.Values{"token": {r.Admin}}); err != nil || resp.StatusCode != 200 {
		t.Fatalf("a token sign-in while the provider is down: %v %v", resp, err)
	}
	// The provider comes up: the next sign-in through it works.
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the provider's port was taken meanwhile: %v", err)
	}
	startProviderOn(t, ln, redirect)
	if resp, body := oidcSignIn(t, r, jarClient(t), "test-user@127.0.0.1"); resp.StatusCode != 200 || !strings.Contains(body, `http-equiv="refresh"`) {
		t.Fatalf("the sign-in once the provider answers: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
}
