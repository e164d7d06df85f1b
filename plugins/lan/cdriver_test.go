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
// with a Link counting what the driver delivers to the core.
type frameBench struct {
	nic  *host.NIC
	peer *sim.FramePort
	rx   atomic.Int64
	rxed chan struct{} // a frame was delivered
	txed chan struct{} // the peer has a frame
	w    *landev.Watcher
}

type frameCounter struct{ b *frameBench }

func (c frameCounter) DeliverFrame([]byte) error {
	c.b.rx.Add(1)
	select {
	case c.b.rxed <- struct{}{}:
	default:
	}
	return nil
}
func (frameCounter) LinkChanged(host.LinkState) {}
func (frameCounter) Reported(map[string]any)    {}

// newFrameBench loads the driver at source (the Go one, ".", or the C one)
// on a fresh PHY and segment of its own, and brings its link up.
func newFrameBench(b *testing.B, source string) *frameBench {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1, QueueLen: 4096})
	p := phy.New(phy.Options{Addr: 1, AutoNegTime: testANTime})
	fb := &frameBench{w: landev.Watch(p), rxed: make(chan struct{}, 1), txed: make(chan struct{}, 1)}
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
	fb.nic = plug.NICs()[0]
	fb.peer = seg.Attach("peer")
	fb.peer.Notify(func() {
		select {
		case fb.txed <- struct{}{}:
		default:
		}
	})
	hosttest.Attach(fb.nic, frameCounter{fb})
	ctx := context.Background()
	if err := fb.nic.SetActive(ctx, true); err != nil {
		b.Fatal(err)
	}
	wait.For(b, "the link", func() bool { ok, _ := fb.nic.IsConnected(ctx); return ok })
	return fb
}

func (fb *frameBench) await(b *testing.B, ch <-chan struct{}, what string) {
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		b.Fatalf("no progress for 10 s waiting for %s", what)
	}
}

// rxFrames has the peer send count frames of size bytes to the driver's
// MAC address, at most window ahead of what the driver delivered, and
// returns the time until the driver delivered the last one.
func (fb *frameBench) rxFrames(b *testing.B, count, size int) time.Duration {
	const window = 256 // within the port's queue
	f := bytes.Repeat([]byte{0x5a}, size)
	copy(f, fb.nic.MAC())
	base := fb.rx.Load()
	start := time.Now()
	for sent := int64(0); fb.rx.Load()-base < int64(count); {
		for sent < int64(count) && sent-(fb.rx.Load()-base) < window {
			if fb.peer.WriteFrame(f) != nil {
				break
			}
			sent++
		}
		fb.await(b, fb.rxed, "delivered frames")
	}
	return time.Since(start)
}

// txFrames queues count frames for the driver, keeping the host's
// transmit queue fed, and returns the time until the peer has them all.
func (fb *frameBench) txFrames(b *testing.B, count, size int) time.Duration {
	const inFlight = 256
	f := bytes.Repeat([]byte{0xa5}, size)
	copy(f, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	buf := make([]byte, 2048)
	start := time.Now()
	for sent, got := 0, 0; got < count; {
		for sent < count && sent-got < inFlight && hosttest.Transmit(fb.nic, f) == nil {
			sent++
		}
		k := 0
		for ; got < count; k++ {
			if m, _ := fb.peer.ReadFrame(buf); m == 0 {
				break
			}
			got++
		}
		if k == 0 {
			fb.await(b, fb.txed, "frames at the peer")
		}
	}
	return time.Since(start)
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
						el = d.fb.rxFrames(b, frames, size)
					} else {
						el = d.fb.txFrames(b, frames, size)
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
