//go:build !wasip1

package main_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/plugins/lan/landev"
	"github.com/nichost/nichost/plugins/lan/phy"
)

// kszRig is a rig with a simulated KSZ8081 at its default address, 0.
func kszRig(t *testing.T, rc rigConfig) *rig {
	t.Helper()
	rc.model, rc.phyAddr = phy.KSZ8081, landev.KSZ8081Addr
	return newRig(t, rc)
}

// Without options the driver finds the KSZ8081 by its identifier, brings
// it up and reads its registers.
func TestKSZ8081_AutoDetect(t *testing.T) {
	builds(t, func(t *testing.T, b build) {
		r := kszRig(t, rigConfig{native: b.native, source: b.source})
		ctx := ctxT(t)
		r.up(t)
		if v, err := r.nic.Config(ctx, "phy_type"); err != nil || v != "KSZ8081" {
			t.Fatalf("config('phy_type') = %v, %v; want KSZ8081 (found)", v, err)
		}
		if v, err := r.nic.Config(ctx, "phy_addr"); err != nil || v != int64(0) {
			t.Fatalf("config('phy_addr') = %v, %v; want 0", v, err)
		}
		if !strings.Contains(r.Log.String(), "link up, 100 Mb/s full duplex") {
			t.Errorf("log lacks the resolved mode")
		}
		checkRegs(t, r, []string{"bmcr", "bmsr", "phyid1", "phyid2", "anar", "anlpar", "aner", "annp", "lpnp",
			"drc", "afec1", "18", "19", "20", "rxerc", "omso", "omss", "exc", "25", "26", "icsr", "28", "linkmd", "phyc1", "phyc2"},
			[]regField{
				{"phyid1", 0xffff, 0x0022},
				{"phyid2", 0xfff0, 0x1560},
				{"bmsr", 0x0024, 0x0024}, // link and AN complete
				{"anar", 0xffff, 0x01e1},
				{"aner", 0x0005, 0x0005},  // next page able is bit 2; LP AN-able
				{"omss", 0xe002, 0x0002},  // PHYAD 0, RMII
				{"phyc1", 0x0117, 0x0116}, // link, energy, 100BASE-TX full duplex
				{"phyc2", 0xffff, 0x8100},
			})
	})
}

// Before the driver has found a PHY, config('phy_type') reads AUTO; an
// explicit phy_type reads back as given.
func TestKSZ8081_PHYTypeConfig(t *testing.T) {
	builds(t, func(t *testing.T, b build) {
		r := newRig(t, rigConfig{noPHY: true, native: b.native, source: b.source})
		if v, err := r.nic.Config(ctxT(t), "phy_type"); err != nil || v != "AUTO" {
			t.Fatalf("config('phy_type') on an empty bus = %v, %v; want AUTO", v, err)
		}
		r = kszRig(t, rigConfig{options: map[string]any{"phy_type": "ksz8081"}, native: b.native, source: b.source})
		r.up(t)
		if v, err := r.nic.Config(ctxT(t), "phy_type"); err != nil || v != "KSZ8081" {
			t.Fatalf("config('phy_type') = %v, %v; want KSZ8081", v, err)
		}
	})
}

// An explicit phy_type takes only its own part: the other is ENODEV,
// naming the address, the ID read, the part found and the one asked for.
func TestKSZ8081_WrongType(t *testing.T) {
	for _, tc := range []struct {
		name string
		rc   rigConfig
		msg  string
	}{
		{"LAN8720 asked, KSZ8081 found", rigConfig{model: phy.KSZ8081, phyAddr: 0, options: map[string]any{"phy_type": "LAN8720"}},
			"lan: the PHY at MDIO address 0 has ID 0022:1561, a KSZ8081, not a LAN8720 (0007:c0fX); check options.phy_type and options.phy_addr"},
		{"LAN8710A asked at address 0", rigConfig{model: phy.KSZ8081, phyAddr: 0, options: map[string]any{"phy_type": "lan8710a", "phy_addr": 0}},
			"has ID 0022:1561, a KSZ8081, not a LAN8710A (0007:c0fX)"},
		{"KSZ8081 asked, LAN8720 found", rigConfig{phyAddr: 1, options: map[string]any{"phy_type": "KSZ8081"}},
			"lan: the PHY at MDIO address 1 has ID 0007:c0f1, a LAN8720, not a KSZ8081 (0022:156X)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			builds(t, func(t *testing.T, b build) {
				rc := tc.rc
				rc.native, rc.source = b.native, b.source
				r := newRig(t, rc)
				err := r.nic.SetActive(ctxT(t), true)
				if !errors.Is(err, syscall.ENODEV) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("active(True) = %v, want OSError ENODEV saying %q", err, tc.msg)
				}
				if a, _ := r.nic.Active(ctxT(t)); a {
					t.Fatal("active() after a failed active(True)")
				}
				if r.phy.Resets() != 0 {
					t.Fatal("the driver reset a PHY of the wrong type")
				}
			})
		})
	}
}

// An unknown phy_type fails the load with a ValueError that lists the
// accepted values.
func TestKSZ8081_UnknownType(t *testing.T) {
	builds(t, func(t *testing.T, b build) {
		r := newHost(t, rigConfig{model: phy.KSZ8081, options: map[string]any{"phy_type": "KSZ8091"}, native: b.native, source: b.source})
		err := r.load(t)
		const msg = `options.phy_type: "KSZ8091" is not supported by this driver (supported: LAN8720, LAN8720A, LAN8710, LAN8710A, KSZ8081)`
		if !errors.Is(err, abi.ErrValue) || !strings.Contains(err.Error(), msg) {
			t.Fatalf("load = %v, want a ValueError saying %q", err, msg)
		}
	})
}

// recorder records the MDIO accesses that reach a PHY, as "r 0x1b" and
// "w 0x00=0x8000".
type recorder struct {
	dev sim.PHYRegisters
	mu  sync.Mutex
	log []string
}

func (r *recorder) ReadReg(reg uint8) uint16 {
	r.add(fmt.Sprintf("r %#02x", reg))
	return r.dev.ReadReg(reg)
}

func (r *recorder) WriteReg(reg uint8, v uint16) {
	r.add(fmt.Sprintf("w %#02x=%#04x", reg, v))
	r.dev.WriteReg(reg, v)
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.log = append(r.log, s)
	r.mu.Unlock()
}

func (r *recorder) accesses() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log)
}

// The KSZ8081's bring-up, which the C driver mirrors: no strap fix-up,
// BMCR = 0x8000, BMCR read until RESET clears, one read of the Interrupt
// Control/Status register, ANAR = 0x01E1, then BMCR = 0x1200 (0x1800 with
// low_power); the link's mode comes from PHY Control 1.
func TestKSZ8081_BringUpSequence(t *testing.T) {
	for _, lowPower := range []bool{false, true} {
		t.Run(fmt.Sprintf("low_power=%v", lowPower), func(t *testing.T) {
			builds(t, func(t *testing.T, b build) { bringUpSequence(t, b, lowPower) })
		})
	}
}

// bringUpSequence is one case of TestKSZ8081_BringUpSequence.
func bringUpSequence(t *testing.T, b build, lowPower bool) {
	rec := &recorder{}
	r := kszRig(t, rigConfig{native: b.native, source: b.source, wrap: func(d sim.PHYRegisters) sim.PHYRegisters { rec.dev = d; return rec }})
	ctx := ctxT(t)
	if lowPower {
		if err := r.nic.SetConfig(ctx, host.KW{"low_power": true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.nic.SetActive(ctx, true); err != nil {
		t.Fatal(err)
	}
	last := "w 0x00=0x1200"
	if lowPower {
		last = "w 0x00=0x1800"
	}
	eventually(t, "the configuration after reset", func() bool { return slices.Contains(rec.accesses(), last) })
	var seq []string
	for _, a := range rec.accesses() {
		if a == "r 0x02" || a == "r 0x03" || (a == "r 0x00" && len(seq) > 0 && seq[len(seq)-1] == "r 0x00") {
			continue // the ID reads, and repeated looks at BMCR
		}
		seq = append(seq, a)
		if a == last {
			break
		}
	}
	want := []string{"w 0x00=0x8000", "r 0x00", "r 0x1b", "w 0x04=0x01e1", last}
	if !slices.Equal(seq, want) {
		t.Fatalf("bring-up %v, want %v", seq, want)
	}
	if lowPower {
		return
	}
	r.waitLink(t, true)
	if !slices.Contains(rec.accesses(), "r 0x1e") || slices.Contains(rec.accesses(), "r 0x1f") {
		t.Fatalf("the link's mode was not read from PHY Control 1 alone: %v", rec.accesses())
	}
}

// Each resolved mode reaches the log through PHY Control 1.
func TestKSZ8081_Modes(t *testing.T) {
	for _, tc := range []struct {
		partner uint16
		log     string
	}{
		{phy.Adv100HD | phy.Adv10FD, "link up, 100 Mb/s half duplex"},
		{phy.Adv10HD | phy.Adv10FD, "link up, 10 Mb/s full duplex"},
		{phy.Adv10HD, "link up, 10 Mb/s half duplex"},
	} {
		t.Run(tc.log, func(t *testing.T) {
			builds(t, func(t *testing.T, b build) {
				r := kszRig(t, rigConfig{native: b.native, source: b.source})
				r.phy.SetPartner(tc.partner)
				r.up(t)
				if !strings.Contains(r.Log.String(), tc.log) {
					t.Fatalf("log lacks %q:\n%s", tc.log, r.Log)
				}
			})
		})
	}
}

// holdMode hides PHY Control 1's operation mode (000: still negotiating)
// while held, counting the reads it hid.
type holdMode struct {
	sim.PHYRegisters
	mu   sync.Mutex
	held bool
	hid  int
}

func (h *holdMode) ReadReg(reg uint8) uint16 {
	v := h.PHYRegisters.ReadReg(reg)
	h.mu.Lock()
	defer h.mu.Unlock()
	if reg == phy.RegKSZPHYC1 && h.held {
		h.hid++
		v &^= phy.KSZPHYC1OpMask
	}
	return v
}

func (h *holdMode) set(held bool) { h.mu.Lock(); h.held = held; h.mu.Unlock() }
func (h *holdMode) hidden() int   { h.mu.Lock(); defer h.mu.Unlock(); return h.hid }

// While PHY Control 1 says 000 although BMSR has the link, the driver keeps
// waiting and looks again at its next watch; the link goes up once the mode
// shows.
func TestKSZ8081_ModeNotResolvedYet(t *testing.T) {
	builds(t, modeNotResolvedYet)
}

func modeNotResolvedYet(t *testing.T, b build) {
	h := &holdMode{held: true}
	r := kszRig(t, rigConfig{native: b.native, source: b.source, wrap: func(d sim.PHYRegisters) sim.PHYRegisters { h.PHYRegisters = d; return h }})
	ctx := ctxT(t)
	if err := r.nic.SetActive(ctx, true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "three looks at PHY Control 1 showing 000", func() bool { return h.hidden() >= 3 })
	if c, _ := r.nic.IsConnected(ctx); c || slices.Contains(r.link.Ups(), true) {
		t.Fatalf("isconnected() %v, link reports %v while the mode reads 000; want neither", c, r.link.Ups())
	}
	h.set(false)
	r.waitLink(t, true)
}
