package phy

import "time"

// ReadReg implements sim.PHYRegisters: it reads reg as a driver would, with
// the side effects of a read (BMSR's link latch and ANER's page-received
// bit are released, the interrupt source register is cleared).
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
		v := uint16(bmsrCaps)
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
		return PHYID1
	case RegPHYID2:
		return PHYID2 | uint16(p.opts.Revision&0xF)
	case RegANAR:
		return p.anar
	case RegANLPAR:
		if p.st.anDone {
			return p.partner | AdvACK
		}
		return 0
	case RegANER:
		v := p.aner
		if p.st.anDone {
			v |= ANERLPANAble
		}
		if consume {
			p.aner &^= ANERPageReceived
		}
		return v
	case RegEDPD:
		return p.reg16
	case RegMCSR:
		v := p.mcsr
		if p.st.energy {
			v |= MCSREnergyOn
		}
		return v
	case RegSMR:
		return p.smr
	case RegCSIR:
		return p.csir
	case RegISR:
		v := p.isr
		if consume {
			p.isr = 0
		}
		return v
	case RegIMR:
		return p.imr
	case RegPSCSR:
		v := p.st.hcd
		if p.st.anDone {
			v |= PSCSRAutoDone
		}
		return v
	}
	return 0 // reserved, unimplemented, and the symbol error counter
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
		p.anar = AdvSelector | v&anarWritable
	case RegEDPD:
		p.reg16 = v
	case RegMCSR:
		p.mcsr = v & mcsrWritable
	case RegSMR:
		// MODE takes effect at the next soft reset.
		p.smr = v & (SMRModeMask | SMRAddrMask)
	case RegCSIR:
		p.csir = v & csirWritable
	case RegIMR:
		p.imr = v & intAll
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
// link (BMSR latches low, ISR INT4); plugging it in starts
// auto-negotiation.
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

// HardReset pulses nRST: the straps are latched again into SMR and every
// register returns to its default, as after a soft reset.
func (p *PHY) HardReset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sync()
	now := p.opts.Now()
	p.restart(now)
	p.strap()
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

// IRQ reports whether nINT is asserted: an interrupt source that the mask
// enables is pending.
func (p *PHY) IRQ() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sync()
	return p.isr&p.imr != 0
}

// Resets counts the soft resets (BMCR.RESET writes) since New.
func (p *PHY) Resets() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.resets
}
