//go:build !linux

package server

import "syscall"

// peerClosed cannot tell, off Linux, whether a client closed a connection
// without reading it: a request waits as net/http alone lets it.
func peerClosed(syscall.RawConn) bool { return false }
