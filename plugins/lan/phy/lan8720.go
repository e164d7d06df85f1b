package phy

// lan8720 is the LAN8720A's side of a PHY: its identifier and vendor
// registers 16-31.
type lan8720 struct {
	p     *PHY
	mcsr  uint16 // writable bits only; ENERGYON is computed
	smr   uint16
	csir  uint16
	imr   uint16
	isr   uint16
	reg16 uint16
}

var _ part = (*lan8720)(nil)

func (l *lan8720) id() (uint16, uint16) { return PHYID1, PHYID2 }
func (l *lan8720) caps() uint16         { return bmsrCaps }
func (l *lan8720) anarWritable() uint16 { return anarWritable }
func (l *lan8720) aner() uint16         { return 0 }
func (l *lan8720) broadcast() bool      { return false }
func (l *lan8720) irq() bool            { return l.isr&l.imr != 0 }

// strap loads SMR from the strap pins, as nRST's release does.
func (l *lan8720) strap() {
	l.smr = uint16(ModeAll)<<SMRModeShift | uint16(l.p.opts.Addr&SMRAddrMask)
}

// defaults puts every vendor register but SMR in its reset state; BMCR and
// ANAR follow SMR's MODE.
func (l *lan8720) defaults() (bmcr, anar uint16) {
	l.mcsr, l.csir, l.imr, l.isr, l.reg16 = 0, 0, 0, 0, 0
	return Mode((l.smr & SMRModeMask) >> SMRModeShift).defaults()
}

func (l *lan8720) event(e event) {
	switch e {
	case evLinkDown:
		l.isr |= IntLinkDown
	case evANDone:
		l.isr |= IntANComplete | IntLPAck | IntPageReceived
	case evEnergyOn:
		l.isr |= IntEnergyOn
	}
}

func (l *lan8720) read(reg uint8, consume bool) uint16 {
	st := l.p.st
	switch reg {
	case RegEDPD:
		return l.reg16
	case RegMCSR:
		v := l.mcsr
		if st.energy {
			v |= MCSREnergyOn
		}
		return v
	case RegSMR:
		return l.smr
	case RegCSIR:
		return l.csir
	case RegISR:
		v := l.isr
		if consume {
			l.isr = 0
		}
		return v
	case RegIMR:
		return l.imr
	case RegPSCSR:
		v := hcd(st.mode)
		if st.anDone {
			v |= PSCSRAutoDone
		}
		return v
	}
	return 0 // reserved, unimplemented, and the symbol error counter
}

func (l *lan8720) write(reg uint8, v uint16) {
	switch reg {
	case RegEDPD:
		l.reg16 = v
	case RegMCSR:
		l.mcsr = v & mcsrWritable
	case RegSMR:
		// MODE takes effect at the next soft reset.
		l.smr = v & (SMRModeMask | SMRAddrMask)
	case RegCSIR:
		l.csir = v & csirWritable
	case RegIMR:
		l.imr = v & intAll
	}
}

// hcd is PSCSR's HCDSPEED code of a mode.
func hcd(m linkMode) uint16 {
	switch m {
	case mode10HD:
		return HCD10HD
	case mode10FD:
		return HCD10FD
	case mode100HD:
		return HCD100HD
	case mode100FD:
		return HCD100FD
	}
	return 0
}
