package w5500

import "testing"

// A frame arriving between the two bytes of an S0_RX_RSR read tears the
// value; reading until two reads agree gives the right one.
func TestChip_TornCounterRead(t *testing.T) {
	for _, tc := range []struct {
		name   string
		first  int    // bytes of a frame already stored (0: none)
		second int    // bytes of the frame arriving mid-read
		torn   uint16 // what a single read returns
		want   uint16 // the settled value
	}{
		// 0x00F0 -> 0x00F0 + 0x3E = 0x012E: old high byte 0x00, new low 0x2E.
		{"carry into the high byte", 238, 60, 0x002E, 0x012E},
		// 0x01FE -> 0x01FE + 0x0104 = 0x0302: old high 0x01, new low 0x02.
		{"two carries", 508, 258, 0x0102, 0x0302},
		// 0 -> 0x3E: no carry, the single read is right by luck.
		{"no carry", 0, 60, 0x003E, 0x003E},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newChip(t)
			openMACRAW(t, c, macA, 0)
			if tc.first > 0 {
				inject(c, ethFrame(macA, macB, 0x0800, tc.first))
			}
			c.TearNextCounterRead()
			inject(c, ethFrame(macA, macB, 0x0800, tc.second)) // held back
			if got := rd16(c, sreg(0), snRXRSR); got != tc.torn {
				t.Errorf("single read = 0x%04X, want the torn 0x%04X", got, tc.torn)
			}
			if got := readCounter(c, sreg(0), snRXRSR); got != tc.want {
				t.Errorf("read until equal = 0x%04X, want 0x%04X", got, tc.want)
			}
			// The hook is disarmed: the next frame is stored at once.
			inject(c, ethFrame(macA, macB, 0x0800, 14))
			if got := rd16(c, sreg(0), snRXRSR); got != tc.want+16 {
				t.Errorf("after the hook: RSR 0x%04X, want 0x%04X", got, tc.want+16)
			}
			checkErrors(t, c)
		})
	}
}

// A driver that reads the counter twice until equal, through the receive
// path, sees every frame.
func TestChip_TornCounterDriverLoop(t *testing.T) {
	c, _ := newChip(t)
	openMACRAW(t, c, macA, 0)
	inject(c, ethFrame(macA, macB, 0x0800, 238))
	c.TearNextCounterRead()
	inject(c, ethFrame(macA, macB, 0x0800, 60))
	n := 0
	for recvFrame(t, c) != nil {
		n++
	}
	if n != 2 {
		t.Errorf("received %d frames, want 2", n)
	}
	checkErrors(t, c)
}
