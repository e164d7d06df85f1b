package w5500

import (
	"bytes"
	"testing"

	"github.com/nichost/nichost/host/bus/sim"
	"periph.io/x/conn/v3/spi"
)

func TestChip_FrameDecoding(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(c *Chip)
		mosi  []byte
		miso  []byte
	}{
		{"VDM read VERSIONR", nil,
			[]byte{0x00, 0x39, control(0, false, 0), 0},
			[]byte{1, 2, 3, 0x04}},
		{"VDM read RTR, 2 bytes", nil,
			[]byte{0x00, 0x19, control(0, false, 0), 0, 0},
			[]byte{1, 2, 3, 0x07, 0xD0}},
		{"VDM burst over RTR, RCR, PTIMER", nil,
			[]byte{0x00, 0x19, control(0, false, 0), 0, 0, 0, 0},
			[]byte{1, 2, 3, 0x07, 0xD0, 0x08, 0x28}},
		{"FDM 1 byte", nil,
			[]byte{0x00, 0x39, control(0, false, 1), 0},
			[]byte{1, 2, 3, 0x04}},
		{"FDM 2 bytes", nil,
			[]byte{0x00, 0x19, control(0, false, 2), 0, 0},
			[]byte{1, 2, 3, 0x07, 0xD0}},
		{"FDM 4 bytes of socket 1", nil,
			[]byte{0x00, 0x1E, control(sreg(1), false, 3), 0, 0, 0, 0},
			[]byte{1, 2, 3, 0x02, 0x02, 0x08, 0x00}},
		{"VDM write returns 0x00 in the data phase", nil,
			[]byte{0x00, 0x01, control(0, true, 0), 192, 168, 1, 1},
			[]byte{1, 2, 3, 0, 0, 0, 0}},
		{"read back a VDM burst write across GAR, SUBR", func(c *Chip) {
			wr(c, 0, regGAR, 192, 168, 1, 1, 255, 255, 255, 0)
		}, []byte{0x00, 0x01, control(0, false, 0), 0, 0, 0, 0, 0, 0, 0, 0},
			[]byte{1, 2, 3, 192, 168, 1, 1, 255, 255, 255, 0}},
		{"FDM 4-byte write then read of SIPR", func(c *Chip) {
			frameBytes(c, []byte{0x00, byte(regSIPR), control(0, true, 3), 10, 0, 0, 2})
		}, []byte{0x00, byte(regSIPR), control(0, false, 3), 0, 0, 0, 0},
			[]byte{1, 2, 3, 10, 0, 0, 2}},
		{"socket 7 register block", nil,
			[]byte{0x00, 0x2C, control(sreg(7), false, 0), 0},
			[]byte{1, 2, 3, 0xFF}},
		{"read past the common block reads 0", nil,
			[]byte{0x00, 0x39, control(0, false, 0), 0, 0, 0},
			[]byte{1, 2, 3, 0x04, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newChip(t)
			if tc.setup != nil {
				tc.setup(c)
			}
			if got := frameBytes(c, tc.mosi); !bytes.Equal(got, tc.miso) {
				t.Errorf("MISO = % X, want % X", got, tc.miso)
			}
			checkErrors(t, c)
		})
	}
}

// A frame may be clocked in several Transfer calls within one CS assertion
// (KeepCS packets); the header may even be split.
func TestChip_FrameAcrossTransfers(t *testing.T) {
	c, _ := newChip(t)
	s := sim.NewSPI(c)
	r1, r2 := make([]byte, 2), make([]byte, 3)
	err := s.TxPackets([]spi.Packet{
		{W: []byte{0x00, 0x19}, R: r1, KeepCS: true},
		{W: []byte{control(0, false, 0), 0, 0}, R: r2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := append(r1, r2...); !bytes.Equal(got, []byte{1, 2, 3, 0x07, 0xD0}) {
		t.Errorf("MISO = % X", got)
	}
	if st := c.Stats(); st.Transactions != 1 || st.Bytes != 5 {
		t.Errorf("stats = %+v, want 1 transaction of 5 bytes", st)
	}
	checkErrors(t, c)
}

func TestChip_FrameMisuse(t *testing.T) {
	for _, tc := range []struct {
		name string
		mosi []byte
		miso []byte
		err  string
	}{
		{"FDM 1 byte with 2 data bytes", []byte{0x00, 0x39, control(0, false, 1), 0, 0},
			[]byte{1, 2, 3, 0x04, 0}, "1 bytes past the fixed length"},
		{"FDM 2 bytes with 4 data bytes", []byte{0x00, 0x19, control(0, false, 2), 0, 0, 0, 0},
			[]byte{1, 2, 3, 0x07, 0xD0, 0, 0}, "2 bytes past the fixed length"},
		{"FDM 4 bytes ended after 3", []byte{0x00, 0x19, control(0, false, 3), 0, 0, 0},
			[]byte{1, 2, 3, 0x07, 0xD0, 0x08}, "ended after 3 data bytes"},
		{"header only", []byte{0x00, 0x39, control(0, false, 0)},
			[]byte{1, 2, 3}, "without a data phase"},
		{"incomplete header", []byte{0x00, 0x39},
			[]byte{1, 2}, "ended inside the 3-byte header"},
		{"reserved block 4", []byte{0x00, 0x00, control(4, false, 0), 0, 0},
			[]byte{1, 2, 3, 0, 0}, "reserved block 0x04"},
		{"reserved block 0x1C written", []byte{0x00, 0x00, control(0x1C, true, 0), 0x55},
			[]byte{1, 2, 3, 0}, "reserved block 0x1C"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newChip(t)
			if got := frameBytes(c, tc.mosi); !bytes.Equal(got, tc.miso) {
				t.Errorf("MISO = % X, want % X", got, tc.miso)
			}
			checkErrors(t, c, tc.err)
		})
	}
}

// Lenient mode behaves the same but records nothing.
func TestChip_Lenient(t *testing.T) {
	c := New(Options{})
	defer c.Close()
	got := frameBytes(c, []byte{0x00, 0x39, control(0, false, 1), 0, 0})
	if !bytes.Equal(got, []byte{1, 2, 3, 4, 0}) {
		t.Errorf("MISO = % X", got)
	}
	wr(c, 0, regVERSIONR, 0x05)
	if v := rd8(c, 0, regVERSIONR); v != 0x04 {
		t.Errorf("VERSIONR = 0x%02X after a write", v)
	}
	if errs := c.Errors(); len(errs) != 0 {
		t.Errorf("lenient chip recorded %v", errs)
	}
}
