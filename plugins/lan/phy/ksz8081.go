package phy

// KSZ8081RNA vendor registers (Microchip DS00002199, register map; the
// numbers and bits agree with Linux's micrel.c, Zephyr's and CycloneTCP's
// KSZ8081 drivers).
const (
	RegKSZDRC    = 0x10 // Digital Reserved Control
	RegKSZAFEC1  = 0x11 // AFE Control 1
	RegKSZRXERC  = 0x15 // RXER Counter (read-only, clear on read)
	RegKSZOMSO   = 0x16 // Operation Mode Strap Override
	RegKSZOMSS   = 0x17 // Operation Mode Strap Status (read-only)
	RegKSZEXC    = 0x18 // Expanded Control
	RegKSZICSR   = 0x1B // Interrupt Control/Status
	RegKSZLinkMD = 0x1D // LinkMD Control/Status
	RegKSZPHYC1  = 0x1E // PHY Control 1
	RegKSZPHYC2  = 0x1F // PHY Control 2
)

// PHY identifier of the KSZ8081 (Linux's PHY_ID_KSZ8081 0x00221560, mask
// 0xfffffff0, which the KSZ8091 shares): OUI 00-10-A1, model 0x16. PHYID2's
// low 4 bits are the silicon revision.
const (
	KSZ8081PHYID1 = 0x0022
	KSZ8081PHYID2 = 0x1560
)

// KSZ8081 BMSR and ANAR: BMSR also sets bit 6 (preamble suppression), and
// ANAR's next page bit is writable.
const (
	kszBMSRCaps     = bmsrCaps | BMSRNoPreamble
	kszANARWritable = anarWritable | AdvNextPage
)

// ANNP (register 7) of the KSZ8081: the message page bit and message code
// 1 (null message) after reset; Toggle (bit 11) and bit 14 are read-only.
const (
	kszANNPDefault  = 0x2001
	kszANNPWritable = 0xB7FF
)

// Digital Reserved Control (0x10) and AFE Control 1 (0x11).
const (
	KSZDRCPLLOff        = 1 << 4 // turn the PLL off (EDPD with the 25 MHz crystal)
	KSZAFEC1SlowOscMode = 1 << 5 // slow-oscillator mode
)

// Operation Mode Strap Override (0x16) and Status (0x17).
const (
	KSZOMSOFactoryTest  = 1 << 15 // factory test mode (strapped by RXER; cleared by drivers)
	KSZOMSOBCastOff     = 1 << 9  // B-CAST_OFF override: address 0 is not a broadcast address
	KSZOMSORMIIBtoB     = 1 << 6  // RMII back-to-back override
	KSZOMSONANDTree     = 1 << 5  // NAND tree override
	KSZOMSORMIIOverride = 1 << 1  // RMII override
	kszOMSOWritable     = KSZOMSOFactoryTest | KSZOMSOBCastOff | KSZOMSORMIIBtoB | KSZOMSONANDTree | KSZOMSORMIIOverride

	KSZOMSSAddrShift  = 13     // PHYAD[2:0] strap status in bits 15:13
	KSZOMSSRMIIStatus = 1 << 1 // strapped to RMII (always, on the RNA)
)

// Expanded Control (0x18).
const (
	KSZEXCEDPDDisabled        = 1 << 11 // energy-detect power-down disabled (the default)
	KSZEXC100Latency          = 1 << 10 // 100BASE-TX latency
	KSZEXC10Preamble          = 1 << 6  // 10BASE-T preamble restore
	kszEXCWritable            = KSZEXCEDPDDisabled | KSZEXC100Latency | KSZEXC10Preamble
	kszEXCDefault      uint16 = KSZEXCEDPDDisabled
)

// Interrupt Control/Status (0x1B): the enable of each source is its status
// bit shifted left by 8.
const (
	KSZIntLinkUp        = 1 << 0
	KSZIntRemoteFault   = 1 << 1
	KSZIntLinkDown      = 1 << 2
	KSZIntLPAck         = 1 << 3
	KSZIntParallelFault = 1 << 4
	KSZIntPageReceived  = 1 << 5
	KSZIntReceiveError  = 1 << 6
	KSZIntJabber        = 1 << 7
	KSZIntEnableShift   = 8
)

// LinkMD Control/Status (0x1D).
const (
	KSZLinkMDTest       = 1 << 15 // start a cable test (self-clearing)
	KSZLinkMDResultMask = 3 << 13 // 00 normal, 01 open, 10 short, 11 test failed
	KSZLinkMDOpen       = 1 << 13
)

// PHY Control 1 (0x1E), read-only but for nothing the model keeps.
const (
	KSZPHYC1Pause   = 1 << 9 // flow control resolved on
	KSZPHYC1Link    = 1 << 8
	KSZPHYC1Reverse = 1 << 7 // polarity reversed
	KSZPHYC1MDIX    = 1 << 5 // MDI-X (0: MDI)
	KSZPHYC1Energy  = 1 << 4 // signal present on the receive pair
	KSZPHYC1Isolate = 1 << 3
	KSZPHYC1OpMask  = 7 // operation mode indication

	KSZOpNegotiating = 0 // still in auto-negotiation (or no link)
	KSZOp10HD        = 1
	KSZOp100HD       = 2
	KSZOp10FD        = 5
	KSZOp100FD       = 6
)

// PHY Control 2 (0x1F).
const (
	KSZPHYC2HPMDIX       = 1 << 15 // HP Auto MDI/MDI-X (the default; 0: Microchip's)
	KSZPHYC2MDIXSelect   = 1 << 14
	KSZPHYC2PairSwapOff  = 1 << 13
	KSZPHYC2ForceLink    = 1 << 11
	KSZPHYC2PowerSaving  = 1 << 10
	KSZPHYC2IntLevel     = 1 << 9 // INTRP active high (0: active low, the default)
	KSZPHYC2Jabber       = 1 << 8 // jabber counter enabled (the default)
	KSZPHYC2RMII50MHz    = 1 << 7 // 50 MHz reference clock on XI (0: 25 MHz crystal, the RNA's default)
	KSZPHYC2LEDModeShift = 4      // bits 5:4
	KSZPHYC2TxOff        = 1 << 3
	KSZPHYC2RemoteLoop   = 1 << 2
	KSZPHYC2NoScramble   = 1 << 0
	kszPHYC2Default      = KSZPHYC2HPMDIX | KSZPHYC2Jabber
	kszPHYC2Writable     = 0xEFBD
)

// ksz8081 is the KSZ8081RNA's side of a PHY.
type ksz8081 struct {
	p      *PHY
	annp   uint16
	drc    uint16
	afec1  uint16
	omso   uint16
	exc    uint16
	icsr   uint16 // enables in the high byte, latched events in the low byte
	linkmd uint16
	phyc2  uint16
}

var _ part = (*ksz8081)(nil)

func (k *ksz8081) id() (uint16, uint16) { return KSZ8081PHYID1, KSZ8081PHYID2 }
func (k *ksz8081) caps() uint16         { return kszBMSRCaps }
func (k *ksz8081) anarWritable() uint16 { return kszANARWritable }
func (k *ksz8081) aner() uint16         { return ANERNextPageAble }
func (k *ksz8081) broadcast() bool      { return k.omso&KSZOMSOBCastOff == 0 }
func (k *ksz8081) irq() bool            { return k.icsr>>KSZIntEnableShift&k.icsr&0xFF != 0 }

// strap has nothing to latch beyond what OMSS computes from Options.Addr.
func (k *ksz8081) strap() {}

// defaults: a soft reset returns every register to its default.
func (k *ksz8081) defaults() (bmcr, anar uint16) {
	k.annp, k.drc, k.afec1, k.omso = kszANNPDefault, 0, 0, 0
	k.exc, k.icsr, k.linkmd, k.phyc2 = kszEXCDefault, 0, 0, kszPHYC2Default
	// The ANEN_SPEED strap's default: auto-negotiation on, 100 Mb/s; full
	// duplex; ANAR every 10/100 mode.
	return BMCRSpeed100 | BMCRANEnable | BMCRDuplex, AdvAll
}

func (k *ksz8081) event(e event) {
	switch e {
	case evLinkDown:
		k.icsr |= KSZIntLinkDown
	case evLinkUp:
		k.icsr |= KSZIntLinkUp
	case evANDone:
		k.icsr |= KSZIntLPAck | KSZIntPageReceived
	}
}

func (k *ksz8081) read(reg uint8, consume bool) uint16 {
	p := k.p
	switch reg {
	case RegANNP:
		return k.annp
	case RegLPNP:
		return 0 // the partner sends no next page
	case RegKSZDRC:
		return k.drc
	case RegKSZAFEC1:
		return k.afec1
	case RegKSZRXERC:
		return 0 // no receive errors: clear on read keeps it 0
	case RegKSZOMSO:
		return k.omso
	case RegKSZOMSS:
		return uint16(p.opts.Addr&7)<<KSZOMSSAddrShift | KSZOMSSRMIIStatus
	case RegKSZEXC:
		return k.exc
	case RegKSZICSR:
		v := k.icsr
		if consume {
			k.icsr &^= 0xFF
		}
		return v
	case RegKSZLinkMD:
		return k.linkmd
	case RegKSZPHYC1:
		return k.phyc1()
	case RegKSZPHYC2:
		return k.phyc2
	}
	return 0 // reserved
}

// phyc1 is PHY Control 1: link, energy, isolate and the operation mode.
func (k *ksz8081) phyc1() uint16 {
	p := k.p
	var v uint16
	if p.st.link {
		v |= KSZPHYC1Link | opMode(p.st.mode)
		if (p.st.mode == mode100FD || p.st.mode == mode10FD) && p.bmcr&BMCRANEnable != 0 &&
			p.anar&p.partner&AdvPause != 0 {
			v |= KSZPHYC1Pause
		}
	}
	if p.st.energy {
		v |= KSZPHYC1Energy
	}
	if p.bmcr&BMCRIsolate != 0 {
		v |= KSZPHYC1Isolate
	}
	return v
}

// opMode is PHY Control 1's operation mode code of a mode.
func opMode(m linkMode) uint16 {
	switch m {
	case mode10HD:
		return KSZOp10HD
	case mode10FD:
		return KSZOp10FD
	case mode100HD:
		return KSZOp100HD
	case mode100FD:
		return KSZOp100FD
	}
	return KSZOpNegotiating
}

func (k *ksz8081) write(reg uint8, v uint16) {
	switch reg {
	case RegANNP:
		k.annp = v & kszANNPWritable
	case RegKSZDRC:
		k.drc = v & KSZDRCPLLOff
	case RegKSZAFEC1:
		k.afec1 = v & KSZAFEC1SlowOscMode
	case RegKSZOMSO:
		k.omso = v & kszOMSOWritable
	case RegKSZEXC:
		k.exc = v & kszEXCWritable
	case RegKSZICSR:
		// The enables; the status bits are read-only.
		k.icsr = v&0xFF00 | k.icsr&0xFF
	case RegKSZLinkMD:
		if v&KSZLinkMDTest != 0 {
			// The test is over at once: a normal cable, or an open one.
			k.linkmd = 0
			if !k.p.cable {
				k.linkmd = KSZLinkMDOpen
			}
		}
	case RegKSZPHYC2:
		k.phyc2 = v & kszPHYC2Writable
	}
}
