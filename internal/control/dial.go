package control

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/nichost/nichost/host"
)

// StreamProtocol is the Upgrade token of POST /v1/dial: after the 101
// answer the connection carries the bytes of the TCP connection the daemon
// made through nichost's network stack, both ways.
const StreamProtocol = "nichost-stream"

// dialer is what a dial goes through: the host (any route) or one NIC.
type dialer interface {
	Dial(ctx context.Context, network, address string) (net.Conn, error)
}

// dial answers POST /v1/dial?network=tcp&address=HOST:PORT[&nic=NAME]:
// the daemon connects through its own stack (the plugins' interfaces, not
// the board's kernel) and the request's connection becomes the stream, as
// `nichost nc` uses it to test a board's network from the inside.
func (s *Server) dial(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	network, address, nic := q.Get("network"), q.Get("address"), q.Get("nic")
	if network == "" {
		network = "tcp"
	}
	if network != "tcp" && network != "tcp4" && network != "tcp6" {
		s.fail(w, r, badRequest("dial: network %q: want tcp, tcp4 or tcp6", clip(network)))
		return
	}
	if address == "" {
		s.fail(w, r, badRequest("dial: address missing: want HOST:PORT"))
		return
	}
	if r.Header.Get("Upgrade") != StreamProtocol {
		s.fail(w, r, badRequest("dial: the request must ask for Upgrade: %s", StreamProtocol))
		return
	}
	var d dialer = s.h
	if nic != "" {
		n, ok := s.h.NIC(nic)
		if !ok {
			s.fail(w, r, unknownNIC(s.h, nic))
			return
		}
		d = n
	}
	if s.streams.Add(1) > MaxStreams {
		s.streams.Add(-1)
		s.fail(w, r, &statusError{http.StatusServiceUnavailable, apiError{Type: TypeOSError, Errno: 11,
			Message: fmt.Sprintf("%d streams are open, the most the daemon serves; close one", MaxStreams)}})
		return
	}
	defer s.streams.Add(-1)
	ctx, cancel := context.WithTimeout(r.Context(), s.o.CallTimeout)
	remote, err := d.Dial(ctx, network, address)
	cancel()
	if err != nil {
		s.fail(w, r, dialError(address, err))
		return
	}
	defer remote.Close()
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		s.fail(w, r, fmt.Errorf("dial: %w", err))
		return
	}
	defer conn.Close()
	attrs := []any{"address", address, "local", remote.LocalAddr().String()}
	if p := PeerFrom(r.Context()); p != nil {
		attrs = append(attrs, "uid", p.UID, "pid", p.PID)
	}
	s.log.Info("control: stream opened", attrs...)
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: %s\r\nConnection: Upgrade\r\n\r\n", StreamProtocol)
	if err := brw.Flush(); err != nil {
		return
	}
	// Bytes the client sent after its request are in brw's reader.
	up, down := splice(remote, brw.Reader), splice(conn, remote)
	select {
	case <-s.closing:
	case <-both(up, down):
	}
	s.log.Info("control: stream closed", "address", address)
}

// splice copies src to dst, then half-closes dst's writing side so that
// the far end sees the end of the stream; its channel closes when done.
func splice(dst net.Conn, src io.Reader) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		} else {
			dst.Close()
		}
	}()
	return done
}

func both(a, b <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		<-a
		<-b
		close(done)
	}()
	return done
}

// dialError is a failed dial as the API reports it: an OSError naming the
// address (a refused connection, no route, a timeout).
func dialError(address string, err error) error {
	errno := 0
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		errno = 110 // ETIMEDOUT
	case isRefused(err):
		errno = 111 // ECONNREFUSED
	}
	return &statusError{http.StatusBadGateway, apiError{Type: TypeOSError, Errno: errno,
		Message: fmt.Sprintf("dial %s through nichost's stack: %v", clip(address), err)}}
}

// isRefused reports a refused connection: gVisor's gonet says "connection
// was refused", not a syscall errno.
func isRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(err.Error(), "refused")
}

// Dial connects to address through the daemon's network stack (nic "" for
// any route, else that NIC's) and returns the stream: what is written goes
// to the far end, what it sends is read; CloseWrite ends the writing side
// only. A dial the daemon could not make is a *RemoteError (OSError).
func (c *Client) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	return c.DialNIC(ctx, "", network, address)
}

// DialNIC is Dial through one NIC.
func (c *Client) DialNIC(ctx context.Context, nic, network, address string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.path)
	if err != nil {
		return nil, &ConnectError{Path: c.path, Err: err}
	}
	q := url.Values{"network": {network}, "address": {address}}
	if nic != "" {
		q.Set("nic", nic)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	fmt.Fprintf(conn, "POST /v1/dial?%s HTTP/1.1\r\nHost: nichost\r\nUpgrade: %s\r\nConnection: Upgrade\r\nContent-Length: 0\r\n\r\n", q.Encode(), StreamProtocol)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("control: dial: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer conn.Close()
		return nil, remoteError(resp)
	}
	if !stop() {
		conn.Close()
		return nil, ctx.Err()
	}
	return &streamConn{Conn: conn, r: br}, nil
}

// streamConn is the client's end of a stream: reads go through the reader
// that already holds what followed the 101 answer.
type streamConn struct {
	net.Conn
	r *bufio.Reader
}

func (s *streamConn) Read(p []byte) (int, error) { return s.r.Read(p) }

// CloseWrite ends the stream's sending side; the far end reads EOF.
func (s *streamConn) CloseWrite() error {
	if cw, ok := s.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

var _ dialer = (*host.Host)(nil)
var _ dialer = (*host.NIC)(nil)
