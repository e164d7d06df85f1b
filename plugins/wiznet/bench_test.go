//go:build !wasip1

package main_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
	"github.com/nichost/nichost/host/native"
	"github.com/nichost/nichost/plugins/wiznet/driver"
	"github.com/nichost/nichost/plugins/wiznet/w5500"
)

// benchNIC is the WIZNET5K driver on an unpaced simulated W5500 whose wire
// goes to peer, with a Link counting what the driver delivers.
type benchNIC struct {
	nic  *host.NIC
	spi  *sim.SPI
	peer *sim.FramePort
	rx   atomic.Int64
}

type countLink struct{ n *atomic.Int64 }

func (l countLink) DeliverFrame([]byte) error { l.n.Add(1); return nil }
func (countLink) LinkChanged(host.LinkState)  {}
func (countLink) Reported(map[string]any)     {}

func newBenchNIC(b *testing.B, nativeBuild bool) *benchNIC {
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
		"spi": {Kind: "spi", Sim: "spi"}, "int": {Kind: "gpio", Sim: "int"}, "rst": {Kind: "gpio", Sim: "rst"}}}
	var p *host.Plugin
	if nativeBuild {
		cfg.Name = "n"
		p, err = native.Load(context.Background(), h, cfg, driver.New)
	} else {
		p, _, err = h.Load(context.Background(), cfg)
	}
	if err != nil {
		b.Fatal(err)
	}
	n := &benchNIC{nic: p.NICs()[0], spi: spi, peer: seg.Attach("peer")}
	hosttest.Attach(n.nic, countLink{&n.rx})
	ctx := context.Background()
	if err := n.nic.SetActive(ctx, true); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for ok, _ := n.nic.IsConnected(ctx); !ok; ok, _ = n.nic.IsConnected(ctx) {
		if time.Now().After(deadline) {
			b.Fatal("no link")
		}
		time.Sleep(time.Millisecond)
	}
	for _, err := range chip.Errors() {
		b.Fatalf("chip misuse: %v", err)
	}
	return n
}

// rxFrames has the peer send n frames of size bytes and waits until the
// driver delivered them all; it returns the elapsed time.
func (n *benchNIC) rxFrames(b *testing.B, count, size int) time.Duration {
	f := bytes.Repeat([]byte{0x5a}, size)
	copy(f, n.nic.MAC())
	want := n.rx.Load() + int64(count)
	start := time.Now()
	for range count {
		for n.peer.WriteFrame(f) != nil {
			time.Sleep(10 * time.Microsecond)
		}
	}
	for n.rx.Load() < want {
		if time.Since(start) > 30*time.Second {
			b.Fatalf("delivered %d of %d frames", n.rx.Load()-(want-int64(count)), count)
		}
		time.Sleep(20 * time.Microsecond)
	}
	return time.Since(start)
}

// txFrames queues n frames for the driver and waits until the peer has
// them all.
func (n *benchNIC) txFrames(b *testing.B, count, size int) time.Duration {
	f := bytes.Repeat([]byte{0xa5}, size)
	copy(f, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	buf := make([]byte, 2048)
	start := time.Now()
	got := 0
	for sent := 0; got < count; {
		for sent < count && sent-got < 64 && hosttest.Transmit(n.nic, f) == nil {
			sent++
		}
		if k, _ := n.peer.ReadFrame(buf); k > 0 {
			got++
			continue
		}
		if time.Since(start) > 30*time.Second {
			b.Fatalf("the peer got %d of %d frames", got, count)
		}
		time.Sleep(5 * time.Microsecond)
	}
	return time.Since(start)
}

// BenchmarkFrames measures frames per second through the simulated W5500
// with the driver as WASM and natively (same code, same simulator, same
// run), their ratio, and SPI transactions and bus bytes per frame.
//
//	go test -run '^$' -bench Frames ./plugins/wiznet/
func BenchmarkFrames(b *testing.B) {
	const size = 1000
	wasm, native := newBenchNIC(b, false), newBenchNIC(b, true)
	for _, dir := range []string{"rx", "tx"} {
		b.Run(dir, func(b *testing.B) {
			rate := map[string]float64{}
			for _, e := range []struct {
				name string
				n    *benchNIC
			}{{"native", native}, {"wasm", wasm}} {
				// Small batches: the chip's buffer holds about ten frames, and a
				// flood would measure drops rather than the driver.
				const batch = 8
				before := e.n.spi.Stats()
				var el time.Duration
				frames := 0
				for range b.N {
					for range 25 {
						if dir == "rx" {
							el += e.n.rxFrames(b, batch, size)
						} else {
							el += e.n.txFrames(b, batch, size)
						}
						frames += batch
					}
				}
				after := e.n.spi.Stats()
				rate[e.name] = float64(frames) / el.Seconds()
				b.ReportMetric(rate[e.name], e.name+"-frames/s")
				if e.name == "wasm" {
					b.ReportMetric(float64(after.Transactions-before.Transactions)/float64(frames), "spi-transactions/frame")
					b.ReportMetric(float64(after.Bytes-before.Bytes)/float64(frames)-size, "spi-bytes/frame-over-payload")
				}
			}
			b.ReportMetric(rate["native"]/rate["wasm"], "native/wasm")
		})
	}
}
