package server

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// peerClosed tells whether the client of the connection raw has closed it
// or shut its sending side (POLLRDHUP, which the kernel reports even while
// bytes it sent are still unread), or reset it; a connection closed by
// the server is gone too. It reads nothing and waits for nothing.
func peerClosed(raw syscall.RawConn) bool {
	closed := false
	err := raw.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
		n, err := unix.Poll(fds, 0)
		closed = err == nil && n > 0 && fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0
	})
	return err != nil || closed
}
