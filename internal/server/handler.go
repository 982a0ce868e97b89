package server

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/web"
)

// Handler returns the whole HTTP surface: /api/v1, the web UI, /healthz and
// /metrics, instrumented.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	env := httpapi.Env{DB: a.DB, Writer: a.Writer, Log: a.Log, Catalogue: a.Catalogue, Authorities: a.Authorities}
	var routes [][]httpapi.Route
	for _, r := range a.Modules {
		if o := a.Opened[r.Name]; o != nil && o.Routes != nil {
			routes = append(routes, o.Routes(env))
		}
	}
	httpapi.New(httpapi.Config{Env: env, LargeBodies: a.Cfg.LargeBodies, Languages: a.Languages}, routes...).Register(mux)
	a.UI().Register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.DB.SQL().PingContext(ctx); err != nil {
			http.Error(w, "database unreachable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", metricsAuth(a.Cfg.MetricsToken, a.metrics.handler))
	return bodyDeadline(a.Cfg.BodyIdle, watchPeer(securityHeaders(a.metrics.instrument(mux))))
}

// UI returns the web UI of the app: the core's pages and every open
// module's section, the exchange's and the e-mail's.
func (a *App) UI() *web.UI {
	formKey, sessionKey := a.Keys.Derive("custos web form key v1"), a.Keys.Derive("custos web session key v1")
	var sections []web.Section
	for _, r := range a.Modules {
		if o := a.Opened[r.Name]; o != nil && o.Section != nil {
			sections = append(sections, *o.Section)
		}
	}
	if a.Exchange != nil {
		sections = append(sections, web.Exchange(a.Exchange))
	}
	if a.Mail != nil {
		sections = append(sections, web.Mail(a.Mail))
	}
	return &web.UI{DB: a.DB, Authorities: a.Authorities, Sections: sections, Log: a.Log, FormKey: formKey, Writer: a.Writer,
		Projections: a.Projections, VerifierKey: a.Keys.LogKey, Zone: a.Cfg.Zone, Now: a.Cfg.Now, Languages: a.Languages,
		Sessions:       &auth.Sessions{DB: a.DB, W: a.Writer, Idle: a.Cfg.SessionIdle, Max: a.Cfg.SessionMax, Now: a.Cfg.Now, Key: sessionKey, Log: a.Log},
		BehindTLSProxy: a.Cfg.BehindTLSProxy, OIDC: a.OIDC}
}

// metricsAuth asks for the bearer token token before next, or lets every
// request through when token is "". The per-route counts of /metrics tell
// who reads them how often personal data is opened or a trafficking report
// filed: a deployment whose monitoring cannot be reached only from its own
// network closes them with a token (Prometheus: authorization,
// credentials_file).
func metricsAuth(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := auth.BearerToken(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="custos metrics"`)
			http.Error(w, "authentication: /metrics needs the header Authorization: Bearer <the token of --metrics-token-file>", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// DefaultBodyIdle is how long a request's body may go without a byte
// arriving (Config.BodyIdle).
const DefaultBodyIdle = 30 * time.Second

// bodyDeadline ends a request whose body stops coming: the connection's
// read deadline is set idle ahead when the handler starts and moved idle
// ahead again by every read of the body that gets bytes. A client that
// sends its headers and then nothing, or a trickle slower than a byte
// every idle, no longer holds a connection and a goroutine for ever (the
// server reads what is left of a small unread body before it answers, even
// a refusal). A large upload that keeps moving is not limited in its
// length.
//
// The handler gets a copy of the request with the watched body; the
// server's own request keeps the body it made, by which it decides what to
// do with a body the handler left unread: a client that asked "Expect:
// 100-continue" and was refused before its body was read is answered at
// once and sends none of it, and more than 256 KiB left unread is not read
// but the connection closed after the answer.
func bodyDeadline(idle time.Duration, next http.Handler) http.Handler {
	if idle <= 0 {
		idle = DefaultBodyIdle
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Only a request with a body gets a deadline: once the body is read
		// the server reads the connection in the background to see the
		// client leave, and a deadline passing there would end a long
		// answer (an export) as if the client had gone.
		if r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			if rc.SetReadDeadline(time.Now().Add(idle)) == nil {
				r = r.WithContext(r.Context())
				r.Body = &movingBody{ReadCloser: r.Body, rc: rc, idle: idle}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// movingBody moves its connection's read deadline ahead at each read that
// gets bytes, and lifts it at the body's end.
type movingBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
}

func (b *movingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF:
		b.rc.SetReadDeadline(time.Time{})
	case n > 0:
		b.rc.SetReadDeadline(time.Now().Add(b.idle))
	}
	return n, err
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
		if r.TLS != nil {
			// Served over HTTPS by custos itself (--tls-cert): browsers
			// come back over HTTPS only (a proxy sets its own).
			h.Set("Strict-Transport-Security", "max-age=63072000")
		}
		next.ServeHTTP(w, r)
	})
}

// Warm does what the modules prepare before a server serves
// (Opened.Warm), in order; Serve calls it before it listens.
func (a *App) Warm(ctx context.Context) error {
	for _, r := range a.Modules {
		if o := a.Opened[r.Name]; o != nil && o.Warm != nil {
			if err := o.Warm(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// Serve warms the modules (Warm), then serves the app on addr until ctx
// ends, then shuts down gracefully.
// ready, when set, is called with the listening address.
func (a *App) Serve(ctx context.Context, srv *http.Server, ready func(addr string)) error {
	srv.Handler = a.Handler()
	if outer := srv.ConnContext; outer != nil {
		srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context { return ConnContext(outer(ctx, c), c) }
	} else {
		srv.ConnContext = ConnContext
	}
	if srv.ReadHeaderTimeout == 0 {
		srv.ReadHeaderTimeout = 10 * time.Second
	}
	// A kept-alive connection waits this long for its next request; a
	// request's body is bounded by bodyDeadline.
	if srv.IdleTimeout == 0 {
		srv.IdleTimeout = 2 * time.Minute
	}
	if err := a.Warm(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return err
	}
	if srv.TLSConfig != nil {
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	if a.Exchange != nil {
		defer background(ctx, a.Exchange.Run)()
	}
	if a.Mail != nil && a.Mail.Cfg.Enabled() {
		defer background(ctx, a.Mail.Run)()
	}
	for _, o := range a.Opened {
		if o.Run != nil {
			defer background(ctx, o.Run)()
		}
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}

// background runs work beside the server; the function it returns stops
// it and waits for it to end.
func background(ctx context.Context, work func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { work(ctx); close(done) }()
	return func() { cancel(); <-done }
}
