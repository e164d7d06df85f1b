package w5500

import (
	"bytes"
	"testing"

	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/sim"
)

// wire attaches the chip to a new segment and returns the peer's port.
func wire(t *testing.T, c *Chip) *sim.FramePort {
	t.Helper()
	seg := sim.NewSegment(sim.SegmentOptions{})
	c.Attach(seg.Attach("w5500"))
	peer := seg.Attach("peer")
	t.Cleanup(func() { peer.Close() })
	return peer
}

// nextFrame returns the next frame queued at port (nil if none).
func nextFrame(t *testing.T, port bus.FramePort) []byte {
	t.Helper()
	buf := make([]byte, 2048)
	n, err := port.ReadFrame(buf)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		return nil
	}
	return buf[:n]
}

func TestChip_OpenMACRAW(t *testing.T) {
	c, _ := newChip(t)
	openMACRAW(t, c, macA, mrMFEN)
	inject(c, ethFrame(macA, macB, 0x0800, 100))
	sendFrame(t, c, ethFrame(macB, macA, 0x0800, 100))
	wr16(c, sreg(0), snRXRD, 50)
	if rd16(c, sreg(0), snRXWR) == 0 || rd16(c, sreg(0), snTXRD) == 0 {
		t.Fatal("pointers did not move")
	}
	command(t, c, 0, cmdOPEN) // OPEN again zeroes the pointers
	if got := rd(c, sreg(0), snTXFSR, 12); !bytes.Equal(got, []byte{0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("S0_TX_FSR..S0_RX_WR after OPEN = % X, want FSR 0x0800 and zeroed pointers", got)
	}
	command(t, c, 0, cmdCLOSE)
	if sr := rd8(c, sreg(0), snSR); sr != srClosed {
		t.Errorf("S0_SR after CLOSE = 0x%02X", sr)
	}
	inject(c, ethFrame(macA, macB, 0x0800, 100))
	if rsr := rd16(c, sreg(0), snRXRSR); rsr != 0 {
		t.Errorf("closed socket received: RSR %d", rsr)
	}
	checkErrors(t, c)
}

// The RX buffer holds [length incl. itself, big-endian][frame]; pointers
// are free-running; a record crossing the end of the buffer (even its
// length header) wraps to the start, and a driver's single burst read over
// the end reads it back.
func TestChip_RXWrap(t *testing.T) {
	c, _ := newChip(t)
	openMACRAW(t, c, macA, 0)
	frames := [][]byte{
		ethFrame(macA, macB, 0x0800, 1000),  // record at 0x0000..0x03EA
		ethFrame(bcast, macB, 0x0806, 1043), // record at 0x03EA..0x07FF
		ethFrame(macA, macB, 0x86DD, 60),    // header split over the end
		ethFrame(macA, macB, 0x0800, 1514),  // record at 0x003D..
		ethFrame(macA, macB, 0x0800, 700),   // data crossing the end
		ethFrame(macB, macA, 0x0800, 14),    // the shortest frame
	}
	wantWR := uint16(0)
	for i, f := range frames {
		inject(c, f)
		if i == 0 {
			if h := rd(c, srx(0), 0, 2); !bytes.Equal(h, []byte{0x03, 0xEA}) {
				t.Errorf("first length header = % X, want 03 EA (1000 + 2)", h)
			}
		}
		wantWR += uint16(len(f) + 2)
		if wr := rd16(c, sreg(0), snRXWR); wr != wantWR {
			t.Errorf("frame %d: S0_RX_WR = 0x%04X, want 0x%04X", i, wr, wantWR)
		}
		got := recvFrame(t, c)
		if !bytes.Equal(got, f) {
			t.Fatalf("frame %d (%d bytes) read back as %d bytes, differing", i, len(f), len(got))
		}
		if rsr := rd16(c, sreg(0), snRXRSR); rsr != 0 {
			t.Errorf("frame %d: RSR = %d after RECV", i, rsr)
		}
	}
	if wantWR < 0x0800*2 {
		t.Fatalf("test did not wrap twice: RX_WR 0x%04X", wantWR)
	}
	if st := c.Stats(); st.FramesIn != uint64(len(frames)) || st.RxDropped != 0 {
		t.Errorf("stats %+v", st)
	}
	checkErrors(t, c)
}

// Frames that do not fit are dropped and counted; space freed by RECV
// takes the next one.
func TestChip_RXFull(t *testing.T) {
	c, _ := newChip(t)
	openMACRAW(t, c, macA, 0)
	f := ethFrame(macA, macB, 0x0800, 1000)
	inject(c, f)
	inject(c, f)
	inject(c, f)                                  // 3 x 1002 > 2048
	inject(c, ethFrame(macA, macB, 0x0800, 1600)) // over 1514
	if st := c.Stats(); st.FramesIn != 2 || st.RxDropped != 2 {
		t.Errorf("stats %+v, want 2 in and 2 dropped", st)
	}
	if rsr := rd16(c, sreg(0), snRXRSR); rsr != 2004 {
		t.Errorf("RSR = %d, want 2004", rsr)
	}
	recvFrame(t, c)
	inject(c, f)
	if st := c.Stats(); st.FramesIn != 3 {
		t.Errorf("stats %+v, want the frame after RECV stored", st)
	}
	checkErrors(t, c)
}

// SEND transmits [TX_RD, TX_WR) as one frame, also when it wraps around
// the end of the TX buffer, pads runts to 60 bytes, moves TX_RD and raises
// SEND_OK.
func TestChip_TX(t *testing.T) {
	c, _ := newChip(t)
	peer := wire(t, c)
	openMACRAW(t, c, macA, mrMFEN)
	for i, n := range []int{1000, 1000, 1000, 1514, 42, 14} {
		f := ethFrame(bcast, macA, 0x0800, n)
		start := rd16(c, sreg(0), snTXWR)
		sendFrame(t, c, f)
		want := f
		if n < 60 {
			want = append(bytes.Clone(f), make([]byte, 60-n)...)
		}
		if got := nextFrame(t, peer); !bytes.Equal(got, want) {
			t.Fatalf("frame %d (%d bytes from TX_WR 0x%04X): peer got %d bytes, differing", i, n, start, len(got))
		}
		end := start + uint16(n)
		if rdp, wrp := rd16(c, sreg(0), snTXRD), rd16(c, sreg(0), snTXWR); rdp != end || wrp != end {
			t.Errorf("frame %d: TX_RD 0x%04X TX_WR 0x%04X, want both 0x%04X", i, rdp, wrp, end)
		}
		if fsr := rd16(c, sreg(0), snTXFSR); fsr != 0x0800 {
			t.Errorf("frame %d: FSR = 0x%04X after SEND", i, fsr)
		}
		if ir := rd8(c, sreg(0), snIR); ir != sirSendOK {
			t.Errorf("frame %d: S0_IR = 0x%02X, want SEND_OK", i, ir)
		}
		wr(c, sreg(0), snIR, sirSendOK)
	}
	if st := c.Stats(); st.FramesOut != 6 {
		t.Errorf("stats %+v", st)
	}
	checkErrors(t, c)
}

// FSR counts the bytes between TX_RD and the TX_WR the host wrote.
func TestChip_TXFree(t *testing.T) {
	c, _ := newChip(t)
	openMACRAW(t, c, macA, 0)
	for _, tc := range []struct {
		wr  uint16
		fsr uint16
	}{{0, 0x800}, {100, 0x800 - 100}, {0x800, 0}, {0x900, 0}} {
		wr16(c, sreg(0), snTXWR, tc.wr)
		if fsr := rd16(c, sreg(0), snTXFSR); fsr != tc.fsr {
			t.Errorf("TX_WR 0x%04X: FSR 0x%04X, want 0x%04X", tc.wr, fsr, tc.fsr)
		}
	}
}

func TestChip_MACFilter(t *testing.T) {
	mcast4 := []byte{0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB}
	mcast6 := []byte{0x33, 0x33, 0x00, 0x00, 0x00, 0x01}
	for _, tc := range []struct {
		name  string
		flags byte
		dst   []byte
		etype uint16
		want  bool
	}{
		{"no filter: other unicast", 0, macB, 0x0800, true},
		{"no filter: broadcast", 0, bcast, 0x0806, true},
		{"MFEN: to SHAR", mrMFEN, macA, 0x0800, true},
		{"MFEN: other unicast", mrMFEN, macB, 0x0800, false},
		{"MFEN: broadcast", mrMFEN, bcast, 0x0806, true},
		{"MFEN: IPv4 multicast", mrMFEN, mcast4, 0x0800, true},
		{"MFEN: IPv6 multicast", mrMFEN, mcast6, 0x86DD, true},
		{"MFEN+BCASTB: broadcast", mrMFEN | mrBCASTB, bcast, 0x0806, false},
		{"MFEN+BCASTB: to SHAR", mrMFEN | mrBCASTB, macA, 0x0800, true},
		{"MFEN+MMB: multicast", mrMFEN | mrMMB, mcast4, 0x0800, false},
		{"MFEN+MMB: broadcast", mrMFEN | mrMMB, bcast, 0x0806, true},
		{"MFEN+MIP6B: IPv6 to SHAR", mrMFEN | mrMIP6B, macA, 0x86DD, false},
		{"MFEN+MIP6B: IPv6 multicast", mrMFEN | mrMIP6B, mcast6, 0x86DD, false},
		{"MFEN+MIP6B: IPv4 to SHAR", mrMFEN | mrMIP6B, macA, 0x0800, true},
		{"BCASTB without MFEN", mrBCASTB, bcast, 0x0806, false},
		{"MIP6B without MFEN", mrMIP6B, macB, 0x86DD, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newChip(t)
			openMACRAW(t, c, macA, tc.flags)
			f := ethFrame(tc.dst, macB, tc.etype, 80)
			inject(c, f)
			got := recvFrame(t, c)
			if (got != nil) != tc.want {
				t.Fatalf("received %v, want %v", got != nil, tc.want)
			}
			if tc.want && !bytes.Equal(got, f) {
				t.Error("frame differs")
			}
			checkErrors(t, c)
		})
	}
}

// RECV raises RECV again while data remains, so that a driver that clears
// Sn_IR before it drains never stalls.
func TestChip_RECVReraise(t *testing.T) {
	c, _ := newChip(t)
	openMACRAW(t, c, macA, 0)
	inject(c, ethFrame(macA, macB, 0x0800, 100))
	inject(c, ethFrame(macA, macB, 0x0800, 200))
	for i, want := range []byte{sirRecv, 0} {
		if ir := rd8(c, sreg(0), snIR); ir != sirRecv {
			t.Fatalf("step %d: S0_IR = 0x%02X before clearing", i, ir)
		}
		wr(c, sreg(0), snIR, sirRecv)
		if ir := rd8(c, sreg(0), snIR); ir != 0 {
			t.Fatalf("step %d: S0_IR = 0x%02X after write-1-to-clear", i, ir)
		}
		recvFrame(t, c)
		if ir := rd8(c, sreg(0), snIR); ir != want {
			t.Errorf("step %d: S0_IR = 0x%02X after RECV, want 0x%02X", i, ir, want)
		}
	}
	checkErrors(t, c)
}

// Sn_IR bits are set only when Sn_IMR enables them.
func TestChip_SocketIMR(t *testing.T) {
	c, _ := newChip(t)
	openMACRAW(t, c, macA, 0)
	wr(c, sreg(0), snIMR, sirSendOK)
	inject(c, ethFrame(macA, macB, 0x0800, 100))
	if ir := rd8(c, sreg(0), snIR); ir != 0 {
		t.Errorf("S0_IR = 0x%02X with RECV masked", ir)
	}
	if rsr := rd16(c, sreg(0), snRXRSR); rsr != 102 {
		t.Errorf("RSR = %d: the frame must still be stored", rsr)
	}
}

func TestChip_CommandMisuse(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sock   int
		mr     byte
		open   bool // open socket 0 in MACRAW first
		cmd    byte
		err    string
		status byte
	}{
		{"unknown command", 0, protoMACRAW, true, 0x55, "unknown command 0x55", srMACRAW},
		{"LISTEN in MACRAW", 0, protoMACRAW, true, cmdLISTEN, "not valid in MACRAW", srMACRAW},
		{"SEND_MAC in MACRAW", 0, protoMACRAW, true, cmdSENDMAC, "not valid in MACRAW", srMACRAW},
		{"CONNECT on a closed socket", 2, protoTCP, false, cmdCONNECT, "not simulated: nichost uses MACRAW", srClosed},
		{"SEND on a closed socket", 0, protoMACRAW, false, cmdSEND, "SEND on a socket in status 0x00", srClosed},
		{"RECV on a closed socket", 0, protoMACRAW, false, cmdRECV, "RECV on a socket in status 0x00", srClosed},
		{"OPEN TCP", 1, protoTCP, false, cmdOPEN, "S1_CR (socket 1 0x0001): OPEN with Sn_MR=0x01 (TCP/UDP); status stays CLOSED (not simulated: nichost uses MACRAW)", srClosed},
		{"OPEN UDP on socket 0", 0, protoUDP, false, cmdOPEN, "not simulated: nichost uses MACRAW", srClosed},
		{"OPEN MACRAW on socket 1", 1, protoMACRAW, false, cmdOPEN, "MACRAW is available on socket 0 only", srClosed},
		{"OPEN with no protocol", 0, protoClosed, false, cmdOPEN, "no protocol set", srClosed},
		{"OPEN IPRAW", 0, protoIPRAW, false, cmdOPEN, "protocol 0x3 does not exist", srClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newChip(t)
			if tc.open {
				openMACRAW(t, c, macA, 0)
			}
			wr(c, sreg(tc.sock), snMR, tc.mr)
			command(t, c, tc.sock, tc.cmd)
			if sr := rd8(c, sreg(tc.sock), snSR); sr != tc.status {
				t.Errorf("S%d_SR = 0x%02X, want 0x%02X", tc.sock, sr, tc.status)
			}
			checkErrors(t, c, tc.err)
		})
	}
}

func TestChip_SendMisuse(t *testing.T) {
	for _, tc := range []struct {
		name   string
		txWR   uint16
		err    string
		sendOK bool
	}{
		{"empty", 0, "a 0-byte frame", true},
		{"13 bytes", 13, "a 13-byte frame", true},
		{"1515 bytes", 1515, "a 1515-byte frame", true},
		{"more than the buffer", 0x0801, "exceeds the 2048-byte TX buffer", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newChip(t)
			peer := wire(t, c)
			openMACRAW(t, c, macA, 0)
			wr16(c, sreg(0), snTXWR, tc.txWR)
			command(t, c, 0, cmdSEND)
			checkErrors(t, c, tc.err)
			if f := nextFrame(t, peer); f != nil {
				t.Errorf("a %d-byte frame went out", len(f))
			}
			if got := rd8(c, sreg(0), snIR) == sirSendOK; got != tc.sendOK {
				t.Errorf("SEND_OK %v, want %v", got, tc.sendOK)
			}
		})
	}
}

func TestChip_RECVBeyondWR(t *testing.T) {
	c, _ := newChip(t)
	openMACRAW(t, c, macA, 0)
	inject(c, ethFrame(macA, macB, 0x0800, 100)) // RX_WR = 102
	wr16(c, sreg(0), snRXRD, 103)
	command(t, c, 0, cmdRECV)
	checkErrors(t, c, "Sn_RX_RD 0x0067 is beyond Sn_RX_WR 0x0066")
	if rsr := rd16(c, sreg(0), snRXRSR); rsr != 102 {
		t.Errorf("RSR = %d, want the bad RECV ignored", rsr)
	}
	wr16(c, sreg(0), snRXRD, 102)
	command(t, c, 0, cmdRECV)
	if rsr := rd16(c, sreg(0), snRXRSR); rsr != 0 {
		t.Errorf("RSR = %d after a good RECV", rsr)
	}
	checkErrors(t, c)
}

// A SEND is misuse until the host has seen the previous one complete: the
// model finishes a SEND at once, but a real chip is still sending, so a
// driver must look (Sn_IR.SEND_OK, Sn_TX_RD or Sn_TX_FSR) before the next.
func TestChip_SendBeforeCompletionSeen(t *testing.T) {
	f := ethFrame(bcast, macA, 0x88B5, 100)
	for _, tc := range []struct {
		name string
		look func(c *Chip)
		want []string
	}{
		{"no look", func(*Chip) {}, []string{"SEND while the previous SEND has not been seen to complete"}},
		{"Sn_TX_RD", func(c *Chip) { rd16(c, sreg(0), snTXRD) }, nil},
		{"Sn_TX_FSR", func(c *Chip) { rd16(c, sreg(0), snTXFSR) }, nil},
		{"Sn_IR with SEND_OK", func(c *Chip) { rd8(c, sreg(0), snIR) }, nil},
		{"Sn_IR with SEND_OK masked", func(c *Chip) { wr(c, sreg(0), snIMR, sirRecv); wr(c, sreg(0), snIR, 0x1F); rd8(c, sreg(0), snIR) },
			[]string{"SEND while the previous SEND has not been seen to complete"}},
		{"CLOSE and OPEN", func(c *Chip) { command(t, c, 0, cmdCLOSE); command(t, c, 0, cmdOPEN) }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newChip(t)
			openMACRAW(t, c, macA, 0)
			wr(c, stx(0), 0, f...)
			wr16(c, sreg(0), snTXWR, uint16(len(f)))
			command(t, c, 0, cmdSEND)
			tc.look(c)
			ptr := rd16(c, sreg(0), snTXWR)
			wr(c, stx(0), ptr, f...)
			wr16(c, sreg(0), snTXWR, ptr+uint16(len(f)))
			wr(c, sreg(0), snCR, cmdSEND)
			checkErrors(t, c, tc.want...)
			for _, err := range c.Errors() {
				t.Errorf("later: %v", err)
			}
		})
	}
	// The message names the datasheet rule.
	c, _ := newChip(t)
	openMACRAW(t, c, macA, 0)
	for range 2 {
		ptr := rd16(c, sreg(0), snTXWR)
		wr(c, stx(0), ptr, f...)
		wr16(c, sreg(0), snTXWR, ptr+uint16(len(f)))
		wr(c, sreg(0), snCR, cmdSEND)
	}
	checkErrors(t, c, "(datasheet §4.2, Sn_CR: a command is still being processed after Sn_CR reads 0; see SEND complete (Sn_IR.SEND_OK, or Sn_TX_RD = Sn_TX_WR) before the next SEND)")
}
