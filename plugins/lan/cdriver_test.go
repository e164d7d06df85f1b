//go:build !wasip1

package main_test

import (
	"testing"
	"time"

	"github.com/nichost/nichost/host/hosttest"
	"github.com/nichost/nichost/internal/benchkit"
	"github.com/nichost/nichost/internal/testenv"
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

// newFrameBench loads the driver at source (the Go one, ".", or the C one)
// as WASM on the host's default engine, on a fresh PHY and segment of its own, and brings its link up
// (benchkit.LANFrames, which `nichost bench` measures with too).
func newFrameBench(b *testing.B, source string) *benchkit.LANFrames {
	f, err := benchkit.NewLANFrames(b.Context(), source, "", nil) // no deadline: a cold build takes what it takes
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(f.Close)
	return f
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
	const size = benchkit.FrameSize
	goDrv, cDrv := newFrameBench(b, "."), newFrameBench(b, cDriver)
	for _, dir := range []string{"rx", "tx"} {
		b.Run(dir, func(b *testing.B) {
			var goN, cN int
			var goEl, cEl time.Duration
			for range b.N {
				const frames = 2000
				for _, d := range []struct {
					fb *benchkit.LANFrames
					n  *int
					el *time.Duration
				}{{goDrv, &goN, &goEl}, {cDrv, &cN, &cEl}} {
					el, err := d.fb.Move(hosttest.Context(b), dir, frames, size)
					if err != nil {
						b.Fatal(err)
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
	for name, fb := range map[string]*benchkit.LANFrames{"go": goDrv, "c": cDrv} {
		if err := fb.Misuse(); err != nil {
			b.Errorf("the %s driver misused the PHY: %v", name, err)
		}
	}
}
