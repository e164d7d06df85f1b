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
// traffic) and without it (where idle polls add to the count); the native
// build also counts every host call (spi_transact, rx_push_batch, now,
// wake_at, ...) and every export call. It checks the interrupt-mode
// figures the README gives ("SPI traffic per frame").
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
				rc, gate := gated(mode.rc)
				rc.native = native
				r := newRig(t, rc)
				r.up(t)
				mac := r.nic.MAC()
				// bound checks a figure against the README's, in interrupt mode.
				bound := func(what, figure string, got, max float64) {
					if mode.exact && got > max {
						t.Errorf("%s: %.2f %s per frame, the README says at most %.2f", what, got, figure, max)
					}
				}
				report := func(what string, before traffic, n int) perFrame {
					p := r.perFrame(before, n)
					line := "%-4s %-6s %-18s %5.2f transactions, %6.1f bus bytes (%4.1f over the frame), %4.2f spi_transact"
					args := []any{mode.name, map[bool]string{true: "native", false: "wasm"}[native], what, p.transactions, p.bytes, p.bytes - size, p.spiCalls}
					if native {
						line += ", %4.2f host calls (%4.2f rx_push), %4.2f exports"
						args = append(args, p.imports, p.rxPush, p.exports)
					}
					t.Logf(line+" per frame", args...)
					return p
				}

				// One frame at a time.
				const n = 20
				before := r.traffic()
				for i := range n {
					r.peer.WriteFrame(frame(mac, i, size))
					eventually(t, "the frame", func() bool { return r.link.Count() == i+1 })
				}
				p := report("RX, one at a time", before, n)
				bound("RX, one at a time", "transactions", p.transactions, 6)
				bound("RX, one at a time", "spi_transact calls", p.spiCalls, 2)
				if native {
					bound("RX, one at a time", "host calls", p.imports, 3)
				}

				before = r.traffic()
				for i := range n {
					out := frame(peerMAC, i, size)
					hosttest.Transmit(r.nic, out)
					if got := r.readPeer(t); !bytes.Equal(got, out) {
						t.Fatalf("peer got seq %d, want %d", seqOf(got), i)
					}
				}
				p = report("TX, one at a time", before, n)
				bound("TX, one at a time", "transactions", p.transactions, 4)
				bound("TX, one at a time", "spi_transact calls", p.spiCalls, 1)
				if native {
					bound("TX, one at a time", "host calls", p.imports, 1)
				}

				// Bursts: 10 frames arrive together (the driver is held at
				// its next bus access until the chip has stored all ten);
				// 20 frames queued together.
				before = r.traffic()
				in := r.chip.Stats().FramesIn
				gate.shut()
				for i := range 10 {
					r.peer.WriteFrame(frame(mac, 100+i, size))
				}
				eventually(t, "the chip to store the burst", func() bool { return r.chip.Stats().FramesIn == in+10 })
				gate.open()
				eventually(t, "the burst", func() bool { return r.link.Count() == n+10 })
				p = report("RX, burst of 10", before, 10)
				// 0.9 transactions, 0.3 spi_transact and 0.4 host calls when
				// one poll finds all ten; the bounds allow two polls.
				bound("RX, burst of 10", "transactions", p.transactions, 1.8)
				bound("RX, burst of 10", "spi_transact calls", p.spiCalls, 0.6)
				if native {
					bound("RX, burst of 10", "host calls", p.imports, 0.8)
				}

				before = r.traffic()
				for i := range n {
					hosttest.Transmit(r.nic, frame(peerMAC, 100+i, size))
				}
				for i := range n {
					if got := r.readPeer(t); seqOf(got) != 100+i {
						t.Fatalf("peer got seq %d, want %d", seqOf(got), 100+i)
					}
				}
				p = report("TX, burst of 20", before, n)
				// 3 per frame (TX_WR, SEND, the look that sees it done) and
				// one data burst per batch the host made of the 20 frames:
				// 3.05 when it made one; the bound allows four.
				bound("TX, burst of 20", "transactions", p.transactions, 3.2)
				bound("TX, burst of 20", "spi_transact calls", p.spiCalls, 1)
				if native {
					bound("TX, burst of 20", "host calls", p.imports, 1)
				}
			})
		})
	}
}
