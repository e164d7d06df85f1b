package hosttest

import (
	"testing"
	"time"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/hostbench"
)

// FramePump moves frames between a NIC's driver and a peer port on the
// driver's simulated segment, for benchmarks of a driver's frame rate: it
// is hostbench.FramePump failing the benchmark where that one returns an
// error (a pump that sees no progress for hostbench.Stall fails it).
type FramePump struct{ *hostbench.FramePump }

// NewFramePump attaches a pump to nic, whose driver's port shares a
// segment with peer.
func NewFramePump(nic *host.NIC, peer *sim.FramePort) *FramePump {
	return &FramePump{hostbench.NewFramePump(nic, peer)}
}

// Rx has the peer send count frames of size bytes to the NIC's MAC
// address, keeping at most window of them ahead of what the driver
// delivered, and returns the time until the driver delivered the last one.
func (p *FramePump) Rx(tb testing.TB, count, size, window int) time.Duration {
	tb.Helper()
	el, err := p.FramePump.Rx(Context(tb), count, size, window)
	if err != nil {
		tb.Fatal(err)
	}
	return el
}

// Tx queues count broadcast frames of size bytes for the driver, keeping
// at most inFlight ahead of what the peer has (within the host's transmit
// queue), and returns the time until the peer has them all.
func (p *FramePump) Tx(tb testing.TB, count, size, inFlight int) time.Duration {
	tb.Helper()
	el, err := p.FramePump.Tx(Context(tb), count, size, inFlight)
	if err != nil {
		tb.Fatal(err)
	}
	return el
}
