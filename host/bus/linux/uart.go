package linux

import (
	"fmt"
	"io"
	"sync"

	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/internal/queue"
	"go.bug.st/serial"
)

// OpenUART opens a serial port through go.bug.st/serial in raw mode, or
// connects to the unix stream socket cfg.Unix names (see dialUnix). A
// reader goroutine moves received bytes into a buffer of cfg.BufferSize
// bytes, so Read never blocks; bytes arriving while the buffer is full are
// dropped and counted (the returned UART has a Stats() bus.UARTStats
// method). Close stops the goroutine.
func OpenUART(cfg UARTConfig) (bus.UART, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	size := cfg.BufferSize
	if size == 0 {
		size = bus.DefaultUARTBuffer
	}
	if cfg.Unix != "" {
		return openUnixUART(cfg.Unix, size)
	}
	mode := &serial.Mode{BaudRate: cfg.Baud, DataBits: 8}
	if cfg.DataBits != 0 {
		mode.DataBits = cfg.DataBits
	}
	switch cfg.Parity {
	case "odd":
		mode.Parity = serial.OddParity
	case "even":
		mode.Parity = serial.EvenParity
	case "mark":
		mode.Parity = serial.MarkParity
	case "space":
		mode.Parity = serial.SpaceParity
	}
	switch cfg.StopBits {
	case 1.5:
		mode.StopBits = serial.OnePointFiveStopBits
	case 2:
		mode.StopBits = serial.TwoStopBits
	}
	port, err := serial.Open(cfg.Device, mode)
	if err != nil {
		return nil, fmt.Errorf("bus: uart: open %s: %w", cfg.Device, err)
	}
	return newStreamUART(port, cfg.Device, size, nil), nil
}

// streamUART turns a blocking byte stream into a UART: a goroutine reads the
// stream into a bounded buffer and notifies; Read drains the buffer. With a
// redial function, a stream that fails is replaced by a fresh one when
// redial next succeeds (see dialUnix); until then Read and Write fail.
type streamUART struct {
	name   string
	redial func(stop <-chan struct{}) (io.ReadWriteCloser, error) // nil: the stream is for good
	stop   chan struct{}                                          // closed by Close: ends a redial
	done   chan struct{}                                          // closed when the reader goroutine returns

	wmu sync.Mutex // serialises Write

	mu      sync.Mutex
	rw      io.ReadWriteCloser // replaced by a redial
	rx      queue.Bytes
	notify  func()
	closed  bool
	readErr error // why the stream stopped, if it did before Close; nil again after a redial
	stats   bus.UARTStats
}

var _ bus.UART = (*streamUART)(nil)

func newStreamUART(rw io.ReadWriteCloser, name string, size int, redial func(<-chan struct{}) (io.ReadWriteCloser, error)) *streamUART {
	u := &streamUART{rw: rw, name: name, redial: redial, rx: queue.NewBytes(size), stop: make(chan struct{}), done: make(chan struct{})}
	go u.readLoop()
	return u
}

func (u *streamUART) readLoop() {
	defer close(u.done)
	buf := make([]byte, 4096)
	u.mu.Lock()
	rw := u.rw
	u.mu.Unlock()
	for {
		n, err := rw.Read(buf)
		u.mu.Lock()
		stored := u.rx.Push(buf[:n])
		u.stats.RxBytes += uint64(stored)
		u.stats.Overruns += uint64(n - stored)
		if err != nil && !u.closed {
			u.readErr = err
		}
		stop := u.closed || (err != nil && u.redial == nil)
		fn := u.notify
		u.mu.Unlock()
		// Notify on data, and once when the stream fails so that the reader
		// calls Read and sees the error.
		if fn != nil && (stored > 0 || err != nil) {
			fn()
		}
		if stop {
			return
		}
		if err != nil {
			u.mu.Lock()
			if u.rw == rw {
				u.rw = nil // Close has nothing left to close
			}
			u.mu.Unlock()
			_ = rw.Close()
			if rw = u.reconnect(); rw == nil {
				return
			}
		}
	}
}

// reconnect waits for redial to give a new stream and installs it; nil
// when Close came first.
func (u *streamUART) reconnect() io.ReadWriteCloser {
	rw, err := u.redial(u.stop)
	if err != nil {
		return nil // only Close ends a redial without a stream
	}
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		_ = rw.Close()
		return nil
	}
	u.rw, u.readErr = rw, nil
	fn := u.notify
	u.mu.Unlock()
	if fn != nil {
		fn() // the driver may retry what failed while the stream was down
	}
	return rw
}

// Write implements bus.UART. While the stream is down (its peer left and
// no redial succeeded yet) it fails with the reason, and nothing is sent.
func (u *streamUART) Write(p []byte) (int, error) {
	u.wmu.Lock()
	defer u.wmu.Unlock()
	u.mu.Lock()
	closed, rw, down := u.closed, u.rw, u.readErr
	u.mu.Unlock()
	if closed {
		return 0, bus.ErrClosed
	}
	if down != nil && u.redial != nil {
		return 0, fmt.Errorf("bus: uart: %s: write: %w", u.name, &peerGone{down})
	}
	written := 0
	for written < len(p) {
		n, err := rw.Write(p[written:])
		written += n
		if err != nil {
			return written, fmt.Errorf("bus: uart: %s: write: %w", u.name, err)
		}
		if n == 0 {
			return written, fmt.Errorf("bus: uart: %s: write: %w", u.name, io.ErrShortWrite)
		}
	}
	u.mu.Lock()
	u.stats.TxBytes += uint64(written)
	u.mu.Unlock()
	return written, nil
}

// Read implements bus.UART. Once the buffer is drained after the stream failed,
// Read returns that failure.
func (u *streamUART) Read(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case u.closed:
		return 0, bus.ErrClosed
	case u.rx.Len() > 0:
		return u.rx.Pop(p), nil
	case u.readErr != nil && u.redial != nil:
		return 0, fmt.Errorf("bus: uart: %s: read: %w", u.name, &peerGone{u.readErr})
	case u.readErr != nil:
		return 0, fmt.Errorf("bus: uart: %s: read: %w", u.name, u.readErr)
	}
	return 0, nil
}

// Notify implements bus.UART.
func (u *streamUART) Notify(fn func()) {
	u.mu.Lock()
	u.notify = fn
	u.mu.Unlock()
}

// Close implements UART: it closes the stream and waits for the reader.
func (u *streamUART) Close() error {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return nil
	}
	u.closed = true
	u.notify = nil
	rw := u.rw
	u.mu.Unlock()
	close(u.stop)
	var err error
	if rw != nil {
		err = rw.Close()
	}
	<-u.done
	if err != nil {
		return fmt.Errorf("bus: uart: %s: close: %w", u.name, err)
	}
	return nil
}

// Stats returns the traffic counted so far.
func (u *streamUART) Stats() bus.UARTStats {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.stats
}
