package sim

import (
	"errors"
	"fmt"
	"sync"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/spi"
)

// SPIDevice is the device side of a simulated SPI slave: a register-level
// chip simulator implements it and plugs it into NewSPI.
//
// A SPI calls the methods one at a time (never concurrently) and never
// while another SPI call is running, so an implementation needs no lock
// of its own for SPI traffic. The methods must not call back into the SPI.
type SPIDevice interface {
	// Select is called when CS is asserted: a transaction starts.
	Select()
	// Deselect is called when CS is released: the transaction ends.
	Deselect()
	// Transfer runs len(w) full-duplex bytes while CS is asserted: the device
	// reads the bytes the master shifts out from w and writes the bytes it
	// shifts back into r. w and r always have the same length; a nil W from
	// the driver reaches the device as zeros, and bytes of r the device leaves
	// alone read as 0xFF (an undriven MISO line with its pull-up). The device
	// must not retain w or r after returning.
	Transfer(w, r []byte)
}

// SPIStats counts the traffic on a SPI.
type SPIStats struct {
	Transactions uint64 // CS assertions
	Bytes        uint64 // full-duplex bytes clocked
}

// SPI is a simulated SPI connection to an SPIDevice. It implements
// spi.Conn with full-duplex, 8-bit words and honours KeepCS as described on
// SPI. It is safe for concurrent use; calls are serialised.
type SPI struct {
	dev  SPIDevice
	name string

	mu       sync.Mutex
	selected bool
	stats    SPIStats
	scratchW []byte
	scratchR []byte
}

var (
	_ spi.Conn    = (*SPI)(nil)
	_ conn.Limits = (*SPI)(nil)
)

// NewSPI returns a SPI driving dev.
func NewSPI(dev SPIDevice) *SPI {
	return &SPI{dev: dev, name: "sim.SPI"}
}

// String implements conn.Conn.
func (s *SPI) String() string { return s.name }

// Duplex implements conn.Conn: always conn.Full.
func (s *SPI) Duplex() conn.Duplex { return conn.Full }

// MaxTxSize implements conn.Limits: 0, no limit.
func (s *SPI) MaxTxSize() int { return 0 }

// Tx runs one CS-framed transfer: it is TxPackets with the single packet
// {W: w, R: r}. If CS was left asserted by a previous KeepCS packet, the
// transfer continues that transaction and ends it.
func (s *SPI) Tx(w, r []byte) error {
	return s.TxPackets([]spi.Packet{{W: w, R: r}})
}

// TxPackets implements spi.Conn. It checks every packet before any CS
// activity, so an invalid call leaves the device untouched.
func (s *SPI) TxPackets(p []spi.Packet) error {
	if err := checkPackets(p); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range p {
		if !s.selected {
			s.selected = true
			s.stats.Transactions++
			s.dev.Select()
		}
		s.transfer(p[i].W, p[i].R)
		if !p[i].KeepCS {
			s.selected = false
			s.dev.Deselect()
		}
	}
	return nil
}

// Stats returns the traffic counted so far.
func (s *SPI) Stats() SPIStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Selected reports whether CS is currently asserted, i.e. whether the last
// packet sent had KeepCS set.
func (s *SPI) Selected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.selected
}

// transfer clocks one packet through the device. The device always sees two
// buffers of the same length, independent of the caller's slices, so a w and
// r that alias each other are safe.
func (s *SPI) transfer(w, r []byte) {
	n := max(len(w), len(r))
	if cap(s.scratchW) < n {
		s.scratchW = make([]byte, n)
		s.scratchR = make([]byte, n)
	}
	dw, dr := s.scratchW[:n], s.scratchR[:n]
	if copy(dw, w) == 0 {
		clear(dw)
	}
	for i := range dr {
		dr[i] = 0xFF
	}
	s.dev.Transfer(dw, dr)
	copy(r, dr)
	s.stats.Bytes += uint64(n)
}

// checkPackets applies periph's rules for a full-duplex, 8-bit conn: at least
// one byte in total, W and R of equal length when both are set.
func checkPackets(p []spi.Packet) error {
	total := 0
	for i := range p {
		lw, lr := len(p[i].W), len(p[i].R)
		if lw != 0 && lr != 0 && lw != lr {
			return fmt.Errorf("bus: spi: packet %d: w has %d bytes and r has %d; they must match when both are set", i, lw, lr)
		}
		if b := p[i].BitsPerWord; b != 0 && b != 8 {
			return fmt.Errorf("bus: spi: packet %d: %d bits per word not supported, only 8", i, b)
		}
		total += max(lw, lr)
	}
	if total == 0 {
		return errors.New("bus: spi: empty transaction")
	}
	return nil
}
