package tests

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nichost/nichost/internal/benchkit"
	"github.com/nichost/nichost/internal/testenv"
)

// BenchmarkTAP measures, in one run, TCP bulk throughput each way and the
// connection setup rate between the Linux kernel and:
//
//	nichost: the full path (core + LAN plugin in WASM + TAP frame port)
//	core:    the same core reading the TAP itself, no plugin
//	kernel:  another kernel stack over a veth pair (context only)
//
// and reports nichost/core, the price of sandboxed drivers. Needs root.
// The paths are internal/benchkit's (`nichost bench` measures them too);
// the plugin runs with limits.cpu_share at its maximum, so the host's CPU
// throttle does not cap it.
//
//	go test -run '^$' -bench TAP -benchtime 3x ./tests/
func BenchmarkTAP(b *testing.B) {
	testenv.NeedRoot(b)
	testenv.NeedTool(b, "ip", "iproute2")
	const size = 32 << 20
	root, err := filepath.Abs("..")
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()                                               // no deadline: the plugin's first build takes what it takes
	paths, closeAll, err := benchkit.TAPTCPPaths(ctx, root, "", nil) // the host's default engine
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(closeAll)
	if only := os.Getenv("NICHOST_BENCH_ONLY"); only != "" { // profile one path
		paths = slices.DeleteFunc(paths, func(p *benchkit.TCPPath) bool { return p.Name != only })
	}
	for _, dir := range []string{"send", "receive"} {
		b.Run(dir, func(b *testing.B) {
			rate := map[string]float64{}
			for _, p := range paths {
				var total time.Duration
				for range b.N {
					el, err := benchkit.Bulk(ctx, p, dir == "send", size)
					if err != nil {
						b.Fatal(err)
					}
					total += el
				}
				rate[p.Name] = float64(size) * float64(b.N) / total.Seconds() / 1e6
				b.ReportMetric(rate[p.Name], p.Name+"-MB/s")
			}
			b.ReportMetric(rate["nichost"]/rate["core"], "nichost/core")
		})
	}
	b.Run("connect", func(b *testing.B) {
		rate := map[string]float64{}
		for _, p := range paths {
			const n = 200
			el, err := benchkit.Connects(ctx, p, n*b.N)
			if err != nil {
				b.Fatal(err)
			}
			rate[p.Name] = float64(n*b.N) / el.Seconds()
			b.ReportMetric(rate[p.Name], p.Name+"-conn/s")
		}
		b.ReportMetric(rate["nichost"]/rate["core"], "nichost/core")
	})
}
