// Package phy simulates a Microchip/SMSC LAN8720A Ethernet PHY at the
// register level, for the LAN driver's tests and for simulated networks.
//
// A *PHY implements host/sim.PHYRegisters: attach it to a sim.MDIO at
// the address its PHYAD strap gives (Options.Addr). It models the clause 22
// registers 0-6 and the vendor registers 17, 18, 26, 27 and 29-31 as the
// driver sees them over MDIO, and a cable to a link partner:
//
//   - BMCR soft reset: RESET reads 1 for Options.ResetTime, every register
//     but SMR returns to the defaults of the MODE in SMR, the link drops and
//     auto-negotiation starts again once the reset is over;
//   - auto-negotiation: restarting it (BMCR.ANRESTART, self-clearing at
//     once), plugging the cable, leaving power-down or a reset starts an
//     attempt that completes after Options.AutoNegTime with the best mode
//     common to ANAR and the partner's abilities;
//   - BMSR's link status latches low (IEEE 802.3 22.2.4.2.13): after a link
//     failure it reads 0 once, even if the link is back, and the current
//     state on the next read;
//   - power-down (BMCR.PDOWN) drops the link; clearing it renegotiates;
//   - the interrupt source register (29) latches events and clears on read;
//     the mask (30) only decides what asserts nINT (IRQ);
//   - PSCSR (31) reports AUTODONE and the resolved speed and duplex.
//
// Time comes from Options.Now, so tests can step a fake clock instead of
// sleeping; the state is brought up to date lazily on every access.
//
// Deviations from the silicon, chosen for a small model:
//   - BMCR bits 13 and 8 keep what was written (or the MODE default); they
//     do not reflect the negotiated mode (read PSCSR for that);
//   - with auto-negotiation off, the link comes up at once if the partner
//     supports the forced speed (parallel detection, duplex not checked);
//     the partner always takes part in auto-negotiation;
//   - loopback, isolate, collision test, far loopback, MDIX control and
//     energy-detect power-down are kept as register state only; no frames
//     pass through the simulator (the frame port is a separate bus);
//   - writing SMR's PHYAD does not move the PHY on the bus;
//   - writes during a soft reset are ignored; SMR keeps its value across a
//     soft reset (HardReset reloads the straps), which is what Linux's
//     LAN87xx reset relies on when it rewrites MODE before a soft reset;
//   - the symbol error counter (26) stays 0; remote fault, jabber and
//     parallel detection faults never happen;
//   - register 16 stores what is written (Linux writes it on LAN8720s);
//     other registers not listed above read 0 and ignore writes;
//   - read-only bits ignore writes, reserved bits read 0.
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

// Options configure a simulated PHY. The zero value is a LAN8720A strapped
// to address 0 in MODE 111 (all capable, auto-negotiation on) that resets in
// 1 ms and negotiates in 2 s, on the real clock.
type Options struct {
	// Addr is the PHYAD strap, reported in SMR bits 4:0 (the LAN8720A's pin
	// gives 0 or 1). Attach the PHY to the bus at the same address.
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

// PHY is a simulated LAN8720A. It starts powered on with the cable plugged
// into a partner that advertises every 10/100 mode (AdvAll), and begins
// auto-negotiating at once, as the part does out of power-on reset. It is
// safe for concurrent use: the MDIO side and the cable side may be driven
// from different goroutines.
type PHY struct {
	opts Options

	mu         sync.Mutex
	bmcr       uint16
	anar       uint16
	mcsr       uint16 // writable bits only; ENERGYON is computed
	smr        uint16
	csir       uint16
	imr        uint16
	isr        uint16
	aner       uint16 // latched page-received bit only; LP AN-able is computed
	reg16      uint16
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
	anDone bool   // auto-negotiation complete
	link   bool   // link up
	energy bool   // energy on the line (ENERGYON)
	hcd    uint16 // resolved mode, PSCSR HCD* code; 0 when none
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
	p.mu.Lock()
	defer p.mu.Unlock()
	p.strap()
	p.defaults(opts.Now())
	p.sync()
	return p
}

// strap loads SMR from the strap pins, as nRST's release does.
func (p *PHY) strap() {
	p.smr = uint16(ModeAll)<<SMRModeShift | uint16(p.opts.Addr&SMRAddrMask)
}

// defaults puts every register but SMR in its reset state for SMR's mode,
// and starts a new link attempt at from.
func (p *PHY) defaults(from time.Time) {
	p.bmcr, p.anar = Mode((p.smr & SMRModeMask) >> SMRModeShift).defaults()
	p.mcsr, p.csir, p.imr, p.isr, p.aner, p.reg16 = 0, 0, 0, 0, 0, 0
	p.negStart = from
}

// sync brings the state up to now: it records the events that time or the
// last change caused (link failure, negotiation done, energy detected).
// Caller holds mu.
func (p *PHY) sync() {
	st := p.compute(p.opts.Now())
	if p.st.link && !st.link {
		p.linkFailed = true
		p.isr |= IntLinkDown
	}
	if !p.st.anDone && st.anDone {
		p.isr |= IntANComplete | IntLPAck | IntPageReceived
		p.aner |= ANERPageReceived
	}
	if !p.st.energy && st.energy {
		p.isr |= IntEnergyOn
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
		st.hcd = forcedMode(p.bmcr)
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
	st.hcd = resolve(p.anar & p.partner)
	st.link = st.hcd != 0
	return st
}

// restart drops the link (if it was up) and starts a new attempt. Caller
// holds mu and has just synced.
func (p *PHY) restart(now time.Time) {
	if p.st.link {
		p.linkFailed = true
		p.isr |= IntLinkDown
	}
	p.st.link, p.st.anDone = false, false
	p.negStart = now
}

// resolve picks the highest common mode: 100FD, 100HD, 10FD, 10HD.
func resolve(common uint16) uint16 {
	switch {
	case common&Adv100FD != 0:
		return HCD100FD
	case common&Adv100HD != 0:
		return HCD100HD
	case common&Adv10FD != 0:
		return HCD10FD
	case common&Adv10HD != 0:
		return HCD10HD
	}
	return 0
}

func forcedMode(bmcr uint16) uint16 {
	switch bmcr & (BMCRSpeed100 | BMCRDuplex) {
	case BMCRSpeed100 | BMCRDuplex:
		return HCD100FD
	case BMCRSpeed100:
		return HCD100HD
	case BMCRDuplex:
		return HCD10FD
	}
	return HCD10HD
}
