package landev_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/plugins/lan/landev"
	"github.com/nichost/nichost/plugins/lan/phy"
	"github.com/nichost/nichost/simnet"
)

// The Watcher records the MDIO writes the PHY model ignores silently, each
// naming the IEEE 802.3 rule, and passes every access through.
func TestWatcher_WriteMisuse(t *testing.T) {
	now := time.Unix(1000, 0)
	p := phy.New(phy.Options{Now: func() time.Time { return now }})
	w := landev.Watch(p)
	w.WriteReg(phy.RegANAR, 0x01E1) // fine
	w.WriteReg(phy.RegBMSR, 0)      // read-only
	w.WriteReg(phy.RegBMCR, phy.BMCRReset)
	if w.ReadReg(phy.RegBMCR)&phy.BMCRReset == 0 {
		t.Fatal("the soft reset did not reach the PHY")
	}
	w.WriteReg(phy.RegANAR, 0x0061) // during the reset: lost
	now = now.Add(phy.DefaultResetTime)
	w.WriteReg(phy.RegANAR, 0x0061) // after it: fine
	errs := w.Errors()
	want := []string{"read-only register 1 ignored (IEEE 802.3 §22.2.4", "while a soft reset is in progress (BMCR.RESET reads 1): ignored (IEEE 802.3 §22.2.4.1.1"}
	if len(errs) != len(want) {
		t.Fatalf("errors %v, want %d", errs, len(want))
	}
	for i, e := range errs {
		if !strings.Contains(e.Error(), want[i]) {
			t.Errorf("error %d = %v, want it to contain %q", i, e, want[i])
		}
	}
}

// A KSZ8081's Watcher prefixes its messages with the part, and also
// records writes to the registers only the KSZ8081 makes read-only.
func TestWatcher_KSZ8081(t *testing.T) {
	now := time.Unix(1000, 0)
	p := phy.New(phy.Options{Model: phy.KSZ8081, Now: func() time.Time { return now }})
	w := landev.Watch(p)
	w.WriteReg(phy.RegKSZICSR, 0x0500)  // fine: the enables
	w.WriteReg(phy.RegKSZPHYC2, 0x8180) // fine
	if got := p.Peek(phy.RegKSZPHYC2); got != 0x8180 {
		t.Errorf("PHY Control 2 = %#04x: the write did not reach the PHY", got)
	}
	w.WriteReg(phy.RegLPNP, 0)
	w.WriteReg(phy.RegKSZRXERC, 0)
	w.WriteReg(phy.RegKSZOMSS, 0)
	w.WriteReg(phy.RegBMCR, phy.BMCRReset)
	w.WriteReg(phy.RegANAR, 0x01E1)
	want := []string{
		"ksz8081: write of 0x0000 to read-only register 8 ignored (IEEE 802.3 §22.2.4 and §28.2.4.1",
		"ksz8081: write of 0x0000 to read-only register 21 ignored (KSZ8081RNA datasheet",
		"ksz8081: write of 0x0000 to read-only register 23 ignored (KSZ8081RNA datasheet",
		"ksz8081: write of 0x01e1 to register 4 while a soft reset is in progress",
	}
	errs := w.Errors()
	if len(errs) != len(want) {
		t.Fatalf("errors %v, want %d", errs, len(want))
	}
	for i, e := range errs {
		if !strings.HasPrefix(e.Error(), want[i]) {
			t.Errorf("error %d = %v, want it to start with %q", i, e, want[i])
		}
	}
}

// The devices put their PHYs where the parts' default straps do: a
// KSZ8081 at 0, a LAN8720A at 1; each device's MDIO bus answers there and
// nowhere else.
func TestNewDevices_Addresses(t *testing.T) {
	lan, err := simnet.NewRouter(simnet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lan.Close()
	for _, tc := range []struct {
		name string
		dev  *simnet.Device
		addr uint8
		id1  uint16
	}{
		{"lan8720", landev.New(lan, "a", 0), landev.LAN8720Addr, phy.PHYID1},
		{"ksz8081", landev.NewKSZ8081(lan, "b", 0), landev.KSZ8081Addr, phy.KSZ8081PHYID1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer tc.dev.Close()
			m := tc.dev.Sims[tc.dev.Buses["mdio"].Sim].(*sim.MDIO)
			for a := uint8(0); a < 32; a++ {
				v, err := m.ReadReg(a, phy.RegPHYID1)
				want := uint16(0xFFFF)
				if a == tc.addr {
					want = tc.id1
				}
				if err != nil || v != want {
					t.Fatalf("PHYID1 at address %d = %#04x, %v; want %#04x", a, v, err, want)
				}
			}
		})
	}
}
