package benchkit

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/build"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hostbench"
	"github.com/nichost/nichost/plugins/lan/landev"
	"github.com/nichost/nichost/plugins/lan/phy"
)

// LANFrames is one LAN driver build on a simulated LAN8720A and segment,
// with a pump moving frames between it and a peer on the segment.
type LANFrames struct {
	Host  *host.Host
	Pump  *hostbench.FramePump
	Watch *landev.Watcher // the PHY as the bus sees it: records misuse
}

// NewLANFrames loads the LAN driver at source (plugins/lan or
// plugins/lan/c) on engine ("": the host's default), on a fresh PHY and
// segment of its own, and brings its link up.
func NewLANFrames(ctx context.Context, source, engine string, progress func(string)) (*LANFrames, error) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1, QueueLen: 4096})
	p := phy.New(phy.Options{Addr: 1, AutoNegTime: 30 * time.Millisecond})
	f := &LANFrames{Watch: landev.Watch(p)}
	mdio := sim.NewMDIO()
	mdio.Attach(1, f.Watch)
	o := host.Options{Logger: discard, Progress: progress, Buses: map[string]any{"port": seg.Attach("lan"), "mdio": mdio}}
	o.Engine = engine
	var err error
	if f.Host, err = host.New(o); err != nil {
		return nil, err
	}
	plug, _, err := f.Host.Load(ctx, config.PluginConfig{
		Name: "lan", Source: source, Class: "LAN",
		Buses:  map[string]config.BusGrant{"port": {Kind: "frame", Sim: "port"}, "mdio": {Kind: "mdio", Sim: "mdio"}},
		Limits: config.Limits{CPUShare: MaxCPUShare},
	})
	if err != nil {
		f.Host.Close()
		return nil, err
	}
	nic := plug.NICs()[0]
	f.Pump = hostbench.NewFramePump(nic, seg.Attach("peer"))
	if err := nic.SetActive(ctx, true); err != nil {
		f.Host.Close()
		return nil, err
	}
	if err := linkUp(ctx, nic); err != nil {
		f.Host.Close()
		return nil, err
	}
	return f, nil
}

// Close closes the host.
func (f *LANFrames) Close() { f.Host.Close() }

// Move moves frames of size bytes through the driver in dir ("rx" or
// "tx") and returns the time it took.
func (f *LANFrames) Move(ctx context.Context, dir string, frames, size int) (time.Duration, error) {
	if dir == "rx" {
		return f.Pump.Rx(ctx, frames, size, 256) // within the port's queue
	}
	return f.Pump.Tx(ctx, frames, size, 256)
}

// Misuse returns the PHY misuse the driver made, as one error.
func (f *LANFrames) Misuse() error { return errors.Join(f.Watch.Errors()...) }

// measureCvsGo: frames/s through the C LAN driver against the Go one.
func measureCvsGo(ctx context.Context, e *env, rec *recorder) error {
	// A build first: without clang the figure is not available here.
	if _, err := (&build.Builder{CacheDir: filepath.Join(e.CacheDir, "plugins"), Progress: e.Progress}).Build(ctx, e.source("plugins", "lan", "c")); err != nil {
		if errors.Is(err, build.ErrNoClang) {
			return &Unavailable{Reason: "no clang for wasm32-wasi: " + err.Error()}
		}
		return err
	}
	goDrv, err := NewLANFrames(ctx, e.source("plugins", "lan"), "wazero", e.Progress)
	if err != nil {
		return fmt.Errorf("Go driver: %w", err)
	}
	defer goDrv.Close()
	cDrv, err := NewLANFrames(ctx, e.source("plugins", "lan", "c"), "wazero", e.Progress)
	if err != nil {
		return fmt.Errorf("C driver: %w", err)
	}
	defer cDrv.Close()
	const round = 1000
	rates := map[string][2]float64{}
	for _, dir := range []string{"rx", "tx"} {
		var el [2]time.Duration
		var n [2]int
		start := time.Now()
		for time.Since(start) < e.budget/2 || n[0] == 0 {
			for i, d := range []*LANFrames{goDrv, cDrv} {
				t, err := d.Move(ctx, dir, round, FrameSize)
				if err != nil {
					return fmt.Errorf("%s: %w", dir, err)
				}
				el[i] += t
				n[i] += round
			}
		}
		rates[dir] = [2]float64{float64(n[1]) / el[1].Seconds(), float64(n[0]) / el[0].Seconds()}
	}
	// A driver that broke the PHY's rules measures nothing.
	for name, d := range map[string]*LANFrames{"Go": goDrv, "C": cDrv} {
		if err := d.Misuse(); err != nil {
			return fmt.Errorf("the %s driver misused the PHY: %w", name, err)
		}
	}
	for dir, r := range rates {
		rec.set([]string{"c_vs_go_driver", dir}, r[0], r[1])
	}
	return nil
}
