package hosttest

import (
	"bytes"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
)

// FramePump moves frames between a NIC's driver and a peer port on the
// driver's simulated segment, for benchmarks of a driver's frame rate: it
// takes the NIC's Link (Attach), counting the frames the driver delivers,
// and watches the peer for the frames the driver sends.
type FramePump struct {
	nic  *host.NIC
	peer *sim.FramePort
	rx   atomic.Int64
	rxed chan struct{} // a frame was delivered
	txed chan struct{} // the peer has a frame
}

// NewFramePump attaches a pump to nic, whose driver's port shares a
// segment with peer.
func NewFramePump(nic *host.NIC, peer *sim.FramePort) *FramePump {
	p := &FramePump{nic: nic, peer: peer, rxed: make(chan struct{}, 1), txed: make(chan struct{}, 1)}
	peer.Notify(func() { signal(p.txed) })
	Attach(nic, pumpLink{p})
	return p
}

type pumpLink struct{ p *FramePump }

func (l pumpLink) DeliverFrame([]byte) error {
	l.p.rx.Add(1)
	signal(l.p.rxed)
	return nil
}
func (pumpLink) LinkChanged(host.LinkState) {}
func (pumpLink) Reported(map[string]any)    {}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Received is the number of frames the driver delivered so far.
func (p *FramePump) Received() int64 { return p.rx.Load() }

// Rx has the peer send count frames of size bytes to the NIC's MAC
// address, keeping at most window of them ahead of what the driver
// delivered, and returns the time until the driver delivered the last one.
func (p *FramePump) Rx(tb testing.TB, count, size, window int) time.Duration {
	f := bytes.Repeat([]byte{0x5a}, size)
	copy(f, p.nic.MAC())
	base := p.rx.Load()
	start := time.Now()
	for sent := int64(0); p.rx.Load()-base < int64(count); {
		for sent < int64(count) && sent-(p.rx.Load()-base) < int64(window) {
			if p.peer.WriteFrame(f) != nil {
				break
			}
			sent++
		}
		p.await(tb, p.rxed, "delivered frames")
	}
	return time.Since(start)
}

// Tx queues count broadcast frames of size bytes for the driver, keeping
// at most inFlight ahead of what the peer has (within the host's transmit
// queue), and returns the time until the peer has them all.
func (p *FramePump) Tx(tb testing.TB, count, size, inFlight int) time.Duration {
	f := bytes.Repeat([]byte{0xa5}, size)
	copy(f, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	buf := make([]byte, 2048)
	start := time.Now()
	for sent, got := 0, 0; got < count; {
		for sent < count && sent-got < inFlight && Transmit(p.nic, f) == nil {
			sent++
		}
		k := 0
		for ; got < count; k++ {
			if m, _ := p.peer.ReadFrame(buf); m == 0 {
				break
			}
			got++
		}
		if k == 0 {
			p.await(tb, p.txed, "frames at the peer")
		}
	}
	return time.Since(start)
}

// await waits for progress on ch; a pump that sees none for 10 s fails
// the benchmark (a stalled driver, not a slow machine).
func (p *FramePump) await(tb testing.TB, ch <-chan struct{}, what string) {
	tb.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		tb.Fatalf("no progress for 10 s waiting for %s", what)
	}
}
