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
	"github.com/nichost/nichost/plugins/wiznet/driver"
	"github.com/nichost/nichost/plugins/wiznet/w5500"
)

// testRelink is the simulated PHY's relink time after a reset: short, but
// long enough that the driver sees the link come up after active(True).
const testRelink = 5 * time.Millisecond

// rigConfig shapes a rig.
type rigConfig struct {
	native  bool          // run the driver natively instead of as WASM
	noIRQ   bool          // grant no "int" line: the driver polls
	noRst   bool          // grant no "rst" line: the driver resets with MR.RST
	deadIRQ bool          // grant an "int" line that never moves (edges missed)
	dev     sim.SPIDevice // another SPI device instead of the chip
	wrap    func(sim.SPIDevice) sim.SPIDevice
	options map[string]any // plugin options
}

// rig is a host with the WIZNET5K plugin on a simulated W5500 whose cable
// goes to a segment where peer plays the other station.
type rig struct {
	h    *host.Host
	log  *hosttest.LogBuffer
	chip *w5500.Chip
	spi  *sim.SPI
	peer *sim.FramePort
	cfg  config.PluginConfig
	plug *host.Plugin
	nic  *host.NIC
	link *hosttest.Link
	rc   rigConfig
}

// newHost builds the chip, the buses and the host without loading the
// plugin. The chip is strict: the test fails if the driver misused it.
func newHost(t *testing.T, rc rigConfig) *rig {
	t.Helper()
	r := &rig{log: &hosttest.LogBuffer{}, link: &hosttest.Link{}, rc: rc}
	logger := slog.New(slog.NewTextHandler(r.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r.chip = w5500.New(w5500.Options{Strict: true, Logger: logger.With("sim", "w5500"), RelinkDelay: testRelink})
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	r.chip.Attach(seg.Attach("w5500"))
	r.peer = seg.Attach("peer")
	var dev sim.SPIDevice = r.chip
	if rc.dev != nil {
		dev = rc.dev
	}
	if rc.wrap != nil {
		dev = rc.wrap(dev)
	}
	r.spi = sim.NewSPI(dev)
	buses := map[string]any{"w-spi": r.spi, "w-int": r.chip.INT(), "w-rst": r.chip.RST(), "w-dead": sim.NewPin("dead", 9)}
	h, err := host.New(host.Options{Logger: logger, Hostname: "wiztest", Buses: buses})
	if err != nil {
		t.Fatal(err)
	}
	r.h = h
	t.Cleanup(func() {
		h.Close()
		r.chip.Close()
		for _, err := range r.chip.Errors() {
			t.Errorf("simulator: %v", err)
		}
		if t.Failed() {
			t.Logf("log:\n%s", r.log)
		}
	})
	grants := map[string]config.BusGrant{"spi": {Kind: "spi", Sim: "w-spi"}}
	switch {
	case rc.deadIRQ:
		grants["int"] = config.BusGrant{Kind: "gpio", Sim: "w-dead"}
	case !rc.noIRQ:
		grants["int"] = config.BusGrant{Kind: "gpio", Sim: "w-int"}
	}
	if !rc.noRst {
		grants["rst"] = config.BusGrant{Kind: "gpio", Sim: "w-rst"}
	}
	r.cfg = config.PluginConfig{Name: "wiz0", Source: ".", Class: "WIZNET5K", Buses: grants, Options: rc.options}
	return r
}

// load loads the plugin and attaches the rig's Link to its NIC.
func (r *rig) load(t *testing.T) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	if r.rc.native {
		r.plug, err = native.Load(ctx, r.h, r.cfg, driver.New)
	} else {
		r.plug, _, err = r.h.Load(ctx, r.cfg)
	}
	if err != nil {
		return err
	}
	r.nic = r.plug.NICs()[0]
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

// modes runs fn with the driver as WASM and natively, each with the
// interrupt line and without it (polling).
func modes(t *testing.T, fn func(t *testing.T, rc rigConfig)) {
	engines(t, func(t *testing.T, native bool) {
		t.Run("int", func(t *testing.T) { fn(t, rigConfig{native: native}) })
		t.Run("poll", func(t *testing.T) { fn(t, rigConfig{native: native, noIRQ: true}) })
	})
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
	if err := r.nic.SetActive(ctxT(t), true); err != nil {
		t.Fatalf("active(True): %v", err)
	}
	r.waitLink(t, true)
}

// waitLink waits until isconnected() and the NIC's link state say up (or
// down).
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

// regs returns regs().
func (r *rig) regs(t *testing.T) map[string]any {
	t.Helper()
	v, err := r.nic.Call(ctxT(t), "regs")
	if err != nil {
		t.Fatalf("regs(): %v", err)
	}
	return v.(map[string]any)
}

// peerMAC is the other station's address.
var peerMAC = []byte{0x02, 0xee, 0, 0, 0, 1}

// frame builds an Ethernet frame of n bytes to dst whose payload carries
// seq and a pattern derived from it.
func frame(dst []byte, seq, n int) []byte {
	f := make([]byte, n)
	copy(f, dst)
	copy(f[6:], peerMAC)
	f[12], f[13] = 0x88, 0xb5 // local experimental EtherType
	f[14], f[15] = byte(seq>>8), byte(seq)
	for i := 16; i < n; i++ {
		f[i] = byte(seq + i)
	}
	return f
}

// seqOf returns the sequence number frame put in f.
func seqOf(f []byte) int { return int(f[14])<<8 | int(f[15]) }

// readPeer waits for the next frame at the peer's port.
func (r *rig) readPeer(t *testing.T) []byte {
	t.Helper()
	buf := make([]byte, 2048)
	var n int
	eventually(t, "a frame at the peer", func() bool {
		n, _ = r.peer.ReadFrame(buf)
		return n > 0
	})
	return buf[:n]
}

// traffic counts the SPI bus and the plugin's host calls.
type traffic struct {
	transactions, bytes, calls uint64
}

func (r *rig) traffic() traffic {
	s, p := r.spi.Stats(), r.plug.Stats()
	return traffic{s.Transactions, s.Bytes, p.SPICalls}
}

// perFrame divides the traffic since before by n frames.
func (r *rig) perFrame(before traffic, n int) (tr, by, calls float64) {
	now := r.traffic()
	f := float64(n)
	return float64(now.transactions-before.transactions) / f, float64(now.bytes-before.bytes) / f, float64(now.calls-before.calls) / f
}
