package phy

import (
	"testing"
	"time"
)

// The tests of the clause 22 core run once per part, over specs; what the
// parts do differently (identifiers, capability bits, vendor registers)
// comes from each part's spec, in lan8720_test.go and ksz8081_test.go,
// next to the tests of what only that part does.

// clock is a fake clock the tests step by hand.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

const (
	resetTime = time.Millisecond
	anTime    = 100 * time.Millisecond
)

// regWant is a register and what reading it should return.
type regWant struct {
	name string
	reg  uint8
	want uint16
}

// addrWant is a register of a PHY strapped to addr and what reading it
// after power-on should return.
type addrWant struct {
	name      string
	addr, reg uint8
	want      uint16
}

// regWrite is a write and what the register reads after it.
type regWrite struct {
	name  string
	reg   uint8
	write uint16
	want  uint16
}

// line is the line-side state a test expects: what the part's vendor
// status registers report.
type line struct {
	energy, anDone, link bool
	mode                 linkMode // the resolved or forced mode; modeNone for none
}

// spec is a part and what the shared tests expect of it where the parts
// differ.
type spec struct {
	Model
	name     string // what Model.String returns
	addr     uint8  // the PHYAD strap of the PHYs newTest makes
	id1, id2 uint16 // PHYID1 and PHYID2 at DefaultRevision
	bmsr     uint16 // BMSR without a link
	aner     uint16 // ANER's fixed bits

	// status lists the vendor registers that report the line state and
	// what they read in state l.
	status func(l line) []regWant

	// identity are the vendor registers after power-on; negotiated, the
	// vendor registers once the power-on negotiation is over, read in
	// order (the interrupt register clears on read).
	identity   []addrWant
	negotiated []regWant

	// intReg latches the interrupt events and clears on read; negEvents
	// are the events of the power-on negotiation, linkDown the link
	// failure's, blipEvents those of an unplugged cable plugged back in
	// and renegotiated. Writing enable to enableReg enables the link-down
	// source alone, and enableReg then reads enabled. irqPin names the
	// interrupt output; moreInterrupts runs the part's own checks at the
	// end of TestPHY_Interrupts.
	intReg, enableReg               uint8
	intName, irqPin                 string
	negEvents, linkDown, blipEvents uint16
	enable, enabled                 uint16
	moreInterrupts                  func(t *testing.T, p *PHY, c *clock)

	// resetWrites are vendor register writes (read back at once) that a
	// soft reset undoes or keeps, as afterReset says.
	resetWrites []regWrite
	afterReset  []regWant

	// writes are the part's own read-only, reserved and partly writable
	// registers, for TestPHY_Writes.
	writes []regWrite
}

// specs are the parts the shared tests run over.
var specs = []spec{lanSpec, kszSpec}

// forEachModel runs f as a subtest named after each part.
func forEachModel(t *testing.T, f func(t *testing.T, s spec)) {
	t.Helper()
	for _, s := range specs {
		t.Run(s.name, func(t *testing.T) { f(t, s) })
	}
}

// newPHY returns a PHY of s's model on a fake clock with opts' strap and
// revision, powered on and not yet linked.
func newPHY(t *testing.T, s spec, opts Options) (*PHY, *clock) {
	t.Helper()
	c := &clock{t: time.Unix(1000, 0)}
	opts.Model, opts.ResetTime, opts.AutoNegTime, opts.Now = s.Model, resetTime, anTime, c.Now
	return New(opts), c
}

// newTest returns a PHY of s's model at s.addr on a fake clock, powered on
// and not yet linked.
func newTest(t *testing.T, s spec) (*PHY, *clock) {
	t.Helper()
	return newPHY(t, s, Options{Addr: s.addr})
}

// linked returns a PHY whose power-on negotiation is over, with BMSR's
// latch and the interrupt events consumed.
func linked(t *testing.T, s spec) (*PHY, *clock) {
	t.Helper()
	p, c := newTest(t, s)
	c.Advance(anTime)
	p.ReadReg(RegBMSR)
	p.ReadReg(s.intReg)
	return p, c
}

// checkRegs reads the registers of want in order and reports those that
// differ, saying when (what).
func checkRegs(t *testing.T, p *PHY, when string, want []regWant) {
	t.Helper()
	for _, w := range want {
		if got := p.ReadReg(w.reg); got != w.want {
			t.Errorf("%s: %s (register %#02x) = %#04x, want %#04x", when, w.name, w.reg, got, w.want)
		}
	}
}

// negotiatesAgain checks that the link, down now, comes up AutoNegTime
// from now and not a microsecond before; after says after what.
func negotiatesAgain(t *testing.T, p *PHY, c *clock, after string) {
	t.Helper()
	c.Advance(anTime - time.Microsecond)
	if p.Link() {
		t.Fatalf("link up before AutoNegTime after %s", after)
	}
	c.Advance(time.Microsecond)
	if !p.Link() {
		t.Fatalf("no link AutoNegTime after %s", after)
	}
}

func TestPHY_Identity(t *testing.T) {
	forEachModel(t, func(t *testing.T, s spec) {
		p, _ := newTest(t, s)
		rev, _ := newPHY(t, s, Options{Revision: 3})
		if p.Model() != s.Model || rev.Model() != s.Model {
			t.Fatalf("Model() = %v, %v; want %v", p.Model(), rev.Model(), s.Model)
		}
		if got := p.Model().String(); got != s.name {
			t.Fatalf("Model().String() = %q, want %q", got, s.name)
		}
		if got, want := rev.ReadReg(RegPHYID2), s.id2&^0xF|3; got != want {
			t.Errorf("PHYID2 at revision 3 = %#04x, want %#04x", got, want)
		}
		checkRegs(t, p, "after power-on", []regWant{
			{"PHYID1", RegPHYID1, s.id1},
			{"PHYID2 at the default revision", RegPHYID2, s.id2},
			{"BMCR", RegBMCR, 0x3100},
			{"ANAR", RegANAR, 0x01E1},
			{"BMSR before the link", RegBMSR, s.bmsr},
			{"ANLPAR before negotiation", RegANLPAR, 0},
			{"ANER before negotiation", RegANER, s.aner},
		})
		at := map[uint8]*PHY{s.addr: p}
		for _, w := range s.identity {
			if at[w.addr] == nil {
				at[w.addr], _ = newPHY(t, s, Options{Addr: w.addr})
			}
			if got := at[w.addr].ReadReg(w.reg); got != w.want {
				t.Errorf("%s: register %#02x at address %d = %#04x, want %#04x", w.name, w.reg, w.addr, got, w.want)
			}
		}
	})
}

// The registers once the power-on negotiation is over, none read before.
func TestPHY_Negotiated(t *testing.T) {
	forEachModel(t, func(t *testing.T, s spec) {
		p, c := newTest(t, s)
		c.Advance(anTime)
		checkRegs(t, p, "after the power-on negotiation", append([]regWant{
			{"BMSR: link, AN complete", RegBMSR, s.bmsr | 0x0024},
			{"ANLPAR: the partner's page, acknowledged", RegANLPAR, 0x41E1},
			{"ANER: page received, LP AN-able", RegANER, s.aner | 0x0003},
			{"ANER read again: page received cleared", RegANER, s.aner | 0x0001},
		}, s.negotiated...))
	})
}

func TestPHY_AutoNegotiation(t *testing.T) {
	cases := []struct {
		name    string
		anar    uint16 // 0: leave the default
		partner uint16 // 0: leave the default
		mode    linkMode
		link    bool
	}{
		{"all modes", 0, 0, mode100FD, true},
		{"partner 100HD and 10FD", 0, Adv100HD | Adv10FD, mode100HD, true},
		{"partner 10 only", 0, Adv10HD | Adv10FD, mode10FD, true},
		{"partner 10HD only", 0, Adv10HD, mode10HD, true},
		{"we advertise 10FD only", AdvSelector | Adv10FD, 0, mode10FD, true},
		{"nothing in common", AdvSelector | Adv100FD, Adv10HD, modeNone, false},
	}
	forEachModel(t, func(t *testing.T, s spec) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				p, c := linked(t, s)
				p.ReadReg(RegANER) // the power-on negotiation's page
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
				checkRegs(t, p, "negotiating", s.status(line{energy: true}))
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
				checkRegs(t, p, "negotiated", s.status(line{energy: true, anDone: true, link: tc.link, mode: tc.mode}))
				partner := tc.partner
				if partner == 0 {
					partner = AdvAll
				}
				if got, want := p.ReadReg(RegANLPAR), partner|AdvSelector|AdvACK; got != want {
					t.Errorf("ANLPAR = %#04x, want %#04x", got, want)
				}
				if got, want := p.ReadReg(RegANER), s.aner|ANERLPANAble|ANERPageReceived; got != want {
					t.Errorf("ANER = %#04x, want %#04x (LP AN-able and page received)", got, want)
				}
				if got, want := p.ReadReg(RegANER), s.aner|ANERLPANAble; got != want {
					t.Errorf("ANER read again = %#04x, want %#04x: page received did not clear on read", got, want)
				}
			})
		}
	})
}

func TestPHY_ForcedMode(t *testing.T) {
	cases := []struct {
		name    string
		bmcr    uint16
		partner uint16
		mode    linkMode
		link    bool
	}{
		{"100FD", BMCRSpeed100 | BMCRDuplex, AdvAll, mode100FD, true},
		{"100HD", BMCRSpeed100, AdvAll, mode100HD, true},
		{"10FD", BMCRDuplex, AdvAll, mode10FD, true},
		{"10HD", 0, AdvAll, mode10HD, true},
		{"100 against a 10-only partner", BMCRSpeed100, Adv10HD | Adv10FD, mode100HD, false},
	}
	forEachModel(t, func(t *testing.T, s spec) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				p, _ := linked(t, s)
				p.SetPartner(tc.partner)
				p.WriteReg(RegBMCR, tc.bmcr)
				if p.Link() != tc.link {
					t.Fatalf("link %v, want %v", p.Link(), tc.link)
				}
				checkRegs(t, p, "forced (no AN done)", s.status(line{energy: true, link: tc.link, mode: tc.mode}))
				if v := p.ReadReg(RegBMSR); v&BMSRANComplete != 0 {
					t.Errorf("BMSR = %#04x: AN complete with AN off", v)
				}
				// The first read reported the renegotiation's drop.
				v := p.ReadReg(RegBMSR)
				if got := v&BMSRLink != 0; got != tc.link || v&BMSRANComplete != 0 {
					t.Errorf("BMSR read again = %#04x: link %v, want %v, and AN not complete", v, got, tc.link)
				}
			})
		}
	})
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
	cases := []struct {
		name  string
		steps []step
		blip  bool // then the interrupt register holds the spec's blipEvents
	}{
		{"steady link reads 1", []step{{nothing, []bool{true, true}}}, false},
		{"unplugged reads 0", []step{{unplug, []bool{false, false}}}, false},
		{"a drop read before the link returns", []step{
			{unplug, []bool{false}},
			{plug, []bool{false}},      // negotiating again
			{wait, []bool{true, true}}, // no failure since the last read
		}, false},
		{"a drop nobody read stays latched", []step{
			{unplug, nil},
			{plug, nil},
			{wait, []bool{false, true, true}}, // the first read reports the drop
		}, true},
		{"AN restart drops the link", []step{
			{func(p *PHY, _ *clock) { p.WriteReg(RegBMCR, BMCRANEnable|BMCRANRestart) }, []bool{false, false}},
			{wait, []bool{true}},
		}, false},
		{"partner renegotiation drops the link", []step{
			{func(p *PHY, c *clock) { p.SetPartner(Adv10FD); c.Advance(anTime) }, []bool{false, true}},
		}, false},
	}
	forEachModel(t, func(t *testing.T, s spec) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				p, c := linked(t, s)
				for i, st := range tc.steps {
					st.do(p, c)
					for j, want := range st.bmsr {
						if got := p.ReadReg(RegBMSR)&BMSRLink != 0; got != want {
							t.Fatalf("step %d, read %d: link bit %v, want %v", i, j, got, want)
						}
					}
				}
				if !tc.blip {
					return
				}
				if got := p.ReadReg(s.intReg); got != s.blipEvents {
					t.Fatalf("%s after the blip = %#04x, want %#04x (link down and the new negotiation's)", s.intName, got, s.blipEvents)
				}
			})
		}
	})
}

// A soft reset: RESET reads 1 for ResetTime, writes meanwhile are ignored,
// the registers return to their defaults (the part says which survive) and
// auto-negotiation starts again when the reset is over.
func TestPHY_Reset(t *testing.T) {
	forEachModel(t, func(t *testing.T, s spec) {
		p, c := linked(t, s)
		writes := append([]regWrite{
			{"ANAR", RegANAR, AdvSelector | Adv10HD | AdvPause, AdvSelector | Adv10HD | AdvPause},
		}, s.resetWrites...)
		for _, w := range writes {
			p.WriteReg(w.reg, w.write)
			if got := p.Peek(w.reg); got != w.want {
				t.Fatalf("%s (register %#02x) = %#04x after writing %#04x, want %#04x", w.name, w.reg, got, w.write, w.want)
			}
		}

		p.WriteReg(RegBMCR, BMCRReset)
		if p.Link() {
			t.Fatal("link still up during reset")
		}
		if v := p.ReadReg(RegBMCR); v&BMCRReset == 0 {
			t.Fatalf("BMCR = %#04x during reset, want RESET set", v)
		}
		p.WriteReg(RegANAR, AdvSelector|Adv10HD) // ignored: reset in progress
		for _, w := range s.resetWrites {
			p.WriteReg(w.reg, w.write) // ignored too
		}
		c.Advance(resetTime)
		checkRegs(t, p, "after reset", append([]regWant{
			{"BMCR", RegBMCR, 0x3100},
			{"ANAR", RegANAR, 0x01E1},
		}, s.afterReset...))
		if p.Resets() != 1 {
			t.Errorf("Resets() = %d, want 1", p.Resets())
		}
		negotiatesAgain(t, p, c, "the reset ended")
		checkRegs(t, p, "after the reset's negotiation", s.status(line{energy: true, anDone: true, link: true, mode: mode100FD}))
	})
}

func TestPHY_PowerDown(t *testing.T) {
	forEachModel(t, func(t *testing.T, s spec) {
		p, c := linked(t, s)
		p.WriteReg(RegBMCR, p.ReadReg(RegBMCR)|BMCRPowerDown)
		if p.Link() {
			t.Fatal("link up while powered down")
		}
		if v := p.ReadReg(RegBMCR); v&BMCRPowerDown == 0 {
			t.Fatalf("BMCR = %#04x, want PDOWN kept", v)
		}
		if got := p.ReadReg(s.intReg); got != s.linkDown {
			t.Fatalf("%s after power-down = %#04x, want %#04x (link down)", s.intName, got, s.linkDown)
		}
		checkRegs(t, p, "powered down (no link, no energy)", s.status(line{}))
		c.Advance(10 * anTime)
		if v := p.ReadReg(RegBMSR); v&(BMSRLink|BMSRANComplete) != 0 {
			t.Fatalf("BMSR = %#04x while powered down", v)
		}
		checkRegs(t, p, "still powered down (no link, no energy)", s.status(line{}))
		if v := p.ReadReg(RegPHYID1); v != s.id1 {
			t.Fatalf("MDIO stopped answering in power-down: PHYID1 = %#04x", v)
		}
		p.WriteReg(RegBMCR, p.ReadReg(RegBMCR)&^BMCRPowerDown)
		negotiatesAgain(t, p, c, "power-up")
	})
}

// The interrupt register latches the events whatever is enabled and clears
// on read (Peek leaves it); the enables only decide what asserts the
// interrupt output.
func TestPHY_Interrupts(t *testing.T) {
	forEachModel(t, func(t *testing.T, s spec) {
		p, c := newTest(t, s)
		c.Advance(anTime)
		if got := p.Peek(s.intReg); got != s.negEvents {
			t.Fatalf("%s after negotiation = %#04x, want %#04x", s.intName, got, s.negEvents)
		}
		if p.IRQ() {
			t.Fatalf("%s asserted with every source disabled", s.irqPin)
		}
		if got := p.ReadReg(s.intReg); got != s.negEvents {
			t.Fatalf("%s = %#04x: Peek cleared it", s.intName, got)
		}
		if got := p.ReadReg(s.intReg); got != 0 {
			t.Fatalf("%s read again = %#04x, want 0 (clear on read)", s.intName, got)
		}
		p.WriteReg(s.enableReg, s.enable)
		if got := p.ReadReg(s.enableReg); got != s.enabled {
			t.Fatalf("register %#02x = %#04x after writing %#04x, want %#04x (link down enabled)", s.enableReg, got, s.enable, s.enabled)
		}
		want := s.linkDown
		if s.enableReg == s.intReg {
			want |= s.enabled // the enables share the register
		}
		p.SetLink(false)
		if !p.IRQ() {
			t.Fatalf("%s not asserted after an enabled link-down", s.irqPin)
		}
		if got := p.ReadReg(s.intReg); got != want {
			t.Fatalf("%s after unplugging = %#04x, want %#04x (link down)", s.intName, got, want)
		}
		if p.IRQ() {
			t.Fatalf("%s still asserted after the %s read", s.irqPin, s.intName)
		}
		s.moreInterrupts(t, p, c)
	})
}

func TestPHY_Writes(t *testing.T) {
	forEachModel(t, func(t *testing.T, s spec) {
		for _, tc := range append([]regWrite{
			{"BMSR is read-only", RegBMSR, 0xFFFF, s.bmsr},
			{"PHYID1 is read-only", RegPHYID1, 0x1234, s.id1},
			{"PHYID2 is read-only", RegPHYID2, 0x1234, s.id2},
			{"ANLPAR is read-only", RegANLPAR, 0xFFFF, 0},
			{"ANER is read-only", RegANER, 0xFFFF, s.aner},
			{"ANAR: pause is writable", RegANAR, AdvAll | AdvPause, 0x05E1},
			{"BMCR: reserved bits read 0, ANRESTART self-clears", RegBMCR, 0x327F, 0x3000},
			{"BMCR: ESP-IDF's 0x3300 reads back without ANRESTART", RegBMCR, 0x3300, 0x3100},
			{"register 15 reads 0", 15, 0xFFFF, 0},
		}, s.writes...) {
			t.Run(tc.name, func(t *testing.T) {
				p, _ := newTest(t, s) // no link: status bits stay out of the way
				p.SetLink(false)
				p.WriteReg(tc.reg, tc.write)
				if got := p.Peek(tc.reg); got != tc.want {
					t.Fatalf("register %#02x after writing %#04x = %#04x, want %#04x", tc.reg, tc.write, got, tc.want)
				}
			})
		}
	})
}
