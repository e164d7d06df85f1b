package w5500

import (
	"bytes"
	"testing"
	"time"

	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/internal/wait"
	"periph.io/x/conn/v3/gpio"
)

// With the cable out, PHYCFGR.LNK is 0, frames are lost and SEND never
// completes: the socket stays stuck until it is opened again.
func TestChip_LinkDownUp(t *testing.T) {
	c, _ := newChip(t)
	peer := wire(t, c)
	openMACRAW(t, c, macA, 0)
	f := ethFrame(bcast, macA, 0x0800, 100)

	c.SetLink(false)
	if v := rd8(c, 0, regPHYCFGR); v != 0xB8 {
		t.Errorf("PHYCFGR with the cable out = 0x%02X, want 0xB8", v)
	}
	inject(c, ethFrame(macA, macB, 0x0800, 100))
	if rsr := rd16(c, sreg(0), snRXRSR); rsr != 0 {
		t.Errorf("RSR = %d: a frame came in with the link down", rsr)
	}
	sendFrame(t, c, f)
	if got := nextFrame(t, peer); got != nil {
		t.Error("a frame went out with the link down")
	}
	if ir := rd8(c, sreg(0), snIR); ir != 0 {
		t.Errorf("S0_IR = 0x%02X: SEND completed with the link down", ir)
	}
	if fsr, rdp := rd16(c, sreg(0), snTXFSR), rd16(c, sreg(0), snTXRD); fsr != 0x0800-100 || rdp != 0 {
		t.Errorf("FSR 0x%04X TX_RD 0x%04X, want the frame still pending", fsr, rdp)
	}

	c.SetLink(true)
	if v := rd8(c, 0, regPHYCFGR); v != 0xBF {
		t.Errorf("PHYCFGR with the cable in = 0x%02X, want 0xBF", v)
	}
	command(t, c, 0, cmdSEND)
	checkErrors(t, c, "previous SEND (issued with the link down) has not completed")
	command(t, c, 0, cmdOPEN)
	sendFrame(t, c, f)
	if got := nextFrame(t, peer); !bytes.Equal(got, f) {
		t.Error("no frame after the link came back and the socket was reopened")
	}
	inject(c, ethFrame(macA, macB, 0x0800, 100))
	if rsr := rd16(c, sreg(0), snRXRSR); rsr != 102 {
		t.Errorf("RSR = %d after the link came back", rsr)
	}
	checkErrors(t, c)
}

// Writing PHYCFGR.RST=0 holds the PHY in reset; RST=1 relinks after
// RelinkDelay in the mode OPMD/OPMDC select.
func TestChip_PHYReset(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode byte // PHYCFGR bits 6..3 written with the reset
		want byte // PHYCFGR after the relink
		err  string
	}{
		{"pins (all capable)", 0x38, 0xBF, ""},
		{"10BT half", 0x40, 0xC1, ""},
		{"10BT full", 0x48, 0xCD, ""},
		{"100BT half", 0x50, 0xD3, ""},
		{"100BT full", 0x58, 0xDF, ""},
		{"100BT half, AN", 0x60, 0xE3, ""},
		{"power down", 0x70, 0xF0, ""},
		{"all capable, AN", 0x78, 0xFF, ""},
		{"unused mode 101", 0x68, 0xEF, "OPMDC 101 is an unused mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, clk := newChip(t)
			wr(c, 0, regPHYCFGR, tc.mode) // RST=0
			if v := rd8(c, 0, regPHYCFGR); v != tc.mode {
				t.Errorf("PHYCFGR in PHY reset = 0x%02X, want 0x%02X", v, tc.mode)
			}
			clk.Advance(time.Second)
			if v := rd8(c, 0, regPHYCFGR); v&phyLNK != 0 {
				t.Errorf("PHYCFGR = 0x%02X: linked while held in reset", v)
			}
			wr(c, 0, regPHYCFGR, phyRST|tc.mode)
			clk.Advance(relink - time.Microsecond)
			if v := rd8(c, 0, regPHYCFGR); v&phyLNK != 0 {
				t.Errorf("PHYCFGR = 0x%02X: linked before RelinkDelay", v)
			}
			clk.Advance(time.Microsecond)
			if v := rd8(c, 0, regPHYCFGR); v != tc.want {
				t.Errorf("PHYCFGR after RelinkDelay = 0x%02X, want 0x%02X", v, tc.want)
			}
			if tc.err != "" {
				checkErrors(t, c, tc.err, tc.err)
			} else {
				checkErrors(t, c)
			}
		})
	}
}

// OPMD/OPMDC take effect at the next PHY reset only; MR.RST sets PHYCFGR
// back to 0xB8 and releases a PHY held in reset.
func TestChip_PHYModeLatch(t *testing.T) {
	c, clk := newChip(t)
	wr(c, 0, regPHYCFGR, 0xC0) // 10BT half, but no PHY reset
	if v := rd8(c, 0, regPHYCFGR); v != 0xC7 {
		t.Errorf("PHYCFGR = 0x%02X, want 0xC7 (mode stored, still 100 full)", v)
	}
	wr(c, 0, regPHYCFGR, 0x40)
	wr(c, 0, regMR, mrRST)
	if v := rd8(c, 0, regPHYCFGR); v != 0xB8 {
		t.Errorf("PHYCFGR right after MR.RST = 0x%02X, want 0xB8 (relinking)", v)
	}
	clk.Advance(relink)
	if v := rd8(c, 0, regPHYCFGR); v != 0xBF {
		t.Errorf("PHYCFGR after MR.RST and RelinkDelay = 0x%02X, want 0xBF", v)
	}
	checkErrors(t, c)
}

// wireFrames is how many frames the chip's receive goroutine has handled.
func wireFrames(c *Chip) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wireFrames
}

// waitFor polls cond until it holds (see package wait for the bound).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	wait.For(t, what, cond)
}

// Two chips on one segment, driven through simulated SPI buses, exchange
// frames; the receiver's INTn falls; frames sent while its cable is out
// are lost.
func TestChip_TwoChipsOnSegment(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{})
	a, _ := newChip(t)
	b, _ := newChip(t)
	a.Attach(seg.Attach("a"))
	b.Attach(seg.Attach("b"))
	spiA, spiB := sim.NewSPI(a), sim.NewSPI(b)
	openMACRAW(t, a, macA, mrMFEN)
	openMACRAW(t, b, macB, mrMFEN)
	wr(b, 0, regSIMR, 0x01)
	if err := b.INT().In(gpio.PullUp, gpio.FallingEdge); err != nil {
		t.Fatal(err)
	}

	b.SetLink(false)
	lost := ethFrame(macB, macA, 0x0800, 300)
	sendFrame(t, a, lost)
	waitFor(t, "b to take the frame off the wire", func() bool { return wireFrames(b) == 1 })
	b.SetLink(true)
	f := ethFrame(macB, macA, 0x0800, 200)
	sendFrame(t, a, f)
	if !b.INT().WaitForEdge(2 * time.Second) {
		t.Fatal("no falling edge on b's INTn")
	}
	waitFor(t, "b to receive", func() bool { return b.Stats().FramesIn == 1 })
	if got := recvFrame(t, b); !bytes.Equal(got, f) {
		t.Errorf("b received %d bytes, want the second frame", len(got))
	}
	if got := recvFrame(t, b); got != nil {
		t.Errorf("b received another %d-byte frame", len(got))
	}

	// And back, reading through the SimSPI.
	back := ethFrame(macA, macB, 0x0806, 60)
	sendFrame(t, b, back)
	waitFor(t, "a to receive", func() bool { return a.Stats().FramesIn == 1 })
	r := make([]byte, 5)
	if err := spiA.Tx([]byte{0x00, snRXRSR, control(sreg(0), false, 0), 0, 0}, r); err != nil {
		t.Fatal(err)
	}
	if rsr := int(r[3])<<8 | int(r[4]); rsr != 62 {
		t.Errorf("a's RSR = %d, want 62", rsr)
	}
	if got := recvFrame(t, a); !bytes.Equal(got, back) {
		t.Error("a received a different frame")
	}
	if st := spiB.Stats(); st.Transactions != 0 {
		t.Errorf("spiB used: %+v", st)
	}
	if st := a.Stats(); st.FramesOut != 2 || st.FramesIn != 1 {
		t.Errorf("a stats %+v", st)
	}
	checkErrors(t, a)
	checkErrors(t, b)
}

// Attach(nil) and Close stop the receive goroutine; frames are not
// received afterwards.
func TestChip_Detach(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{})
	c, _ := newChip(t)
	port := seg.Attach("chip")
	c.Attach(port)
	peer := seg.Attach("peer")
	openMACRAW(t, c, macA, 0)
	c.Close()
	c.Close()
	if err := peer.WriteFrame(ethFrame(macA, macB, 0x0800, 60)); err != nil {
		t.Fatal(err)
	}
	// A closed chip has let go of its port: nothing reads the frame.
	if n := port.Queued(); n != 1 {
		t.Errorf("port queue %d, want the frame left unread", n)
	}
	c.Attach(port) // takes what is queued
	waitFor(t, "the queued frame", func() bool { return c.Stats().FramesIn == 1 })
}
