//go:build !wasip1

package main_test

import (
	"bytes"
	"testing"

	"github.com/nichost/nichost/host/hosttest"
)

// TestWiznet_Efficiency measures SPI transactions (chip-select frames), bus
// bytes and spi_transact host calls per frame, as WASM and natively, with
// the interrupt line (its safety poll set to 10 s so that only frames cause
// traffic) and without it (where idle polls add to the count). It checks
// the interrupt-mode figures the README gives.
func TestWiznet_Efficiency(t *testing.T) {
	const size = 500 // frame bytes
	for _, mode := range []struct {
		name  string
		rc    rigConfig
		exact bool // no timer polls during the measurement
	}{
		{"int", rigConfig{options: map[string]any{"poll_ms": 10000}}, true},
		{"poll", rigConfig{noIRQ: true}, false},
	} {
		t.Run(mode.name, func(t *testing.T) {
			engines(t, func(t *testing.T, native bool) {
				rc := mode.rc
				rc.native = native
				r := newRig(t, rc)
				r.up(t)
				mac := r.nic.MAC()
				report := func(what string, before traffic, n int) (float64, float64) {
					tr, by, calls := r.perFrame(before, n)
					t.Logf("%-4s %-6s %-22s %5.2f transactions, %7.1f bus bytes (%5.1f over the frame), %4.2f host calls per frame",
						mode.name, map[bool]string{true: "native", false: "wasm"}[native], what, tr, by, by-size, calls)
					return tr, calls
				}

				// One frame at a time.
				const n = 20
				before := r.traffic()
				for i := range n {
					r.peer.WriteFrame(frame(mac, i, size))
					eventually(t, "the frame", func() bool { return r.link.Count() == i+1 })
				}
				rxTr, rxCalls := report("RX, one at a time", before, n)

				before = r.traffic()
				for i := range n {
					out := frame(peerMAC, i, size)
					hosttest.Transmit(r.nic, out)
					if got := r.readPeer(t); !bytes.Equal(got, out) {
						t.Fatalf("peer got seq %d, want %d", seqOf(got), i)
					}
				}
				txTr, txCalls := report("TX, one at a time", before, n)

				// Bursts: 10 frames arrive together; 20 frames queued together.
				before = r.traffic()
				for i := range 10 {
					r.peer.WriteFrame(frame(mac, 100+i, size))
				}
				eventually(t, "the burst", func() bool { return r.link.Count() == n+10 })
				report("RX, burst of 10", before, 10)

				before = r.traffic()
				for i := range n {
					hosttest.Transmit(r.nic, frame(peerMAC, 100+i, size))
				}
				for range n {
					r.readPeer(t)
				}
				report("TX, burst of 20", before, n)

				if mode.exact {
					if rxCalls > 2 || rxTr > 6 {
						t.Errorf("RX: %.2f host calls and %.2f transactions per frame, want at most 2 and 6", rxCalls, rxTr)
					}
					if txCalls > 1 || txTr > 4 {
						t.Errorf("TX: %.2f host calls and %.2f transactions per frame, want at most 1 and 4", txCalls, txTr)
					}
				}
			})
		})
	}
}
