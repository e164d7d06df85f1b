//go:build !wasip1

package main_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
	"github.com/nichost/nichost/internal/testenv"
	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/plugins/lan/landev"
	"github.com/nichost/nichost/plugins/lan/phy"
)

// cDriver is the directory of the LAN driver written in C (c/lan.c, on the
// C SDK of abi/c), which the host builds with clang.
const cDriver = "c"

// needClang skips a test of the C driver where clang cannot build it, and
// fails it under NICHOST_E2E=require.
func needClang(t testing.TB) {
	t.Helper()
	testenv.NeedTool(t, "clang", "clang, with lld, wasi-libc and libclang-rt-14-dev-wasm32")
}

// frameBench is one LAN driver build on a simulated LAN8720A and segment,
// with a pump moving frames between it and a peer on the segment.
type frameBench struct {
	pump *hosttest.FramePump
	w    *landev.Watcher
}

// newFrameBench loads the driver at source (the Go one, ".", or the C one)
// on a fresh PHY and segment of its own, and brings its link up.
func newFrameBench(b *testing.B, source string) *frameBench {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1, QueueLen: 4096})
	p := phy.New(phy.Options{Addr: 1, AutoNegTime: testANTime})
	fb := &frameBench{w: landev.Watch(p)}
	mdio := sim.NewMDIO()
	mdio.Attach(1, fb.w)
	h, err := host.New(host.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Buses:  map[string]any{"port": seg.Attach("lan"), "mdio": mdio},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	plug, _, err := h.Load(context.Background(), config.PluginConfig{
		Name: "lan", Source: source, Class: abi.ClassLAN,
		Buses: map[string]config.BusGrant{"port": {Kind: "frame", Sim: "port"}, "mdio": {Kind: "mdio", Sim: "mdio"}},
		// The host's CPU throttle never holds the driver back: the figures
		// measure the driver and the sandbox crossing, not the limit.
		Limits: config.Limits{CPUShare: 64},
	})
	if err != nil {
		b.Fatal(err)
	}
	nic := plug.NICs()[0]
	fb.pump = hosttest.NewFramePump(nic, seg.Attach("peer"))
	ctx := context.Background()
	if err := nic.SetActive(ctx, true); err != nil {
		b.Fatal(err)
	}
	wait.For(b, "the link", func() bool { ok, _ := nic.IsConnected(ctx); return ok })
	return fb
}

// BenchmarkFrames_CvsGo measures, in one run and for each direction,
// frames per second through the LAN driver written in C (plugins/lan/c)
// and the one written in Go (plugins/lan), both as WASM, each on a
// simulated LAN8720A and segment of the same kind, and their ratio
// (c/go above 1: the C driver moves more). A benchmark where either
// driver misused the PHY fails.
//
//	go test -run '^$' -bench Frames_CvsGo ./plugins/lan/
func BenchmarkFrames_CvsGo(b *testing.B) {
	needClang(b)
	const size = 1000
	goDrv, cDrv := newFrameBench(b, "."), newFrameBench(b, cDriver)
	for _, dir := range []string{"rx", "tx"} {
		b.Run(dir, func(b *testing.B) {
			var goN, cN int
			var goEl, cEl time.Duration
			for range b.N {
				const frames = 2000
				for _, d := range []struct {
					fb *frameBench
					n  *int
					el *time.Duration
				}{{goDrv, &goN, &goEl}, {cDrv, &cN, &cEl}} {
					var el time.Duration
					if dir == "rx" {
						el = d.fb.pump.Rx(b, frames, size, 256) // within the port's queue
					} else {
						el = d.fb.pump.Tx(b, frames, size, 256)
					}
					*d.n += frames
					*d.el += el
				}
			}
			gr, cr := float64(goN)/goEl.Seconds(), float64(cN)/cEl.Seconds()
			b.ReportMetric(gr, "go-frames/s")
			b.ReportMetric(cr, "c-frames/s")
			b.ReportMetric(cr/gr, "c/go")
			b.ReportMetric(0, "ns/op") // b.N rounds of 2000 frames: ns/op means nothing
		})
	}
	for name, fb := range map[string]*frameBench{"go": goDrv, "c": cDrv} {
		for _, err := range fb.w.Errors() {
			b.Errorf("the %s driver misused the PHY: %v", name, err)
		}
	}
}
