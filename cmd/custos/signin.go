package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/server"
)

// signInFlags are how people sign in to the web pages of custos serve:
// the sessions' timeouts, the TLS proxy in front, the identity provider.
type signInFlags struct {
	idle, max  time.Duration
	tlsProxy   bool
	oidcConfig string
}

func (f *signInFlags) add(fs *flag.FlagSet) {
	fs.DurationVar(&f.idle, "session-idle", auth.DefaultSessionIdle, "web pages: a session ends after this long without a page")
	fs.DurationVar(&f.max, "session-max", auth.DefaultSessionMax, "web pages: a session ends this long after its sign-in, however busy")
	fs.BoolVar(&f.tlsProxy, "behind-tls-proxy", false, "a reverse proxy terminates HTTPS in front of this server: mark the session cookie Secure and read the client's network from X-Forwarded-For")
	fs.StringVar(&f.oidcConfig, "oidc-config", os.Getenv("CUSTOS_OIDC_CONFIG"), "JSON file of the sign-in through an OpenID Connect identity provider (Keycloak, AD FS, ...), and which of its groups get which role (docs/operations.md; env CUSTOS_OIDC_CONFIG)")
}

// apply checks the values, naming the flag of the first one out of range,
// and sets them on cfg. The OIDC file is read and checked when the server
// opens the registry (its authorities are checked against it).
func (f *signInFlags) apply(cfg *server.Config) error {
	switch {
	case f.idle <= 0:
		return &exitError{2, "--session-idle must be positive"}
	case f.max <= 0:
		return &exitError{2, "--session-max must be positive"}
	case f.idle > f.max:
		return &exitError{2, fmt.Sprintf("--session-idle (%s) must be at most --session-max (%s)", f.idle, f.max)}
	}
	cfg.SessionIdle, cfg.SessionMax, cfg.BehindTLSProxy, cfg.OIDCConfig = f.idle, f.max, f.tlsProxy, f.oidcConfig
	return nil
}
