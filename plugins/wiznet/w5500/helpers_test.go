package w5500

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a fake clock the tests step by hand; the receive goroutine may
// read it too.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const relink = 10 * time.Millisecond

// newChip returns a strict chip on a fake clock, logging to the test.
func newChip(t *testing.T) (*Chip, *clock) {
	t.Helper()
	clk := &clock{t: time.Unix(1000, 0)}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	c := New(Options{Strict: true, Logger: log, Now: clk.Now, RelinkDelay: relink})
	t.Cleanup(c.Close)
	return c, clk
}

// Block select values of socket n.
func sreg(n int) byte { return byte(1 + 4*n) }
func stx(n int) byte  { return byte(2 + 4*n) }
func srx(n int) byte  { return byte(3 + 4*n) }

// control builds a control byte.
func control(bsb byte, write bool, om byte) byte {
	v := bsb<<3 | om
	if write {
		v |= 0x04
	}
	return v
}

// frameBytes runs one SPI frame (one CS assertion) and returns MISO.
func frameBytes(c *Chip, mosi []byte) []byte {
	miso := make([]byte, len(mosi))
	c.Select()
	c.Transfer(mosi, miso)
	c.Deselect()
	return miso
}

// rd reads n bytes at off in block bsb with one VDM frame.
func rd(c *Chip, bsb byte, off uint16, n int) []byte {
	mosi := append([]byte{byte(off >> 8), byte(off), control(bsb, false, 0)}, make([]byte, n)...)
	return frameBytes(c, mosi)[3:]
}

// wr writes data at off in block bsb with one VDM frame.
func wr(c *Chip, bsb byte, off uint16, data ...byte) {
	frameBytes(c, append([]byte{byte(off >> 8), byte(off), control(bsb, true, 0)}, data...))
}

func rd8(c *Chip, bsb byte, off uint16) byte { return rd(c, bsb, off, 1)[0] }

func rd16(c *Chip, bsb byte, off uint16) uint16 {
	b := rd(c, bsb, off, 2)
	return uint16(b[0])<<8 | uint16(b[1])
}

func wr16(c *Chip, bsb byte, off uint16, v uint16) { wr(c, bsb, off, byte(v>>8), byte(v)) }

// command writes Sn_CR and checks that it reads back 0.
func command(t testing.TB, c *Chip, n int, cmd byte) {
	t.Helper()
	wr(c, sreg(n), snCR, cmd)
	if v := rd8(c, sreg(n), snCR); v != 0 {
		t.Fatalf("S%d_CR = 0x%02X after command 0x%02X, want 0", n, v, cmd)
	}
}

var (
	macA  = []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x0A}
	macB  = []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x0B}
	bcast = []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
)

// openMACRAW sets SHAR to mac and opens socket 0 in MACRAW with mr's flags.
func openMACRAW(t testing.TB, c *Chip, mac []byte, flags byte) {
	t.Helper()
	wr(c, 0, regSHAR, mac...)
	wr(c, sreg(0), snMR, protoMACRAW|flags)
	command(t, c, 0, cmdOPEN)
	if sr := rd8(c, sreg(0), snSR); sr != srMACRAW {
		t.Fatalf("S0_SR = 0x%02X after OPEN, want 0x42", sr)
	}
}

// ethFrame builds a frame of n bytes (n >= 14) with a recognisable payload.
func ethFrame(dst, src []byte, etype uint16, n int) []byte {
	f := make([]byte, n)
	copy(f, dst)
	copy(f[6:], src)
	f[12], f[13] = byte(etype>>8), byte(etype)
	for i := 14; i < n; i++ {
		f[i] = byte(i * 7)
	}
	return f
}

// inject hands a frame to the chip as the receive goroutine would.
func inject(c *Chip, frame []byte) {
	c.mu.Lock()
	c.input(frame)
	c.mu.Unlock()
}

// readCounter reads a 16-bit counter until two reads agree, as the
// datasheet advises.
func readCounter(c *Chip, bsb byte, off uint16) uint16 {
	v := rd16(c, bsb, off)
	for {
		w := rd16(c, bsb, off)
		if w == v {
			return v
		}
		v = w
	}
}

// recvFrame receives one frame from socket 0 the way a driver does: RSR,
// RX_RD, the length header, the data, RX_RD += record, RECV. It returns nil
// when nothing is waiting.
func recvFrame(t testing.TB, c *Chip) []byte {
	t.Helper()
	rsr := readCounter(c, sreg(0), snRXRSR)
	if rsr == 0 {
		return nil
	}
	ptr := rd16(c, sreg(0), snRXRD)
	h := rd(c, srx(0), ptr, 2)
	n := int(h[0])<<8 | int(h[1])
	if n < 2+14 || n > int(rsr) {
		t.Fatalf("record length %d with RSR %d", n, rsr)
	}
	data := rd(c, srx(0), ptr+2, n-2)
	wr16(c, sreg(0), snRXRD, ptr+uint16(n))
	command(t, c, 0, cmdRECV)
	return data
}

// sendFrame transmits frame from socket 0 the way a driver does.
func sendFrame(t testing.TB, c *Chip, frame []byte) {
	t.Helper()
	if fsr := readCounter(c, sreg(0), snTXFSR); int(fsr) < len(frame) {
		t.Fatalf("S0_TX_FSR = %d, frame is %d bytes", fsr, len(frame))
	}
	ptr := rd16(c, sreg(0), snTXWR)
	wr(c, stx(0), ptr, frame...)
	wr16(c, sreg(0), snTXWR, ptr+uint16(len(frame)))
	command(t, c, 0, cmdSEND)
}

// checkErrors checks that the chip recorded exactly one error per substring
// in want, in order, and clears them.
func checkErrors(t testing.TB, c *Chip, want ...string) {
	t.Helper()
	errs := c.Errors()
	ok := len(errs) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.Contains(errs[i].Error(), want[i])
	}
	if !ok {
		t.Errorf("errors:\n%v\nwant %d containing %q", errs, len(want), want)
	}
	c.mu.Lock()
	c.errs = nil
	c.mu.Unlock()
}
