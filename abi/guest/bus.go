package guest

import (
	"io"
	"math"

	"github.com/nichost/nichost/abi"
)

// SPI is a granted SPI device.
type SPI struct {
	h   uint32
	imp abi.Imports
}

// Tx runs one full-duplex transfer with chip select asserted around it.
func (s SPI) Tx(w, r []byte) error {
	ops := [1]abi.SPIOp{{W: w, R: r}}
	return check("spi_transact", s.imp.SPITransact(s.h, ops[:]))
}

// Transact runs a batch of records in one host call; see abi.SPIOp for chip
// select.
func (s SPI) Transact(ops []abi.SPIOp) error {
	return check("spi_transact", s.imp.SPITransact(s.h, ops))
}

// GPIO is a granted GPIO line.
type GPIO struct {
	h   uint32
	imp abi.Imports
}

// Read returns the line's level.
func (g GPIO) Read() (bool, error) {
	rc := g.imp.GPIORead(g.h)
	return rc == 1, check("gpio_read", rc)
}

// Write drives the line high or low.
func (g GPIO) Write(high bool) error {
	l := int32(0)
	if high {
		l = 1
	}
	return check("gpio_write", g.imp.GPIOWrite(g.h, l))
}

// Watch makes the line an input whose edges wake Poll with
// abi.EventGPIO.
func (g GPIO) Watch(edge abi.Edge) error {
	return check("gpio_watch", g.imp.GPIOWatch(g.h, int32(edge)))
}

// Edges returns how many edges were seen since the last call.
func (g GPIO) Edges() (int, error) {
	rc := g.imp.GPIOEdges(g.h)
	return int(rc), check("gpio_edges", rc)
}

// UART is a granted serial port.
type UART struct {
	h   uint32
	imp abi.Imports
}

// Read copies buffered bytes into p without waiting; 0 when none.
func (u UART) Read(p []byte) (int, error) {
	rc := u.imp.UARTRead(u.h, p)
	if rc < 0 {
		return 0, errnoError("uart_read", rc)
	}
	return int(rc), nil
}

// Write sends p with one uart_write host call. The host takes all of p
// unless the running call's deadline is near (a slow baud rate, see
// uart_write in ABI.md); then Write returns the count it took and
// io.ErrShortWrite, and the driver sends the rest, p[n:], in a later call
// such as its next Poll. A host error returns 0 and an OSError.
func (u UART) Write(p []byte) (int, error) {
	rc := u.imp.UARTWrite(u.h, p)
	if rc < 0 {
		return 0, errnoError("uart_write", rc)
	}
	if int(rc) < len(p) {
		return int(rc), io.ErrShortWrite
	}
	return int(rc), nil
}

// FramePort is a granted raw Ethernet frame port.
type FramePort struct {
	h   uint32
	imp abi.Imports
}

// Read copies the next received frame into p; 0 when none is queued.
func (f FramePort) Read(p []byte) (int, error) {
	rc := f.imp.FrameRead(f.h, p)
	if rc < 0 {
		return 0, errnoError("frame_read", rc)
	}
	return int(rc), nil
}

// Write sends one frame.
func (f FramePort) Write(frame []byte) error {
	return check("frame_write", f.imp.FrameWrite(f.h, frame))
}

// MDIO is a granted MDIO bus.
type MDIO struct {
	h   uint32
	imp abi.Imports
}

// Read reads register reg of the PHY at address phy.
func (m MDIO) Read(phy, reg int) (uint16, error) {
	rc := m.imp.MDIORead(m.h, int32(phy), int32(reg))
	if rc < 0 {
		return 0, errnoError("mdio_read", rc)
	}
	return uint16(rc), nil
}

// Write writes register reg of the PHY at address phy.
func (m MDIO) Write(phy, reg int, v uint16) error {
	return check("mdio_write", m.imp.MDIOWrite(m.h, int32(phy), int32(reg), int32(v)))
}

// Blob is a granted blob: read-only bytes the operator supplies, such as a
// Wi-Fi chip's firmware (since ABI 1.1). It is an io.ReaderAt.
type Blob struct {
	h   uint32
	imp abi.Imports
}

// Size is the blob's length in bytes.
func (b Blob) Size() (int64, error) {
	n := b.imp.BlobSize(b.h)
	if n < 0 {
		return 0, errnoError("blob_size", int32(max(n, math.MinInt32)))
	}
	return n, nil
}

// ReadAt reads len(p) bytes from offset off, in blob_read calls of at most
// abi.MaxBlobRead bytes, with io.ReaderAt's semantics: fewer bytes come
// with an error, io.EOF when the blob ends first.
func (b Blob) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, abi.OSError(abi.EINVAL, "blob_read: negative offset %d", off)
	}
	n := 0
	for n < len(p) {
		chunk := p[n:min(len(p), n+abi.MaxBlobRead)]
		rc := b.imp.BlobRead(b.h, off+int64(n), chunk)
		switch {
		case rc < 0:
			return n, errnoError("blob_read", rc)
		case rc == 0:
			return n, io.EOF
		case int(rc) > len(chunk):
			return n, abi.OSError(abi.EIO, "blob_read: the host returned %d bytes for %d", rc, len(chunk))
		}
		n += int(rc)
	}
	return n, nil
}

var _ io.ReaderAt = Blob{}
