//go:build !wasip1

package phy_test

import (
	"testing"

	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/plugins/lan/phy"
)

var _ sim.PHYRegisters = (*phy.PHY)(nil)

func TestPHY_OnSimMDIO(t *testing.T) {
	m := sim.NewMDIO()
	m.Attach(1, phy.New(phy.Options{Addr: 1}))
	for _, tc := range []struct {
		addr, reg uint8
		want      uint16
	}{
		{1, phy.RegPHYID1, 0x0007},
		{1, phy.RegPHYID2, 0xC0F1},
		{0, phy.RegPHYID1, 0xFFFF}, // nobody at address 0
	} {
		got, err := m.ReadReg(tc.addr, tc.reg)
		if err != nil || got != tc.want {
			t.Errorf("ReadReg(%d, %d) = %#04x, %v; want %#04x", tc.addr, tc.reg, got, err, tc.want)
		}
	}
}
