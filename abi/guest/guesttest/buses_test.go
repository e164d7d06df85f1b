package guesttest_test

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"periph.io/x/conn/v3/gpio"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest/guesttest"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/sim"
)

// chip is an SPI device that logs what it sees and answers every byte
// with its complement.
type chip struct{ log []string }

func (c *chip) Select()   { c.log = append(c.log, "select") }
func (c *chip) Deselect() { c.log = append(c.log, "deselect") }
func (c *chip) Transfer(w, r []byte) {
	c.log = append(c.log, fmt.Sprintf("% x", w))
	for i, b := range w {
		r[i] = ^b
	}
}

// phy is a PHY's register file.
type phy [32]uint16

func (p *phy) ReadReg(reg uint8) uint16     { return p[reg] }
func (p *phy) WriteReg(reg uint8, v uint16) { p[reg] = v }

// readOnly is an MDIO bus that refuses writes, like a board's own PHY
// granted without allow_write.
type readOnly struct{ bus.MDIO }

func (readOnly) WriteReg(uint8, uint8, uint16) error { return bus.ErrReadOnly }

// board grants every bus the test driver declares and keeps the device
// sides.
type board struct {
	chip  *chip
	pin   *sim.Pin
	modem *sim.UART
	wire  *sim.FramePort
	phy   *phy
	h     *guesttest.Host
	d     *ticker
}

func newBoard(t *testing.T, o guesttest.Options) *board {
	b := &board{chip: &chip{}, pin: sim.NewPin("pin", 7), phy: &phy{2: 0x0007, 3: 0xc0f1}, d: newTicker(0)}
	serial, modem := sim.NewUARTPair()
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	b.modem, b.wire = modem, seg.Attach("wire")
	mdio := sim.NewMDIO()
	mdio.Attach(1, b.phy)
	o.Buses = map[string]any{"spi": sim.NewSPI(b.chip), "pin": b.pin, "serial": serial, "port": seg.Attach("nic"), "mdio": mdio}
	b.h = guesttest.New(t, b.d, o)
	return b
}

// Every bus import checks its handle: one not granted, or one of another
// kind, is -EBADF and touches nothing.
func TestImports_BadHandles(t *testing.T) {
	b := newBoard(t, guesttest.Options{})
	imp := b.h.Imports()
	handle := func(name string) uint32 {
		h, ok := b.h.Handle(name)
		if !ok {
			t.Fatalf("bus %q has no handle", name)
		}
		return h
	}
	buf := make([]byte, 64)
	calls := []struct {
		name string
		bus  string // the kind of bus the call is for
		call func(h uint32) int32
	}{
		{"spi_transact", "spi", func(h uint32) int32 { return imp.SPITransact(h, []abi.SPIOp{{W: buf[:2]}}) }},
		{"gpio_read", "pin", imp.GPIORead},
		{"gpio_write", "pin", func(h uint32) int32 { return imp.GPIOWrite(h, 1) }},
		{"gpio_watch", "pin", func(h uint32) int32 { return imp.GPIOWatch(h, int32(abi.EdgeBoth)) }},
		{"gpio_edges", "pin", imp.GPIOEdges},
		{"uart_read", "serial", func(h uint32) int32 { return imp.UARTRead(h, buf) }},
		{"uart_write", "serial", func(h uint32) int32 { return imp.UARTWrite(h, buf[:3]) }},
		{"frame_read", "port", func(h uint32) int32 { return imp.FrameRead(h, buf) }},
		{"frame_write", "port", func(h uint32) int32 { return imp.FrameWrite(h, buf[:60]) }},
		{"mdio_read", "mdio", func(h uint32) int32 { return imp.MDIORead(h, 1, 2) }},
		{"mdio_write", "mdio", func(h uint32) int32 { return imp.MDIOWrite(h, 1, 0, 0x8000) }},
	}
	for _, c := range calls {
		other := "spi"
		if c.bus == "spi" {
			other = "mdio"
		}
		for _, h := range []uint32{0, 99, handle(other)} {
			if rc := c.call(h); rc != -abi.EBADF {
				t.Errorf("%s on handle %d = %d, want -EBADF", c.name, h, rc)
			}
		}
	}
	if len(b.chip.log) != 0 || b.phy[0] != 0 || b.modem.Buffered() != 0 {
		t.Errorf("a refused call reached a device: chip %v, BMCR %#x, %d bytes at the modem", b.chip.log, b.phy[0], b.modem.Buffered())
	}
}

// SPI records reach the device as chip-select frames; a read-only record
// clocks out zeros.
func TestHost_SPI(t *testing.T) {
	b := newBoard(t, guesttest.Options{})
	got, err := b.h.Call("spi", []byte{0x00, 0x39, 0x00, 0x00})
	if err != nil || !bytes.Equal(got.([]byte), []byte{0xff, 0xc6, 0xff, 0xff}) {
		t.Fatalf("spi() = % x, %v; want the chip's complement", got, err)
	}
	if _, err := b.h.Call("spi_batch", []byte{0x00, 0x39, 0x00}, 2, []byte{0x01}); err != nil {
		t.Fatal(err)
	}
	want := []string{"select", "00 39 00 00", "deselect", "select", "00 39 00", "00 00", "deselect", "select", "01", "deselect"}
	if !reflect.DeepEqual(b.chip.log, want) {
		t.Fatalf("the chip saw %q, want %q", b.chip.log, want)
	}
	h, _ := b.h.Handle("spi")
	imp := b.h.Imports()
	for _, tt := range []struct {
		name string
		ops  []abi.SPIOp
		want int32
	}{
		{"no records", nil, -abi.EINVAL},
		{"too many records", make([]abi.SPIOp, abi.SPIMaxOps+1), -abi.EINVAL},
		{"an empty record", []abi.SPIOp{{}}, -abi.EINVAL},
		{"unequal lengths", []abi.SPIOp{{W: make([]byte, 2), R: make([]byte, 3)}}, -abi.EINVAL},
		{"over 64 KiB", []abi.SPIOp{{R: make([]byte, abi.SPIMaxTransfer)}, {R: make([]byte, 1)}}, -abi.E2BIG},
	} {
		if rc := imp.SPITransact(h, tt.ops); rc != tt.want {
			t.Errorf("%s: spi_transact = %d, want %d", tt.name, rc, tt.want)
		}
	}
	if len(b.chip.log) != len(want) {
		t.Errorf("a refused transaction reached the chip: %q", b.chip.log[len(want):])
	}
}

// A watched line's edges wake the driver with EventGPIO and are counted.
func TestHost_GPIO(t *testing.T) {
	b := newBoard(t, guesttest.Options{})
	if _, err := b.h.Call("gpio_write", true); err != nil {
		t.Fatal(err)
	}
	if l, out := b.pin.Output(); !out || l != gpio.High {
		t.Fatalf("the pin drives %v (output %v), want high", l, out)
	}
	if _, err := b.h.Call("gpio_watch", int(abi.EdgeFalling)); err != nil {
		t.Fatal(err)
	}
	for _, l := range []gpio.Level{gpio.High, gpio.Low, gpio.High, gpio.Low} {
		b.pin.SetLevel(l)
	}
	if err := b.h.Advance(0); err != nil {
		t.Fatal(err)
	}
	if last := b.d.polls[len(b.d.polls)-1]; len(b.d.polls) != 2 || last.events != abi.EventGPIO {
		t.Fatalf("polls %v, want one for the edges", b.d.polls)
	}
	if n, err := b.h.Call("gpio_edges"); n != int64(2) || err != nil {
		t.Fatalf("gpio_edges() = %v, %v; want 2 falling edges", n, err)
	}
	if lvl, err := b.h.Call("gpio_read"); lvl != false || err != nil {
		t.Fatalf("gpio_read() = %v, %v; want low", lvl, err)
	}
	if err := b.h.Advance(0); err != nil || len(b.d.polls) != 2 {
		t.Fatalf("a poll without new edges (%v, %v)", b.d.polls, err)
	}
	h, _ := b.h.Handle("pin")
	if rc := b.h.Imports().GPIOWrite(h, 2); rc != -abi.EINVAL {
		t.Errorf("gpio_write(level 2) = %d, want -EINVAL", rc)
	}
	if rc := b.h.Imports().GPIOWatch(h, 4); rc != -abi.EINVAL {
		t.Errorf("gpio_watch(edge 4) = %d, want -EINVAL", rc)
	}
}

// Bytes cross the UART both ways; arriving bytes wake the driver.
func TestHost_UART(t *testing.T) {
	b := newBoard(t, guesttest.Options{})
	if n, err := b.h.Call("uart_write", []byte("ATD*99#\r")); n != int64(8) || err != nil {
		t.Fatalf("uart_write() = %v, %v", n, err)
	}
	got := make([]byte, 16)
	if n, _ := b.modem.Read(got); string(got[:n]) != "ATD*99#\r" {
		t.Fatalf("the modem read %q", got[:n])
	}
	b.modem.Write([]byte("CONNECT\r\n"))
	if err := b.h.Advance(0); err != nil {
		t.Fatal(err)
	}
	if last := b.d.polls[len(b.d.polls)-1]; last.events != abi.EventUART {
		t.Fatalf("polls %v, want one for the UART", b.d.polls)
	}
	if data, err := b.h.Call("uart_read"); err != nil || string(data.([]byte)) != "CONNECT\r\n" {
		t.Fatalf("uart_read() = %q, %v", data, err)
	}
}

// Frames cross the frame port both ways; with the bridge option the test
// driver's polls move arriving frames to the core.
func TestHost_FramePort(t *testing.T) {
	b := newBoard(t, guesttest.Options{Options: map[string]any{"bridge": true}})
	out := append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, make([]byte, 54)...)
	if err := b.h.Transmit(out); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1514)
	if n, err := b.wire.ReadFrame(buf); err != nil || !bytes.Equal(buf[:n], out) {
		t.Fatalf("the wire read %d bytes (%v), want the 60-byte frame", n, err)
	}
	in := bytes.Repeat([]byte{0x42}, 1514)
	if err := b.wire.WriteFrame(in); err != nil {
		t.Fatal(err)
	}
	if err := b.h.Advance(0); err != nil {
		t.Fatal(err)
	}
	if last := b.d.polls[len(b.d.polls)-1]; last.events != abi.EventFrame {
		t.Fatalf("polls %v, want one for the frame", b.d.polls)
	}
	if got := b.h.Frames(0); len(got) != 1 || !bytes.Equal(got[0], in) {
		t.Fatalf("the core got %d frames, want the one from the wire", len(got))
	}
	b.wire.WriteFrame(in)
	h, _ := b.h.Handle("port")
	if rc := b.h.Imports().FrameRead(h, make([]byte, 100)); rc != -abi.EMSGSIZE {
		t.Fatalf("frame_read of a 1514-byte frame into 100 bytes = %d, want -EMSGSIZE", rc)
	}
}

// MDIO reaches the PHY's registers, with the host's range checks.
func TestHost_MDIO(t *testing.T) {
	tests := []struct {
		name      string
		call      string
		args      []any
		want      any
		wantErrno int
	}{
		{"read PHYID2", "mdio_read", []any{1, 3}, int64(0xc0f1), 0},
		{"no PHY reads all ones", "mdio_read", []any{5, 2}, int64(0xffff), 0},
		{"write BMCR", "mdio_write", []any{1, 0, 0x1200}, nil, 0},
		{"PHY address 32", "mdio_read", []any{32, 0}, nil, abi.EINVAL},
		{"register 32", "mdio_write", []any{1, 32, 0}, nil, abi.EINVAL},
	}
	b := newBoard(t, guesttest.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := b.h.Call(tt.call, tt.args...)
			checkErrno(t, err, tt.wantErrno)
			if tt.wantErrno == 0 && got != tt.want {
				t.Errorf("%s%v = %v, want %v", tt.call, tt.args, got, tt.want)
			}
		})
	}
	if b.phy[0] != 0x1200 {
		t.Errorf("BMCR is %#x after the write, want 0x1200", b.phy[0])
	}
	ro := guesttest.New(t, newTicker(0), guesttest.Options{Buses: map[string]any{"mdio": readOnly{sim.NewMDIO()}}})
	_, err := ro.Call("mdio_write", 1, 0, 0x8000)
	checkErrno(t, err, abi.EPERM)
}
