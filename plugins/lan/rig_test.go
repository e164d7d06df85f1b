//go:build !wasip1

package main_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
	"github.com/nichost/nichost/host/native"
	"github.com/nichost/nichost/plugins/lan/driver"
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
	native  bool             // run the driver natively instead of as WASM
	phyAddr uint8            // where the PHY sits on the MDIO bus
	dev     sim.PHYRegisters // another device instead of the LAN8720A simulator
	noPHY   bool             // an empty MDIO bus
	anTime  time.Duration    // 0: testANTime
	options map[string]any   // plugin options
}

// rig is a host with the LAN plugin on a simulated segment and MDIO bus.
type rig struct {
	h    *host.Host
	log  *hosttest.LogBuffer
	phy  *phy.PHY
	mdio *sim.MDIO
	wire *sim.FramePort // the peer's port on the segment
	port *sim.FramePort // the plugin's port
	cfg  config.PluginConfig
	nic  *host.NIC
	link *hosttest.Link
	rc   rigConfig
}

// newHost builds the host and its buses without loading the plugin.
func newHost(t *testing.T, rc rigConfig) *rig {
	t.Helper()
	if rc.anTime == 0 {
		rc.anTime = testANTime
	}
	r := &rig{log: &hosttest.LogBuffer{}, mdio: sim.NewMDIO(), link: &hosttest.Link{}, rc: rc}
	switch {
	case rc.dev != nil:
		r.mdio.Attach(rc.phyAddr, rc.dev)
	case !rc.noPHY:
		r.phy = phy.New(phy.Options{Addr: rc.phyAddr, ResetTime: testResetTime, AutoNegTime: rc.anTime})
		r.mdio.Attach(rc.phyAddr, r.phy)
	}
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	r.port = seg.Attach("plugin")
	r.wire = seg.Attach("peer")
	h, err := host.New(host.Options{
		Logger:   slog.New(slog.NewTextHandler(r.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Hostname: "lantest",
		Buses:    map[string]any{"wire0": r.port, "mdio0": r.mdio},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.h = h
	t.Cleanup(func() {
		h.Close()
		if t.Failed() {
			t.Logf("host log:\n%s", r.log)
		}
	})
	r.cfg = config.PluginConfig{
		Name: "lan0", Source: ".", Options: rc.options,
		Buses: map[string]config.BusGrant{
			"port": {Kind: "frame", Sim: "wire0"},
			"mdio": {Kind: "mdio", Sim: "mdio0"},
		},
	}
	return r
}

// load loads the plugin and attaches the rig's Link to its NIC.
func (r *rig) load(t *testing.T) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var p *host.Plugin
	var err error
	if r.rc.native {
		p, err = native.Load(ctx, r.h, r.cfg, driver.New)
	} else {
		p, _, err = r.h.Load(ctx, r.cfg)
	}
	if err != nil {
		return err
	}
	r.nic = p.NICs()[0]
	r.nic.Attach(r.link)
	return nil
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

// engines runs fn as a subtest with the driver as WASM and natively.
func engines(t *testing.T, fn func(t *testing.T, native bool)) {
	t.Run("wasm", func(t *testing.T) { fn(t, false) })
	t.Run("native", func(t *testing.T) { fn(t, true) })
}

func ctxT(t *testing.T) context.Context { return hosttest.Context(t, 20*time.Second) }

// eventually polls cond until it holds or 5 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	hosttest.Eventually(t, 5*time.Second, what, cond)
}

// up activates the NIC and waits for the link.
func (r *rig) up(t *testing.T) {
	t.Helper()
	ctx := ctxT(t)
	if err := r.nic.SetActive(ctx, true); err != nil {
		t.Fatalf("active(True): %v", err)
	}
	r.waitLink(t, true)
}

// waitLink waits until isconnected() and the NIC's link state say up.
func (r *rig) waitLink(t *testing.T, up bool) {
	t.Helper()
	ctx := ctxT(t)
	eventually(t, "isconnected() and the link state to agree", func() bool {
		c, err := r.nic.IsConnected(ctx)
		return err == nil && c == up && r.nic.LinkState().Up == up
	})
}

// status returns status().
func (r *rig) status(t *testing.T) int64 {
	t.Helper()
	v, err := r.nic.Status(ctxT(t))
	if err != nil {
		t.Fatalf("status(): %v", err)
	}
	return v.(int64)
}

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
func (r *rig) readWire(t *testing.T) []byte {
	t.Helper()
	buf := make([]byte, 2048)
	var n int
	eventually(t, "a frame at the peer", func() bool {
		n, _ = r.wire.ReadFrame(buf)
		return n > 0
	})
	return buf[:n]
}
