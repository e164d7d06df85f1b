// Package landev wires a simulated PHY (plugins/lan/phy: a LAN8720A or a
// KSZ8081) and an Ethernet port into a simnet.Device for the LAN driver: the
// conformance suite, the device table of simnet/devices (`nichost test
// --sim lan8720` and `--sim ksz8081`, the demo) and tests use it.
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

// The MDIO addresses of the devices' PHYs: a LAN8720A strapped to 1, and a
// KSZ8081RNA with its PHYAD[1:0] strap at its default, 0 (which is also
// its broadcast address).
const (
	LAN8720Addr = 1
	KSZ8081Addr = 0
)

// New attaches a simulated MAC port to the LAN and a LAN8720A at MDIO
// address 1 that negotiates in autoNeg (0: the PHY's default). Its buses
// are named after name. The device's Misuse reports the MDIO writes a
// driver should not make (see Watch).
func New(lan *simnet.Router, name string, autoNeg time.Duration) *simnet.Device {
	return NewPHY(lan, name, phy.Options{Model: phy.LAN8720A, Addr: LAN8720Addr, AutoNegTime: autoNeg})
}

// NewKSZ8081 is New with a KSZ8081RNA at MDIO address 0.
func NewKSZ8081(lan *simnet.Router, name string, autoNeg time.Duration) *simnet.Device {
	return NewPHY(lan, name, phy.Options{Model: phy.KSZ8081, Addr: KSZ8081Addr, AutoNegTime: autoNeg})
}

// NewPHY is New with the PHY opts describe, attached at opts.Addr (and,
// for a KSZ8081 elsewhere, at its broadcast address 0 too).
func NewPHY(lan *simnet.Router, name string, opts phy.Options) *simnet.Device {
	p := phy.New(opts)
	w := Watch(p)
	mdio := sim.NewMDIO()
	p.Attach(mdio, w)
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

// Conformance is the lan8720 device the conformance suite uses.
func Conformance(lan *simnet.Router) (*simnet.Device, error) {
	return New(lan, "dut", ConformanceAutoNeg), nil
}

// ConformanceKSZ8081 is the ksz8081 device the conformance suite uses.
func ConformanceKSZ8081(lan *simnet.Router) (*simnet.Device, error) {
	return NewKSZ8081(lan, "dut", ConformanceAutoNeg), nil
}

// Watcher is a PHY on the MDIO bus that records the driver's misuse the
// PHY model lets pass silently (it ignores such writes, as the part does):
// a write while a soft reset is in progress, and a write to a register
// IEEE 802.3 or the part's datasheet makes read-only. Each error starts
// with the part's name (`lan8720: `, `ksz8081: `) and names the rule.
type Watcher struct {
	p      *phy.PHY
	prefix string
	mu     sync.Mutex
	errs   []error
	more   int // misuse past maxErrors, counted
}

var _ sim.PHYRegisters = (*Watcher)(nil)

// maxErrors bounds what a Watcher keeps; later misuse is counted.
const maxErrors = 100

// Watch wraps p; attach the Watcher to the MDIO bus instead of p.
func Watch(p *phy.PHY) *Watcher {
	prefix := "lan8720: "
	if p.Model() == phy.KSZ8081 {
		prefix = "ksz8081: "
	}
	return &Watcher{p: p, prefix: prefix}
}

// ReadReg implements sim.PHYRegisters.
func (w *Watcher) ReadReg(reg uint8) uint16 { return w.p.ReadReg(reg) }

// The rules the Watcher's messages quote.
const (
	ruleReset = "IEEE 802.3 §22.2.4.1.1: a PHY need not accept writes until BMCR.RESET reads 0; poll it first"
	// LAN8720A: the clause 22 read-only registers it has.
	ruleReadOnly = "IEEE 802.3 §22.2.4: registers 1, 2, 3, 5 and 6 are read-only"
	// KSZ8081: those and the next page partner register.
	ruleReadOnlyKSZ = "IEEE 802.3 §22.2.4 and §28.2.4.1: registers 1, 2, 3, 5, 6 and 8 are read-only"
	// KSZ8081: its read-only vendor registers.
	ruleReadOnlyKSZVendor = "KSZ8081RNA datasheet DS00002199, register map: 0x15 RXER Counter and 0x17 Operation Mode Strap Status are read-only"
)

// WriteReg implements sim.PHYRegisters.
func (w *Watcher) WriteReg(reg uint8, v uint16) {
	ksz := w.p.Model() == phy.KSZ8081
	switch {
	case w.p.Peek(phy.RegBMCR)&phy.BMCRReset != 0:
		w.record("write of 0x%04x to register %d while a soft reset is in progress (BMCR.RESET reads 1): ignored ("+ruleReset+")", v, reg)
	case reg == phy.RegBMSR || reg == phy.RegPHYID1 || reg == phy.RegPHYID2 || reg == phy.RegANLPAR || reg == phy.RegANER:
		rule := ruleReadOnly
		if ksz {
			rule = ruleReadOnlyKSZ
		}
		w.record("write of 0x%04x to read-only register %d ignored ("+rule+")", v, reg)
	case ksz && reg == phy.RegLPNP:
		w.record("write of 0x%04x to read-only register %d ignored ("+ruleReadOnlyKSZ+")", v, reg)
	case ksz && (reg == phy.RegKSZRXERC || reg == phy.RegKSZOMSS):
		w.record("write of 0x%04x to read-only register %d ignored ("+ruleReadOnlyKSZVendor+")", v, reg)
	}
	w.p.WriteReg(reg, v)
}

func (w *Watcher) record(format string, a ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.errs) < maxErrors {
		w.errs = append(w.errs, fmt.Errorf(w.prefix+format, a...))
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
		errs = append(errs, fmt.Errorf("%s%d more errors not kept", w.prefix, w.more))
	}
	return errs
}
