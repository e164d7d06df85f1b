package sim

import (
	"sync"

	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/internal/queue"
)

// UART is one end of a simulated serial line made by NewUARTPair.
//
// Bytes written on one end are appended to the other end's receive buffer
// (DefaultUARTBuffer bytes) and its Notify callback runs. When that buffer is
// full the excess is dropped and counted in the receiver's Overruns, like a
// hardware overrun: the writer still sees success, since a bus.UART transmitter
// never knows. Bytes written towards a closed end are discarded.
//
// A UART is safe for concurrent use.
type UART struct {
	peer *UART

	mu     sync.Mutex
	rx     queue.Bytes
	notify func()
	closed bool
	stats  bus.UARTStats
}

var _ bus.UART = (*UART)(nil)

// NewUARTPair returns the two ends of a simulated serial line, e.g. one
// for the driver and one for the device simulator.
func NewUARTPair() (a, b *UART) {
	a = &UART{rx: queue.NewBytes(bus.DefaultUARTBuffer)}
	b = &UART{rx: queue.NewBytes(bus.DefaultUARTBuffer)}
	a.peer, b.peer = b, a
	return a, b
}

// Write implements bus.UART. It never blocks and returns len(p), nil unless this
// end is closed.
func (u *UART) Write(p []byte) (int, error) {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return 0, bus.ErrClosed
	}
	u.stats.TxBytes += uint64(len(p))
	u.mu.Unlock()
	if len(p) > 0 {
		u.peer.receive(p)
	}
	return len(p), nil
}

// Read implements bus.UART.
func (u *UART) Read(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return 0, bus.ErrClosed
	}
	return u.rx.Pop(p), nil
}

// Buffered returns how many received bytes are waiting to be read.
func (u *UART) Buffered() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.rx.Len()
}

// Notify implements bus.UART.
func (u *UART) Notify(fn func()) {
	u.mu.Lock()
	u.notify = fn
	u.mu.Unlock()
}

// Close implements bus.UART. Buffered bytes are discarded.
func (u *UART) Close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.closed = true
	u.notify = nil
	u.rx = queue.Bytes{} // releases the buffer; closed guards every use
	return nil
}

// Stats returns the traffic counted at this end.
func (u *UART) Stats() bus.UARTStats {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.stats
}

// receive stores p, counting what does not fit, then notifies.
func (u *UART) receive(p []byte) {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return
	}
	n := u.rx.Push(p)
	u.stats.RxBytes += uint64(n)
	u.stats.Overruns += uint64(len(p) - n)
	fn := u.notify
	u.mu.Unlock()
	if fn != nil && n > 0 {
		fn()
	}
}
