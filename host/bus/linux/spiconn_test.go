package linux

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spitest"

	"github.com/nichost/nichost/host/bus"
)

// settingsPort is periph's playback port, remembering what it was
// connected with and how often it was closed.
type settingsPort struct {
	spitest.Playback
	freq   physic.Frequency
	mode   spi.Mode
	bits   int
	closes int
}

func (p *settingsPort) Connect(f physic.Frequency, mode spi.Mode, bits int) (spi.Conn, error) {
	p.freq, p.mode, p.bits = f, mode, bits
	return p.Playback.Connect(f, mode, bits)
}

func (p *settingsPort) Close() error { p.closes++; return p.Playback.Close() }

func TestConnectSPI_Settings(t *testing.T) {
	tests := []struct {
		name string
		cfg  SPIConfig
		freq physic.Frequency
		mode spi.Mode
		bits int
	}{
		{"defaults", SPIConfig{Device: "/dev/spidev0.0"}, physic.MegaHertz, spi.Mode0, 8},
		{"W5500 at 20 MHz", SPIConfig{Device: "/dev/spidev0.0", SpeedHz: 20e6, Mode: 0}, 20 * physic.MegaHertz, spi.Mode0, 8},
		{"mode 3, 16-bit words", SPIConfig{Device: "/dev/spidev1.2", SpeedHz: 500e3, Mode: 3, Bits: 16}, 500 * physic.KiloHertz, spi.Mode3, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := &settingsPort{}
			c, err := connectSPI(port, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if port.freq != tt.freq || port.mode != tt.mode || port.bits != tt.bits {
				t.Fatalf("connected at %s, mode %d, %d bits; want %s, mode %d, %d bits", port.freq, port.mode, port.bits, tt.freq, tt.mode, tt.bits)
			}
			if err := c.Close(); err != nil || port.closes != 1 {
				t.Fatalf("Close = %v after %d port closes", err, port.closes)
			}
		})
	}
	// A port that refuses the settings is closed, and the error names the
	// device.
	port := &settingsPort{Playback: spitest.Playback{Initialized: true}}
	if _, err := connectSPI(port, SPIConfig{Device: "/dev/spidev0.1"}); err == nil || !strings.HasPrefix(err.Error(), "bus: spi: /dev/spidev0.1: ") || port.closes != 1 {
		t.Fatalf("connect refused: %v, %d closes; want an error naming the device and the port closed", err, port.closes)
	}
}

// Bytes go out and come back as the device clocks them, one CS frame per
// transfer, and a closed conn refuses work instead of touching the device.
func TestSPIConn_Playback(t *testing.T) {
	// A W5500 reading its version register (0x0039, common block): the
	// 3-byte header, then the answer 0x04 clocked in during a dummy byte.
	port := &settingsPort{Playback: spitest.Playback{Playback: conntest.Playback{
		Ops: []conntest.IO{
			{W: []byte{0x00, 0x39, 0x00, 0x00}, R: []byte{0x01, 0x02, 0x03, 0x04}},
			{W: []byte{0x00, 0x2e, 0x04, 0xaa}, R: make([]byte, 4)}, // one record from spi_transact
		},
		DontPanic: true,
	}}}
	c, err := connectSPI(port, SPIConfig{Device: "/dev/spidev0.0"})
	if err != nil {
		t.Fatal(err)
	}
	r := make([]byte, 4)
	if err := c.Tx([]byte{0x00, 0x39, 0x00, 0x00}, r); err != nil {
		t.Fatal(err)
	}
	if r[3] != 0x04 {
		t.Fatalf("read % x, want the version 0x04 in the last byte", r)
	}
	// The host sends every spi_transact as TxPackets; a single packet that
	// releases CS is the plain transfer it equals.
	if err := c.TxPackets([]spi.Packet{{W: []byte{0x00, 0x2e, 0x04, 0xaa}, R: make([]byte, 4)}}); err != nil {
		t.Fatal(err)
	}
	// A transfer the device does not expect is the device's error, named.
	if err := c.Tx([]byte{0xff}, nil); err == nil || !strings.HasPrefix(err.Error(), "bus: spi: /dev/spidev0.0: ") {
		t.Fatalf("an unexpected transfer: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v (the playback checks that every transfer happened)", err)
	}
	if err := c.Close(); err != nil || port.closes != 1 {
		t.Fatalf("second Close = %v, %d port closes; want nil and one", err, port.closes)
	}
	if err := c.Tx([]byte{1}, nil); !errors.Is(err, bus.ErrClosed) {
		t.Fatalf("Tx after Close: %v, want bus.ErrClosed", err)
	}
	if err := c.TxPackets([]spi.Packet{{W: []byte{1}}}); !errors.Is(err, bus.ErrClosed) {
		t.Fatalf("TxPackets after Close: %v, want bus.ErrClosed", err)
	}
}

// spidev is a double of a spidev conn: it takes one ioctl of at most
// limit bytes as the kernel does, keeps chip select asserted after an
// ioctl whose last packet has KeepCS (periph's convention), and records
// what a logic analyser on the bus would: the bytes of each CS frame. The
// device answers each byte with its offset in the CS frame.
type spidev struct {
	limit  int
	ioctls [][]spi.Packet
	frames [][]byte // written bytes per CS assertion
	inCS   bool
}

func (d *spidev) String() string                                            { return "spidev double" }
func (d *spidev) LimitSpeed(physic.Frequency) error                         { return nil }
func (d *spidev) Connect(physic.Frequency, spi.Mode, int) (spi.Conn, error) { return d, nil }
func (d *spidev) Close() error                                              { return nil }
func (d *spidev) Duplex() conn.Duplex                                       { return conn.Full }
func (d *spidev) MaxTxSize() int                                            { return d.limit }
func (d *spidev) Tx(w, r []byte) error                                      { return d.TxPackets([]spi.Packet{{W: w, R: r}}) }

func (d *spidev) TxPackets(p []spi.Packet) error {
	n := 0
	for _, pk := range p {
		n += max(len(pk.W), len(pk.R))
	}
	if n > d.limit {
		return errors.New("message too long") // EMSGSIZE from the kernel
	}
	d.ioctls = append(d.ioctls, slices.Clone(p))
	for _, pk := range p {
		if !d.inCS {
			d.frames, d.inCS = append(d.frames, nil), true
		}
		f := &d.frames[len(d.frames)-1]
		for j := range max(len(pk.W), len(pk.R)) {
			if j < len(pk.W) {
				*f = append(*f, pk.W[j])
			} else {
				*f = append(*f, 0)
			}
			if j < len(pk.R) {
				pk.R[j] = byte(len(*f) - 1)
			}
		}
		// A packet without KeepCS releases CS after it; with KeepCS, CS
		// stays asserted, after the message's end too.
		d.inCS = pk.KeepCS
	}
	return nil
}

func TestSPIConn_SplitsAtChipSelect(t *testing.T) {
	hdr := func(b byte) []byte { return []byte{0x00, b, 0x04} }
	data := func(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }
	tests := []struct {
		name    string
		packets []spi.Packet
		ioctls  []int // packets per ioctl
		err     string
	}{
		{"one frame under the limit", []spi.Packet{{W: hdr(1), KeepCS: true}, {W: data(1000, 1)}}, []int{2}, ""},
		{
			// Three W5500 frame writes in one batch (9 KiB): each CS frame
			// is a header and its data, and the batch is cut between them.
			"batch of three frames",
			[]spi.Packet{
				{W: hdr(1), KeepCS: true}, {W: data(1514, 1)},
				{W: hdr(2), KeepCS: true}, {W: data(1514, 2)},
				{W: hdr(3), KeepCS: true}, {W: data(1514, 3)},
			},
			[]int{4, 2}, "",
		},
		{
			"a read under CS, then a write",
			[]spi.Packet{{W: hdr(4), KeepCS: true}, {R: make([]byte, 3000)}, {W: data(2000, 5)}},
			[]int{2, 1}, "",
		},
		{
			"one frame over the limit",
			[]spi.Packet{{W: hdr(6), KeepCS: true}, {W: data(4094, 6)}},
			nil, "a chip-select frame of 4097 bytes is longer than the 4096 spidev takes in one transfer; raise it with the kernel parameter spidev.bufsiz",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dev := &spidev{limit: 4096}
			c, err := connectSPI(dev, SPIConfig{Device: "/dev/spidev0.0"})
			if err != nil {
				t.Fatal(err)
			}
			// What one unlimited transfer would put on the bus.
			var want [][]byte
			var cur []byte
			for _, pk := range tt.packets {
				cur = append(cur, pk.W...)
				if len(pk.W) == 0 {
					cur = append(cur, make([]byte, len(pk.R))...)
				}
				if !pk.KeepCS {
					want, cur = append(want, cur), nil
				}
			}
			err = c.TxPackets(tt.packets)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || len(dev.ioctls) != 0 {
					t.Fatalf("TxPackets = %v after %d ioctls; want %q and nothing sent", err, len(dev.ioctls), tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var sizes []int
			for _, io := range dev.ioctls {
				sizes = append(sizes, len(io))
			}
			if !slices.Equal(sizes, tt.ioctls) {
				t.Fatalf("ioctls of %v packets, want %v", sizes, tt.ioctls)
			}
			if len(dev.frames) != len(want) {
				t.Fatalf("the bus saw %d CS frames, want %d", len(dev.frames), len(want))
			}
			for i := range want {
				if !bytes.Equal(dev.frames[i], want[i]) {
					t.Fatalf("CS frame %d differs from one unsplit transfer's", i)
				}
			}
			if dev.inCS {
				t.Fatal("chip select left asserted after the transaction")
			}
			// A read under the same CS as its header continues the frame:
			// the device's answer counts on from the header.
			for _, pk := range tt.packets {
				if len(pk.R) > 0 && pk.R[0] != 3 {
					t.Fatalf("read starts with %d, want 3 (after the 3-byte header, in the same CS frame)", pk.R[0])
				}
			}
		})
	}
}
