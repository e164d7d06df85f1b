package bus

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/nichost/nichost/abi"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"
)

// Kind names a bus type as it appears in manifests and configs.
type Kind string

// The bus kinds a plugin can declare and an operator can grant.
const (
	KindSPI   Kind = "spi"
	KindGPIO  Kind = "gpio"
	KindUART  Kind = "uart"
	KindFrame Kind = "frame" // raw Ethernet frame port
	KindMDIO  Kind = "mdio"
	KindBlob  Kind = "blob" // read-only bytes: firmware the operator supplies
)

// Kinds lists every known Kind, in a stable order.
func Kinds() []Kind {
	return []Kind{KindSPI, KindGPIO, KindUART, KindFrame, KindMDIO, KindBlob}
}

// Valid reports whether k is one of the known kinds.
func (k Kind) Valid() bool {
	switch k {
	case KindSPI, KindGPIO, KindUART, KindFrame, KindMDIO, KindBlob:
		return true
	}
	return false
}

// ParseKind returns the Kind named s, or an error listing the known kinds.
func ParseKind(s string) (Kind, error) {
	if k := Kind(s); k.Valid() {
		return k, nil
	}
	known := make([]string, len(Kinds()))
	for i, k := range Kinds() {
		known[i] = string(k)
	}
	return "", fmt.Errorf("bus: unknown kind %q (known: %s)", s, strings.Join(known, ", "))
}

// SPI is periph's spi.Conn.
//
// The host calls Tx for a single CS-framed transfer and TxPackets for a
// batched transaction: CS is asserted at the start of the first packet and
// stays asserted across packets with KeepCS set; a packet without KeepCS
// releases CS after it (a "blip" between packets, or the end of the
// transaction for the last packet). periph lets KeepCS on the last packet
// leave CS asserted after the call returns; the host never does that: it
// clears KeepCS on the last packet of every call, so chip select is
// released when spi_transact returns, and a plugin instance (a fresh one
// after a fault included) always starts with it released. W and R, when
// both set, have the same length; either may be nil. The conn does not
// retain W or R after the call returns.
type SPI = spi.Conn

// GPIO is periph's gpio.PinIO.
//
// The host uses Read, Out, In(pull, edge) and WaitForEdge(timeout), where a
// negative timeout waits without limit. A host goroutine that watches a pin
// blocks in WaitForEdge; to stop it, call Halt: every GPIO this package
// returns (sim.Pin, linux.OpenGPIO) makes Halt unblock a pending WaitForEdge, which
// then returns false, and makes later WaitForEdge calls return false at once
// until In is called again. The stop sequence is therefore: Halt, then wait
// for the goroutine to return.
type GPIO = gpio.PinIO

// UART is a byte stream whose reads never block.
//
// Ownership: Write does not retain p; Read fills the caller's p. The UART
// buffers received bytes up to an implementation-defined limit (64 KiB by
// default); bytes arriving while the buffer is full are dropped and counted,
// like a hardware overrun. After Close, Write and Read return ErrClosed.
type UART interface {
	// Write writes all of p or returns an error.
	Write(p []byte) (int, error)
	// Read copies buffered received bytes into p and returns at once: 0, nil
	// when nothing is buffered. Never blocks.
	Read(p []byte) (int, error)
	// Notify registers fn, called from any goroutine whenever new data becomes
	// readable. fn must not block and must not call Notify; nil unregisters.
	Notify(fn func())
	// Close releases the port. It is safe to call more than once.
	Close() error
}

// FramePort moves whole Ethernet frames: destination MAC first, then source
// MAC and EtherType, no preamble and no FCS.
//
// Ownership: WriteFrame does not retain frame after it returns; ReadFrame
// fills the caller's buf. Received frames wait in a bounded queue; frames
// arriving while it is full are dropped and counted. After Close, every
// method except MTU returns ErrClosed.
type FramePort interface {
	// WriteFrame sends one frame of 14 to MTU()+14 bytes.
	WriteFrame(frame []byte) error
	// ReadFrame copies the next received frame into buf and returns its
	// length; 0, nil when none is queued (never blocks). A frame longer than
	// buf is dropped and an error wrapping ErrFrameTooLong returned.
	ReadFrame(buf []byte) (int, error)
	// Notify registers fn, called from any goroutine whenever a frame becomes
	// readable. fn must not block and must not call Notify; nil unregisters.
	Notify(fn func())
	// MTU is the largest frame payload (1500 for Ethernet); the largest frame
	// is MTU()+14 bytes.
	MTU() int
	// Close detaches the port. It is safe to call more than once.
	Close() error
}

// MDIO reaches the management registers of PHYs (IEEE 802.3 clause 22: 32
// PHY addresses, each with 32 registers of 16 bits).
//
// phy and reg must be below 32; other values return an error. Reading an
// address where no PHY answers returns 0xFFFF, as a real bus with its pull-up
// does. Implementations are safe for concurrent use.
type MDIO interface {
	ReadReg(phy, reg uint8) (uint16, error)
	WriteReg(phy, reg uint8, v uint16) error
}

// Blob is read-only data the operator supplies to a driver, such as a
// Wi-Fi chip's firmware: more than a control message may carry. ReadAt
// follows io.ReaderAt; Size is fixed for the blob's life. Implementations
// are safe for concurrent use.
type Blob interface {
	io.ReaderAt
	Size() int64
}

// Errors callers may match with errors.Is.
var (
	// ErrFrameTooLong reports a frame larger than the buffer given to
	// ReadFrame, or larger than MTU()+14 given to WriteFrame.
	ErrFrameTooLong = errors.New("bus: frame too long")
	// ErrFrameTooShort reports a frame shorter than the Ethernet header
	// given to WriteFrame.
	ErrFrameTooShort = errors.New("bus: frame too short")
	// ErrFull reports a port that could not take a frame in time (its
	// device's transmit queue stayed full); the frame was dropped.
	ErrFull = errors.New("bus: port full")
	// ErrClosed reports use of a bus after Close.
	ErrClosed = errors.New("bus: closed")
	// ErrReadOnly reports a write to an MDIO bus opened without AllowWrite.
	ErrReadOnly = errors.New("bus: read-only")
)

// MDIO clause 22 limits.
const (
	MDIOAddrs = 32 // PHY addresses 0..31
	MDIORegs  = 32 // registers 0..31 per PHY
)

// EthernetHeaderLen is the length of destination MAC, source MAC and
// EtherType; a frame is at least this long.
const EthernetHeaderLen = 14

// CheckMDIOAddr reports a PHY address or register number outside clause 22's
// 0..31, for implementations of MDIO.
func CheckMDIOAddr(phy, reg uint8) error {
	if phy >= MDIOAddrs {
		return fmt.Errorf("bus: mdio: PHY address %d out of range 0..31", phy)
	}
	if reg >= MDIORegs {
		return fmt.Errorf("bus: mdio: register %d out of range 0..31", reg)
	}
	return nil
}

// CheckFrame checks the length of a frame to send on a port of the given
// MTU, as every FramePort implementation must.
func CheckFrame(frame []byte, mtu int) error {
	if len(frame) < EthernetHeaderLen {
		return fmt.Errorf("%w: %d bytes is shorter than the %d-byte Ethernet header", ErrFrameTooShort, len(frame), EthernetHeaderLen)
	}
	if len(frame) > mtu+EthernetHeaderLen {
		return fmt.Errorf("%w: %d-byte frame exceeds MTU %d + %d-byte header", ErrFrameTooLong, len(frame), mtu, EthernetHeaderLen)
	}
	return nil
}

// Defaults shared by the implementations.
const (
	// DefaultMTU is an Ethernet port's MTU (its payload, without the
	// header) when its options name none.
	DefaultMTU = 1500
	// DefaultFrameQueue is the receive queue of a frame port, in frames,
	// when its options name none.
	DefaultFrameQueue = 512
	// DefaultUARTBuffer is the receive buffer of a UART, in bytes, when its
	// options name none.
	DefaultUARTBuffer = 64 << 10
)

// GPIOEdge is periph's edge for an ABI edge selection; false for a value
// that is none of abi.Edge*.
func GPIOEdge(e abi.Edge) (gpio.Edge, bool) {
	switch e {
	case abi.EdgeNone:
		return gpio.NoEdge, true
	case abi.EdgeRising:
		return gpio.RisingEdge, true
	case abi.EdgeFalling:
		return gpio.FallingEdge, true
	case abi.EdgeBoth:
		return gpio.BothEdges, true
	}
	return gpio.NoEdge, false
}
