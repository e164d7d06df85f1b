package linux

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/nichost/nichost/host/bus"
)

// Redialling a unix socket whose peer left: the first attempt after
// redialFirst, each next one after twice as long, at most redialMax apart.
// A peer that restarts (qemu with a guest rebooting, ser2net) is back
// within a second of listening again.
const (
	redialFirst = 50 * time.Millisecond
	redialMax   = time.Second
	dialTimeout = 2 * time.Second // a unix connect only waits on a full backlog
)

// openUnixUART connects to the unix stream socket at path, which must be
// listening (qemu -serial unix:PATH,server; ser2net; a test's peer), and
// returns it as a UART named "unix:PATH".
//
// A socket has no line settings: the config's baud, data bits, parity and
// stop bits do not apply. When the peer closes the connection, Read (once
// the bytes received before are drained) and Write fail with an error
// matching syscall.ENOTCONN, which a driver sees as EIO, and the UART
// redials in the background; once a peer accepts again, bytes flow again
// and the UART notifies, as for received data. Bytes the peer sent are
// never lost to a redial; bytes written while no peer listened were
// refused, never queued. Close ends the redialling.
func openUnixUART(path string, size int) (bus.UART, error) {
	name := "unix:" + path
	c, err := dialUnix(path)
	if err != nil {
		return nil, fmt.Errorf("bus: uart: %s: %w (is a peer listening?)", name, err)
	}
	redial := func(stop <-chan struct{}) (io.ReadWriteCloser, error) {
		for wait := redialFirst; ; wait = min(2*wait, redialMax) {
			select {
			case <-stop:
				return nil, bus.ErrClosed
			case <-time.After(wait):
			}
			if c, err := dialUnix(path); err == nil {
				return c, nil
			}
		}
	}
	return newStreamUART(c, name, size, redial), nil
}

func dialUnix(path string) (net.Conn, error) {
	return net.DialTimeout("unix", path, dialTimeout)
}

// peerGone is the error of a UART whose stream peer left, while it
// redials.
type peerGone struct{ cause error }

func (e *peerGone) Error() string {
	cause := e.cause.Error()
	if errors.Is(e.cause, io.EOF) {
		cause = "it closed the connection"
	}
	return "no peer connected (" + cause + "); redialling"
}

func (e *peerGone) Unwrap() error { return e.cause }

// Is makes the error match syscall.ENOTCONN: the socket has no peer now.
func (e *peerGone) Is(target error) bool { return target == syscall.ENOTCONN }
