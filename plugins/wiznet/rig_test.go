//go:build !wasip1

package main_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
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

// rig is the WIZNET5K plugin on a simulated W5500 whose cable goes to a
// segment where peer plays the other station.
type rig struct {
	*hosttest.Rig
	chip *w5500.Chip
	spi  *sim.SPI
	peer *sim.FramePort
	plug *host.Plugin
	nic  *host.NIC
	link *hosttest.Link
	rc   rigConfig
	// calls counts every host and export call of the native build (nil
	// for WASM, where the host counts spi_transact calls only).
	calls *callCount
}

// newHost builds the chip, the buses and the host without loading the
// plugin. The chip is strict: the test fails if the driver misused it.
func newHost(t *testing.T, rc rigConfig) *rig {
	t.Helper()
	r := &rig{rc: rc}
	log := &hosttest.LogBuffer{}
	logger := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
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
	cfg := hosttest.RigConfig{
		Hostname: "wiztest",
		Log:      log,
		Sims:     map[string]any{"w-spi": r.spi, "w-int": r.chip.INT(), "w-rst": r.chip.RST(), "w-dead": sim.NewPin("dead", 9)},
		Plugin:   config.PluginConfig{Name: "wiz0", Source: ".", Class: "WIZNET5K", Buses: grants, Options: rc.options},
		AfterClose: func(t testing.TB) {
			r.chip.Close()
			for _, err := range r.chip.Errors() {
				t.Errorf("simulator: %v", err)
			}
		},
	}
	if rc.native {
		r.calls = &callCount{}
		cfg.Native = countedWIZNET(r.calls)
	}
	r.Rig = hosttest.NewHost(t, cfg)
	r.link = r.Link
	return r
}

// load loads the plugin and attaches the rig's Link to its NIC.
func (r *rig) load(t *testing.T) error {
	t.Helper()
	err := r.Load(t)
	r.plug, r.nic = r.Plugin, r.NIC
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

// engines runs fn as a subtest with the driver as WASM and natively.
func engines(t *testing.T, fn func(t *testing.T, native bool)) { hosttest.Engines(t, fn) }

// modes runs fn with the driver as WASM and natively, each with the
// interrupt line and without it (polling).
func modes(t *testing.T, fn func(t *testing.T, rc rigConfig)) {
	engines(t, func(t *testing.T, native bool) {
		t.Run("int", func(t *testing.T) { fn(t, rigConfig{native: native}) })
		t.Run("poll", func(t *testing.T) { fn(t, rigConfig{native: native, noIRQ: true}) })
	})
}

func ctxT(t *testing.T) context.Context { return hosttest.Context(t) }

// eventually polls cond until it holds (hosttest.Eventually's bound).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	hosttest.Eventually(t, what, cond)
}

// up activates the NIC and waits for the link.
func (r *rig) up(t *testing.T) { t.Helper(); r.Up(t) }

// waitLink waits until isconnected() and the NIC's link state say up (or
// down).
func (r *rig) waitLink(t *testing.T, up bool) { t.Helper(); r.WaitLink(t, up) }

// status returns status().
func (r *rig) status(t *testing.T) int64 { t.Helper(); return r.Status(t) }

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
func (r *rig) readPeer(t *testing.T) []byte { t.Helper(); return hosttest.ReadFrame(t, r.peer) }

// traffic counts the SPI bus and the plugin's calls.
type traffic struct {
	transactions, bytes, spiCalls uint64
	calls                         snapshot // native build only
}

func (r *rig) traffic() traffic {
	s, p := r.spi.Stats(), r.plug.Stats()
	t := traffic{transactions: s.Transactions, bytes: s.Bytes, spiCalls: p.SPICalls}
	if r.calls != nil {
		t.calls = r.calls.Snapshot()
	}
	return t
}

// perFrame is the traffic since before divided by n frames.
type perFrame struct {
	transactions, bytes, spiCalls float64
	imports, exports              float64 // every host call and export call (native build only)
	rxPush                        float64 // rx_push and rx_push_batch calls (native build only)
}

func (r *rig) perFrame(before traffic, n int) perFrame {
	now := r.traffic()
	f := float64(n)
	c := now.calls.Sub(before.calls)
	return perFrame{
		transactions: float64(now.transactions-before.transactions) / f,
		bytes:        float64(now.bytes-before.bytes) / f,
		spiCalls:     float64(now.spiCalls-before.spiCalls) / f,
		imports:      float64(c.Imports()) / f,
		exports:      float64(c.Exports()) / f,
		rxPush:       float64(c.RxPush+c.RxPushBatch) / f,
	}
}

// busGate stands between the driver and the chip. While shut, the
// driver's next chip select waits at it until it opens, so that what the
// test does meanwhile (frames arriving, frames queued) falls between two of
// the driver's bus accesses, however the goroutines are scheduled.
type busGate struct {
	sim.SPIDevice
	mu      sync.Mutex
	opened  chan struct{} // nil while open
	held    chan struct{} // closed once a select waits at the shut gate
	waiting bool
}

// shut makes the next chip select wait.
func (g *busGate) shut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.opened, g.held, g.waiting = make(chan struct{}), make(chan struct{}), false
}

// open lets the waiting select, if any, and every later one through.
func (g *busGate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.opened != nil {
		close(g.opened)
		g.opened = nil
	}
}

// holding returns a channel closed once a select waits at the shut gate.
func (g *busGate) holding() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held
}

func (g *busGate) Select() {
	g.mu.Lock()
	opened := g.opened
	if opened != nil && !g.waiting {
		g.waiting = true
		close(g.held)
	}
	g.mu.Unlock()
	if opened != nil {
		<-opened
	}
	g.SPIDevice.Select()
}

// gated is rc with a busGate before the chip.
func gated(rc rigConfig) (rigConfig, *busGate) {
	g := &busGate{}
	rc.wrap = func(d sim.SPIDevice) sim.SPIDevice { g.SPIDevice = d; return g }
	return rc, g
}
