package mail

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// How the connection to the SMTP server is protected (Config.TLS).
const (
	// StartTLS requires STARTTLS (RFC 3207) before anything is sent: a
	// server that does not offer it is not sent to.
	StartTLS = "starttls"
	// StartTLSOptional uses STARTTLS when the server offers it, and sends
	// in clear otherwise (never the password: authentication then fails).
	StartTLSOptional = "starttls-optional"
	// NoTLS sends in clear: for a relay on the same machine.
	NoTLS = "none"
	// ImplicitTLS speaks TLS from the first byte (SMTPS, port 465).
	ImplicitTLS = "tls"
)

// TLSModes are the values of Config.TLS.
var TLSModes = []string{StartTLS, StartTLSOptional, NoTLS, ImplicitTLS}

// Config is how custos sends e-mail. Zero durations take the defaults.
type Config struct {
	// Addr is the SMTP server, host:port; empty sends nothing (e-mails
	// stay pending in the outbox).
	Addr string
	// TLS is one of TLSModes; empty is StartTLS.
	TLS string
	// User and Password authenticate (AUTH PLAIN, only over TLS); no
	// authentication when User is empty. The password comes from a file
	// or the environment, never the command line.
	User, Password string
	// From is the sender's address.
	From string
	// RootCAs are the certificates that may sign the server's; nil trusts
	// the system's.
	RootCAs *x509.CertPool
	// BaseURL is the web UI's address as readers reach it
	// (https://registry.example.gov), written before an e-mail's link.
	BaseURL string
	// Language is the language of e-mails to recipients with no
	// preference; empty is English.
	Language string
	// RetryBase and RetryMax bound the wait between attempts: RetryBase
	// after the first failure, doubling up to RetryMax.
	RetryBase, RetryMax time.Duration
	// MaxAge is how long an e-mail is retried before it is failed.
	MaxAge time.Duration
	// Poll is how often the deliverer looks for e-mails due.
	Poll time.Duration
	// Timeout bounds one SMTP conversation.
	Timeout time.Duration
}

// Defaults of Config.
const (
	DefaultRetryBase = time.Minute
	DefaultRetryMax  = time.Hour
	DefaultMaxAge    = 72 * time.Hour
)

func (c Config) withDefaults() Config {
	if c.TLS == "" {
		c.TLS = StartTLS
	}
	if c.RetryBase <= 0 {
		c.RetryBase = DefaultRetryBase
	}
	if c.RetryMax <= 0 {
		c.RetryMax = DefaultRetryMax
	}
	if c.MaxAge <= 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.Poll <= 0 {
		c.Poll = 5 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	return c
}

// Enabled tells whether e-mail is sent at all.
func (c Config) Enabled() bool { return c.Addr != "" }

// Check refuses a configuration that cannot work, naming the flag of custos
// serve it comes from. A disabled configuration (no Addr) passes.
func (c Config) Check() error {
	c = c.withDefaults()
	if !c.Enabled() {
		return nil
	}
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		return fmt.Errorf("--smtp-addr must be host:port, not %q", c.Addr)
	}
	ok := false
	for _, m := range TLSModes {
		ok = ok || c.TLS == m
	}
	if !ok {
		return fmt.Errorf("--smtp-tls must be one of %s, not %q", strings.Join(TLSModes, ", "), c.TLS)
	}
	if c.User != "" && c.TLS == NoTLS {
		return errors.New("--smtp-user with --smtp-tls none would send the password in clear: use starttls or tls")
	}
	if c.User != "" && c.Password == "" {
		return errors.New("--smtp-user needs a password: --smtp-password-file or CUSTOS_SMTP_PASSWORD")
	}
	if _, err := ParseAddress("from", c.From); err != nil {
		return fmt.Errorf("--smtp-from must be an e-mail address, not %q", c.From)
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("--mail-base-url must be the web UI's address, https://host, not %q", c.BaseURL)
		}
	}
	return nil
}

// LoadCA reads the PEM certificates of --smtp-ca.
func LoadCA(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}
