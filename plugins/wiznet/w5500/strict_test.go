package w5500

import (
	"bytes"
	"strings"
	"testing"
)

// Writes to read-only registers are ignored and are misuse, one error per
// register per SPI frame.
func TestChip_ReadOnlyWrites(t *testing.T) {
	for _, tc := range []struct {
		name string
		bsb  byte
		off  uint16
		data []byte
		err  string
	}{
		{"VERSIONR", 0, regVERSIONR, []byte{0x05}, "read-only VERSIONR (common 0x0039)"},
		{"SIR", 0, regSIR, []byte{0xFF}, "read-only SIR (common 0x0017)"},
		{"UIPR", 0, regUIPR, []byte{1, 2, 3, 4}, "read-only UIPR (common 0x0028)"},
		{"UPORTR", 0, regUPORTR, []byte{1, 2}, "read-only UPORTR (common 0x002C)"},
		{"S0_SR", sreg(0), snSR, []byte{srMACRAW}, "read-only S0_SR (socket 0 0x0003)"},
		{"S0_TX_FSR", sreg(0), snTXFSR, []byte{0, 0}, "read-only S0_TX_FSR (socket 0 0x0020)"},
		{"S3_TX_RD", sreg(3), snTXRD, []byte{0x12, 0x34}, "read-only S3_TX_RD (socket 3 0x0022)"},
		{"S0_RX_RSR", sreg(0), snRXRSR, []byte{0, 100}, "read-only S0_RX_RSR (socket 0 0x0026)"},
		{"S0_RX_WR low byte", sreg(0), snRXWR + 1, []byte{100}, "read-only S0_RX_WR (socket 0 0x002B)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newChip(t)
			before := rd(c, tc.bsb, tc.off, len(tc.data))
			wr(c, tc.bsb, tc.off, tc.data...)
			if after := rd(c, tc.bsb, tc.off, len(tc.data)); !bytes.Equal(after, before) {
				t.Errorf("read-only register changed: % X -> % X", before, after)
			}
			checkErrors(t, c, tc.err)
		})
	}
}

// Reserved addresses accept writes, ignore them (logged, not misuse) and
// read 0; so do MR's reserved bits.
func TestChip_ReservedWrites(t *testing.T) {
	for _, tc := range []struct {
		name string
		bsb  byte
		off  uint16
	}{
		{"common 0x002F", 0, 0x002F},
		{"common 0x0038", 0, 0x0038},
		{"common 0x003A", 0, 0x003A},
		{"common 0x8000", 0, 0x8000},
		{"socket 0 0x0014", sreg(0), 0x0014},
		{"socket 5 0x0017", sreg(5), 0x0017},
		{"socket 7 0x0030", sreg(7), 0x0030},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newChip(t)
			wr(c, tc.bsb, tc.off, 0xA5)
			if got := rd(c, tc.bsb, tc.off, 1); got[0] != 0 {
				t.Errorf("reads 0x%02X", got[0])
			}
			checkErrors(t, c)
		})
	}
	c, _ := newChip(t)
	wr(c, 0, regMR, 0x45|mrPB)
	if v := rd8(c, 0, regMR); v != mrPB {
		t.Errorf("MR = 0x%02X after writing reserved bits, want 0x%02X", v, mrPB)
	}
	checkErrors(t, c)
}

// Errors keeps the first 1000 and counts the rest.
func TestChip_ErrorsBounded(t *testing.T) {
	c, _ := newChip(t)
	for range maxErrors + 5 {
		wr(c, 0, regVERSIONR, 0)
	}
	errs := c.Errors()
	if len(errs) != maxErrors+1 || !strings.Contains(errs[maxErrors].Error(), "5 more errors") {
		t.Errorf("%d errors, last %v", len(errs), errs[len(errs)-1])
	}
}
