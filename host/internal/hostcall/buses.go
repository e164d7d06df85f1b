package hostcall

import (
	"errors"
	"io"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/internal/grant"
)

// grant returns the grant behind handle h if it is of kind k.
func (s *Session) grant(h uint32, k bus.Kind) *grant.Grant {
	return s.o.Grant(h, k)
}

// SPITransact is the spi_transact import.
func (s *Session) SPITransact(h uint32, ops []abi.SPIOp) int32 {
	g := s.grant(h, bus.KindSPI)
	if g == nil {
		return -abi.EBADF
	}
	total, errno := abi.CheckSPIOps(ops)
	if errno != 0 {
		return errno
	}
	s.packets = s.packets[:0]
	for _, op := range ops {
		w, r := op.W, op.R
		if len(w) == 0 {
			w = s.zeros(len(r))
		}
		s.packets = append(s.packets, spi.Packet{W: w, R: r, KeepCS: op.KeepCS})
	}
	// KEEP_CS joins records within one call only: chip select is released
	// when spi_transact returns, so a later call, or a fresh instance after
	// a fault, never finds it asserted.
	s.packets[len(s.packets)-1].KeepCS = false
	if err := g.SPI.TxPackets(s.packets); err != nil {
		s.o.Logger().Warn("spi transaction failed", "bus", g.Name, "err", err)
		return -abi.EIO
	}
	s.o.CountSPI(total)
	return 0
}

// zeros returns n zero bytes to clock out. The buffer is only read, so
// every record of a batch may share it.
func (s *Session) zeros(n int) []byte {
	if len(s.scratch) < n {
		s.scratch = make([]byte, max(n, 2048))
	}
	return s.scratch[:n]
}

// GPIORead is the gpio_read import.
func (s *Session) GPIORead(h uint32) int32 {
	g := s.grant(h, bus.KindGPIO)
	if g == nil {
		return -abi.EBADF
	}
	if g.Pin.Read() == gpio.High {
		return 1
	}
	return 0
}

// GPIOWrite is the gpio_write import.
func (s *Session) GPIOWrite(h uint32, level int32) int32 {
	g := s.grant(h, bus.KindGPIO)
	if g == nil {
		return -abi.EBADF
	}
	if level != 0 && level != 1 {
		return -abi.EINVAL
	}
	if err := g.Pin.Out(gpio.Level(level == 1)); err != nil {
		s.o.Logger().Warn("gpio write failed", "bus", g.Name, "err", err)
		return -abi.EIO
	}
	return 0
}

// GPIOWatch is the gpio_watch import.
func (s *Session) GPIOWatch(h uint32, edge int32) int32 {
	g := s.grant(h, bus.KindGPIO)
	if g == nil {
		return -abi.EBADF
	}
	e, ok := bus.GPIOEdge(abi.Edge(edge))
	if !ok {
		return -abi.EINVAL
	}
	o := s.o // not s: the watcher outlives this instance's session
	if err := g.Watch(e, func() { o.Notify(abi.EventGPIO) }); err != nil {
		s.o.Logger().Warn("gpio watch failed", "bus", g.Name, "err", err)
		return -abi.EIO
	}
	return 0
}

// GPIOEdges is the gpio_edges import.
func (s *Session) GPIOEdges(h uint32) int32 {
	g := s.grant(h, bus.KindGPIO)
	if g == nil {
		return -abi.EBADF
	}
	return g.Edges()
}

// UARTRead is the uart_read import.
func (s *Session) UARTRead(h uint32, p []byte) int32 {
	g := s.grant(h, bus.KindUART)
	if g == nil {
		return -abi.EBADF
	}
	n, err := g.UART.Read(p)
	if err != nil {
		return grant.Errno(err)
	}
	return int32(n)
}

// UARTWrite is the uart_write import.
func (s *Session) UARTWrite(h uint32, p []byte) int32 {
	g := s.grant(h, bus.KindUART)
	if g == nil {
		return -abi.EBADF
	}
	// Write in pieces, stopping short of the call's deadline: at a slow baud
	// rate a long write would outlast it, and a host function cannot be
	// interrupted. The driver writes the rest later.
	written := 0
	for written < len(p) {
		if dl, ok := s.ctx.Deadline(); ok && time.Until(dl) < uartMargin {
			break
		}
		n, err := g.UART.Write(p[written:min(len(p), written+uartChunk)])
		written += n
		if err != nil {
			if written > 0 {
				break
			}
			return grant.Errno(err)
		}
	}
	return int32(written)
}

// uart_write writes in chunks of uartChunk bytes and stops when less than
// uartMargin of the call's deadline is left.
const (
	uartChunk  = 256
	uartMargin = 100 * time.Millisecond
)

// FrameRead is the frame_read import.
func (s *Session) FrameRead(h uint32, p []byte) int32 {
	g := s.grant(h, bus.KindFrame)
	if g == nil {
		return -abi.EBADF
	}
	n, err := g.Frame.ReadFrame(p)
	if err != nil {
		return grant.Errno(err)
	}
	return int32(n)
}

// FrameWrite is the frame_write import.
func (s *Session) FrameWrite(h uint32, p []byte) int32 {
	g := s.grant(h, bus.KindFrame)
	if g == nil {
		return -abi.EBADF
	}
	if err := g.Frame.WriteFrame(p); err != nil {
		return grant.Errno(err)
	}
	return 0
}

// MDIORead is the mdio_read import.
func (s *Session) MDIORead(h uint32, phy, reg int32) int32 {
	g := s.grant(h, bus.KindMDIO)
	if g == nil {
		return -abi.EBADF
	}
	if phy < 0 || phy >= bus.MDIOAddrs || reg < 0 || reg >= bus.MDIORegs {
		return -abi.EINVAL
	}
	v, err := g.MDIO.ReadReg(uint8(phy), uint8(reg))
	if err != nil {
		return grant.Errno(err)
	}
	return int32(v)
}

// MDIOWrite is the mdio_write import.
func (s *Session) MDIOWrite(h uint32, phy, reg, val int32) int32 {
	g := s.grant(h, bus.KindMDIO)
	if g == nil {
		return -abi.EBADF
	}
	if phy < 0 || phy >= bus.MDIOAddrs || reg < 0 || reg >= bus.MDIORegs || val < 0 || val > 0xffff {
		return -abi.EINVAL
	}
	if err := g.MDIO.WriteReg(uint8(phy), uint8(reg), uint16(val)); err != nil {
		return grant.Errno(err)
	}
	return 0
}

// BlobSize is the blob_size import.
func (s *Session) BlobSize(h uint32) int64 {
	g := s.grant(h, bus.KindBlob)
	if g == nil {
		return -abi.EBADF
	}
	return g.Blob.Size()
}

// BlobRead is the blob_read import.
func (s *Session) BlobRead(h uint32, off int64, p []byte) int32 {
	g := s.grant(h, bus.KindBlob)
	if g == nil {
		return -abi.EBADF
	}
	switch {
	case off < 0:
		return -abi.EINVAL
	case len(p) > abi.MaxBlobRead:
		return -abi.E2BIG
	case off >= g.Blob.Size() || len(p) == 0:
		return 0
	}
	p = p[:min(int64(len(p)), g.Blob.Size()-off)]
	n, err := g.Blob.ReadAt(p, off)
	if err != nil && !(errors.Is(err, io.EOF) && n == len(p)) {
		if n > 0 {
			return int32(n) // short: the rest reads again next time
		}
		s.o.Logger().Warn("blob read failed", "bus", g.Name, "offset", off, "err", err)
		return -abi.EIO
	}
	return int32(n)
}
