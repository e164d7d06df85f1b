// Package phy simulates 10/100 Ethernet PHYs at the register level, for the
// LAN driver's tests and for simulated networks: a Microchip/SMSC LAN8720A
// (Options.Model LAN8720A, the zero value) and a Microchip (formerly
// Micrel) KSZ8081RNA (Model KSZ8081).
//
// A *PHY implements host/sim.PHYRegisters: attach it to a sim.MDIO at the
// address its PHYAD straps give (Options.Addr), or with Attach, which also
// puts a KSZ8081 at its broadcast address 0. Both parts share one IEEE
// 802.3 clause 22 core, which models the registers 0-6 as a driver sees
// them over MDIO and a cable to a link partner:
//
//   - BMCR soft reset: RESET reads 1 for Options.ResetTime, the registers
//     return to their defaults (the part says which survive), the link drops
//     and auto-negotiation starts again once the reset is over;
//   - auto-negotiation: restarting it (BMCR.ANRESTART, self-clearing at
//     once), plugging the cable, leaving power-down or a reset starts an
//     attempt that completes after Options.AutoNegTime with the best mode
//     common to ANAR and the partner's abilities (100FD, 100HD, 10FD, 10HD);
//   - BMSR's link status latches low (IEEE 802.3 22.2.4.2.13): after a link
//     failure it reads 0 once, even if the link is back, and the current
//     state on the next read;
//   - ANER's page received bit latches high and clears on read;
//   - power-down (BMCR.PDOWN) drops the link; clearing it renegotiates;
//   - with auto-negotiation off, the forced speed and duplex.
//
// Each part adds its identifier, its BMSR capability bits, the ANAR bits it
// lets a driver write and its vendor registers:
//
// LAN8720A (PHYID 0007:C0Fx): MCSR (17), SMR (18) with the MODE straps,
// SECR (26), CSIR (27), the interrupt source register ISR (29), which
// latches events and clears on read, its mask IMR (30), which only decides
// what asserts nINT (IRQ), and PSCSR (31), which reports AUTODONE and the
// resolved speed and duplex.
//
// KSZ8081RNA (PHYID 0022:156x): the next page registers 7 and 8, Digital
// Reserved Control (0x10), AFE Control 1 (0x11), the RXER counter (0x15),
// Operation Mode Strap Override and Status (0x16, 0x17), Expanded Control
// (0x18), Interrupt Control/Status (0x1B: enables in the high byte, latched
// events in the low byte, cleared on read; INTRP is IRQ), LinkMD (0x1D), PHY
// Control 1 (0x1E: link, energy and the resolved operation mode) and PHY
// Control 2 (0x1F). Address 0 is a broadcast address until OMSO's
// B-CAST_OFF is set.
//
// Time comes from Options.Now, so tests can step a fake clock instead of
// sleeping; the state is brought up to date lazily on every access.
//
// Deviations from the silicon, chosen for a small model, both parts:
//   - BMCR bits 13 and 8 keep what was written (or the default); they do
//     not reflect the negotiated mode (read PSCSR or PHY Control 1);
//   - with auto-negotiation off, the link comes up at once if the partner
//     supports the forced speed (parallel detection, duplex not checked);
//     the partner always takes part in auto-negotiation and never sends
//     next pages;
//   - loopback, isolate, collision test and the vendor test, LED, clock and
//     power-saving controls are kept as register state only; no frames pass
//     through the simulator (the frame port is a separate bus);
//   - writes during a soft reset are ignored;
//   - remote fault, jabber, receive errors and parallel detection faults
//     never happen;
//   - read-only bits ignore writes, reserved bits and registers read 0.
//
// LAN8720A only:
//   - writing SMR's PHYAD does not move the PHY on the bus;
//   - SMR keeps its value across a soft reset (HardReset reloads the
//     straps), which is what Linux's LAN87xx reset relies on when it
//     rewrites MODE before a soft reset;
//   - the symbol error counter (26) stays 0;
//   - register 16 stores what is written (Linux writes it on LAN8720s).
//
// KSZ8081 only:
//   - a soft reset returns every register to its default, the vendor
//     registers included (OMSO and PHY Control 2 too; drivers rewrite them
//     after a reset, which suggests the part does the same);
//   - the straps are those of a KSZ8081RNA with its pins left to their
//     defaults (auto-negotiation on, 100 Mb/s, not isolated, RMII with a
//     25 MHz crystal); only the PHY address (Options.Addr, 0 or 3 on the
//     part) is configurable;
//   - leaving power-down does not run the internal reset the part runs
//     (Linux waits 1 ms before the next access); the registers keep their
//     values and answer at once;
//   - the RXER counter stays 0; a LinkMD test completes at once, reporting
//     a normal cable, or an open one while the cable is unplugged;
//   - PHY Control 1 always reports MDI and normal polarity, and the pause
//     bit only when both sides advertise symmetric pause;
//   - the interrupt status bits latch whether or not their enable is set;
//     the enables only decide what asserts INTRP.
package phy

import (
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultResetTime   = time.Millisecond
	DefaultAutoNegTime = 2 * time.Second
)

// Model is the part a PHY simulates.
type Model int

// The parts.
const (
	LAN8720A Model = iota // Microchip/SMSC LAN8720A (the LAN8710A shares its ID model)
	KSZ8081               // Microchip (Micrel) KSZ8081RNA
)

func (m Model) String() string {
	switch m {
	case LAN8720A:
		return "LAN8720A"
	case KSZ8081:
		return "KSZ8081"
	}
	return "Model(?)"
}

// Options configure a simulated PHY. The zero value is a LAN8720A strapped
// to address 0 in MODE 111 (all capable, auto-negotiation on) that resets in
// 1 ms and negotiates in 2 s, on the real clock.
type Options struct {
	// Model is the part (zero: LAN8720A).
	Model Model
	// Addr is the PHYAD strap: on a LAN8720A it is reported in SMR bits 4:0
	// (the pin gives 0 or 1), on a KSZ8081 in OMSS bits 15:13 (the pin
	// gives 0, the default, or 3). Attach the PHY to the bus at the same
	// address (Attach does).
	Addr uint8
	// Revision is PHYID2's silicon revision (bits 3:0); 0 means
	// DefaultRevision.
	Revision uint8
	// ResetTime is how long BMCR.RESET reads 1 after it is set (0:
	// DefaultResetTime).
	ResetTime time.Duration
	// AutoNegTime is how long auto-negotiation takes from its start to link
	// up (0: DefaultAutoNegTime).
	AutoNegTime time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// PHY is a simulated PHY. It starts powered on with the cable plugged into
// a partner that advertises every 10/100 mode (AdvAll), and begins
// auto-negotiating at once, as the parts do out of power-on reset. It is
// safe for concurrent use: the MDIO side and the cable side may be driven
// from different goroutines.
type PHY struct {
	opts Options
	part part // the vendor side; called with mu held

	mu         sync.Mutex
	bmcr       uint16
	anar       uint16
	pageRecv   bool      // ANER's latched page-received bit
	resetUntil time.Time // a soft reset is in progress before this instant
	negStart   time.Time // the current link attempt began here
	linkFailed bool      // the link failed since BMSR was last read (the latch)
	cable      bool
	partner    uint16 // the partner's base page, without ACK
	st         status // the state at the last sync
	resets     int
}

// status is what the PHY's line side is doing at one instant.
type status struct {
	anDone bool     // auto-negotiation complete
	link   bool     // link up
	energy bool     // energy on the line
	mode   linkMode // the resolved (or forced) mode; modeNone when none
}

// linkMode is a speed and duplex, which each part encodes its own way
// (PSCSR's HCDSPEED, PHY Control 1's operation mode).
type linkMode uint8

const (
	modeNone linkMode = iota
	mode10HD
	mode10FD
	mode100HD
	mode100FD
)

// event is a change of the line side that the vendor registers record.
type event int

const (
	evLinkDown event = iota // the link failed
	evLinkUp                // the link came up
	evANDone                // auto-negotiation completed: the partner's page was received and acknowledged
	evEnergyOn              // energy appeared on the line
)

// part is what a model adds to the clause 22 core. Its methods are called
// with the PHY's mu held and the state synced.
type part interface {
	id() (id1, id2 uint16)
	caps() uint16         // BMSR's fixed bits
	anarWritable() uint16 // the ANAR bits a write changes
	aner() uint16         // ANER bits the part always reports
	// strap latches the strap pins, at power-on and HardReset.
	strap()
	// defaults puts the vendor registers in their reset state and returns
	// BMCR's and ANAR's.
	defaults() (bmcr, anar uint16)
	event(e event)
	read(reg uint8, consume bool) uint16
	write(reg uint8, v uint16)
	irq() bool
	// broadcast reports whether the PHY answers at MDIO address 0 too.
	broadcast() bool
}

// New returns a PHY powered on at opts.Now().
func New(opts Options) *PHY {
	if opts.ResetTime <= 0 {
		opts.ResetTime = DefaultResetTime
	}
	if opts.AutoNegTime <= 0 {
		opts.AutoNegTime = DefaultAutoNegTime
	}
	if opts.Revision == 0 {
		opts.Revision = DefaultRevision
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p := &PHY{opts: opts, cable: true, partner: AdvAll}
	switch opts.Model {
	case KSZ8081:
		p.part = &ksz8081{p: p}
	default:
		p.opts.Model = LAN8720A
		p.part = &lan8720{p: p}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.part.strap()
	p.defaults(opts.Now())
	p.sync()
	return p
}

// Model returns the part p simulates.
func (p *PHY) Model() Model { return p.opts.Model }

// Addr returns the PHY's address strap (Options.Addr).
func (p *PHY) Addr() uint8 { return p.opts.Addr }

// defaults puts every register in its reset state (the part decides which
// survive) and starts a new link attempt at from.
func (p *PHY) defaults(from time.Time) {
	p.bmcr, p.anar = p.part.defaults()
	p.pageRecv = false
	p.negStart = from
}

// sync brings the state up to now: it records the events that time or the
// last change caused (link failure, link up, negotiation done, energy
// detected). Caller holds mu.
func (p *PHY) sync() {
	st := p.compute(p.opts.Now())
	if p.st.link && !st.link {
		p.linkFailed = true
		p.part.event(evLinkDown)
	}
	if !p.st.anDone && st.anDone {
		p.pageRecv = true
		p.part.event(evANDone)
	}
	if !p.st.link && st.link {
		p.part.event(evLinkUp)
	}
	if !p.st.energy && st.energy {
		p.part.event(evEnergyOn)
	}
	p.st = st
}

// compute is the line state at now, from the registers and the cable.
func (p *PHY) compute(now time.Time) status {
	var st status
	if now.Before(p.resetUntil) || !p.cable || p.bmcr&BMCRPowerDown != 0 {
		return st
	}
	st.energy = true
	if p.bmcr&BMCRANEnable == 0 {
		st.mode = forcedMode(p.bmcr)
		want := uint16(Adv10HD | Adv10FD)
		if p.bmcr&BMCRSpeed100 != 0 {
			want = Adv100HD | Adv100FD | Adv100T4
		}
		st.link = p.partner&want != 0
		return st
	}
	if now.Before(p.negStart.Add(p.opts.AutoNegTime)) {
		return st
	}
	st.anDone = true
	st.mode = resolve(p.anar & p.partner)
	st.link = st.mode != modeNone
	return st
}

// restart drops the link (if it was up) and starts a new attempt. Caller
// holds mu and has just synced.
func (p *PHY) restart(now time.Time) {
	if p.st.link {
		p.linkFailed = true
		p.part.event(evLinkDown)
	}
	p.st.link, p.st.anDone, p.st.mode = false, false, modeNone
	p.negStart = now
}

// resolve picks the highest common mode: 100FD, 100HD, 10FD, 10HD.
func resolve(common uint16) linkMode {
	switch {
	case common&Adv100FD != 0:
		return mode100FD
	case common&Adv100HD != 0:
		return mode100HD
	case common&Adv10FD != 0:
		return mode10FD
	case common&Adv10HD != 0:
		return mode10HD
	}
	return modeNone
}

func forcedMode(bmcr uint16) linkMode {
	switch bmcr & (BMCRSpeed100 | BMCRDuplex) {
	case BMCRSpeed100 | BMCRDuplex:
		return mode100FD
	case BMCRSpeed100:
		return mode100HD
	case BMCRDuplex:
		return mode10FD
	}
	return mode10HD
}
