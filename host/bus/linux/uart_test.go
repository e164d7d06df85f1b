package linux

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/internal/wait"
)

// pipeEnd joins the two halves of two io.Pipes into one duplex stream.
type pipeEnd struct {
	io.Reader
	io.Writer
	closers []io.Closer
}

func (p *pipeEnd) Close() error {
	for _, c := range p.closers {
		_ = c.Close()
	}
	return nil
}

// streamPair returns a streamUART on one end of a duplex pipe, and the
// other end for the test to play the device.
func streamPair(size int) (*streamUART, io.ReadWriteCloser) {
	r1, w1 := io.Pipe() // device -> uart
	r2, w2 := io.Pipe() // uart -> device
	uartEnd := &pipeEnd{Reader: r1, Writer: w2, closers: []io.Closer{r1, w2}}
	devEnd := &pipeEnd{Reader: r2, Writer: w1, closers: []io.Closer{r2, w1}}
	return newStreamUART(uartEnd, "pipe", size, nil), devEnd
}

// readWithin polls u until n bytes arrived or the deadline passed.
func readWithin(t *testing.T, u bus.UART, n int, notified <-chan struct{}) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, 64)
	deadline := time.After(wait.Limit)
	for len(got) < n {
		m, err := u.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:m]...)
		if m == 0 {
			select {
			case <-notified:
			case <-deadline:
				t.Fatalf("got %q, want %d bytes", got, n)
			}
		}
	}
	return got
}

func TestStreamUART_Read(t *testing.T) {
	u, dev := streamPair(16)
	defer u.Close()
	notified := make(chan struct{}, 100)
	u.Notify(func() { notified <- struct{}{} })
	if n, err := u.Read(make([]byte, 4)); n != 0 || err != nil {
		t.Fatalf("Read with nothing buffered = %d, %v; want 0, nil", n, err)
	}
	go func() { _, _ = dev.Write([]byte("+CSQ: 20,0\r\n")) }()
	if got := readWithin(t, u, 12, notified); string(got) != "+CSQ: 20,0\r\n" {
		t.Fatalf("read %q", got)
	}
	// 40 bytes into a 16-byte buffer nobody drains: 24 are overrun.
	if _, err := dev.Write(bytes.Repeat([]byte{'x'}, 40)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(wait.Limit)
	for u.Stats().RxBytes+u.Stats().Overruns < 52 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if st := u.Stats(); st.Overruns != 24 || st.RxBytes != 28 {
		t.Fatalf("Stats() = %+v, want 24 overruns of 52 bytes", st)
	}
}

func TestStreamUART_Write(t *testing.T) {
	u, dev := streamPair(16)
	done := make(chan []byte)
	go func() {
		got, _ := io.ReadAll(dev)
		done <- got
	}()
	if n, err := u.Write([]byte("ATZ\r")); n != 4 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	if got := <-done; string(got) != "ATZ\r" {
		t.Fatalf("device read %q", got)
	}
	if _, err := u.Write([]byte("x")); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("Write after Close: %v, want bus.ErrClosed", err)
	}
	if _, err := u.Read(make([]byte, 1)); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("Read after Close: %v, want bus.ErrClosed", err)
	}
}

func TestStreamUART_Read_streamError(t *testing.T) {
	u, dev := streamPair(16)
	defer u.Close()
	notified := make(chan struct{}, 10)
	u.Notify(func() { notified <- struct{}{} })
	_, _ = dev.Write([]byte("bye"))
	_ = dev.Close() // the device side hangs up: the uart's reader sees EOF
	got := readWithin(t, u, 3, notified)
	if string(got) != "bye" {
		t.Fatalf("read %q before the error", got)
	}
	deadline := time.After(wait.Limit)
	for {
		_, err := u.Read(make([]byte, 4))
		if err != nil {
			if !errors.Is(err, io.EOF) || !strings.HasPrefix(err.Error(), "bus: uart: pipe: read") {
				t.Fatalf("Read error %q, want a bus: uart error wrapping EOF", err)
			}
			return
		}
		select {
		case <-notified:
		case <-deadline:
			t.Fatal("the stream error never reached Read")
		}
	}
}

func TestOpenUART(t *testing.T) {
	tests := []struct {
		name string
		cfg  UARTConfig
		want string
	}{
		{"absent device", UARTConfig{Device: "/dev/ttyNICHOST9", Baud: 115200}, "open /dev/ttyNICHOST9"},
		{"invalid config", UARTConfig{Device: "/dev/ttyS0"}, "uart config: baud"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := OpenUART(tt.cfg)
			if err == nil {
				_ = u.Close()
				t.Fatal("OpenUART succeeded, want an error")
			}
			if !strings.HasPrefix(err.Error(), "bus: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}
