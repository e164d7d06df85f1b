package bus

import "sync"

// DefaultUARTBuffer is the receive buffer of a SimUART and of OpenUART when
// the config names none: 64 KiB.
const DefaultUARTBuffer = 64 << 10

// UARTStats counts the traffic seen by one end of a UART.
type UARTStats struct {
	TxBytes  uint64 // bytes accepted by Write
	RxBytes  uint64 // bytes stored in the receive buffer
	Overruns uint64 // received bytes dropped because the buffer was full
}

// SimUART is one end of a simulated serial line made by NewSimUARTPair.
//
// Bytes written on one end are appended to the other end's receive buffer
// (DefaultUARTBuffer bytes) and its Notify callback runs. When that buffer is
// full the excess is dropped and counted in the receiver's Overruns, like a
// hardware overrun: the writer still sees success, since a UART transmitter
// never knows. Bytes written towards a closed end are discarded.
//
// A SimUART is safe for concurrent use.
type SimUART struct {
	peer *SimUART

	mu     sync.Mutex
	rx     byteQueue
	notify func()
	closed bool
	stats  UARTStats
}

var _ UART = (*SimUART)(nil)

// NewSimUARTPair returns the two ends of a simulated serial line, e.g. one
// for the driver and one for the device simulator.
func NewSimUARTPair() (a, b *SimUART) {
	a = &SimUART{rx: newByteQueue(DefaultUARTBuffer)}
	b = &SimUART{rx: newByteQueue(DefaultUARTBuffer)}
	a.peer, b.peer = b, a
	return a, b
}

// Write implements UART. It never blocks and returns len(p), nil unless this
// end is closed.
func (u *SimUART) Write(p []byte) (int, error) {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return 0, ErrClosed
	}
	u.stats.TxBytes += uint64(len(p))
	u.mu.Unlock()
	if len(p) > 0 {
		u.peer.receive(p)
	}
	return len(p), nil
}

// Read implements UART.
func (u *SimUART) Read(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return 0, ErrClosed
	}
	return u.rx.pop(p), nil
}

// Buffered returns how many received bytes are waiting to be read.
func (u *SimUART) Buffered() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.rx.len()
}

// Notify implements UART.
func (u *SimUART) Notify(fn func()) {
	u.mu.Lock()
	u.notify = fn
	u.mu.Unlock()
}

// Close implements UART. Buffered bytes are discarded.
func (u *SimUART) Close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.closed = true
	u.notify = nil
	u.rx = byteQueue{} // releases the buffer; closed guards every use
	return nil
}

// Stats returns the traffic counted at this end.
func (u *SimUART) Stats() UARTStats {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.stats
}

// receive stores p, counting what does not fit, then notifies.
func (u *SimUART) receive(p []byte) {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return
	}
	n := u.rx.push(p)
	u.stats.RxBytes += uint64(n)
	u.stats.Overruns += uint64(len(p) - n)
	fn := u.notify
	u.mu.Unlock()
	if fn != nil && n > 0 {
		fn()
	}
}
