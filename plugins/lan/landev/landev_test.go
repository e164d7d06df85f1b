package landev_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/plugins/lan/landev"
	"github.com/nichost/nichost/plugins/lan/phy"
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
