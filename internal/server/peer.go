package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// connKey carries a request's connection in its context (ConnContext).
type connKey struct{}

// ConnContext is what App.Serve sets as http.Server.ConnContext (a test's
// server sets it too): it keeps each connection in the context of its
// requests, so that watchPeer can see their client leave.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// PeerEvery is how often watchPeer looks at the connection of a request
// whose body may be unread.
const PeerEvery = 100 * time.Millisecond

// errPeerGone is the cause of a request's context ended by watchPeer.
var errPeerGone = errors.New("the client closed its connection")

// watchPeer ends the context of an HTTP/1 request with a body when its
// client closes the connection, even while the body is unread. net/http
// sees a client leave by reading the connection, which it does only once
// the body is read to its end (or by the handler, reading the body): a
// handler that waits before it reads (an uploaded video waiting for its
// turn, docs/hashmatch.md) would otherwise wait its whole time for a client
// long gone, and answer no one. So every PeerEvery while the handler runs
// (from PeerEvery on: most requests are over by then and cost nothing) it
// asks the kernel, without reading a byte, whether the client has shut its
// side (peerClosed: Linux's POLLRDHUP, seen even behind unread bytes), and
// if so cancels the request's context, which the handler answers as its
// client gone (httpapi.ClientGone, counted under 499). A client that shuts
// only its sending side after the request, still waiting for the answer,
// is taken as gone too, as net/http itself takes it once the body is read.
// HTTP/2 needs none of this: a client that leaves resets its stream, and
// the server's context ends. Without the connection (a server not started
// by Serve, nor with ConnContext) or off Linux, the request is as before.
func watchPeer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Context().Value(connKey{}).(net.Conn)
		if c == nil || r.ProtoMajor != 1 || r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		if tc, ok := c.(*tls.Conn); ok {
			c = tc.NetConn()
		}
		sc, ok := c.(syscall.Conn)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		raw, err := sc.SyscallConn()
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancelCause(r.Context())
		var mu sync.Mutex
		done := false
		var t *time.Timer
		t = time.AfterFunc(PeerEvery, func() {
			mu.Lock()
			defer mu.Unlock()
			if done {
				return
			}
			if peerClosed(raw) {
				cancel(errPeerGone)
				return
			}
			t.Reset(PeerEvery)
		})
		defer func() {
			mu.Lock()
			done = true
			t.Stop()
			mu.Unlock()
			cancel(nil)
		}()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
