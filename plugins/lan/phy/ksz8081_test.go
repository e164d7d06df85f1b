package phy

import (
	"testing"

	"github.com/nichost/nichost/host/bus/sim"
)

// kszSpec is the KSZ8081RNA in the shared tests (phy_test.go): strapped
// to its default address, 0.
var kszSpec = spec{
	Model:  KSZ8081,
	name:   "KSZ8081",
	addr:   0,
	id1:    0x0022,
	id2:    0x1561,
	bmsr:   0x7849,
	aner:   0x0004, // next page able
	status: kszStatus,
	identity: []addrWant{
		{"ANNP", 0, RegANNP, 0x2001},
		{"LPNP", 0, RegLPNP, 0},
		{"Digital Reserved Control", 0, RegKSZDRC, 0},
		{"AFE Control 1", 0, RegKSZAFEC1, 0},
		{"RXER counter", 0, RegKSZRXERC, 0},
		{"OMSO", 0, RegKSZOMSO, 0},
		{"OMSS: address 0, RMII", 0, RegKSZOMSS, 0x0002},
		{"OMSS: address 3", 3, RegKSZOMSS, 0x6002},
		{"Expanded Control: EDPD disabled", 0, RegKSZEXC, 0x0800},
		{"ICSR", 0, RegKSZICSR, 0},
		{"LinkMD", 0, RegKSZLinkMD, 0},
		{"PHY Control 1: energy, still negotiating", 0, RegKSZPHYC1, 0x0010},
		{"PHY Control 2: HP Auto MDI-X, jabber, 25 MHz", 0, RegKSZPHYC2, 0x8100},
		{"register 9 is reserved", 0, 9, 0},
		{"register 0x1C is reserved", 0, 0x1C, 0},
	},
	negotiated: []regWant{
		{"PHY Control 1: link, energy, 100BASE-TX full duplex", RegKSZPHYC1, 0x0116},
		{"ICSR: link up, LP acknowledge, page received", RegKSZICSR, 0x0029},
		{"ICSR read again: cleared", RegKSZICSR, 0},
	},

	intReg: RegKSZICSR, intName: "ICSR", irqPin: "INTRP",
	negEvents:  KSZIntLinkUp | KSZIntLPAck | KSZIntPageReceived,
	linkDown:   KSZIntLinkDown,
	blipEvents: KSZIntLinkDown | KSZIntLinkUp | KSZIntLPAck | KSZIntPageReceived,
	// Linux enables link up and link down; the status bits are read-only.
	enableReg: RegKSZICSR,
	enable:    0x0500 | 0x00FF,
	enabled:   0x0500,
	moreInterrupts: func(t *testing.T, p *PHY, c *clock) {
		p.SetLink(true)
		c.Advance(anTime)
		if !p.IRQ() {
			t.Fatal("INTRP not asserted after an enabled link-up")
		}
	},

	// A soft reset returns every register to its default.
	resetWrites: []regWrite{
		{"ANNP", RegANNP, 0x8001, 0x8001},
		{"Digital Reserved Control", RegKSZDRC, KSZDRCPLLOff, KSZDRCPLLOff},
		{"AFE Control 1", RegKSZAFEC1, KSZAFEC1SlowOscMode, KSZAFEC1SlowOscMode},
		{"OMSO", RegKSZOMSO, KSZOMSOBCastOff, KSZOMSOBCastOff},
		{"Expanded Control", RegKSZEXC, 0, 0},
		{"ICSR", RegKSZICSR, 0xFF00, 0xFF00},
		{"PHY Control 2", RegKSZPHYC2, KSZPHYC2HPMDIX | KSZPHYC2RMII50MHz, KSZPHYC2HPMDIX | KSZPHYC2RMII50MHz},
	},
	afterReset: []regWant{
		{"ANNP", RegANNP, 0x2001},
		{"Digital Reserved Control", RegKSZDRC, 0},
		{"AFE Control 1", RegKSZAFEC1, 0},
		{"OMSO", RegKSZOMSO, 0},
		{"Expanded Control", RegKSZEXC, 0x0800},
		{"ICSR: cleared by the reset; enables off", RegKSZICSR, 0},
		{"PHY Control 2", RegKSZPHYC2, 0x8100},
	},

	writes: []regWrite{
		{"LPNP is read-only", RegLPNP, 0xFFFF, 0},
		{"RXER counter is read-only", RegKSZRXERC, 0xFFFF, 0},
		{"OMSS is read-only", RegKSZOMSS, 0xFFFF, 0x0002},
		{"PHY Control 1 is read-only", RegKSZPHYC1, 0xFFFF, 0},
		{"ANAR: selector and T4 are fixed, next page writable", RegANAR, 0xFFFF, 0xADE1},
		{"ANNP: toggle and bit 14 are read-only", RegANNP, 0xFFFF, 0xB7FF},
		{"DRC: only PLL off", RegKSZDRC, 0xFFFF, 0x0010},
		{"AFE Control 1: only slow-oscillator mode", RegKSZAFEC1, 0xFFFF, 0x0020},
		{"OMSO: factory test, B-CAST_OFF, RMII B-to-B, NAND tree, RMII", RegKSZOMSO, 0xFFFF, 0x8262},
		{"Expanded Control: EDPD, latency, preamble", RegKSZEXC, 0xFFFF, 0x0C40},
		{"ICSR: the enables only", RegKSZICSR, 0xFFFF, 0xFF00},
		{"LinkMD: a test runs at once (cable out: open)", RegKSZLinkMD, 0x8000, 0x2000},
		{"PHY Control 2: reserved bits 12, 6 and 1 read 0", RegKSZPHYC2, 0xFFFF, 0xEFBD},
		{"register 0x12 reads 0", 0x12, 0xFFFF, 0},
	},
}

// kszOp is PHY Control 1's operation mode code of each mode.
var kszOp = map[linkMode]uint16{
	modeNone:  KSZOpNegotiating,
	mode10HD:  KSZOp10HD,
	mode10FD:  KSZOp10FD,
	mode100HD: KSZOp100HD,
	mode100FD: KSZOp100FD,
}

// kszStatus: PHY Control 1 reports the link and its operation mode (000
// while negotiating or without a link) and the energy on the line.
func kszStatus(l line) []regWant {
	var v uint16
	if l.link {
		v |= KSZPHYC1Link | kszOp[l.mode]
	}
	if l.energy {
		v |= KSZPHYC1Energy
	}
	return []regWant{{"PHY Control 1", RegKSZPHYC1, v}}
}

func TestKSZ8081_PHYControl1Pause(t *testing.T) {
	p, c := linked(t, kszSpec)
	p.WriteReg(RegANAR, AdvAll|AdvPause)
	p.SetPartner(AdvAll | AdvPause)
	c.Advance(anTime)
	if got := p.ReadReg(RegKSZPHYC1); got != 0x0316 {
		t.Fatalf("PHY Control 1 = %#04x with pause on both sides, want 0x0316", got)
	}
}

func TestKSZ8081_LinkMD(t *testing.T) {
	p, _ := linked(t, kszSpec)
	p.WriteReg(RegKSZLinkMD, KSZLinkMDTest)
	if got := p.ReadReg(RegKSZLinkMD); got != 0 {
		t.Fatalf("LinkMD = %#04x after a test on a good cable, want 0 (done, normal)", got)
	}
}

// A KSZ8081 answers at address 0, the broadcast address, as well as at its
// strap address, until OMSO's B-CAST_OFF is set; a soft reset clears it.
func TestKSZ8081_Broadcast(t *testing.T) {
	p, c := newPHY(t, kszSpec, Options{Addr: 3})
	m := sim.NewMDIO()
	p.Attach(m, nil)
	read := func(addr, reg uint8) uint16 {
		t.Helper()
		v, err := m.ReadReg(addr, reg)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if !p.Broadcasting() {
		t.Fatal("not broadcasting after power-on")
	}
	for _, addr := range []uint8{0, 3} {
		if got := read(addr, RegPHYID1); got != KSZ8081PHYID1 {
			t.Fatalf("PHYID1 at address %d = %#04x", addr, got)
		}
	}
	if got := read(1, RegPHYID1); got != 0xFFFF {
		t.Fatalf("PHYID1 at address 1 = %#04x, want nobody there", got)
	}
	if err := m.WriteReg(0, RegKSZOMSO, KSZOMSOBCastOff); err != nil { // a write at 0 reaches the PHY
		t.Fatal(err)
	}
	if p.Broadcasting() || read(0, RegPHYID1) != 0xFFFF {
		t.Fatal("still answering at address 0 with B-CAST_OFF set")
	}
	if err := m.WriteReg(0, RegANAR, AdvSelector|Adv10HD); err != nil {
		t.Fatal(err)
	}
	if got := read(3, RegANAR); got != 0x01E1 {
		t.Fatalf("ANAR = %#04x: a write at address 0 reached a PHY not broadcasting", got)
	}
	if err := m.WriteReg(3, RegBMCR, BMCRReset); err != nil {
		t.Fatal(err)
	}
	c.Advance(resetTime)
	if !p.Broadcasting() || read(0, RegPHYID1) != KSZ8081PHYID1 {
		t.Fatal("a soft reset did not bring the broadcast address back")
	}

	lan, _ := newPHY(t, lanSpec, Options{Addr: 1})
	m2 := sim.NewMDIO()
	lan.Attach(m2, nil)
	if v, _ := m2.ReadReg(0, RegPHYID1); v != 0xFFFF || lan.Broadcasting() {
		t.Fatalf("a LAN8720A answers at address 0 (%#04x)", v)
	}
}
