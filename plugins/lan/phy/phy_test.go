package phy

import (
	"testing"
	"time"
)

// clock is a fake clock the tests step by hand.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

const (
	resetTime = time.Millisecond
	anTime    = 100 * time.Millisecond
)

// newTest returns a PHY on a fake clock, powered on and not yet linked.
func newTest(t *testing.T) (*PHY, *clock) {
	t.Helper()
	c := &clock{t: time.Unix(1000, 0)}
	return New(Options{Addr: 1, ResetTime: resetTime, AutoNegTime: anTime, Now: c.Now}), c
}

// linked returns a PHY whose power-on negotiation is over, with BMSR's
// latch and the interrupt sources consumed.
func linked(t *testing.T) (*PHY, *clock) {
	t.Helper()
	p, c := newTest(t)
	c.Advance(anTime)
	p.ReadReg(RegBMSR)
	p.ReadReg(RegISR)
	return p, c
}

func TestPHY_Identity(t *testing.T) {
	p, _ := newTest(t)
	rev := New(Options{Revision: 3})
	for _, tc := range []struct {
		name string
		p    *PHY
		reg  uint8
		want uint16
	}{
		{"PHYID1", p, RegPHYID1, 0x0007},
		{"PHYID2 default revision", p, RegPHYID2, 0xC0F1},
		{"PHYID2 revision 3", rev, RegPHYID2, 0xC0F3},
		{"SMR: MODE 111 and the PHYAD strap", p, RegSMR, 0xE1},
		{"SMR at address 0", rev, RegSMR, 0xE0},
		{"BMCR after power-on", p, RegBMCR, 0x3100},
		{"ANAR after power-on", p, RegANAR, 0x01E1},
		{"BMSR before the link", p, RegBMSR, 0x7809},
		{"ANLPAR before negotiation", p, RegANLPAR, 0},
		{"IMR", p, RegIMR, 0},
	} {
		if got := tc.p.ReadReg(tc.reg); got != tc.want {
			t.Errorf("%s: register %d = %#04x, want %#04x", tc.name, tc.reg, got, tc.want)
		}
	}
}

func TestPHY_AutoNegotiation(t *testing.T) {
	for _, tc := range []struct {
		name    string
		anar    uint16 // 0: leave the default
		partner uint16 // 0: leave the default
		pscsr   uint16
		link    bool
	}{
		{"all modes", 0, 0, PSCSRAutoDone | HCD100FD, true},
		{"partner 100HD and 10FD", 0, Adv100HD | Adv10FD, PSCSRAutoDone | HCD100HD, true},
		{"partner 10 only", 0, Adv10HD | Adv10FD, PSCSRAutoDone | HCD10FD, true},
		{"partner 10HD only", 0, Adv10HD, PSCSRAutoDone | HCD10HD, true},
		{"we advertise 10FD only", AdvSelector | Adv10FD, 0, PSCSRAutoDone | HCD10FD, true},
		{"nothing in common", AdvSelector | Adv100FD, Adv10HD, PSCSRAutoDone, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, c := newTest(t)
			if tc.anar != 0 {
				p.WriteReg(RegANAR, tc.anar)
			}
			if tc.partner != 0 {
				p.SetPartner(tc.partner)
			}
			p.WriteReg(RegBMCR, BMCRANEnable|BMCRANRestart)
			if v := p.ReadReg(RegBMCR); v&BMCRANRestart != 0 {
				t.Fatalf("BMCR = %#04x: ANRESTART did not self-clear", v)
			}
			c.Advance(anTime - time.Millisecond)
			if v := p.ReadReg(RegBMSR); v&(BMSRANComplete|BMSRLink) != 0 {
				t.Fatalf("BMSR = %#04x before AutoNegTime", v)
			}
			c.Advance(time.Millisecond)
			bmsr := p.ReadReg(RegBMSR)
			if bmsr&BMSRANComplete == 0 {
				t.Fatalf("BMSR = %#04x after AutoNegTime: AN not complete", bmsr)
			}
			if got := bmsr&BMSRLink != 0; got != tc.link {
				t.Fatalf("BMSR = %#04x: link %v, want %v", bmsr, got, tc.link)
			}
			if got := p.ReadReg(RegPSCSR); got != tc.pscsr {
				t.Errorf("PSCSR = %#04x, want %#04x", got, tc.pscsr)
			}
			partner := tc.partner
			if partner == 0 {
				partner = AdvAll
			}
			if got, want := p.ReadReg(RegANLPAR), partner|AdvSelector|AdvACK; got != want {
				t.Errorf("ANLPAR = %#04x, want %#04x", got, want)
			}
			if got := p.ReadReg(RegANER); got != ANERLPANAble|ANERPageReceived {
				t.Errorf("ANER = %#04x, want LP AN-able and page received", got)
			}
			if got := p.ReadReg(RegANER); got != ANERLPANAble {
				t.Errorf("ANER read again = %#04x: page received did not clear on read", got)
			}
		})
	}
}

func TestPHY_LinkLatchesLow(t *testing.T) {
	type step struct {
		do   func(p *PHY, c *clock)
		bmsr []bool // link bit of successive BMSR reads after do
	}
	unplug := func(p *PHY, _ *clock) { p.SetLink(false) }
	plug := func(p *PHY, _ *clock) { p.SetLink(true) }
	wait := func(p *PHY, c *clock) { c.Advance(anTime) }
	nothing := func(*PHY, *clock) {}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"steady link reads 1", []step{{nothing, []bool{true, true}}}},
		{"unplugged reads 0", []step{{unplug, []bool{false, false}}}},
		{"a drop read before the link returns", []step{
			{unplug, []bool{false}},
			{plug, []bool{false}},      // negotiating again
			{wait, []bool{true, true}}, // no failure since the last read
		}},
		{"a drop nobody read stays latched", []step{
			{unplug, nil},
			{plug, nil},
			{wait, []bool{false, true}}, // the first read reports the drop
		}},
		{"AN restart drops the link", []step{
			{func(p *PHY, _ *clock) { p.WriteReg(RegBMCR, BMCRANEnable|BMCRANRestart) }, []bool{false, false}},
			{wait, []bool{true}},
		}},
		{"partner renegotiation drops the link", []step{
			{func(p *PHY, c *clock) { p.SetPartner(Adv10FD); c.Advance(anTime) }, []bool{false, true}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, c := linked(t)
			for i, s := range tc.steps {
				s.do(p, c)
				for j, want := range s.bmsr {
					if got := p.ReadReg(RegBMSR)&BMSRLink != 0; got != want {
						t.Fatalf("step %d, read %d: link bit %v, want %v", i, j, got, want)
					}
				}
			}
		})
	}
}

func TestPHY_Reset(t *testing.T) {
	p, c := linked(t)
	p.WriteReg(RegANAR, AdvSelector|Adv10HD|AdvPause)
	p.WriteReg(RegIMR, IntLinkDown|IntANComplete)
	p.WriteReg(RegMCSR, MCSREDPowerDown)
	p.WriteReg(RegCSIR, 0x8000)
	p.WriteReg(RegEDPD, 1)
	p.WriteReg(RegSMR, 0xE0|5) // PHYAD rewritten: survives a soft reset

	p.WriteReg(RegBMCR, BMCRReset)
	if p.Link() {
		t.Fatal("link still up during reset")
	}
	if v := p.ReadReg(RegBMCR); v&BMCRReset == 0 {
		t.Fatalf("BMCR = %#04x during reset, want RESET set", v)
	}
	p.WriteReg(RegANAR, AdvSelector|Adv10HD) // ignored: reset in progress
	c.Advance(resetTime)
	for _, tc := range []struct {
		reg  uint8
		want uint16
	}{
		{RegBMCR, 0x3100},
		{RegANAR, 0x01E1},
		{RegIMR, 0},
		{RegMCSR, MCSREnergyOn},
		{RegCSIR, 0},
		{RegEDPD, 0},
		{RegISR, IntEnergyOn}, // cleared by the reset, then energy seen again
		{RegSMR, 0xE5},
	} {
		if got := p.ReadReg(tc.reg); got != tc.want {
			t.Errorf("after reset: register %d = %#04x, want %#04x", tc.reg, got, tc.want)
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
}

func TestPHY_ModeStraps(t *testing.T) {
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
			p, c := linked(t)
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

func TestPHY_InterruptSource(t *testing.T) {
	p, c := newTest(t)
	c.Advance(anTime)
	want := uint16(IntEnergyOn | IntANComplete | IntLPAck | IntPageReceived)
	if got := p.Peek(RegISR); got != want {
		t.Fatalf("ISR after negotiation = %#04x, want %#04x", got, want)
	}
	if p.IRQ() {
		t.Fatal("nINT asserted with every source masked")
	}
	if got := p.ReadReg(RegISR); got != want {
		t.Fatalf("ISR = %#04x: Peek cleared it", got)
	}
	if got := p.ReadReg(RegISR); got != 0 {
		t.Fatalf("ISR read again = %#04x, want 0 (clear on read)", got)
	}
	p.WriteReg(RegIMR, IntLinkDown|0xFF00) // bits above 7 are not sources
	if got := p.ReadReg(RegIMR); got != IntLinkDown {
		t.Fatalf("IMR = %#04x, want %#04x", got, IntLinkDown)
	}
	p.SetLink(false)
	if !p.IRQ() {
		t.Fatal("nINT not asserted after an unmasked link-down")
	}
	if got := p.ReadReg(RegISR); got != IntLinkDown {
		t.Fatalf("ISR after unplugging = %#04x, want INT4 (link down)", got)
	}
	if p.IRQ() {
		t.Fatal("nINT still asserted after the ISR read")
	}
	p.WriteReg(RegISR, 0xFFFF)
	if got := p.ReadReg(RegISR); got != 0 {
		t.Fatalf("ISR = %#04x after a write, want 0 (read-only)", got)
	}
}

func TestPHY_PowerDown(t *testing.T) {
	p, c := linked(t)
	p.WriteReg(RegBMCR, p.ReadReg(RegBMCR)|BMCRPowerDown)
	if p.Link() {
		t.Fatal("link up while powered down")
	}
	if v := p.ReadReg(RegBMCR); v&BMCRPowerDown == 0 {
		t.Fatalf("BMCR = %#04x, want PDOWN kept", v)
	}
	if v := p.ReadReg(RegMCSR); v&MCSREnergyOn != 0 {
		t.Fatalf("MCSR = %#04x: ENERGYON while powered down", v)
	}
	c.Advance(10 * anTime)
	if v := p.ReadReg(RegBMSR); v&(BMSRLink|BMSRANComplete) != 0 {
		t.Fatalf("BMSR = %#04x while powered down", v)
	}
	if v := p.ReadReg(RegPHYID1); v != PHYID1 {
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

func TestPHY_ForcedMode(t *testing.T) {
	for _, tc := range []struct {
		name    string
		bmcr    uint16
		partner uint16
		pscsr   uint16
		link    bool
	}{
		{"100FD", BMCRSpeed100 | BMCRDuplex, AdvAll, HCD100FD, true},
		{"10HD", 0, AdvAll, HCD10HD, true},
		{"100 against a 10-only partner", BMCRSpeed100, Adv10HD | Adv10FD, HCD100HD, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := linked(t)
			p.SetPartner(tc.partner)
			p.WriteReg(RegBMCR, tc.bmcr)
			if p.Link() != tc.link {
				t.Fatalf("link %v, want %v", p.Link(), tc.link)
			}
			if v := p.ReadReg(RegPSCSR); v != tc.pscsr {
				t.Errorf("PSCSR = %#04x, want %#04x (no AUTODONE)", v, tc.pscsr)
			}
			if v := p.ReadReg(RegBMSR); v&BMSRANComplete != 0 {
				t.Errorf("BMSR = %#04x: AN complete with AN off", v)
			}
		})
	}
}

func TestPHY_Writes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reg   uint8
		write uint16
		want  uint16
	}{
		{"BMSR is read-only", RegBMSR, 0xFFFF, 0x7809},
		{"PHYID1 is read-only", RegPHYID1, 0x1234, PHYID1},
		{"PHYID2 is read-only", RegPHYID2, 0x1234, 0xC0F1},
		{"ANLPAR is read-only", RegANLPAR, 0xFFFF, 0},
		{"ANER is read-only", RegANER, 0xFFFF, 0},
		{"PSCSR is read-only", RegPSCSR, 0xFFFF, 0},
		{"SECR is read-only and stays 0", RegSECR, 0xFFFF, 0},
		{"ANAR: selector, T4 and next page are fixed", RegANAR, 0xFFFF, 0x2DE1},
		{"ANAR: pause is writable", RegANAR, AdvAll | AdvPause, 0x05E1},
		{"BMCR: reserved bits read 0, ANRESTART self-clears", RegBMCR, 0x327F, 0x3000},
		{"BMCR: ESP-IDF's 0x3300 reads back without ANRESTART", RegBMCR, 0x3300, 0x3100},
		{"MCSR: only EDPWRDOWN, FARLOOPBACK, ALTINT", RegMCSR, 0xFFFF, 0x2240},
		{"CSIR: only bits 15, 13, 11", RegCSIR, 0xFFFF, 0xA800},
		{"CSIR: Linux's auto-MDIX value keeps nothing", RegCSIR, 0x4000, 0},
		{"SMR: MODE and PHYAD", RegSMR, 0xFFFF, 0x00FF},
		{"register 16 stores writes", RegEDPD, 0x0001, 0x0001},
		{"register 7 reads 0", 7, 0xFFFF, 0},
		{"register 15 reads 0", 15, 0xFFFF, 0},
		{"register 19 reads 0", 19, 0xFFFF, 0},
		{"register 28 reads 0", 28, 0xFFFF, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := newTest(t) // no link: status bits stay out of the way
			p.SetLink(false)
			p.WriteReg(tc.reg, tc.write)
			if got := p.Peek(tc.reg); got != tc.want {
				t.Fatalf("register %d after writing %#04x = %#04x, want %#04x", tc.reg, tc.write, got, tc.want)
			}
		})
	}
}
