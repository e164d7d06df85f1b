// Package hostbench holds what benchmarks of a driver need from inside a
// NIC, for code that does not import package testing (the measurements of
// `nichost bench`, which the go test benchmarks share): a FramePump that
// stands in for the network core at a NIC, feeding its driver frames and
// counting the frames it delivers. host/hosttest's FramePump is the same
// pump with a testing.TB.
package hostbench

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/internal/seam"
)

// Stall is how long a pump waits without progress before it gives up: a
// stalled driver, not a slow machine.
const Stall = 10 * time.Second

// FramePump moves frames between a NIC's driver and a peer port on the
// driver's simulated segment, for measuring a driver's frame rate: it
// takes the NIC's Link (in place of the network core), counting the frames
// the driver delivers, and watches the peer for the frames the driver
// sends.
type FramePump struct {
	nic  *host.NIC
	peer *sim.FramePort
	rx   atomic.Int64
	rxed chan struct{} // a frame was delivered
	txed chan struct{} // the peer has a frame
}

// NewFramePump attaches a pump to nic, whose driver's port shares a
// segment with peer. The NIC stays attached to the pump: it is for a NIC
// that does nothing else.
func NewFramePump(nic *host.NIC, peer *sim.FramePort) *FramePump {
	p := &FramePump{nic: nic, peer: peer, rxed: make(chan struct{}, 1), txed: make(chan struct{}, 1)}
	peer.Notify(func() { signal(p.txed) })
	seam.Attach(nic, host.Link(pumpLink{p}))
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
func (p *FramePump) Rx(ctx context.Context, count, size, window int) (time.Duration, error) {
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
		if err := p.await(ctx, p.rxed, "frames the driver delivers"); err != nil {
			return 0, fmt.Errorf("receiving: %d of %d frames delivered: %w", p.rx.Load()-base, count, err)
		}
	}
	return time.Since(start), nil
}

// Tx queues count broadcast frames of size bytes for the driver, keeping
// at most inFlight ahead of what the peer has (within the host's transmit
// queue), and returns the time until the peer has them all.
func (p *FramePump) Tx(ctx context.Context, count, size, inFlight int) (time.Duration, error) {
	f := bytes.Repeat([]byte{0xa5}, size)
	copy(f, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	buf := make([]byte, 2048)
	start := time.Now()
	for sent, got := 0, 0; got < count; {
		for sent < count && sent-got < inFlight && seam.Transmit(p.nic, f) == nil {
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
			if err := p.await(ctx, p.txed, "frames at the peer"); err != nil {
				return 0, fmt.Errorf("sending: %d of %d frames on the wire: %w", got, count, err)
			}
		}
	}
	return time.Since(start), nil
}

// await waits for progress on ch, for at most Stall.
func (p *FramePump) await(ctx context.Context, ch <-chan struct{}, what string) error {
	t := time.NewTimer(Stall)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("no progress for %v waiting for %s", Stall, what)
	}
}
