package host_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
	"github.com/nichost/nichost/internal/wait"
)

// loopback is an SPI device that answers each byte with its complement and
// counts chip-select frames.
type loopback struct {
	selects  int
	selected bool     // chip select is asserted now
	frames   [][]byte // bytes written per CS frame
}

func (d *loopback) Select()   { d.selects++; d.selected = true; d.frames = append(d.frames, nil) }
func (d *loopback) Deselect() { d.selected = false }
func (d *loopback) Transfer(w, r []byte) {
	d.frames[len(d.frames)-1] = append(d.frames[len(d.frames)-1], w...)
	for i := range w {
		r[i] = ^w[i]
	}
}

// phyRegs is a PHY with 32 plain registers.
type phyRegs struct{ r [32]uint16 }

func (p *phyRegs) ReadReg(reg uint8) uint16     { return p.r[reg] }
func (p *phyRegs) WriteReg(reg uint8, v uint16) { p.r[reg] = v }

// rig is a host with one simulated bus of each kind.
type rig struct {
	h      *host.Host
	log    *hosttest.LogBuffer
	spiDev *loopback
	spi    *sim.SPI
	pin    *sim.Pin
	uart   *sim.UART // the device side of the plugin's UART
	seg    *sim.Segment
	wire   *sim.FramePort // a second port on the plugin's segment
	phy    *phyRegs
	buses  map[string]config.BusGrant
	limits config.Limits
}

func newRig(t testing.TB, limits config.Limits) *rig {
	t.Helper()
	r := &rig{log: &hosttest.LogBuffer{}, spiDev: &loopback{}, phy: &phyRegs{}}
	r.spi = sim.NewSPI(r.spiDev)
	r.pin = sim.NewPin("pin", 1)
	uartPlugin, uartDev := sim.NewUARTPair()
	r.uart = uartDev
	r.seg = sim.NewSegment(sim.SegmentOptions{Seed: 1})
	port := r.seg.Attach("plugin")
	r.wire = r.seg.Attach("wire")
	mdio := sim.NewMDIO()
	mdio.Attach(1, r.phy)
	h, err := host.New(host.Options{
		Logger:   slog.New(slog.NewTextHandler(r.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Limits:   limits,
		Hostname: "testboard",
		Buses: map[string]any{
			"spi0": r.spi, "pin0": r.pin, "uart0": uartPlugin, "port0": port, "mdio0": mdio,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.h = h
	r.buses = map[string]config.BusGrant{
		"spi":    {Kind: "spi", Sim: "spi0"},
		"pin":    {Kind: "gpio", Sim: "pin0"},
		"serial": {Kind: "uart", Sim: "uart0"},
		"port":   {Kind: "frame", Sim: "port0"},
		"mdio":   {Kind: "mdio", Sim: "mdio0"},
	}
	t.Cleanup(func() {
		h.Close()
		if t.Failed() {
			t.Logf("host log:\n%s", r.log)
		}
	})
	_ = gpio.High
	return r
}

// plugin returns the source directory of a test plugin.
func plugin(name string) string {
	return filepath.Join("testdata", "plugins", filepath.FromSlash(name))
}

// load loads a test plugin with all of the rig's buses granted.
func (r *rig) load(t *testing.T, name, src string, mutate ...func(*config.PluginConfig)) *host.Plugin {
	t.Helper()
	p, _, err := r.loadErr(t, name, src, mutate...)
	if err != nil {
		t.Fatalf("load %s: %v", src, err)
	}
	return p
}

func (r *rig) loadErr(t *testing.T, name, src string, mutate ...func(*config.PluginConfig)) (*host.Plugin, host.LoadInfo, error) {
	t.Helper()
	cfg := config.PluginConfig{Name: name, Source: src, Buses: r.buses}
	for _, m := range mutate {
		m(&cfg)
	}
	// No deadline: a cold build takes what it takes on this machine; the
	// test binary's -timeout bounds it.
	return r.h.Load(t.Context(), cfg)
}

// noBuses loads a plugin without grants (the rig's buses go to another).
func noBuses(c *config.PluginConfig) { c.Buses = nil }

func ctxT(t *testing.T) context.Context { return wait.Context(t) }

// eventually polls cond until it holds (see package wait for the bound).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	wait.For(t, what, cond)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
