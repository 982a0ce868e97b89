// Package mailtest is a small SMTP server on the loopback for tests: it
// speaks enough of SMTP (EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA) for
// net/smtp's client, keeps what it receives, and refuses recipients with
// the replies a test queues (4xx, then accept; 5xx). TLS uses a certificate
// signed by a test CA made for the test (CA). Module is a registry whose
// one command queues e-mails (Notify), as a module that notifies does.
package mailtest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Received is one message the server accepted.
type Received struct {
	From string
	To   []string
	Data string // the message as sent (headers and body), dot-unstuffed
	TLS  bool   // whether the conversation was encrypted
	User string // who authenticated, if anyone
}

// Options choose what the server offers.
type Options struct {
	// TLS, when set, is offered as STARTTLS (or spoken from the first byte
	// when Implicit).
	TLS      *tls.Config
	Implicit bool
	// User and Password, when set, are required (AUTH PLAIN) before MAIL.
	User, Password string
}

// Server is a running test SMTP server.
type Server struct {
	Addr string
	opts Options
	ln   net.Listener

	mu       sync.Mutex
	received []Received
	replies  []string
	got      chan struct{}
	wg       sync.WaitGroup
}

// Start starts a server on 127.0.0.1 and stops it when t ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: ln.Addr().String(), opts: opts, ln: ln, got: make(chan struct{}, 1000)}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

// Refuse queues replies to the next recipients given (RCPT TO), one each,
// such as "451 4.3.0 try again later" or "550 5.1.1 no such user".
func (s *Server) Refuse(replies ...string) {
	s.mu.Lock()
	s.replies = append(s.replies, replies...)
	s.mu.Unlock()
}

// Received returns the messages accepted so far.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Wait waits until n messages in all were accepted, failing t after d.
func (s *Server) Wait(t testing.TB, n int, d time.Duration) []Received {
	t.Helper()
	deadline := time.After(d)
	for {
		if r := s.Received(); len(r) >= n {
			return r
		}
		select {
		case <-s.got:
		case <-deadline:
			t.Fatalf("the SMTP server received %d messages in %s, want %d", len(s.Received()), d, n)
		}
	}
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			s.serve(c)
		}()
	}
}

// serve speaks SMTP on one connection.
func (s *Server) serve(c net.Conn) {
	secure := false
	if s.opts.Implicit && s.opts.TLS != nil {
		c = tls.Server(c, s.opts.TLS)
		secure = true
	}
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	say := func(format string, args ...any) {
		fmt.Fprintf(w, format+"\r\n", args...)
		w.Flush()
	}
	say("220 mailtest ESMTP")
	var cur Received
	user := ""
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			ext := []string{"mailtest", "8BITMIME"}
			if s.opts.TLS != nil && !secure {
				ext = append(ext, "STARTTLS")
			}
			if s.opts.User != "" {
				ext = append(ext, "AUTH PLAIN")
			}
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				say("250%s%s", sep, e)
			}
		case "HELO", "NOOP":
			say("250 OK")
		case "RSET":
			cur = Received{}
			say("250 OK")
		case "STARTTLS":
			if s.opts.TLS == nil || secure {
				say("502 5.5.1 not offered")
				continue
			}
			say("220 2.0.0 ready")
			tc := tls.Server(c, s.opts.TLS)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, secure, user, cur = tc, true, "", Received{}
			r, w = bufio.NewReader(c), bufio.NewWriter(c)
		case "AUTH":
			mech, initial, _ := strings.Cut(arg, " ")
			if !strings.EqualFold(mech, "PLAIN") || s.opts.User == "" {
				say("504 5.5.4 unrecognized authentication type")
				continue
			}
			if initial == "" {
				say("334 ")
				if initial, err = r.ReadString('\n'); err != nil {
					return
				}
				initial = strings.TrimSpace(initial)
			}
			b, err := base64.StdEncoding.DecodeString(initial)
			parts := strings.Split(string(b), "\x00")
			if err != nil || len(parts) != 3 || parts[1] != s.opts.User || parts[2] != s.opts.Password {
				say("535 5.7.8 authentication credentials invalid")
				continue
			}
			user = parts[1]
			say("235 2.7.0 authentication successful")
		case "MAIL":
			if s.opts.User != "" && user == "" {
				say("530 5.7.0 authentication required")
				continue
			}
			cur = Received{From: address(arg), TLS: secure, User: user}
			say("250 OK")
		case "RCPT":
			s.mu.Lock()
			reply := ""
			if len(s.replies) > 0 {
				reply, s.replies = s.replies[0], s.replies[1:]
			}
			s.mu.Unlock()
			if reply != "" {
				say("%s", reply)
				continue
			}
			cur.To = append(cur.To, address(arg))
			say("250 OK")
		case "DATA":
			if cur.From == "" || len(cur.To) == 0 {
				say("503 5.5.1 need MAIL and RCPT first")
				continue
			}
			say("354 end with <CRLF>.<CRLF>")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			cur.Data = data.String()
			s.mu.Lock()
			s.received = append(s.received, cur)
			s.mu.Unlock()
			s.got <- struct{}{}
			cur = Received{}
			say("250 2.0.0 OK queued")
		case "QUIT":
			say("221 2.0.0 bye")
			return
		default:
			say("500 5.5.2 command not recognized")
		}
	}
}

// address is the address in "FROM:<a@b> SIZE=1" or "TO:<a@b>".
func address(arg string) string {
	i, j := strings.IndexByte(arg, '<'), strings.IndexByte(arg, '>')
	if i < 0 || j < i {
		return ""
	}
	return arg[i+1 : j]
}

// CA is a certificate authority made for one test, and a server
// certificate it signed for 127.0.0.1 and localhost.
type CA struct {
	PEM    []byte // the CA's certificate, as --smtp-ca reads it
	Pool   *x509.CertPool
	Server *tls.Config // a server's TLS configuration with the certificate
}

// NewCA makes a test CA and a server certificate.
func NewCA(t testing.TB) *CA {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "custos test CA"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(24 * time.Hour), DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return &CA{
		PEM:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		Pool:   pool,
		Server: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12},
	}
}
