//go:build !wasip1

package main_test

import (
	"cmp"
	"testing"

	"github.com/nichost/nichost/host/hosttest"
)

// A frame SENT just as the cable came out never completes on a W5500, so
// when the link comes back the driver reopens socket 0, which empties the
// TX buffer. A frame the host offers between the driver reporting the link
// up and that reopen (here: queued while status() reads the PHY, so offered
// right after that call) must not be staged behind the dead SEND and lost
// there: it goes out once the socket is open again.
func TestWiznet_FrameAfterLinkBackBehindADeadSend(t *testing.T) {
	engines(t, func(t *testing.T, native bool) {
		// poll_ms 60000: no timer poll notices the cable by itself; only
		// status() reads the PHY here.
		rc, gate := gated(rigConfig{native: native, options: map[string]any{"poll_ms": 60000}})
		r := newRig(t, rc)
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
		gate.shut()
		status := make(chan any, 1)
		go func() { v, err := r.nic.Status(ctxT(t)); status <- cmp.Or[any](err, v) }()
		<-gate.holding()
		if err := hosttest.Transmit(r.nic, frame(peerMAC, 1, 60)); err != nil {
			t.Fatal(err)
		}
		gate.open()
		if st := <-status; st != int64(2) {
			t.Fatalf("status() with the cable back = %d, want 2", st)
		}
		if got := r.readPeer(t); seqOf(got) != 1 {
			t.Fatalf("the peer got seq %d, want the frame sent after the link came back (1)", seqOf(got))
		}
	})
}
