package guesttest

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/bus"
)

// grant is one granted bus behind a handle: the contract value of its kind.
type grant struct {
	name  string
	kind  abi.BusKind
	spi   spi.Conn
	pin   gpio.PinIO
	uart  bus.UART
	frame bus.FramePort
	mdio  bus.MDIO
	blob  bus.Blob

	// GPIO edges, counted when the host looks (collect): a watched line's
	// queued edges are taken with WaitForEdge(0), which sim.Pin answers
	// without losing one.
	watching bool
	edges    int32 // counted, not yet read with gpio_edges
	fresh    bool  // edges counted since the last GPIO poll
}

// newGrant checks that v implements the contract of need's kind. UART and
// frame buses announce their data through notify.
func newGrant(need abi.BusNeed, v any, notify func(abi.Event)) (*grant, error) {
	g := &grant{name: need.Name, kind: need.Kind}
	var ok bool
	switch need.Kind {
	case abi.BusSPI:
		g.spi, ok = v.(spi.Conn)
	case abi.BusGPIO:
		g.pin, ok = v.(gpio.PinIO)
	case abi.BusUART:
		if g.uart, ok = v.(bus.UART); ok {
			g.uart.Notify(func() { notify(abi.EventUART) })
		}
	case abi.BusFrame:
		if g.frame, ok = v.(bus.FramePort); ok {
			g.frame.Notify(func() { notify(abi.EventFrame) })
		}
	case abi.BusMDIO:
		g.mdio, ok = v.(bus.MDIO)
	case abi.BusBlob:
		if b, isBytes := v.([]byte); isBytes {
			v = bytes.NewReader(b)
		}
		g.blob, ok = v.(bus.Blob)
	}
	if !ok {
		return nil, fmt.Errorf("guesttest: bus %q is declared %s, and Options.Buses gives a %T, which does not implement that bus's contract", need.Name, need.Kind, v)
	}
	return g, nil
}

// close stops the notifications.
func (g *grant) close() {
	switch {
	case g.uart != nil:
		g.uart.Notify(nil)
	case g.frame != nil:
		g.frame.Notify(nil)
	}
}

// collect counts the edges a watched line has queued and reports whether
// some arrived since the last GPIO poll.
func (g *grant) collect() bool {
	if g.pin == nil || !g.watching {
		return false
	}
	for g.pin.WaitForEdge(0) {
		g.edges++
		g.fresh = true
	}
	return g.fresh
}

// grant returns the grant behind handle if it is of kind k, nil otherwise.
func (h *imports) grant(handle uint32, k abi.BusKind) *grant {
	if handle == 0 || int(handle) > len(h.grants) || h.grants[handle-1].kind != k {
		return nil
	}
	return h.grants[handle-1]
}

// busErrno maps a bus error to the errno the host returns, logging it.
func (h *imports) busErrno(g *grant, err error) int32 {
	if h.logf != nil {
		h.logf("guesttest: %s bus %q: %v", g.kind, g.name, err)
	}
	switch {
	case errors.Is(err, bus.ErrReadOnly):
		return -abi.EPERM
	case errors.Is(err, bus.ErrFrameTooLong):
		return -abi.EMSGSIZE
	}
	return -abi.EIO
}

// SPITransact implements abi.Imports with the host's checks; a record with
// no write buffer clocks out zeros.
func (h *imports) SPITransact(handle uint32, ops []abi.SPIOp) int32 {
	h.calls[abi.ImportSPITransact]++
	g := h.grant(handle, abi.BusSPI)
	if g == nil {
		return -abi.EBADF
	}
	if _, errno := abi.CheckSPIOps(ops); errno != 0 {
		return errno
	}
	pkts := make([]spi.Packet, len(ops))
	for i, op := range ops {
		w, r := op.W, op.R
		if len(w) == 0 {
			w = make([]byte, len(r))
		}
		pkts[i] = spi.Packet{W: w, R: r, KeepCS: op.KeepCS}
	}
	if err := g.spi.TxPackets(pkts); err != nil {
		return h.busErrno(g, err)
	}
	return 0
}

// GPIORead implements abi.Imports.
func (h *imports) GPIORead(handle uint32) int32 {
	h.calls[abi.ImportGPIORead]++
	g := h.grant(handle, abi.BusGPIO)
	if g == nil {
		return -abi.EBADF
	}
	if g.pin.Read() == gpio.High {
		return 1
	}
	return 0
}

// GPIOWrite implements abi.Imports: the line becomes an output.
func (h *imports) GPIOWrite(handle uint32, level int32) int32 {
	h.calls[abi.ImportGPIOWrite]++
	g := h.grant(handle, abi.BusGPIO)
	if g == nil {
		return -abi.EBADF
	}
	if level != 0 && level != 1 {
		return -abi.EINVAL
	}
	g.collect() // edges queued before the line turns output still count
	if err := g.pin.Out(gpio.Level(level == 1)); err != nil {
		return h.busErrno(g, err)
	}
	return 0
}

// GPIOWatch implements abi.Imports: the line becomes an input and its
// edge count restarts at 0.
func (h *imports) GPIOWatch(handle uint32, edge int32) int32 {
	h.calls[abi.ImportGPIOWatch]++
	g := h.grant(handle, abi.BusGPIO)
	if g == nil {
		return -abi.EBADF
	}
	e, ok := bus.GPIOEdge(abi.Edge(edge))
	if !ok {
		return -abi.EINVAL
	}
	if err := g.pin.In(gpio.PullNoChange, e); err != nil {
		return h.busErrno(g, err)
	}
	g.watching, g.edges, g.fresh = e != gpio.NoEdge, 0, false
	return 0
}

// GPIOEdges implements abi.Imports.
func (h *imports) GPIOEdges(handle uint32) int32 {
	h.calls[abi.ImportGPIOEdges]++
	g := h.grant(handle, abi.BusGPIO)
	if g == nil {
		return -abi.EBADF
	}
	g.collect()
	n := g.edges
	g.edges = 0
	return n
}

// UARTRead implements abi.Imports.
func (h *imports) UARTRead(handle uint32, p []byte) int32 {
	h.calls[abi.ImportUARTRead]++
	g := h.grant(handle, abi.BusUART)
	if g == nil {
		return -abi.EBADF
	}
	n, err := g.uart.Read(p)
	if err != nil {
		return h.busErrno(g, err)
	}
	return int32(n)
}

// UARTWrite implements abi.Imports: it takes at most Options.UARTWriteMax
// bytes when that is set, as a host near the call's deadline would.
func (h *imports) UARTWrite(handle uint32, p []byte) int32 {
	h.calls[abi.ImportUARTWrite]++
	g := h.grant(handle, abi.BusUART)
	if g == nil {
		return -abi.EBADF
	}
	if m := h.opts.UARTWriteMax; m > 0 && len(p) > m {
		p = p[:m]
	}
	n, err := g.uart.Write(p)
	if err != nil && n == 0 {
		return h.busErrno(g, err)
	}
	return int32(n)
}

// FrameRead implements abi.Imports: a frame longer than p is dropped
// (-EMSGSIZE).
func (h *imports) FrameRead(handle uint32, p []byte) int32 {
	h.calls[abi.ImportFrameRead]++
	g := h.grant(handle, abi.BusFrame)
	if g == nil {
		return -abi.EBADF
	}
	n, err := g.frame.ReadFrame(p)
	if err != nil {
		return h.busErrno(g, err)
	}
	return int32(n)
}

// FrameWrite implements abi.Imports.
func (h *imports) FrameWrite(handle uint32, p []byte) int32 {
	h.calls[abi.ImportFrameWrite]++
	g := h.grant(handle, abi.BusFrame)
	if g == nil {
		return -abi.EBADF
	}
	if err := g.frame.WriteFrame(p); err != nil {
		return h.busErrno(g, err)
	}
	return 0
}

// MDIORead implements abi.Imports.
func (h *imports) MDIORead(handle uint32, phy, reg int32) int32 {
	h.calls[abi.ImportMDIORead]++
	g := h.grant(handle, abi.BusMDIO)
	if g == nil {
		return -abi.EBADF
	}
	if phy < 0 || phy >= bus.MDIOAddrs || reg < 0 || reg >= bus.MDIORegs {
		return -abi.EINVAL
	}
	v, err := g.mdio.ReadReg(uint8(phy), uint8(reg))
	if err != nil {
		return h.busErrno(g, err)
	}
	return int32(v)
}

// MDIOWrite implements abi.Imports: -EPERM when the bus refuses with
// bus.ErrReadOnly.
func (h *imports) MDIOWrite(handle uint32, phy, reg, val int32) int32 {
	h.calls[abi.ImportMDIOWrite]++
	g := h.grant(handle, abi.BusMDIO)
	if g == nil {
		return -abi.EBADF
	}
	if phy < 0 || phy >= bus.MDIOAddrs || reg < 0 || reg >= bus.MDIORegs || val < 0 || val > 0xffff {
		return -abi.EINVAL
	}
	if err := g.mdio.WriteReg(uint8(phy), uint8(reg), uint16(val)); err != nil {
		return h.busErrno(g, err)
	}
	return 0
}

// BlobSize implements abi.Imports.
func (h *imports) BlobSize(handle uint32) int64 {
	h.calls[abi.ImportBlobSize]++
	if !h.offers(abi.FeatureBlob, abi.ImportBlobSize) {
		return -abi.ENOTSUP
	}
	g := h.grant(handle, abi.BusBlob)
	if g == nil {
		return -abi.EBADF
	}
	return g.blob.Size()
}

// BlobRead implements abi.Imports: 0 at or past the blob's end.
func (h *imports) BlobRead(handle uint32, off int64, p []byte) int32 {
	h.calls[abi.ImportBlobRead]++
	if !h.offers(abi.FeatureBlob, abi.ImportBlobRead) {
		return -abi.ENOTSUP
	}
	g := h.grant(handle, abi.BusBlob)
	switch {
	case g == nil:
		return -abi.EBADF
	case off < 0:
		return -abi.EINVAL
	case len(p) > abi.MaxBlobRead:
		return -abi.E2BIG
	case off >= g.blob.Size():
		return 0
	}
	n, err := g.blob.ReadAt(p, off)
	if err != nil && !errors.Is(err, io.EOF) && n == 0 {
		return h.busErrno(g, err)
	}
	return int32(n)
}
