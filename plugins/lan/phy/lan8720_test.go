package phy

import "testing"

// lanSpec is the LAN8720A in the shared tests (phy_test.go): strapped to
// address 1 in MODE 111.
var lanSpec = spec{
	Model:  LAN8720A,
	name:   "LAN8720A",
	addr:   1,
	id1:    0x0007,
	id2:    0xC0F1,
	bmsr:   0x7809,
	aner:   0,
	status: lanStatus,
	identity: []addrWant{
		{"SMR: MODE 111 and the PHYAD strap", 1, RegSMR, 0xE1},
		{"SMR at address 0", 0, RegSMR, 0xE0},
		{"IMR", 1, RegIMR, 0},
	},
	negotiated: []regWant{
		{"PSCSR: AUTODONE, 100BASE-TX full duplex", RegPSCSR, 0x1018},
		{"MCSR: ENERGYON", RegMCSR, 0x0002},
		{"ISR: energy on, AN complete, LP acknowledge, page received", RegISR, 0x00CA},
		{"ISR read again: cleared", RegISR, 0},
	},

	intReg: RegISR, intName: "ISR", irqPin: "nINT",
	negEvents:  IntEnergyOn | IntANComplete | IntLPAck | IntPageReceived,
	linkDown:   IntLinkDown,
	blipEvents: IntLinkDown | IntEnergyOn | IntANComplete | IntLPAck | IntPageReceived,
	enableReg:  RegIMR,
	enable:     IntLinkDown | 0xFF00, // bits above 7 are not sources
	enabled:    IntLinkDown,
	moreInterrupts: func(t *testing.T, p *PHY, _ *clock) {
		p.WriteReg(RegISR, 0xFFFF)
		if got := p.ReadReg(RegISR); got != 0 {
			t.Fatalf("ISR = %#04x after a write, want 0 (read-only)", got)
		}
	},

	resetWrites: []regWrite{
		{"IMR", RegIMR, IntLinkDown | IntANComplete, IntLinkDown | IntANComplete},
		{"MCSR", RegMCSR, MCSREDPowerDown, MCSREDPowerDown | MCSREnergyOn},
		{"CSIR", RegCSIR, 0x8000, 0x8000},
		{"register 16", RegEDPD, 1, 1},
		{"SMR: PHYAD rewritten", RegSMR, 0xE0 | 5, 0xE5},
	},
	afterReset: []regWant{
		{"IMR", RegIMR, 0},
		{"MCSR: ENERGYON only", RegMCSR, MCSREnergyOn},
		{"CSIR", RegCSIR, 0},
		{"register 16", RegEDPD, 0},
		{"ISR: cleared by the reset, then energy seen again", RegISR, IntEnergyOn},
		{"SMR: survives a soft reset", RegSMR, 0xE5},
	},

	writes: []regWrite{
		{"PSCSR is read-only", RegPSCSR, 0xFFFF, 0},
		{"SECR is read-only and stays 0", RegSECR, 0xFFFF, 0},
		{"ANAR: selector, T4 and next page are fixed", RegANAR, 0xFFFF, 0x2DE1},
		{"MCSR: only EDPWRDOWN, FARLOOPBACK, ALTINT", RegMCSR, 0xFFFF, 0x2240},
		{"CSIR: only bits 15, 13, 11", RegCSIR, 0xFFFF, 0xA800},
		{"CSIR: Linux's auto-MDIX value keeps nothing", RegCSIR, 0x4000, 0},
		{"SMR: MODE and PHYAD", RegSMR, 0xFFFF, 0x00FF},
		{"register 16 stores writes", RegEDPD, 0x0001, 0x0001},
		{"register 7 reads 0", 7, 0xFFFF, 0},
		{"register 19 reads 0", 19, 0xFFFF, 0},
		{"register 28 reads 0", 28, 0xFFFF, 0},
	},
}

// lanHCD is PSCSR's HCDSPEED code of each mode.
var lanHCD = map[linkMode]uint16{
	modeNone:  0,
	mode10HD:  HCD10HD,
	mode10FD:  HCD10FD,
	mode100HD: HCD100HD,
	mode100FD: HCD100FD,
}

// lanStatus: PSCSR reports AUTODONE and the resolved (or forced) mode,
// with or without a link; MCSR's ENERGYON the energy on the line.
func lanStatus(l line) []regWant {
	pscsr := lanHCD[l.mode]
	if l.anDone {
		pscsr |= PSCSRAutoDone
	}
	var mcsr uint16
	if l.energy {
		mcsr = MCSREnergyOn
	}
	return []regWant{{"PSCSR", RegPSCSR, pscsr}, {"MCSR", RegMCSR, mcsr}}
}

// A MODE written to SMR takes effect at the next soft reset; a hard reset
// latches the straps again.
func TestLAN8720_ModeStraps(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mode      Mode
		bmcr      uint16
		anar      uint16
		linkAfter bool
	}{
		{"all capable", ModeAll, 0x3100, 0x01E1, true},
		{"100HD advertised", Mode100HDAN, 0x3000, 0x0081, true},
		{"forced 10FD", Mode10FD, 0x0100, 0x01E1, true},
		{"forced 100FD", Mode100FD, 0x2100, 0x01E1, true},
		{"power-down", ModePowerDown, 0x3900, 0x01E1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, c := linked(t, lanSpec)
			p.WriteReg(RegSMR, uint16(tc.mode)<<SMRModeShift|1)
			if v := p.ReadReg(RegBMCR); v != 0x3100 {
				t.Fatalf("BMCR = %#04x: a MODE write took effect before the reset", v)
			}
			p.WriteReg(RegBMCR, BMCRReset)
			c.Advance(resetTime + anTime)
			if v := p.ReadReg(RegBMCR); v != tc.bmcr {
				t.Errorf("BMCR = %#04x, want %#04x", v, tc.bmcr)
			}
			if v := p.ReadReg(RegANAR); v != tc.anar {
				t.Errorf("ANAR = %#04x, want %#04x", v, tc.anar)
			}
			if p.Link() != tc.linkAfter {
				t.Errorf("link %v, want %v", p.Link(), tc.linkAfter)
			}
			p.HardReset()
			c.Advance(resetTime)
			if v := p.ReadReg(RegSMR); v != 0xE1 {
				t.Errorf("SMR = %#04x after a hard reset, want the straps 0xE1", v)
			}
		})
	}
}
