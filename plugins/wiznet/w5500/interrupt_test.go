package w5500

import (
	"testing"

	"periph.io/x/conn/v3/gpio"
)

// raiseIR sets IR bits as the chip's TCP/IP core would; the model itself
// never raises them.
func raiseIR(c *Chip, bits byte) {
	c.mu.Lock()
	c.common[regIR] |= bits
	c.updateINT(false)
	c.mu.Unlock()
}

// INTn is low while (IR & IMR) != 0 or (SIR & SIMR) != 0; SIR follows the
// Sn_IR; clearing is write-1-to-clear; clearing while something else keeps
// INTn low gives a new falling edge.
func TestChip_INT(t *testing.T) {
	c, _ := newChip(t)
	pin := c.INT()
	if err := pin.In(gpio.PullUp, gpio.FallingEdge); err != nil {
		t.Fatal(err)
	}
	openMACRAW(t, c, macA, 0)
	for _, st := range []struct {
		name  string
		do    func()
		level gpio.Level
		edges int // falling edges since the previous step
		ir    byte
		sir   byte
	}{
		{"idle", func() {}, gpio.High, 0, 0, 0},
		{"frame in, SIMR=0", func() { inject(c, ethFrame(macA, macB, 0x0800, 60)) }, gpio.High, 0, 0, 0x01},
		{"SIMR=0x01", func() { wr(c, 0, regSIMR, 0x01) }, gpio.Low, 1, 0, 0x01},
		{"write 0 to S0_IR changes nothing", func() { wr(c, sreg(0), snIR, 0) }, gpio.Low, 0, 0, 0x01},
		{"SIR is read-only", func() {
			wr(c, 0, regSIR, 0x01)
			checkErrors(t, c, "read-only SIR")
		}, gpio.Low, 0, 0, 0x01},
		{"clear S0_IR.RECV", func() { wr(c, sreg(0), snIR, sirRecv) }, gpio.High, 0, 0, 0},
		{"SEND_OK and a frame", func() {
			sendFrame(t, c, ethFrame(bcast, macA, 0x0806, 60))
			inject(c, ethFrame(macA, macB, 0x0800, 60))
		}, gpio.Low, 1, 0, 0x01},
		{"clear SEND_OK only: re-asserted", func() { wr(c, sreg(0), snIR, sirSendOK) }, gpio.Low, 1, 0, 0x01},
		{"SIMR=0 releases", func() { wr(c, 0, regSIMR, 0) }, gpio.High, 0, 0, 0x01},
		{"IR.CONFLICT, IMR=0", func() { raiseIR(c, irConflict) }, gpio.High, 0, irConflict, 0x01},
		{"IMR enables CONFLICT", func() { wr(c, 0, regIMR, irConflict) }, gpio.Low, 1, irConflict, 0x01},
		{"write 1 to other IR bits", func() { wr(c, 0, regIR, irUnreach) }, gpio.Low, 0, irConflict, 0x01},
		{"clear IR.CONFLICT", func() { wr(c, 0, regIR, irConflict) }, gpio.High, 0, 0, 0x01},
		{"drain with SIMR set", func() {
			wr(c, 0, regSIMR, 0x01)
			recvFrame(t, c)
			wr(c, sreg(0), snIR, 0xFF)
		}, gpio.High, 1, 0, 0},
	} {
		st.do()
		if l := pin.Read(); l != st.level {
			t.Errorf("%s: INTn = %v, want %v", st.name, l, st.level)
		}
		edges := 0
		for pin.WaitForEdge(0) {
			edges++
		}
		if edges != st.edges {
			t.Errorf("%s: %d falling edges, want %d", st.name, edges, st.edges)
		}
		if ir := rd8(c, 0, regIR); ir != st.ir {
			t.Errorf("%s: IR = 0x%02X, want 0x%02X", st.name, ir, st.ir)
		}
		if sir := rd8(c, 0, regSIR); sir != st.sir {
			t.Errorf("%s: SIR = 0x%02X, want 0x%02X", st.name, sir, st.sir)
		}
	}
	checkErrors(t, c)
}
