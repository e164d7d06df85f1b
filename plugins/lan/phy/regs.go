package phy

// Clause 22 register numbers: the IEEE 802.3 registers 0-8 both parts
// share (the LAN8720A has no next page registers 7 and 8), then the
// LAN8720A's vendor registers 16-31 the simulator models. The KSZ8081's
// vendor registers are in ksz8081.go.
const (
	RegBMCR   = 0  // basic control
	RegBMSR   = 1  // basic status
	RegPHYID1 = 2  // PHY identifier, OUI bits 3-18
	RegPHYID2 = 3  // PHY identifier, OUI bits 19-24, model, revision
	RegANAR   = 4  // auto-negotiation advertisement
	RegANLPAR = 5  // auto-negotiation link partner ability
	RegANER   = 6  // auto-negotiation expansion
	RegANNP   = 7  // auto-negotiation next page transmit (KSZ8081)
	RegLPNP   = 8  // link partner next page ability (KSZ8081)
	RegEDPD   = 16 // LAN8720A: EDPD/crossover config (LAN8740; a scratch register here)
	RegMCSR   = 17 // mode control/status
	RegSMR    = 18 // special modes
	RegSECR   = 26 // symbol error counter
	RegCSIR   = 27 // control/status indication
	RegISR    = 29 // interrupt source (clear on read)
	RegIMR    = 30 // interrupt mask
	RegPSCSR  = 31 // PHY special control/status
)

// BMCR bits.
const (
	BMCRReset     = 1 << 15 // soft reset, self-clearing
	BMCRLoopback  = 1 << 14
	BMCRSpeed100  = 1 << 13 // forced speed when BMCRANEnable is clear
	BMCRANEnable  = 1 << 12
	BMCRPowerDown = 1 << 11
	BMCRIsolate   = 1 << 10
	BMCRANRestart = 1 << 9 // self-clearing
	BMCRDuplex    = 1 << 8 // forced full duplex when BMCRANEnable is clear
	BMCRColTest   = 1 << 7
)

// BMSR bits.
const (
	BMSR100T4       = 1 << 15
	BMSR100FD       = 1 << 14
	BMSR100HD       = 1 << 13
	BMSR10FD        = 1 << 12
	BMSR10HD        = 1 << 11
	BMSRNoPreamble  = 1 << 6 // preamble suppression accepted (KSZ8081)
	BMSRANComplete  = 1 << 5
	BMSRRemoteFault = 1 << 4
	BMSRANAbility   = 1 << 3
	BMSRLink        = 1 << 2 // latching low
	BMSRJabber      = 1 << 1
	BMSRExtCap      = 1 << 0

	// bmsrCaps are the LAN8720A's fixed capability bits: 10/100, half and
	// full duplex, auto-negotiation, extended registers.
	bmsrCaps = BMSR100FD | BMSR100HD | BMSR10FD | BMSR10HD | BMSRANAbility | BMSRExtCap
)

// Ability bits of ANAR (what this PHY advertises) and ANLPAR (what the
// partner sent).
const (
	AdvSelector    = 0x0001 // IEEE 802.3 (CSMA/CD) selector field
	Adv10HD        = 1 << 5
	Adv10FD        = 1 << 6
	Adv100HD       = 1 << 7
	Adv100FD       = 1 << 8
	Adv100T4       = 1 << 9
	AdvPause       = 1 << 10
	AdvAsymPause   = 1 << 11
	AdvRemoteFault = 1 << 13
	AdvACK         = 1 << 14 // ANLPAR only
	AdvNextPage    = 1 << 15

	// AdvAll is every 10/100 mode with the selector: the LAN8720A's ANAR
	// after reset in MODE 111, and the simulated partner's default.
	AdvAll = AdvSelector | Adv10HD | Adv10FD | Adv100HD | Adv100FD

	anarWritable = Adv10HD | Adv10FD | Adv100HD | Adv100FD | AdvPause | AdvAsymPause | AdvRemoteFault
)

// ANER bits.
const (
	ANERLPANAble     = 1 << 0 // the partner does auto-negotiation
	ANERPageReceived = 1 << 1 // latching high, cleared on read
	ANERNextPageAble = 1 << 2 // this PHY can send next pages (KSZ8081)
)

// MCSR (register 17) bits.
const (
	MCSREDPowerDown = 1 << 13 // energy-detect power-down enable
	MCSRFarLoopback = 1 << 9
	MCSRAltInt      = 1 << 6
	MCSREnergyOn    = 1 << 1 // read-only: energy on the line

	mcsrWritable = MCSREDPowerDown | MCSRFarLoopback | MCSRAltInt
)

// SMR (register 18) fields: MODE[2:0] in bits 7:5, PHYAD[4:0] in bits 4:0.
const (
	SMRModeShift = 5
	SMRModeMask  = 7 << SMRModeShift
	SMRAddrMask  = 0x1F
)

// CSIR (register 27) bits that can be written: AMDIXCTRL, CH_SELECT,
// SQEOFF. Bit 4 (XPOL) is read-only and stays 0 here.
const csirWritable = 1<<15 | 1<<13 | 1<<11

// PSCSR (register 31) bits and the resolved mode codes of HCDSPEED (bits
// 4:2).
const (
	PSCSRAutoDone = 1 << 12 // read-only: auto-negotiation done
	PSCSRHCDMask  = 7 << 2
	HCD10HD       = 1 << 2
	HCD100HD      = 2 << 2
	HCD10FD       = 5 << 2
	HCD100FD      = 6 << 2
)

// PHY identifier of the LAN8720A (the LAN8710A shares the model number):
// OUI 00-80-0F, model 0x0F. PHYID2's low 4 bits are the silicon revision.
const (
	PHYID1          = 0x0007
	PHYID2          = 0xC0F0
	PHYID2Model     = 0xFFF0 // the bits of PHYID2 that name the model
	DefaultRevision = 1      // 0xC0F1, the revision commonly seen
)

// ISR/IMR (registers 29 and 30) bits.
const (
	IntPageReceived  = 1 << 1
	IntParallelFault = 1 << 2
	IntLPAck         = 1 << 3
	IntLinkDown      = 1 << 4
	IntRemoteFault   = 1 << 5
	IntANComplete    = 1 << 6
	IntEnergyOn      = 1 << 7

	intAll = IntPageReceived | IntParallelFault | IntLPAck | IntLinkDown | IntRemoteFault | IntANComplete | IntEnergyOn
)

// Mode is the MODE[2:0] field of the special modes register (18): the
// strap-selected configuration that a soft reset applies to BMCR and ANAR.
type Mode uint8

// Modes of the LAN8720A.
const (
	Mode10HD      Mode = 0 // 10BASE-T half duplex, auto-negotiation off
	Mode10FD      Mode = 1 // 10BASE-T full duplex, auto-negotiation off
	Mode100HD     Mode = 2 // 100BASE-TX half duplex, auto-negotiation off
	Mode100FD     Mode = 3 // 100BASE-TX full duplex, auto-negotiation off
	Mode100HDAN   Mode = 4 // 100BASE-TX half duplex advertised, auto-negotiation on
	ModeRepeater  Mode = 5 // repeater mode, 100BASE-TX half duplex advertised, auto-negotiation on
	ModePowerDown Mode = 6 // the PHY comes out of reset powered down
	ModeAll       Mode = 7 // all capable, auto-negotiation on (the usual strap)
)

// defaults returns BMCR and ANAR as a soft reset leaves them in mode m.
func (m Mode) defaults() (bmcr, anar uint16) {
	switch m {
	case Mode10HD:
		return 0, AdvAll
	case Mode10FD:
		return BMCRDuplex, AdvAll
	case Mode100HD:
		return BMCRSpeed100, AdvAll
	case Mode100FD:
		return BMCRSpeed100 | BMCRDuplex, AdvAll
	case Mode100HDAN, ModeRepeater:
		return BMCRSpeed100 | BMCRANEnable, AdvSelector | Adv100HD
	case ModePowerDown:
		return BMCRSpeed100 | BMCRANEnable | BMCRDuplex | BMCRPowerDown, AdvAll
	}
	return BMCRSpeed100 | BMCRANEnable | BMCRDuplex, AdvAll
}
