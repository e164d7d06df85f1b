package w5500

import (
	"bytes"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// resetValues are the registers drivers rely on after any reset.
var resetValues = []struct {
	name string
	bsb  byte
	off  uint16
	want []byte
}{
	{"MR", 0, regMR, []byte{0x00}},
	{"GAR..SIPR", 0, regGAR, make([]byte, 18)},
	{"INTLEVEL, IR, IMR, SIR, SIMR", 0, regINTLEVEL, []byte{0, 0, 0, 0, 0, 0}},
	{"RTR", 0, regRTR, []byte{0x07, 0xD0}},
	{"RCR, PTIMER", 0, regRCR, []byte{0x08, 0x28}},
	{"PMRU", 0, regPMRU, []byte{0xFF, 0xFF}},
	{"PHYCFGR with link", 0, regPHYCFGR, []byte{0xBF}},
	{"VERSIONR", 0, regVERSIONR, []byte{0x04}},
	{"S0_MR..S0_SR", sreg(0), snMR, []byte{0, 0, 0, 0}},
	{"S0_DHAR", sreg(0), snDHAR, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}},
	{"S0_TTL", sreg(0), snTTL, []byte{0x80}},
	{"S0 buffer sizes", sreg(0), snRXBUFSIZE, []byte{2, 2}},
	{"S0_TX_FSR..S0_RX_WR", sreg(0), snTXFSR, []byte{0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
	{"S0_IMR, S0_FRAG, S0_KPALVTR", sreg(0), snIMR, []byte{0xFF, 0x40, 0x00, 0x00}},
	{"S7 buffer sizes and TX_FSR", sreg(7), snRXBUFSIZE, []byte{2, 2, 0x08, 0x00}},
}

func checkResetValues(t *testing.T, c *Chip) {
	t.Helper()
	for _, rv := range resetValues {
		if got := rd(c, rv.bsb, rv.off, len(rv.want)); !bytes.Equal(got, rv.want) {
			t.Errorf("%s = % X, want % X", rv.name, got, rv.want)
		}
	}
}

func TestChip_ResetValues(t *testing.T) {
	c, _ := newChip(t)
	checkResetValues(t, c)
	checkErrors(t, c)
}

// dirty changes many registers away from their reset values.
func dirty(t *testing.T, c *Chip) {
	t.Helper()
	wr(c, 0, regMR, mrPB)
	wr(c, 0, regGAR, 10, 0, 0, 1, 255, 255, 255, 0, 2, 1, 2, 3, 4, 5, 10, 0, 0, 2)
	wr(c, 0, regIMR, 0xF0)
	wr(c, 0, regSIMR, 0x01)
	wr16(c, 0, regRTR, 1000)
	wr(c, 0, regPHYCFGR, 0xF8)
	wr(c, sreg(0), snRXBUFSIZE, 16, 16)
	for n := 1; n < 8; n++ {
		wr(c, sreg(n), snRXBUFSIZE, 0, 0)
	}
	openMACRAW(t, c, macA, mrMFEN)
	sendFrame(t, c, ethFrame(bcast, macA, 0x0800, 60))
	wr(c, sreg(0), snIMR, 0x1F)
}

func TestChip_SoftReset(t *testing.T) {
	c, _ := newChip(t)
	dirty(t, c)
	if v := rd8(c, sreg(0), snIR); v != sirSendOK {
		t.Fatalf("S0_IR = 0x%02X before the reset", v)
	}
	if c.INT().Read() != gpio.Low {
		t.Fatal("INTn not asserted before the reset")
	}
	wr(c, 0, regMR, mrRST)
	if v := rd8(c, 0, regMR); v != 0 {
		t.Errorf("MR = 0x%02X after MR.RST, want 0 (self-clearing)", v)
	}
	checkResetValues(t, c)
	if c.INT().Read() != gpio.High {
		t.Error("INTn still asserted after MR.RST")
	}
	checkErrors(t, c)
}

func TestChip_RSTn(t *testing.T) {
	c, clk := newChip(t)
	rst := c.RST()
	dirty(t, c)

	rst.Out(gpio.Low)
	if got := frameBytes(c, []byte{0x00, 0x39, control(0, false, 0), 0}); !bytes.Equal(got, []byte{0, 0, 0, 0}) {
		t.Errorf("MISO in reset = % X, want all 0x00", got)
	}
	wr(c, 0, regRTR, 0x12, 0x34) // lost
	checkErrors(t, c, "RSTn is held low", "RSTn is held low")

	clk.Advance(500 * time.Microsecond)
	rst.Out(gpio.High)
	clk.Advance(999 * time.Microsecond)
	if v := rd8(c, 0, regVERSIONR); v != 0 {
		t.Errorf("VERSIONR before PLL lock = 0x%02X, want 0x00", v)
	}
	checkErrors(t, c, "before the PLL locks")

	clk.Advance(time.Microsecond)
	// Reset values, but the PHY is still linking.
	if v := rd8(c, 0, regPHYCFGR); v != 0xB8 {
		t.Errorf("PHYCFGR 1 ms after reset = 0x%02X, want 0xB8 (no link yet)", v)
	}
	clk.Advance(relink - time.Millisecond)
	checkResetValues(t, c)
	checkErrors(t, c)
}

func TestChip_RSTnShortPulse(t *testing.T) {
	c, clk := newChip(t)
	c.RST().Out(gpio.Low)
	clk.Advance(499 * time.Microsecond)
	c.RST().Out(gpio.High)
	checkErrors(t, c, "shorter than the 500µs")
	clk.Advance(time.Millisecond)
	if v := rd8(c, 0, regVERSIONR); v != 0x04 {
		t.Errorf("VERSIONR = 0x%02X", v)
	}
}
