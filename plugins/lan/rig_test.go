//go:build !wasip1

package main_test

import (
	"cmp"
	"context"
	"testing"
	"time"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
	"github.com/nichost/nichost/host/native"
	"github.com/nichost/nichost/plugins/lan/driver"
	"github.com/nichost/nichost/plugins/lan/landev"
	"github.com/nichost/nichost/plugins/lan/phy"
)

// Simulated PHY timing: fast enough for tests, slow enough that the driver
// sees each stage.
const (
	testResetTime = time.Millisecond
	testANTime    = 30 * time.Millisecond
)

// rigConfig shapes a rig.
type rigConfig struct {
	native  bool             // run the Go driver natively instead of as WASM
	source  string           // the plugin's directory: "." (the Go driver, the default) or cDriver
	model   phy.Model        // the simulated PHY (zero: a LAN8720A)
	phyAddr uint8            // where the PHY sits on the MDIO bus
	dev     sim.PHYRegisters // another device instead of the simulator
	// wrap, if set, wraps the simulator as the bus sees it (after the
	// misuse watcher), to record or alter accesses.
	wrap    func(sim.PHYRegisters) sim.PHYRegisters
	noPHY   bool           // an empty MDIO bus
	anTime  time.Duration  // 0: testANTime
	options map[string]any // plugin options
}

// rig is the LAN plugin on a simulated segment and MDIO bus.
type rig struct {
	*hosttest.Rig
	phy   *phy.PHY
	watch *landev.Watcher // the PHY as the bus sees it: records misuse
	mdio  *sim.MDIO
	wire  *sim.FramePort // the peer's port on the segment
	port  *sim.FramePort // the plugin's port
	nic   *host.NIC
	link  *hosttest.Link
	rc    rigConfig
}

// newHost builds the host and its buses without loading the plugin.
func newHost(t *testing.T, rc rigConfig) *rig {
	t.Helper()
	if rc.anTime == 0 {
		rc.anTime = testANTime
	}
	r := &rig{mdio: sim.NewMDIO(), rc: rc}
	switch {
	case rc.dev != nil:
		r.mdio.Attach(rc.phyAddr, rc.dev)
	case !rc.noPHY:
		r.phy = phy.New(phy.Options{Model: rc.model, Addr: rc.phyAddr, ResetTime: testResetTime, AutoNegTime: rc.anTime})
		r.watch = landev.Watch(r.phy)
		var dev sim.PHYRegisters = r.watch
		if rc.wrap != nil {
			dev = rc.wrap(dev)
		}
		r.phy.Attach(r.mdio, dev)
	}
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	r.port = seg.Attach("plugin")
	r.wire = seg.Attach("peer")
	cfg := hosttest.RigConfig{
		Hostname: "lantest",
		Sims:     map[string]any{"wire0": r.port, "mdio0": r.mdio},
		Plugin: config.PluginConfig{
			Name: "lan0", Source: cmp.Or(rc.source, "."), Options: rc.options,
			Buses: map[string]config.BusGrant{
				"port": {Kind: "frame", Sim: "wire0"},
				"mdio": {Kind: "mdio", Sim: "mdio0"},
			},
		},
		AfterClose: func(t testing.TB) {
			if r.watch == nil {
				return
			}
			for _, err := range r.watch.Errors() {
				t.Errorf("PHY: %v", err)
			}
		},
	}
	if rc.native {
		cfg.Native = native.Exports(driver.New)
	}
	r.Rig = hosttest.NewHost(t, cfg)
	r.link = r.Link
	return r
}

// load loads the plugin and attaches the rig's Link to its NIC.
func (r *rig) load(t *testing.T) error {
	t.Helper()
	err := r.Load(t)
	r.nic = r.NIC
	return err
}

// newRig is newHost and load, failing the test if the load fails.
func newRig(t *testing.T, rc rigConfig) *rig {
	t.Helper()
	r := newHost(t, rc)
	if err := r.load(t); err != nil {
		t.Fatalf("load: %v", err)
	}
	return r
}

// build is one way to run the LAN driver: the Go driver as WASM or
// natively, or the C driver (cDriver) as WASM.
type build struct {
	native bool
	source string
}

// builds runs fn as a subtest for each build: "wasm" and "native" (the Go
// driver) and "c" (the C driver, where clang can build it).
func builds(t *testing.T, fn func(t *testing.T, b build)) {
	t.Run("wasm", func(t *testing.T) { fn(t, build{source: "."}) })
	t.Run("native", func(t *testing.T) { fn(t, build{native: true}) })
	t.Run("c", func(t *testing.T) { needClang(t); fn(t, build{source: cDriver}) })
}

func ctxT(t *testing.T) context.Context { return hosttest.Context(t) }

// eventually polls cond until it holds (hosttest.Eventually's bound).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	hosttest.Eventually(t, what, cond)
}

// up activates the NIC and waits for the link.
func (r *rig) up(t *testing.T) { t.Helper(); r.Up(t) }

// waitLink waits until isconnected() and the NIC's link state say up.
func (r *rig) waitLink(t *testing.T, up bool) { t.Helper(); r.WaitLink(t, up) }

// status returns status().
func (r *rig) status(t *testing.T) int64 { t.Helper(); return r.Status(t) }

// frame builds an Ethernet frame to dst with a marker byte in its payload.
func frame(dst []byte, marker byte) []byte {
	f := make([]byte, 60)
	copy(f, dst)
	copy(f[6:], []byte{0x02, 0xee, 0, 0, 0, 1}) // the peer
	f[12], f[13] = 0x88, 0xb5                   // local experimental EtherType
	f[14] = marker
	return f
}

// markers lists the marker bytes of frames.
func markers(frames [][]byte) []byte {
	var out []byte
	for _, f := range frames {
		out = append(out, f[14])
	}
	return out
}

// readWire waits for the next frame at the peer's port.
func (r *rig) readWire(t *testing.T) []byte { t.Helper(); return hosttest.ReadFrame(t, r.wire) }
