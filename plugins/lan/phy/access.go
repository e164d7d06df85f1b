package phy

import (
	"time"

	"github.com/nichost/nichost/host/bus/sim"
)

// ReadReg implements sim.PHYRegisters: it reads reg as a driver would, with
// the side effects of a read (BMSR's link latch and ANER's page-received
// bit are released, a clear-on-read interrupt register is cleared).
func (p *PHY) ReadReg(reg uint8) uint16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sync()
	return p.read(reg, true)
}

// Peek reads reg without the side effects of ReadReg, for tests and
// debugging.
func (p *PHY) Peek(reg uint8) uint16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sync()
	return p.read(reg, false)
}

// read returns a register's value; consume applies clear-on-read and
// latch release. Caller holds mu and has synced.
func (p *PHY) read(reg uint8, consume bool) uint16 {
	switch reg {
	case RegBMCR:
		v := p.bmcr
		if p.opts.Now().Before(p.resetUntil) {
			v |= BMCRReset
		}
		return v
	case RegBMSR:
		v := p.part.caps()
		if p.st.anDone {
			v |= BMSRANComplete
		}
		if p.st.link && !p.linkFailed {
			v |= BMSRLink
		}
		if consume {
			p.linkFailed = false
		}
		return v
	case RegPHYID1:
		id1, _ := p.part.id()
		return id1
	case RegPHYID2:
		_, id2 := p.part.id()
		return id2&PHYID2Model | uint16(p.opts.Revision&0xF)
	case RegANAR:
		return p.anar
	case RegANLPAR:
		if p.st.anDone {
			return p.partner | AdvACK
		}
		return 0
	case RegANER:
		v := p.part.aner()
		if p.pageRecv {
			v |= ANERPageReceived
		}
		if p.st.anDone {
			v |= ANERLPANAble
		}
		if consume {
			p.pageRecv = false
		}
		return v
	}
	if reg >= 32 {
		return 0
	}
	return p.part.read(reg, consume)
}

// WriteReg implements sim.PHYRegisters. Read-only registers and bits ignore
// the write; so does every register while a soft reset is in progress.
func (p *PHY) WriteReg(reg uint8, v uint16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sync()
	now := p.opts.Now()
	if now.Before(p.resetUntil) {
		return
	}
	switch reg {
	case RegBMCR:
		p.writeBMCR(v, now)
	case RegANAR:
		// A new advertisement takes effect at the next negotiation.
		p.anar = AdvSelector | v&p.part.anarWritable()
	case RegBMSR, RegPHYID1, RegPHYID2, RegANLPAR, RegANER:
		// read-only
	default:
		if reg < 32 {
			p.part.write(reg, v)
		}
	}
	p.sync()
}

// bmcrStored are the BMCR bits that keep what is written; RESET and
// ANRESTART self-clear and bits 6:0 are reserved.
const bmcrStored = BMCRLoopback | BMCRSpeed100 | BMCRANEnable | BMCRPowerDown | BMCRIsolate | BMCRDuplex | BMCRColTest

func (p *PHY) writeBMCR(v uint16, now time.Time) {
	if v&BMCRReset != 0 {
		p.resets++
		p.restart(now)
		p.resetUntil = now.Add(p.opts.ResetTime)
		p.defaults(p.resetUntil)
		return
	}
	old := p.bmcr
	p.bmcr = v & bmcrStored
	changed := old ^ p.bmcr
	an := p.bmcr&BMCRANEnable != 0
	switch {
	case changed&(BMCRPowerDown|BMCRANEnable) != 0,
		an && v&BMCRANRestart != 0,
		!an && changed&(BMCRSpeed100|BMCRDuplex) != 0:
		p.restart(now)
	}
}

// SetLink plugs (true) or unplugs (false) the cable. Unplugging fails the
// link (BMSR latches low, the part records a link-down event); plugging it
// in starts auto-negotiation.
func (p *PHY) SetLink(up bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sync()
	if p.cable == up {
		return
	}
	p.cable = up
	if up {
		p.negStart = p.opts.Now()
	}
	p.sync()
}

// SetPartner sets the abilities the link partner advertises (Adv* bits;
// the selector is added) and renegotiates, as a partner reconfigured
// through its own management would.
func (p *PHY) SetPartner(abilities uint16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sync()
	p.partner = (abilities | AdvSelector) &^ AdvACK
	p.restart(p.opts.Now())
	p.sync()
}

// HardReset pulses the reset pin: the straps are latched again and every
// register returns to its default, as after a soft reset.
func (p *PHY) HardReset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sync()
	now := p.opts.Now()
	p.restart(now)
	p.part.strap()
	p.resetUntil = now.Add(p.opts.ResetTime)
	p.defaults(p.resetUntil)
	p.sync()
}

// Link reports whether the link is up on the line (what the partner sees),
// regardless of BMSR's latch.
func (p *PHY) Link() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sync()
	return p.st.link
}

// IRQ reports whether the interrupt output (the LAN8720A's nINT, the
// KSZ8081's INTRP) is asserted: an event whose source is enabled is
// pending.
func (p *PHY) IRQ() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sync()
	return p.part.irq()
}

// Resets counts the soft resets (BMCR.RESET writes) since New.
func (p *PHY) Resets() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.resets
}

// Broadcasting reports whether the PHY answers at MDIO address 0, the
// broadcast address, besides its own: a KSZ8081 does until OMSO's
// B-CAST_OFF is set.
func (p *PHY) Broadcasting() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.part.broadcast()
}

// Attach puts the PHY on m: dev at Options.Addr and, for a part that
// answers at the broadcast address 0 (the KSZ8081), a view of dev at 0
// that answers while Broadcasting and is absent (reads 0xFFFF, ignores
// writes) otherwise. dev is the PHY as the bus sees it: p itself (nil
// means p), or a wrapper of p such as a misuse watcher.
func (p *PHY) Attach(m *sim.MDIO, dev sim.PHYRegisters) {
	if dev == nil {
		dev = p
	}
	m.Attach(p.opts.Addr, dev)
	if p.opts.Addr != 0 && p.opts.Model == KSZ8081 {
		m.Attach(0, broadcastView{p: p, dev: dev})
	}
}

// broadcastView is a PHY as it answers at the broadcast address.
type broadcastView struct {
	p   *PHY
	dev sim.PHYRegisters
}

func (b broadcastView) ReadReg(reg uint8) uint16 {
	if !b.p.Broadcasting() {
		return 0xFFFF
	}
	return b.dev.ReadReg(reg)
}

func (b broadcastView) WriteReg(reg uint8, v uint16) {
	if b.p.Broadcasting() {
		b.dev.WriteReg(reg, v)
	}
}
