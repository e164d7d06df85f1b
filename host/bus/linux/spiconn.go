package linux

import (
	"errors"
	"fmt"
	"sync"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"github.com/nichost/nichost/host/bus"
)

// connectSPI connects port (periph's spidev port, or a test double) with
// the config's speed, mode and word size, and wraps the conn. On failure
// the port is closed.
func connectSPI(port spi.PortCloser, cfg SPIConfig) (*spiConn, error) {
	speed := cfg.SpeedHz
	if speed == 0 {
		speed = 1e6
	}
	bits := cfg.Bits
	if bits == 0 {
		bits = 8
	}
	c, err := port.Connect(physic.Frequency(speed)*physic.Hertz, spi.Mode(cfg.Mode), bits)
	if err != nil {
		_ = port.Close()
		return nil, fmt.Errorf("bus: spi: %s: %w", cfg.Device, err)
	}
	s := &spiConn{conn: c, port: port, name: cfg.Device}
	if l, ok := c.(conn.Limits); ok {
		s.limit = l.MaxTxSize()
	}
	return s, nil
}

// spiConn is the spi.Conn of a spidev device, as OpenSPI returns it.
//
// The kernel takes one transaction (one ioctl) of at most its spidev
// bufsiz, 4096 bytes unless the module parameter raises it, while a
// plugin's spi_transact may carry 64 KiB. So a TxPackets longer than the
// limit is sent as several ioctls, cut where chip select is released
// anyway (after a packet without KeepCS): what the device sees, CS edges
// included, is the same as from one. A single CS frame longer than the
// limit cannot be cut without releasing CS in the middle (spidev's
// cs_change on a message's last transfer is only a hint), so it is refused
// with an error that says how to raise the limit.
//
// After Close every call returns bus.ErrClosed; Close waits for a
// transfer in flight.
type spiConn struct {
	name  string
	limit int // bytes per ioctl; 0: none known

	mu     sync.Mutex
	conn   spi.Conn
	port   spi.PortCloser
	closed bool
}

var _ spi.Conn = (*spiConn)(nil)

func (s *spiConn) String() string { return "spidev " + s.name }

// Duplex implements conn.Conn.
func (s *spiConn) Duplex() conn.Duplex { return s.conn.Duplex() }

// Tx implements conn.Conn: one CS-framed transfer.
func (s *spiConn) Tx(w, r []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("bus: spi: %s: %w", s.name, bus.ErrClosed)
	}
	if n := max(len(w), len(r)); s.limit > 0 && n > s.limit {
		return s.tooLong(n)
	}
	if err := s.conn.Tx(w, r); err != nil {
		return fmt.Errorf("bus: spi: %s: %w", s.name, err)
	}
	return nil
}

// TxPackets implements spi.Conn.
func (s *spiConn) TxPackets(p []spi.Packet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("bus: spi: %s: %w", s.name, bus.ErrClosed)
	}
	groups, err := splitPackets(p, s.limit)
	if err != nil {
		var frame frameTooLong
		if errors.As(err, &frame) {
			return s.tooLong(int(frame))
		}
		return fmt.Errorf("bus: spi: %s: %w", s.name, err)
	}
	for _, g := range groups {
		if err := s.tx(g); err != nil {
			return fmt.Errorf("bus: spi: %s: %w", s.name, err)
		}
	}
	return nil
}

// tx sends one run of packets. A run of one packet that releases chip
// select and uses the conn's word size is the plain Tx it is equal to
// (spidev builds the same one-transfer ioctl for both): the host's
// single-record spi_transact calls are the most common, and periph's
// record/playback doubles serve Tx only.
func (s *spiConn) tx(run []spi.Packet) error {
	if len(run) == 1 && !run[0].KeepCS && run[0].BitsPerWord == 0 {
		return s.conn.Tx(run[0].W, run[0].R)
	}
	return s.conn.TxPackets(run)
}

func (s *spiConn) tooLong(n int) error {
	return fmt.Errorf("bus: spi: %s: a chip-select frame of %d bytes is longer than the %d spidev takes in one transfer; raise it with the kernel parameter spidev.bufsiz", s.name, n, s.limit)
}

// Close releases the port; it is safe to call more than once.
func (s *spiConn) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.port.Close(); err != nil {
		return fmt.Errorf("bus: spi: %s: close: %w", s.name, err)
	}
	return nil
}

// frameTooLong is splitPackets' error for one CS frame of that many bytes
// beyond the limit.
type frameTooLong int

func (f frameTooLong) Error() string { return fmt.Sprintf("a chip-select frame of %d bytes", int(f)) }

// splitPackets cuts p into runs of at most limit bytes each (0: no
// limit), only after packets that release chip select (KeepCS false), and
// packing as many CS frames into each run as fit. A packet's length is
// the longer of W and R. The runs share p's packets; nothing is copied.
func splitPackets(p []spi.Packet, limit int) ([][]spi.Packet, error) {
	if len(p) == 0 {
		return nil, errors.New("no packets")
	}
	total := 0
	for _, pk := range p {
		total += max(len(pk.W), len(pk.R))
	}
	if limit <= 0 || total <= limit {
		return [][]spi.Packet{p}, nil
	}
	var runs [][]spi.Packet
	start, size := 0, 0 // the run being filled: p[start:end], size bytes
	for i := 0; i < len(p); {
		// The CS frame at i: up to and including the first packet that
		// releases chip select (or the last packet).
		end, frame := i, 0
		for ; end < len(p); end++ {
			frame += max(len(p[end].W), len(p[end].R))
			if !p[end].KeepCS {
				end++
				break
			}
		}
		if frame > limit {
			return nil, frameTooLong(frame)
		}
		if size+frame > limit {
			runs = append(runs, p[start:i])
			start, size = i, 0
		}
		size += frame
		i = end
	}
	return append(runs, p[start:]), nil
}
