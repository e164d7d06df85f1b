// Package landev wires a simulated LAN8720-style PHY and an Ethernet port
// into a simnet.Device for the LAN driver: the conformance suite, the
// device table of simnet/devices (`nichost test --sim lan8720`, the demo)
// and tests use it.
package landev

import (
	"fmt"
	"sync"
	"time"

	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/plugins/lan/phy"
	"github.com/nichost/nichost/simnet"
)

// ConformanceAutoNeg is how long the PHY of Conformance takes to
// negotiate: short, so that the suite runs fast.
const ConformanceAutoNeg = 100 * time.Millisecond

// New attaches a simulated MAC port to the LAN and a PHY at MDIO address 1
// that negotiates in autoNeg (0: the PHY's default). Its buses are named
// after name. The device's Misuse reports the MDIO writes a driver should
// not make (see Watch).
func New(lan *simnet.Router, name string, autoNeg time.Duration) *simnet.Device {
	p := phy.New(phy.Options{Addr: 1, AutoNegTime: autoNeg})
	w := Watch(p)
	mdio := sim.NewMDIO()
	mdio.Attach(1, w)
	port := lan.Attach(name)
	return &simnet.Device{
		Buses: map[string]config.BusGrant{
			"port": {Kind: "frame", Sim: name + "-port"},
			"mdio": {Kind: "mdio", Sim: name + "-mdio"},
		},
		Sims:    map[string]any{name + "-port": port, name + "-mdio": mdio},
		SetLink: p.SetLink,
		Close:   func() { port.Close() },
		Misuse:  w.Errors,
	}
}

// Conformance is the device the conformance suite uses.
func Conformance(lan *simnet.Router) (*simnet.Device, error) {
	return New(lan, "dut", ConformanceAutoNeg), nil
}

// Watcher is a PHY on the MDIO bus that records the driver's misuse the
// PHY model lets pass silently (it ignores such writes, as the part does):
// a write while a soft reset is in progress, and a write to a register
// IEEE 802.3 clause 22 makes read-only. Each error names the rule.
type Watcher struct {
	p    *phy.PHY
	mu   sync.Mutex
	errs []error
	more int // misuse past maxErrors, counted
}

var _ sim.PHYRegisters = (*Watcher)(nil)

// maxErrors bounds what a Watcher keeps; later misuse is counted.
const maxErrors = 100

// Watch wraps p; attach the Watcher to the MDIO bus instead of p.
func Watch(p *phy.PHY) *Watcher { return &Watcher{p: p} }

// ReadReg implements sim.PHYRegisters.
func (w *Watcher) ReadReg(reg uint8) uint16 { return w.p.ReadReg(reg) }

// WriteReg implements sim.PHYRegisters.
func (w *Watcher) WriteReg(reg uint8, v uint16) {
	switch {
	case w.p.Peek(phy.RegBMCR)&phy.BMCRReset != 0:
		w.record("lan8720: write of 0x%04x to register %d while a soft reset is in progress (BMCR.RESET reads 1): ignored "+
			"(IEEE 802.3 §22.2.4.1.1: a PHY need not accept writes until BMCR.RESET reads 0; poll it first)", v, reg)
	case reg == phy.RegBMSR || reg == phy.RegPHYID1 || reg == phy.RegPHYID2 || reg == phy.RegANLPAR || reg == phy.RegANER:
		w.record("lan8720: write of 0x%04x to read-only register %d ignored (IEEE 802.3 §22.2.4: registers 1, 2, 3, 5 and 6 are read-only)", v, reg)
	}
	w.p.WriteReg(reg, v)
}

func (w *Watcher) record(format string, a ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.errs) < maxErrors {
		w.errs = append(w.errs, fmt.Errorf(format, a...))
	} else {
		w.more++
	}
}

// Errors returns the misuse recorded so far, oldest first.
func (w *Watcher) Errors() []error {
	w.mu.Lock()
	defer w.mu.Unlock()
	errs := append([]error(nil), w.errs...)
	if w.more > 0 {
		errs = append(errs, fmt.Errorf("lan8720: %d more errors not kept", w.more))
	}
	return errs
}
