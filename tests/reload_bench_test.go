package tests

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/nichost/nichost/internal/benchkit"
	"github.com/nichost/nichost/internal/wait"
)

// A hot reload and a restart after a trap, measured from outside: a TCP
// stream both ways between a nichost socket and the simulated LAN's
// router, through the LAN driver on its lan8720 simulator or the W5500
// driver on its simulator, while the plugin is reloaded (alternating two
// builds of the same driver) or made to trap. Nothing here needs root.
// The rig is internal/benchkit's ReloadRig, which `nichost bench`
// measures with too.

// newReloadRig loads model's driver ("lan" or "w5500", see
// benchkit.NewReloadRig) with fault injection on, brings it up and waits
// for its DHCP lease, on the host's default engine.
func newReloadRig(tb testing.TB, model string) *benchkit.ReloadRig {
	tb.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		tb.Fatal(err)
	}
	// No deadline: the driver's first build takes what it takes.
	r, err := benchkit.NewReloadRig(context.Background(), root, model, "", tb.TempDir(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(r.Close)
	return r
}

// must fails tb with err, if any.
func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// trap makes the instance trap and waits for the next, skipping where the
// SDK has no fault injection.
func trap(tb testing.TB, ctx context.Context, r *benchkit.ReloadRig) {
	tb.Helper()
	if err := r.Trap(ctx); errors.Is(err, benchkit.ErrNoFaults) {
		tb.Skip(err)
	} else if err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkReload measures, for each driver, a warm reload under a TCP
// stream both ways and a restart after a forced trap: pause_ms (the
// longest time no frame moved on the wire around the event, the worst of
// the run), lost_frames (frames one end sent that the other never got, per
// event), and rx_after_vs_before and tx_after_vs_before (each direction's
// throughput in the second after the event against the second before it,
// measured in the same run; the mean, and the worst as min_rx_ratio and
// min_tx_ratio).
//
//	go test -run '^$' -bench Reload -benchtime 5x ./tests/
func BenchmarkReload(b *testing.B) {
	for _, model := range []string{"lan", "w5500"} {
		b.Run(model, func(b *testing.B) {
			r := newReloadRig(b, model)
			ctx := wait.Context(b)
			// Both builds compiled once before anything is measured.
			for range 2 {
				must(b, r.Reload(ctx))
			}
			wait.For(b, "the link and the lease after the reloads", func() bool { ok, _ := r.NIC.IsConnected(ctx); return ok })
			for _, kind := range []string{"reload", "restart"} {
				b.Run(kind, func(b *testing.B) {
					if kind == "restart" && r.NoFaults {
						b.Skip(benchkit.ErrNoFaults)
					}
					must(b, r.Quiet(ctx))
					lost0 := r.Accounts().Lost
					d, err := r.StartDuplex(ctx, 0, benchkit.PaceRate(model))
					must(b, err)
					wait.For(b, "two seconds of traffic", func() bool { return d.Up() > 0 && d.Down() > 0 })
					t := r.Now()
					wait.For(b, "two seconds of traffic", func() bool { return r.Now() > t+2*time.Second })
					var evs []benchkit.ReloadEvent
					for range b.N {
						ev, err := r.Measure(ctx, d, kind, time.Second, func() error {
							if kind == "reload" {
								return r.Reload(ctx)
							}
							return r.Trap(ctx)
						})
						if err != nil {
							d.Stop()
							b.Fatal(err)
						}
						evs = append(evs, ev)
					}
					d.Stop()
					must(b, r.Quiet(ctx))
					a := r.Accounts()
					reportReloads(b, evs, a.Lost-lost0)
					b.Logf("in all since the start: %v; device drops %d", a, r.DevDrops())
				})
			}
		})
	}
}

// reportReloads reports the worst pause, the frames lost per event, and the
// ratios of evs.
func reportReloads(b *testing.B, evs []benchkit.ReloadEvent, lost int64) {
	var pause time.Duration
	rx, tx, minRx, minTx := 0.0, 0.0, 1e9, 1e9
	for _, e := range evs {
		pause = max(pause, e.Pause)
		rx += e.RxRatio
		tx += e.TxRatio
		minRx, minTx = min(minRx, e.RxRatio), min(minTx, e.TxRatio)
		b.Logf("%s: pause %v, took %v, rx %.0f -> %.0f kB/s (%.2f), tx %.0f -> %.0f kB/s (%.2f)", e.Kind,
			e.Pause.Round(100*time.Microsecond), e.Took.Round(100*time.Microsecond),
			e.Rx[0]/1e3, e.Rx[1]/1e3, e.RxRatio, e.Tx[0]/1e3, e.Tx[1]/1e3, e.TxRatio)
	}
	n := float64(len(evs))
	b.ReportMetric(float64(pause.Microseconds())/1000, "pause_ms")
	b.ReportMetric(float64(lost)/n, "lost_frames")
	b.ReportMetric(rx/n, "rx_after_vs_before")
	b.ReportMetric(tx/n, "tx_after_vs_before")
	b.ReportMetric(minRx, "min_rx_ratio")
	b.ReportMetric(minTx, "min_tx_ratio")
}

// testRates are the streams' rates in TestReload_StreamSurvives, each way:
// well below the devices' capacity, so that the device's buffers (the
// LAN port's 512 frames, about 380 ms of this stream; the W5500's 16 KiB,
// about 30 ms) outlast the host's pauses on a loaded machine and a frame
// lost is one the host lost. At 10 MB/s the LAN port's lasted 77 ms, and a
// CI run with the machine busy lost 109 frames in its buffer.
var testRates = map[string]float64{"lan": 2e6, "w5500": 500e3}

// A TCP stream both ways through each driver survives reloads alternating
// two builds and forced traps: both directions complete byte-exact on one
// connection, no frame is lost in the reloads, and every frame lost in the
// restarts after the traps is counted where it was dropped.
func TestReload_StreamSurvives(t *testing.T) {
	for _, model := range []string{"lan", "w5500"} {
		t.Run(model, func(t *testing.T) {
			r := newReloadRig(t, model)
			ctx := wait.Context(t)
			total := int64(testRates[model] * 3) // about 3 s each way
			const reloads = 6
			must(t, r.Quiet(ctx))
			before := r.Accounts()
			d, err := r.StartDuplex(ctx, total, testRates[model])
			must(t, err)
			for i := range reloads {
				mark := total * int64(i+1) / (reloads + 1)
				wait.For(t, "the streams' progress", func() bool { return d.Up() >= mark && d.Down() >= mark })
				if err := r.Reload(ctx); err != nil {
					t.Fatalf("reload %d: %v", i+1, err)
				}
			}
			if err := d.Wait(); err != nil {
				t.Fatalf("across %d reloads: %v\nhost log:\n%s", reloads, err, r.Logs())
			}
			must(t, r.Quiet(ctx))
			after := r.Accounts()
			if lost := after.Lost - before.Lost; lost != 0 {
				t.Fatalf("%d frames lost across %d warm reloads (drops %v, device drops %d)", lost, reloads, after.Drops, r.DevDrops())
			}
			if st := r.Plugin.State(); st.Reloads != reloads+0 || st.Faults != 0 {
				t.Fatalf("state %+v after %d reloads", st, reloads)
			}
			if r.NoFaults {
				t.Skip("the Go SDK has no fault injection: no traps")
			}

			const traps = 3
			before = after
			d, err = r.StartDuplex(ctx, total, testRates[model])
			must(t, err)
			for i := range traps {
				mark := total * int64(i+1) / (traps + 1)
				wait.For(t, "the streams' progress", func() bool { return d.Up() >= mark && d.Down() >= mark })
				trap(t, ctx, r)
			}
			if err := d.Wait(); err != nil {
				t.Fatalf("across %d traps: %v\nhost log:\n%s", traps, err, r.Logs())
			}
			must(t, r.Quiet(ctx))
			after = r.Accounts()
			lost, counted := after.Lost-before.Lost, after.Counted-before.Counted
			t.Logf("%d traps: %d frames lost, %d counted (drops %v, device drops %d)", traps, lost, counted, after.Drops, r.DevDrops())
			if lost != counted {
				t.Fatalf("%d frames lost across %d traps, %d of them counted: %d dropped where nothing counts", lost, traps, counted, lost-counted)
			}
		})
	}
}
