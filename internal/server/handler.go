package server

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
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
	formKey, err := hkdf.Key(sha256.New, a.Keys.Master, nil, "custos web form key v1", 32)
	if err != nil {
		panic("server: derive the form key: " + err.Error())
	}
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
	ui := &web.UI{DB: a.DB, Authorities: a.Authorities, Sections: sections, Log: a.Log, FormKey: formKey, Writer: a.Writer,
		Projections: a.Projections, VerifierKey: a.Keys.LogKey, Zone: a.Cfg.Zone, Languages: a.Languages,
		Sessions:       &auth.Sessions{DB: a.DB, Idle: a.Cfg.SessionIdle, Max: a.Cfg.SessionMax, Now: a.Cfg.Now},
		BehindTLSProxy: a.Cfg.BehindTLSProxy, OIDC: a.OIDC}
	ui.Register(mux)
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
	mux.Handle("GET /metrics", a.metrics.handler)
	return securityHeaders(a.metrics.instrument(mux))
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

// Serve serves the app on addr until ctx ends, then shuts down gracefully.
// ready, when set, is called with the listening address.
func (a *App) Serve(ctx context.Context, srv *http.Server, ready func(addr string)) error {
	srv.Handler = a.Handler()
	if srv.ReadHeaderTimeout == 0 {
		srv.ReadHeaderTimeout = 10 * time.Second
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
