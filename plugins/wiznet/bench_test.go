//go:build !wasip1

package main_test

import (
	"context"
	"io"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/plugins/wiznet/w5500"
)

// benchNIC is the WIZNET5K driver on an unpaced simulated W5500 whose wire
// goes to peer, with a Link counting what the driver delivers.
type benchNIC struct {
	nic   *host.NIC
	plug  *host.Plugin
	chip  *w5500.Chip
	spi   *sim.SPI
	pump  *hosttest.FramePump
	calls *callCount // nil for the WASM build: the host counts spi_transact only
}

// benchCPUShare is the plugin's limits.cpu_share in the benchmarks: the
// most the host allows (64 cores), so that the host never throttles the
// driver and the figures measure it, not the limit.
const benchCPUShare = 64

func newBenchNIC(b *testing.B, native bool) *benchNIC {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1, QueueLen: 4096})
	chip := w5500.New(w5500.Options{Strict: true, Unpaced: true})
	b.Cleanup(chip.Close)
	chip.Attach(seg.Attach("chip"))
	spi := sim.NewSPI(chip)
	h, err := host.New(host.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Buses:  map[string]any{"spi": spi, "int": chip.INT(), "rst": chip.RST()},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	cfg := config.PluginConfig{Name: "w", Source: ".", Class: "WIZNET5K", Buses: map[string]config.BusGrant{
		"spi": {Kind: "spi", Sim: "spi"}, "int": {Kind: "gpio", Sim: "int"}, "rst": {Kind: "gpio", Sim: "rst"}},
		Limits: config.Limits{CPUShare: benchCPUShare}}
	n := &benchNIC{chip: chip, spi: spi}
	if native {
		cfg.Name = "n"
		n.calls = &callCount{}
		n.plug, err = h.LoadNative(context.Background(), cfg, countedWIZNET(n.calls))
	} else {
		n.plug, _, err = h.Load(context.Background(), cfg)
	}
	if err != nil {
		b.Fatal(err)
	}
	n.nic = n.plug.NICs()[0]
	n.pump = hosttest.NewFramePump(n.nic, seg.Attach("peer"))
	ctx := context.Background()
	if err := n.nic.SetActive(ctx, true); err != nil {
		b.Fatal(err)
	}
	wait.For(b, "the link", func() bool { ok, _ := n.nic.IsConnected(ctx); return ok })
	n.checkChip(b)
	return n
}

// checkChip fails the benchmark if the driver misused the chip or frames
// were dropped: a fast driver that breaks the datasheet measures nothing.
func (n *benchNIC) checkChip(b *testing.B) {
	for _, err := range n.chip.Errors() {
		b.Fatalf("chip misuse: %v", err)
	}
	if d := n.chip.Stats().RxDropped; d > 0 {
		b.Fatalf("the chip dropped %d received frames: the window overran its buffer", d)
	}
}

// rxWindow is how many frames the peer keeps in flight towards the chip:
// they fit its 16 KiB RX buffer, so that the benchmark measures the
// driver draining it rather than frames the chip drops.
func rxWindow(size int) int { return 12 * 1024 / (size + 2) }

// benchTraffic is what one measurement moved.
type benchTraffic struct {
	frames       int
	el           time.Duration
	transactions uint64        // SPI transactions (chip-select frames)
	spiCalls     uint64        // spi_transact host calls (the host's count)
	polls        uint64        // nic_poll export calls (the host's count)
	cpu          time.Duration // the process's CPU time (user and system): all of the host, driver and simulator
	calls        snapshot
}

func (n *benchNIC) measure(b *testing.B, dir string, frames, size int) benchTraffic {
	s0, p0 := n.spi.Stats(), n.plug.Stats()
	var c0 snapshot
	if n.calls != nil {
		c0 = n.calls.snapshot()
	}
	cpu0 := cpuTime()
	var el time.Duration
	if dir == "rx" {
		el = n.pump.Rx(b, frames, size, rxWindow(size))
	} else {
		el = n.pump.Tx(b, frames, size, 256)
	}
	s1, p1 := n.spi.Stats(), n.plug.Stats()
	t := benchTraffic{frames: frames, el: el, transactions: s1.Transactions - s0.Transactions, spiCalls: p1.SPICalls - p0.SPICalls, polls: p1.Polls - p0.Polls, cpu: cpuTime() - cpu0}
	if n.calls != nil {
		t.calls = n.calls.snapshot().sub(c0)
	}
	n.checkChip(b)
	return t
}

func (t benchTraffic) per(v uint64) float64 { return float64(v) / float64(t.frames) }

// cpuTime is the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
// The plugins run with limits.cpu_share at its maximum (benchCPUShare), so
// the host's CPU throttle never holds them back: the figures measure the
// driver and the sandbox crossing, not the limit. The chip is unpaced (no
// 100 Mb/s wire), and the peer keeps the chip's RX buffer from
// overflowing; a benchmark where the chip records misuse or drops a frame
// fails.
//
//	go test -run '^$' -bench Frames ./plugins/wiznet/
func BenchmarkFrames(b *testing.B) {
	const size = 1000
	wasm, native := newBenchNIC(b, false), newBenchNIC(b, true)
	for _, dir := range []string{"rx", "tx"} {
		b.Run(dir, func(b *testing.B) {
			var nt, wt benchTraffic
			for range b.N {
				const frames = 200
				n := native.measure(b, dir, frames, size)
				w := wasm.measure(b, dir, frames, size)
				nt.frames, nt.el = nt.frames+n.frames, nt.el+n.el
				wt.frames, wt.el = wt.frames+w.frames, wt.el+w.el
				nt.transactions, wt.transactions = nt.transactions+n.transactions, wt.transactions+w.transactions
				nt.spiCalls, wt.spiCalls = nt.spiCalls+n.spiCalls, wt.spiCalls+w.spiCalls
				nt.polls, wt.polls = nt.polls+n.polls, wt.polls+w.polls
				nt.cpu, wt.cpu = nt.cpu+n.cpu, wt.cpu+w.cpu
				nt.calls = addSnap(nt.calls, n.calls)
			}
			nr, wr := float64(nt.frames)/nt.el.Seconds(), float64(wt.frames)/wt.el.Seconds()
			b.ReportMetric(nr, "native-frames/s")
			b.ReportMetric(wr, "wasm-frames/s")
			b.ReportMetric(nr/wr, "native/wasm")
			ncpu, wcpu := nt.cpu.Seconds()*1e6/float64(nt.frames), wt.cpu.Seconds()*1e6/float64(wt.frames)
			b.ReportMetric(ncpu, "native-cpu-us/frame")
			b.ReportMetric(wcpu, "wasm-cpu-us/frame")
			b.ReportMetric(wt.per(wt.transactions), "spi-transactions/frame")
			b.ReportMetric(wt.per(wt.spiCalls), "wasm-spi_transact/frame")
			b.ReportMetric(wt.per(wt.polls), "wasm-polls/frame")
			b.ReportMetric(nt.per(nt.calls.imports()), "host-calls/frame")
			b.ReportMetric(nt.per(nt.calls.spi), "spi_transact/frame")
			b.ReportMetric(nt.per(nt.calls.rxPush+nt.calls.rxBatch), "rx_push/frame")
			b.ReportMetric(nt.per(nt.calls.exports()), "exports/frame")
			b.ReportMetric(0, "ns/op") // b.N rounds of 200 frames each way: ns/op means nothing
		})
	}
}

func addSnap(a, b snapshot) snapshot {
	return snapshot{
		a.spi + b.spi, a.rxPush + b.rxPush, a.rxBatch + b.rxBatch, a.now + b.now, a.wakeAt + b.wakeAt, a.gpio + b.gpio, a.other + b.other,
		a.polls + b.polls, a.transmits + b.transmits, a.controls + b.controls,
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
			n := newBenchNIC(b, e.native)
			ctx := context.Background()
			b.ResetTimer()
			for range b.N {
				if ok, err := n.nic.IsConnected(ctx); !ok || err != nil {
					b.Fatalf("isconnected() = %v, %v", ok, err)
				}
			}
		})
	}
}
