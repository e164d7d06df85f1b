package linux

import (
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/internal/wait"
)

// listenUnix listens on a socket in the test's directory, as qemu's
// -serial unix:PATH,server does, and returns it with its path.
func listenUnix(t *testing.T) (*net.UnixListener, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "uart.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l, path
}

// accept waits for the UART to connect (or reconnect).
func accept(t *testing.T, l *net.UnixListener) net.Conn {
	t.Helper()
	_ = l.SetDeadline(time.Now().Add(wait.Limit))
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("no connection from the UART: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// readPeer reads exactly n bytes at the peer.
func readPeer(t *testing.T, c net.Conn, n int) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wait.Limit))
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("peer read: %v (got %q)", err, b)
	}
	return string(b)
}

func openUnix(t *testing.T, path string) *streamUART {
	t.Helper()
	u, err := OpenUART(UARTConfig{Unix: path, Baud: 115200}) // the baud has no effect on a socket
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.Close() })
	return u.(*streamUART)
}

// untilErr drains u until Read fails, returning the bytes before the error.
func untilErr(t *testing.T, u bus.UART, notified <-chan struct{}) (string, error) {
	t.Helper()
	var got []byte
	buf := make([]byte, 64)
	deadline := time.After(wait.Limit)
	for {
		n, err := u.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return string(got), err
		}
		if n == 0 {
			select {
			case <-notified:
			case <-deadline:
				t.Fatalf("Read never failed (got %q)", got)
			}
		}
	}
}

func TestOpenUART_unix(t *testing.T) {
	l, path := listenUnix(t)
	u := openUnix(t, path)
	notified := make(chan struct{}, 100)
	u.Notify(func() {
		select {
		case notified <- struct{}{}:
		default:
		}
	})
	peer := accept(t, l)

	// Both ways, as a modem and its driver talk.
	if _, err := peer.Write([]byte("RING\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := readWithin(t, u, 6, notified); string(got) != "RING\r\n" {
		t.Fatalf("uart read %q", got)
	}
	if n, err := u.Write([]byte("ATA\r")); n != 4 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if got := readPeer(t, peer, 4); got != "ATA\r" {
		t.Fatalf("peer read %q", got)
	}

	// The peer says its last words and exits, as qemu does: they are read,
	// then the UART reports that nobody is connected.
	if _, err := peer.Write([]byte("NO CARRIER\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = l.Close() // removes the socket: the redials fail until it is back
	_ = peer.Close()
	got, err := untilErr(t, u, notified)
	if got != "NO CARRIER\r\n" {
		t.Fatalf("read %q before the hang-up, want the peer's last bytes", got)
	}
	if !errors.Is(err, syscall.ENOTCONN) || !strings.Contains(err.Error(), "bus: uart: unix:"+path+": read: no peer connected (it closed the connection)") {
		t.Fatalf("Read after the hang-up: %v; want a bus: uart error naming the socket, matching ENOTCONN", err)
	}
	if _, err := u.Write([]byte("AT\r")); !errors.Is(err, syscall.ENOTCONN) || !strings.Contains(err.Error(), "write: no peer connected") {
		t.Fatalf("Write after the hang-up: %v; want ENOTCONN", err)
	}

	// The peer listens again at the same path (qemu restarted): the UART
	// reconnects by itself, and bytes flow both ways.
	l2, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	peer2 := accept(t, l2)
	wait.For(t, "Write to work after the reconnect", func() bool {
		_, err := u.Write([]byte("ATZ\r"))
		return err == nil
	})
	if got := readPeer(t, peer2, 4); got != "ATZ\r" {
		t.Fatalf("the new peer read %q", got)
	}
	if _, err := peer2.Write([]byte("OK\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := readWithin(t, u, 4, notified); string(got) != "OK\r\n" {
		t.Fatalf("uart read %q from the new peer", got)
	}
	if st := u.Stats(); st.RxBytes != 22 || st.TxBytes != 8 || st.Overruns != 0 {
		t.Fatalf("Stats() = %+v, want 22 bytes in, 8 out", st)
	}
}

// Close ends the redialling of a UART whose peer is gone for good.
func TestOpenUART_unixCloseWhileRedialling(t *testing.T) {
	l, path := listenUnix(t)
	u := openUnix(t, path)
	notified := make(chan struct{}, 100)
	u.Notify(func() {
		select {
		case notified <- struct{}{}:
		default:
		}
	})
	peer := accept(t, l)
	_ = l.Close() // qemu has exited: nothing listens any more
	_ = peer.Close()
	if _, err := untilErr(t, u, notified); !errors.Is(err, syscall.ENOTCONN) {
		t.Fatalf("Read: %v, want ENOTCONN", err)
	}
	done := make(chan error)
	go func() { done <- u.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(wait.Limit):
		t.Fatal("Close did not stop the redialling")
	}
	if _, err := u.Read(make([]byte, 1)); !errors.Is(err, bus.ErrClosed) {
		t.Fatalf("Read after Close: %v, want bus.ErrClosed", err)
	}
	if _, err := u.Write([]byte("x")); !errors.Is(err, bus.ErrClosed) {
		t.Fatalf("Write after Close: %v, want bus.ErrClosed", err)
	}
}

func TestOpenUART_unixNoPeer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nobody.sock")
	u, err := OpenUART(UARTConfig{Unix: path})
	if err == nil {
		_ = u.Close()
		t.Fatal("OpenUART succeeded with nothing listening")
	}
	if want := "bus: uart: unix:" + path + ": "; !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "is a peer listening?") {
		t.Fatalf("error %q, want it to name the socket and say a peer must listen", err)
	}
}
