package phy

import (
	"testing"
	"time"

	"github.com/nichost/nichost/host/bus/sim"
)

// newKSZ returns a KSZ8081 strapped to addr on a fake clock, powered on and
// not yet linked.
func newKSZ(t *testing.T, addr uint8) (*PHY, *clock) {
	t.Helper()
	c := &clock{t: time.Unix(1000, 0)}
	return New(Options{Model: KSZ8081, Addr: addr, ResetTime: resetTime, AutoNegTime: anTime, Now: c.Now}), c
}

// linkedKSZ returns a KSZ8081 whose power-on negotiation is over, with
// BMSR's latch and the interrupt status consumed.
func linkedKSZ(t *testing.T) (*PHY, *clock) {
	t.Helper()
	p, c := newKSZ(t, 0)
	c.Advance(anTime)
	p.ReadReg(RegBMSR)
	p.ReadReg(RegKSZICSR)
	return p, c
}

func TestKSZ8081_Identity(t *testing.T) {
	p, _ := newKSZ(t, 0)
	at3, _ := newKSZ(t, 3)
	rev := New(Options{Model: KSZ8081, Revision: 3})
	if p.Model() != KSZ8081 || p.Model().String() != "KSZ8081" {
		t.Fatalf("Model() = %v", p.Model())
	}
	for _, tc := range []struct {
		name string
		p    *PHY
		reg  uint8
		want uint16
	}{
		{"PHYID1", p, RegPHYID1, 0x0022},
		{"PHYID2 default revision", p, RegPHYID2, 0x1561},
		{"PHYID2 revision 3", rev, RegPHYID2, 0x1563},
		{"BMCR after power-on", p, RegBMCR, 0x3100},
		{"BMSR before the link", p, RegBMSR, 0x7849},
		{"ANAR", p, RegANAR, 0x01E1},
		{"ANLPAR before negotiation", p, RegANLPAR, 0},
		{"ANER: next page able", p, RegANER, 0x0004},
		{"ANNP", p, RegANNP, 0x2001},
		{"LPNP", p, RegLPNP, 0},
		{"Digital Reserved Control", p, RegKSZDRC, 0},
		{"AFE Control 1", p, RegKSZAFEC1, 0},
		{"RXER counter", p, RegKSZRXERC, 0},
		{"OMSO", p, RegKSZOMSO, 0},
		{"OMSS: address 0, RMII", p, RegKSZOMSS, 0x0002},
		{"OMSS: address 3", at3, RegKSZOMSS, 0x6002},
		{"Expanded Control: EDPD disabled", p, RegKSZEXC, 0x0800},
		{"ICSR", p, RegKSZICSR, 0},
		{"LinkMD", p, RegKSZLinkMD, 0},
		{"PHY Control 1: energy, still negotiating", p, RegKSZPHYC1, 0x0010},
		{"PHY Control 2: HP Auto MDI-X, jabber, 25 MHz", p, RegKSZPHYC2, 0x8100},
		{"register 9 is reserved", p, 9, 0},
		{"register 0x1C is reserved", p, 0x1C, 0},
	} {
		if got := tc.p.ReadReg(tc.reg); got != tc.want {
			t.Errorf("%s: register %#02x = %#04x, want %#04x", tc.name, tc.reg, got, tc.want)
		}
	}
}

func TestKSZ8081_Linked(t *testing.T) {
	p, c := newKSZ(t, 0)
	c.Advance(anTime)
	for _, tc := range []struct {
		name string
		reg  uint8
		want uint16
	}{
		{"BMSR: link, AN complete", RegBMSR, 0x786D},
		{"ANLPAR: the partner's page, acknowledged", RegANLPAR, 0x41E1},
		{"ANER: page received, LP AN-able", RegANER, 0x0007},
		{"ANER read again: page received cleared", RegANER, 0x0005},
		{"PHY Control 1: link, energy, 100BASE-TX full duplex", RegKSZPHYC1, 0x0116},
		{"ICSR: link up, LP acknowledge, page received", RegKSZICSR, 0x0029},
		{"ICSR read again: cleared", RegKSZICSR, 0},
	} {
		if got := p.ReadReg(tc.reg); got != tc.want {
			t.Errorf("%s: register %#02x = %#04x, want %#04x", tc.name, tc.reg, got, tc.want)
		}
	}
}

// PHY Control 1's operation mode follows the negotiated (or forced) mode,
// and reads 000 while negotiating or without a link.
func TestKSZ8081_PHYControl1Mode(t *testing.T) {
	for _, tc := range []struct {
		name    string
		anar    uint16 // 0: leave the default
		partner uint16 // 0: leave the default
		forced  bool   // auto-negotiation off, bmcr's speed and duplex
		bmcr    uint16
		op      uint16
		link    bool
	}{
		{"100 full", 0, 0, false, 0, KSZOp100FD, true},
		{"100 half", 0, Adv100HD | Adv10FD, false, 0, KSZOp100HD, true},
		{"10 full", 0, Adv10HD | Adv10FD, false, 0, KSZOp10FD, true},
		{"10 half", 0, Adv10HD, false, 0, KSZOp10HD, true},
		{"we advertise 10 full only", AdvSelector | Adv10FD, 0, false, 0, KSZOp10FD, true},
		{"nothing in common", AdvSelector | Adv100FD, Adv10HD, false, 0, KSZOpNegotiating, false},
		{"forced 100 full", 0, 0, true, BMCRSpeed100 | BMCRDuplex, KSZOp100FD, true},
		{"forced 100 half", 0, 0, true, BMCRSpeed100, KSZOp100HD, true},
		{"forced 10 half", 0, 0, true, 0, KSZOp10HD, true},
		{"forced 100 against a 10-only partner", 0, Adv10HD | Adv10FD, true, BMCRSpeed100, KSZOpNegotiating, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, c := linkedKSZ(t)
			if tc.anar != 0 {
				p.WriteReg(RegANAR, tc.anar)
			}
			if tc.partner != 0 {
				p.SetPartner(tc.partner)
			}
			if tc.forced {
				p.WriteReg(RegBMCR, tc.bmcr)
			} else {
				p.WriteReg(RegBMCR, BMCRANEnable|BMCRANRestart)
				if v := p.ReadReg(RegKSZPHYC1); v&(KSZPHYC1OpMask|KSZPHYC1Link) != 0 {
					t.Fatalf("PHY Control 1 = %#04x while negotiating, want mode 000 and no link", v)
				}
				c.Advance(anTime)
			}
			want := tc.op | KSZPHYC1Energy
			if tc.link {
				want |= KSZPHYC1Link
			}
			if got := p.ReadReg(RegKSZPHYC1); got != want {
				t.Fatalf("PHY Control 1 = %#04x, want %#04x", got, want)
			}
			p.ReadReg(RegBMSR) // the latched drop of the renegotiation
			if got := p.ReadReg(RegBMSR)&BMSRLink != 0; got != tc.link {
				t.Fatalf("BMSR link %v, want %v", got, tc.link)
			}
		})
	}
}

func TestKSZ8081_PHYControl1Pause(t *testing.T) {
	p, c := linkedKSZ(t)
	p.WriteReg(RegANAR, AdvAll|AdvPause)
	p.SetPartner(AdvAll | AdvPause)
	c.Advance(anTime)
	if got := p.ReadReg(RegKSZPHYC1); got != 0x0316 {
		t.Fatalf("PHY Control 1 = %#04x with pause on both sides, want 0x0316", got)
	}
}

func TestKSZ8081_LinkLatchesLow(t *testing.T) {
	p, c := linkedKSZ(t)
	p.SetLink(false)
	p.SetLink(true)
	c.Advance(anTime)
	for i, want := range []bool{false, true, true} {
		if got := p.ReadReg(RegBMSR)&BMSRLink != 0; got != want {
			t.Fatalf("read %d after a blip: link bit %v, want %v", i, got, want)
		}
	}
	if got := p.ReadReg(RegKSZICSR); got != KSZIntLinkDown|KSZIntLinkUp|KSZIntLPAck|KSZIntPageReceived {
		t.Fatalf("ICSR after the blip = %#04x, want link down, link up and the new negotiation's", got)
	}
}

func TestKSZ8081_InterruptControlStatus(t *testing.T) {
	p, c := newKSZ(t, 0)
	c.Advance(anTime)
	want := uint16(KSZIntLinkUp | KSZIntLPAck | KSZIntPageReceived)
	if got := p.Peek(RegKSZICSR); got != want {
		t.Fatalf("ICSR after negotiation = %#04x, want %#04x", got, want)
	}
	if p.IRQ() {
		t.Fatal("INTRP asserted with every source disabled")
	}
	if got := p.ReadReg(RegKSZICSR); got != want {
		t.Fatalf("ICSR = %#04x: Peek cleared it", got)
	}
	if got := p.ReadReg(RegKSZICSR); got != 0 {
		t.Fatalf("ICSR read again = %#04x, want 0 (clear on read)", got)
	}
	// Linux enables link up and link down.
	p.WriteReg(RegKSZICSR, 0x0500|0x00FF) // the status bits are read-only
	if got := p.ReadReg(RegKSZICSR); got != 0x0500 {
		t.Fatalf("ICSR = %#04x after writing the enables, want 0x0500", got)
	}
	p.SetLink(false)
	if !p.IRQ() {
		t.Fatal("INTRP not asserted after an enabled link-down")
	}
	if got := p.ReadReg(RegKSZICSR); got != 0x0500|KSZIntLinkDown {
		t.Fatalf("ICSR after unplugging = %#04x, want enables and link down", got)
	}
	if p.IRQ() {
		t.Fatal("INTRP still asserted after the ICSR read")
	}
	p.SetLink(true)
	c.Advance(anTime)
	if !p.IRQ() {
		t.Fatal("INTRP not asserted after an enabled link-up")
	}
}

func TestKSZ8081_PowerDown(t *testing.T) {
	p, c := linkedKSZ(t)
	p.WriteReg(RegBMCR, p.ReadReg(RegBMCR)|BMCRPowerDown)
	if p.Link() {
		t.Fatal("link up while powered down")
	}
	if got := p.ReadReg(RegKSZICSR); got != KSZIntLinkDown {
		t.Fatalf("ICSR after power-down = %#04x, want link down", got)
	}
	c.Advance(10 * anTime)
	if v := p.ReadReg(RegBMSR); v&(BMSRLink|BMSRANComplete) != 0 {
		t.Fatalf("BMSR = %#04x while powered down", v)
	}
	if v := p.ReadReg(RegKSZPHYC1); v != 0 {
		t.Fatalf("PHY Control 1 = %#04x while powered down, want 0 (no link, no energy)", v)
	}
	if v := p.ReadReg(RegPHYID1); v != KSZ8081PHYID1 {
		t.Fatalf("MDIO stopped answering in power-down: PHYID1 = %#04x", v)
	}
	p.WriteReg(RegBMCR, p.ReadReg(RegBMCR)&^BMCRPowerDown)
	c.Advance(anTime - time.Microsecond)
	if p.Link() {
		t.Fatal("link up before negotiating after power-up")
	}
	c.Advance(time.Microsecond)
	if !p.Link() {
		t.Fatal("no link AutoNegTime after power-up")
	}
}

func TestKSZ8081_Reset(t *testing.T) {
	p, c := linkedKSZ(t)
	for _, w := range []struct {
		reg uint8
		v   uint16
	}{
		{RegANAR, AdvSelector | Adv10HD | AdvPause},
		{RegANNP, 0x8001},
		{RegKSZDRC, KSZDRCPLLOff},
		{RegKSZAFEC1, KSZAFEC1SlowOscMode},
		{RegKSZOMSO, KSZOMSOBCastOff},
		{RegKSZEXC, 0},
		{RegKSZICSR, 0xFF00},
		{RegKSZPHYC2, KSZPHYC2HPMDIX | KSZPHYC2RMII50MHz},
	} {
		p.WriteReg(w.reg, w.v)
		if got := p.Peek(w.reg); got != w.v {
			t.Fatalf("register %#02x = %#04x after writing %#04x", w.reg, got, w.v)
		}
	}
	p.WriteReg(RegBMCR, BMCRReset)
	if p.Link() {
		t.Fatal("link still up during reset")
	}
	if v := p.ReadReg(RegBMCR); v&BMCRReset == 0 {
		t.Fatalf("BMCR = %#04x during reset, want RESET set", v)
	}
	p.WriteReg(RegKSZPHYC2, KSZPHYC2RMII50MHz) // ignored: reset in progress
	c.Advance(resetTime)
	for _, tc := range []struct {
		reg  uint8
		want uint16
	}{
		{RegBMCR, 0x3100},
		{RegANAR, 0x01E1},
		{RegANNP, 0x2001},
		{RegKSZDRC, 0},
		{RegKSZAFEC1, 0},
		{RegKSZOMSO, 0},
		{RegKSZEXC, 0x0800},
		{RegKSZICSR, 0}, // cleared by the reset; enables off
		{RegKSZPHYC2, 0x8100},
	} {
		if got := p.ReadReg(tc.reg); got != tc.want {
			t.Errorf("after reset: register %#02x = %#04x, want %#04x", tc.reg, got, tc.want)
		}
	}
	if p.Resets() != 1 {
		t.Errorf("Resets() = %d, want 1", p.Resets())
	}
	c.Advance(anTime - time.Microsecond)
	if p.Link() {
		t.Fatal("link up before AutoNegTime after the reset")
	}
	c.Advance(time.Microsecond)
	if !p.Link() {
		t.Fatal("no link AutoNegTime after the reset ended")
	}
	if got := p.ReadReg(RegKSZPHYC1); got != 0x0116 {
		t.Fatalf("PHY Control 1 after the reset's negotiation = %#04x, want 0x0116", got)
	}
}

func TestKSZ8081_Writes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reg   uint8
		write uint16
		want  uint16
	}{
		{"BMSR is read-only", RegBMSR, 0xFFFF, 0x7849},
		{"PHYID1 is read-only", RegPHYID1, 0x1234, 0x0022},
		{"PHYID2 is read-only", RegPHYID2, 0x1234, 0x1561},
		{"ANLPAR is read-only", RegANLPAR, 0xFFFF, 0},
		{"ANER is read-only", RegANER, 0xFFFF, 0x0004},
		{"LPNP is read-only", RegLPNP, 0xFFFF, 0},
		{"RXER counter is read-only", RegKSZRXERC, 0xFFFF, 0},
		{"OMSS is read-only", RegKSZOMSS, 0xFFFF, 0x0002},
		{"PHY Control 1 is read-only", RegKSZPHYC1, 0xFFFF, 0},
		{"ANAR: selector and T4 are fixed, next page writable", RegANAR, 0xFFFF, 0xADE1},
		{"ANNP: toggle and bit 14 are read-only", RegANNP, 0xFFFF, 0xB7FF},
		{"BMCR: reserved bits read 0, ANRESTART self-clears", RegBMCR, 0x327F, 0x3000},
		{"DRC: only PLL off", RegKSZDRC, 0xFFFF, 0x0010},
		{"AFE Control 1: only slow-oscillator mode", RegKSZAFEC1, 0xFFFF, 0x0020},
		{"OMSO: factory test, B-CAST_OFF, RMII B-to-B, NAND tree, RMII", RegKSZOMSO, 0xFFFF, 0x8262},
		{"Expanded Control: EDPD, latency, preamble", RegKSZEXC, 0xFFFF, 0x0C40},
		{"ICSR: the enables only", RegKSZICSR, 0xFFFF, 0xFF00},
		{"LinkMD: a test runs at once (cable out: open)", RegKSZLinkMD, 0x8000, 0x2000},
		{"PHY Control 2: reserved bits 12, 6 and 1 read 0", RegKSZPHYC2, 0xFFFF, 0xEFBD},
		{"register 0x12 reads 0", 0x12, 0xFFFF, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := newKSZ(t, 0) // no link: status bits stay out of the way
			p.SetLink(false)
			p.WriteReg(tc.reg, tc.write)
			if got := p.Peek(tc.reg); got != tc.want {
				t.Fatalf("register %#02x after writing %#04x = %#04x, want %#04x", tc.reg, tc.write, got, tc.want)
			}
		})
	}
}

func TestKSZ8081_LinkMD(t *testing.T) {
	p, _ := linkedKSZ(t)
	p.WriteReg(RegKSZLinkMD, KSZLinkMDTest)
	if got := p.ReadReg(RegKSZLinkMD); got != 0 {
		t.Fatalf("LinkMD = %#04x after a test on a good cable, want 0 (done, normal)", got)
	}
}

// A KSZ8081 answers at address 0, the broadcast address, as well as at its
// strap address, until OMSO's B-CAST_OFF is set; a soft reset clears it.
func TestKSZ8081_Broadcast(t *testing.T) {
	p, c := newKSZ(t, 3)
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

	lan := New(Options{Addr: 1})
	m2 := sim.NewMDIO()
	lan.Attach(m2, nil)
	if v, _ := m2.ReadReg(0, RegPHYID1); v != 0xFFFF || lan.Broadcasting() {
		t.Fatalf("a LAN8720A answers at address 0 (%#04x)", v)
	}
}
