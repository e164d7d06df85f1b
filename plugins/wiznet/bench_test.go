//go:build !wasip1

package main_test

import (
	"path/filepath"
	"testing"

	"github.com/nichost/nichost/host/hosttest"
	"github.com/nichost/nichost/internal/benchkit"
)

// The frame and control benchmarks are thin wrappers around
// internal/benchkit's W5500 rig, which `nichost bench` measures with too.

// benchNIC is the driver on an unpaced simulated W5500 (benchkit.WiznetNIC):
// as WASM on the host's default engine, or natively with every ABI call
// counted.
func benchNIC(b *testing.B, native bool) *benchkit.WiznetNIC {
	b.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		b.Fatal(err)
	}
	n, err := benchkit.NewWiznetNIC(b.Context(), root, "", native, nil) // no deadline: a cold build takes what it takes
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(n.Close)
	return n
}

// BenchmarkFrames measures, in one run and for each direction, frames per
// second through the simulated W5500 with the driver as WASM and natively
// (same driver, same simulator, same host), their ratio, and per frame:
// SPI transactions (chip-select frames, counted by the simulated bus),
// spi_transact host calls and nic_poll export calls (counted by the host
// for both builds), and every host call and export call (counted on the
// native build, whose ABI calls are Go interfaces: host-calls counts
// spi_transact, rx_push, rx_push_batch, now, wake_at, gpio_* and the rest;
// exports counts nic_poll, nic_transmit(_batch) and control calls). The
// WASM build runs the same code and makes the same calls for the same
// traffic. cpu-us/frame is the process's CPU time per frame (host,
// driver, simulator and benchmark together): on a busy machine it moves
// less than frames/s, which also counts waiting for a CPU.
//
// The plugins run with limits.cpu_share at its maximum
// (benchkit.MaxCPUShare), so the host's CPU throttle never holds them
// back: the figures measure the driver and the sandbox crossing, not the
// limit. The chip is unpaced (no 100 Mb/s wire), and the peer keeps the
// chip's RX buffer from overflowing; a benchmark where the chip records
// misuse or drops a frame fails.
//
//	go test -run '^$' -bench Frames ./plugins/wiznet/
func BenchmarkFrames(b *testing.B) {
	wasm, native := benchNIC(b, false), benchNIC(b, true)
	for _, dir := range []string{"rx", "tx"} {
		b.Run(dir, func(b *testing.B) {
			var nt, wt benchkit.Traffic
			for range b.N {
				// One round of benchkit.WiznetRound frames each.
				n, w, err := benchkit.CompareFrames(hosttest.Context(b), native, wasm, dir, 0)
				if err != nil {
					b.Fatal(err)
				}
				nt, wt = nt.Add(n), wt.Add(w)
			}
			nr, wr := nt.Rate(), wt.Rate()
			b.ReportMetric(nr, "native-frames/s")
			b.ReportMetric(wr, "wasm-frames/s")
			b.ReportMetric(nr/wr, "native/wasm")
			b.ReportMetric(nt.CPU.Seconds()*1e6/float64(nt.Frames), "native-cpu-us/frame")
			b.ReportMetric(wt.CPU.Seconds()*1e6/float64(wt.Frames), "wasm-cpu-us/frame")
			b.ReportMetric(wt.Per(wt.Transactions), "spi-transactions/frame")
			b.ReportMetric(wt.Per(wt.Bytes), "spi-bytes/frame")
			b.ReportMetric(wt.Per(wt.SPICalls), "wasm-spi_transact/frame")
			b.ReportMetric(wt.Per(wt.Polls), "wasm-polls/frame")
			b.ReportMetric(nt.Per(nt.Calls.Imports()), "host-calls/frame")
			b.ReportMetric(nt.Per(nt.Calls.SPI), "spi_transact/frame")
			b.ReportMetric(nt.Per(nt.Calls.RxPush+nt.Calls.RxPushBatch), "rx_push/frame")
			b.ReportMetric(nt.Per(nt.Calls.Exports()), "exports/frame")
			b.ReportMetric(0, "ns/op") // b.N rounds of frames each way: ns/op means nothing
		})
	}
}

// BenchmarkIsConnected measures isconnected() through the host as WASM and
// natively: the control call's whole path (the host's call into the
// plugin with its deadline, the driver's PHYCFGR read over spi_transact,
// the result's encoding on both sides). ns/op is the cost of one call.
func BenchmarkIsConnected(b *testing.B) {
	for _, e := range []struct {
		name   string
		native bool
	}{{"native", true}, {"wasm", false}} {
		b.Run(e.name, func(b *testing.B) {
			n := benchNIC(b, e.native)
			b.ResetTimer()
			if _, err := benchkit.IsConnectedCalls(hosttest.Context(b), n.NIC, b.N); err != nil {
				b.Fatal(err)
			}
		})
	}
}
