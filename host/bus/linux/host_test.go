package linux_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spitest"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/linux"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
	"github.com/nichost/nichost/host/native"
	"github.com/nichost/nichost/internal/testdriver"
	"github.com/nichost/nichost/internal/wait"
)

// These tests run the real-bus adapters under a host, with the test
// driver (natively: the bus path is the host's either way) making the
// host calls a driver makes, and periph's doubles or a unix socket where
// a board has the device.

// load starts the test driver with the given grants on a host offering
// sims as its simulated buses.
func load(t *testing.T, sims map[string]any, buses map[string]config.BusGrant) (*host.NIC, *host.Plugin, *hosttest.LogBuffer) {
	t.Helper()
	r := hosttest.NewRig(t, hosttest.RigConfig{
		Sims:   sims,
		Native: native.Exports(testdriver.New),
		Plugin: config.PluginConfig{Name: "drv", Buses: buses},
	})
	return r.NIC, r.Plugin, r.Log
}

// An SPI read of a W5500-like device through spi_transact: the bytes the
// driver writes are the ones the device expects, the ones it reads are
// the device's, and the playback saw every transfer.
func TestSPI_ThroughHost(t *testing.T) {
	port := &spitest.Playback{Playback: conntest.Playback{
		Ops: []conntest.IO{
			{W: []byte{0x00, 0x39, 0x01, 0x00}, R: []byte{0x00, 0x00, 0x00, 0x04}},
			{W: []byte{0x00, 0x01, 0x05, 0xc0, 0xa8}, R: make([]byte, 5)},
		},
		DontPanic: true,
	}}
	c, closer, err := linux.ConnectSPI(port, linux.SPIConfig{Device: "/dev/spidev0.0", SpeedHz: 20e6})
	if err != nil {
		t.Fatal(err)
	}
	nic, p, _ := load(t, map[string]any{"spi0": c}, map[string]config.BusGrant{"spi": {Kind: "spi", Sim: "spi0"}})
	ctx := hosttest.Context(t)
	got, err := nic.Call(ctx, "spi", []byte{0x00, 0x39, 0x01, 0x00})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.([]byte), []byte{0, 0, 0, 0x04}) {
		t.Fatalf("the driver read % x, want the version 0x04 last", got)
	}
	if _, err := nic.Call(ctx, "spi", []byte{0x00, 0x01, 0x05, 0xc0, 0xa8}); err != nil {
		t.Fatal(err)
	}
	if err := closer.Close(); err != nil {
		t.Fatalf("the playback: %v", err)
	}
	// The device is closed: the driver's next transfer fails with EIO
	// and the plugin keeps running.
	if _, err := nic.Call(ctx, "spi", []byte{1}); !errors.Is(err, abi.OSError(abi.EIO, "")) {
		t.Fatalf("spi after the device closed: %v, want OSError EIO", err)
	}
	if st := p.State(); !st.Up || st.Faults != 0 {
		t.Fatalf("state %+v after a failed transfer", st)
	}
}

// limitedDev is an SPI device behind spidev's 4096-byte transfer limit
// that answers each byte with its offset in the CS frame, and counts the
// transfers (ioctls) it was given.
type limitedDev struct {
	ioctls int
	inCS   bool
	offset int
}

func (d *limitedDev) String() string                                            { return "limited" }
func (d *limitedDev) LimitSpeed(physic.Frequency) error                         { return nil }
func (d *limitedDev) Connect(physic.Frequency, spi.Mode, int) (spi.Conn, error) { return d, nil }
func (d *limitedDev) Close() error                                              { return nil }
func (d *limitedDev) Duplex() conn.Duplex                                       { return conn.Full }
func (d *limitedDev) MaxTxSize() int                                            { return 4096 }
func (d *limitedDev) Tx(w, r []byte) error                                      { return d.TxPackets([]spi.Packet{{W: w, R: r}}) }
func (d *limitedDev) TxPackets(p []spi.Packet) error {
	n := 0
	for _, pk := range p {
		n += max(len(pk.W), len(pk.R))
	}
	if n > 4096 {
		return errors.New("message too long")
	}
	d.ioctls++
	for _, pk := range p {
		if !d.inCS {
			d.inCS, d.offset = true, 0
		}
		for i := range pk.R {
			pk.R[i] = byte(d.offset + i)
		}
		d.offset += max(len(pk.W), len(pk.R))
		d.inCS = pk.KeepCS
	}
	return nil
}

// A transaction larger than spidev takes at once works as one would: the
// conn cuts it where chip select is released, the read under the same CS
// as its header continues that frame.
func TestSPI_ThroughHostSplit(t *testing.T) {
	dev := &limitedDev{}
	c, _, err := linux.ConnectSPI(dev, linux.SPIConfig{Device: "/dev/spidev0.0"})
	if err != nil {
		t.Fatal(err)
	}
	nic, _, log := load(t, map[string]any{"spi0": c}, map[string]config.BusGrant{"spi": {Kind: "spi", Sim: "spi0"}})
	ctx := hosttest.Context(t)
	// spi_batch: [header, read of n under the same CS], then [tail].
	got, err := nic.Call(ctx, "spi_batch", []byte{0x00, 0x10, 0x00}, 3000, bytes.Repeat([]byte{0xee}, 2000))
	if err != nil {
		t.Fatal(err)
	}
	r := got.([]byte)
	if len(r) != 3000 || r[0] != 3 || r[1] != 4 {
		t.Fatalf("read %d bytes starting % x, want 3000 starting 03 04 (after the header, same CS frame)", len(r), r[:min(len(r), 2)])
	}
	if dev.ioctls != 2 {
		t.Fatalf("%d transfers, want 2 (5003 bytes, cut between the CS frames)", dev.ioctls)
	}
	// One CS frame over the limit cannot be cut: the driver gets EIO and
	// the host's log says what to change.
	if _, err := nic.Call(ctx, "spi", make([]byte, 5000)); !errors.Is(err, abi.OSError(abi.EIO, "")) {
		t.Fatalf("a 5000-byte frame: %v, want OSError EIO", err)
	}
	if !bytes.Contains([]byte(log.String()), []byte("spidev.bufsiz")) {
		t.Fatal("the host's log does not say how to raise spidev's limit")
	}
}

// An interrupt line through the adapter of a real chip's line: the
// driver's watch counts the edges periph's fake pin raises, its writes
// drive the line, and closing the plugin stops the watcher (a Halt that
// periph's fake pin alone would ignore).
func TestGPIO_ThroughHost(t *testing.T) {
	pin := &gpiotest.Pin{N: "GPIO25", Num: 25, EdgesChan: make(chan gpio.Level, 16)}
	released := make(chan struct{})
	line := linux.NewLinePin(pin, func() { close(released) })
	defer line.(io.Closer).Close()
	nic, _, _ := load(t, map[string]any{"pin0": line}, map[string]config.BusGrant{"pin": {Kind: "gpio", Sim: "pin0"}})
	ctx := hosttest.Context(t)
	if _, err := nic.Call(ctx, "gpio_watch", int64(abi.EdgeFalling)); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		pin.EdgesChan <- gpio.Low
	}
	total := int64(0)
	wait.For(t, "three edges counted for the driver", func() bool {
		n, err := nic.Call(ctx, "gpio_edges")
		if err != nil {
			t.Fatal(err)
		}
		total += n.(int64)
		return total >= 3
	})
	if total != 3 {
		t.Fatalf("%d edges, want 3", total)
	}
	if _, err := nic.Call(ctx, "gpio_write", true); err != nil {
		t.Fatal(err)
	}
	if got, err := nic.Call(ctx, "gpio_read"); err != nil || got != true {
		t.Fatalf("gpio_read after driving the line high = %v, %v", got, err)
	}
	if err := nic.Plugin().Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-released:
		t.Fatal("the host closed a line it does not own (a simulated bus)")
	default:
	}
}

// A serial link to qemu, ser2net or a PPP peer on a unix socket, granted
// in the configuration as the daemon does: bytes both ways, the peer
// leaving (EIO for the driver, no fault) and coming back.
func TestUART_UnixThroughHost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ttyS0.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	nic, p, _ := load(t, nil, map[string]config.BusGrant{
		"serial": {Kind: "uart", UART: &linux.UARTConfig{Unix: path, Baud: 115200}},
	})
	peer := acceptPeer(t, l)
	ctx := hosttest.Context(t)

	if n, err := nic.Call(ctx, "uart_write", []byte("ATD*99#\r")); err != nil || n != int64(8) {
		t.Fatalf("uart_write = %v, %v", n, err)
	}
	buf := make([]byte, 8)
	_ = peer.SetReadDeadline(time.Now().Add(wait.Limit))
	if _, err := io.ReadFull(peer, buf); err != nil || string(buf) != "ATD*99#\r" {
		t.Fatalf("peer read %q, %v", buf, err)
	}
	if _, err := peer.Write([]byte("CONNECT\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := readDriver(t, nic, 9); got != "CONNECT\r\n" {
		t.Fatalf("driver read %q", got)
	}

	// The peer exits: the driver's reads fail with EIO, the plugin runs on.
	_ = l.Close()
	_ = peer.Close()
	wait.For(t, "uart_read to fail after the hang-up", func() bool {
		_, err := nic.Call(ctx, "uart_read")
		return errors.Is(err, abi.OSError(abi.EIO, ""))
	})
	if _, err := nic.Call(ctx, "uart_write", []byte("+++")); !errors.Is(err, abi.OSError(abi.EIO, "")) {
		t.Fatalf("uart_write with no peer: %v, want OSError EIO", err)
	}
	if st := p.State(); !st.Up || st.Faults != 0 {
		t.Fatalf("state %+v after the peer left", st)
	}

	// It comes back at the same path: the UART reconnects by itself.
	l2, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	peer2 := acceptPeer(t, l2)
	wait.For(t, "uart_write to work after the reconnect", func() bool {
		_, err := nic.Call(ctx, "uart_write", []byte("AT\r"))
		return err == nil
	})
	buf = make([]byte, 3)
	_ = peer2.SetReadDeadline(time.Now().Add(wait.Limit))
	if _, err := io.ReadFull(peer2, buf); err != nil || string(buf) != "AT\r" {
		t.Fatalf("new peer read %q, %v", buf, err)
	}
}

func acceptPeer(t *testing.T, l net.Listener) net.Conn {
	t.Helper()
	_ = l.(*net.UnixListener).SetDeadline(time.Now().Add(wait.Limit))
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("the UART did not connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// readDriver calls uart_read until n bytes arrived.
func readDriver(t *testing.T, nic *host.NIC, n int) string {
	t.Helper()
	var got []byte
	wait.For(t, "bytes for the driver", func() bool {
		b, err := nic.Call(hosttest.Context(t), "uart_read")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b.([]byte)...)
		return len(got) >= n
	})
	return string(got)
}
