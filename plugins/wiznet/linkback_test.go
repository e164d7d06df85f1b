//go:build !wasip1

package main_test

import (
	"cmp"
	"sync/atomic"
	"testing"

	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/hosttest"
)

// heldSPI holds the next chip select, once armed, until released: the
// plugin's goroutine waits inside a call while the test queues a frame.
type heldSPI struct {
	sim.SPIDevice
	armed    atomic.Bool
	held     chan struct{} // closed when a select is held
	released chan struct{}
}

func (h *heldSPI) Select() {
	if h.armed.CompareAndSwap(true, false) {
		close(h.held)
		<-h.released
	}
	h.SPIDevice.Select()
}

// A frame SENT just as the cable came out never completes on a W5500, so
// when the link comes back the driver reopens socket 0, which empties the
// TX buffer. A frame the host offers between the driver reporting the link
// up and that reopen (here: queued while status() reads the PHY, so offered
// right after that call) must not be staged behind the dead SEND and lost
// there: it goes out once the socket is open again.
func TestWiznet_FrameAfterLinkBackBehindADeadSend(t *testing.T) {
	engines(t, func(t *testing.T, native bool) {
		spi := &heldSPI{held: make(chan struct{}), released: make(chan struct{})}
		// poll_ms 60000: no timer poll notices the cable by itself; only
		// status() reads the PHY here.
		r := newRig(t, rigConfig{native: native, options: map[string]any{"poll_ms": 60000},
			wrap: func(d sim.SPIDevice) sim.SPIDevice { spi.SPIDevice = d; return spi }})
		r.up(t)
		r.chip.SetLink(false)
		if err := hosttest.Transmit(r.nic, frame(peerMAC, 0, 60)); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the driver to take the frame", func() bool { return r.nic.Stats().TxFrames == 1 })
		if st := r.status(t); st != 0 {
			t.Fatalf("status() with the cable out = %d, want 0", st)
		}
		r.chip.SetLink(true)
		spi.armed.Store(true)
		status := make(chan any, 1)
		go func() { v, err := r.nic.Status(ctxT(t)); status <- cmp.Or[any](err, v) }()
		<-spi.held
		if err := hosttest.Transmit(r.nic, frame(peerMAC, 1, 60)); err != nil {
			t.Fatal(err)
		}
		close(spi.released)
		if st := <-status; st != int64(2) {
			t.Fatalf("status() with the cable back = %d, want 2", st)
		}
		if got := r.readPeer(t); seqOf(got) != 1 {
			t.Fatalf("the peer got seq %d, want the frame sent after the link came back (1)", seqOf(got))
		}
	})
}
