package host

import (
	"context"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/internal/engine"
)

// session is the host's side of the ABI for one plugin instance: it
// implements every import with Go slices (the engine has already checked
// pointers against guest memory). It runs on the plugin's goroutine only.
type session struct {
	p *Plugin

	ctx     context.Context // the running call's, for sleep
	args    []byte          // arguments of the running call
	reply   []byte
	replied bool
	raised  *abi.Error
	bad     error // a content violation (bad reply encoding, unknown error kind, ...)

	scratch []byte // zeros for SPI reads with no write buffer
	packets []spi.Packet
}

var _ engine.Imports = (*session)(nil)

func newSession(p *Plugin) *session { return &session{p: p, ctx: context.Background()} }

// begin resets the per-call state.
func (s *session) begin(ctx context.Context, args []byte) {
	s.ctx, s.args = ctx, args
	s.reply, s.replied, s.raised, s.bad = s.reply[:0], false, nil, nil
}

func (s *session) violate(format string, a ...any) {
	if s.bad == nil {
		s.bad = fmt.Errorf(format, a...)
	}
}

func (s *session) Args(dst []byte) int32 {
	if len(dst) >= len(s.args) {
		copy(dst, s.args)
	}
	return int32(len(s.args))
}

func (s *session) Reply(b []byte) int32 {
	if len(b) > abi.MaxMessage {
		s.violate("reply of %d bytes exceeds the %d-byte limit", len(b), abi.MaxMessage)
		return -abi.E2BIG
	}
	s.reply = append(s.reply[:0], b...)
	s.replied = true
	return 0
}

func (s *session) Raise(kind, errno int32, msg []byte) int32 {
	if kind < abi.KindValueError || kind > abi.KindUnsupported {
		s.violate("raise with unknown error kind %d", kind)
		return -abi.EINVAL
	}
	if len(msg) > 1024 {
		msg = msg[:1024]
	}
	text := string(msg)
	if !utf8.ValidString(text) {
		text = string([]rune(text)) // replaces invalid bytes with U+FFFD
	}
	if kind != abi.KindOSError {
		errno = 0
	}
	s.raised = &abi.Error{Kind: int(kind), Errno: int(errno), Msg: text}
	return 0
}

func (s *session) Log(level int32, msg []byte) int32 {
	if !s.p.logLimit.allow(time.Now()) {
		return -abi.ENOBUFS
	}
	if len(msg) > 1024 {
		msg = msg[:1024]
	}
	s.p.log.Log(context.Background(), slog.Level(level), string([]rune(string(msg))))
	return 0
}

func (s *session) Now() int64 { return int64(time.Since(s.p.h.epoch)) }

func (s *session) Sleep(ns int64) int32 {
	if ns < 0 || ns > abi.MaxSleepNanos {
		return -abi.EINVAL
	}
	t := time.NewTimer(time.Duration(ns))
	defer t.Stop()
	select {
	case <-t.C:
		return 0
	case <-s.ctx.Done():
		return -abi.ETIMEDOUT
	}
}

func (s *session) WakeAt(ns int64) int32 {
	s.p.wakeAt = ns
	return 0
}

func (s *session) TxBuffer(buf []byte) int32 {
	if len(buf) < 1514 {
		return -abi.EINVAL
	}
	return 0
}

func (s *session) nic(iface int32) *NIC {
	if iface < 0 || int(iface) >= len(s.p.nics) {
		return nil
	}
	return s.p.nics[iface]
}

func (s *session) RxPush(iface int32, frame []byte) int32 {
	n := s.nic(iface)
	if n == nil {
		return -abi.ENODEV
	}
	if len(frame) > abi.MaxFrame {
		return -abi.EMSGSIZE
	}
	return n.deliver(frame)
}

func (s *session) Link(iface, up, kind, mtu int32) int32 {
	n := s.nic(iface)
	if n == nil {
		return -abi.ENODEV
	}
	if (up != 0 && up != 1) || (abi.LinkType(kind) != abi.LinkEthernet && abi.LinkType(kind) != abi.LinkIP) || (mtu != 0 && (mtu < 68 || mtu > 65535)) {
		return -abi.EINVAL
	}
	n.setLink(LinkState{Up: up == 1, Type: LinkType(kind), MTU: int(mtu)})
	return 0
}

func (s *session) Report(iface int32, b []byte) int32 {
	n := s.nic(iface)
	if n == nil {
		return -abi.ENODEV
	}
	v, err := abi.Unmarshal(b)
	if err != nil {
		return -abi.EINVAL
	}
	m, ok := v.(map[string]any)
	if !ok || !validReport(m) {
		return -abi.EINVAL
	}
	n.report(m)
	return 0
}

// validReport checks a report against the keys ABI.md lists.
func validReport(m map[string]any) bool {
	for k, v := range m {
		switch k {
		case "addr4", "peer4", "addr6", "peer6":
			if _, ok := v.(string); !ok {
				return false
			}
		case "dns":
			l, ok := v.([]any)
			if !ok || len(l) > 8 {
				return false
			}
			for _, e := range l {
				if _, ok := e.(string); !ok {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}

// grant returns the grant behind handle h if it is of kind k.
func (s *session) grant(h uint32, k bus.Kind) *grant {
	g := s.p.grantFor(h)
	if g == nil || g.kind != k {
		s.p.countBadHandle(h, k)
		return nil
	}
	return g
}

func (s *session) SPITransact(h uint32, ops []abi.SPIOp) int32 {
	g := s.grant(h, bus.KindSPI)
	if g == nil {
		return -abi.EBADF
	}
	if len(ops) == 0 || len(ops) > abi.SPIMaxOps {
		return -abi.EINVAL
	}
	s.packets = s.packets[:0]
	total := 0
	for _, op := range ops {
		w, r := op.W, op.R
		switch {
		case len(w) == 0 && len(r) == 0:
			return -abi.EINVAL
		case len(w) > 0 && len(r) > 0 && len(w) != len(r):
			return -abi.EINVAL
		}
		total += max(len(w), len(r))
		if total > abi.SPIMaxTransfer {
			return -abi.E2BIG
		}
		if len(w) == 0 {
			w = s.zeros(len(r))
		}
		s.packets = append(s.packets, spi.Packet{W: w, R: r, KeepCS: op.KeepCS})
	}
	if err := g.spi.TxPackets(s.packets); err != nil {
		s.p.log.Warn("spi transaction failed", "bus", g.name, "err", err)
		return -abi.EIO
	}
	s.p.stats.spiCalls.Add(1)
	s.p.stats.spiBytes.Add(uint64(total))
	return 0
}

// zeros returns n zero bytes to clock out. The buffer is only read, so
// every record of a batch may share it.
func (s *session) zeros(n int) []byte {
	if len(s.scratch) < n {
		s.scratch = make([]byte, max(n, 2048))
	}
	return s.scratch[:n]
}

func (s *session) GPIORead(h uint32) int32 {
	g := s.grant(h, bus.KindGPIO)
	if g == nil {
		return -abi.EBADF
	}
	if g.pin.Read() == gpio.High {
		return 1
	}
	return 0
}

func (s *session) GPIOWrite(h uint32, level int32) int32 {
	g := s.grant(h, bus.KindGPIO)
	if g == nil {
		return -abi.EBADF
	}
	if level != 0 && level != 1 {
		return -abi.EINVAL
	}
	if err := g.pin.Out(gpio.Level(level == 1)); err != nil {
		s.p.log.Warn("gpio write failed", "bus", g.name, "err", err)
		return -abi.EIO
	}
	return 0
}

func (s *session) GPIOWatch(h uint32, edge int32) int32 {
	g := s.grant(h, bus.KindGPIO)
	if g == nil {
		return -abi.EBADF
	}
	var e gpio.Edge
	switch abi.Edge(edge) {
	case abi.EdgeNone:
		e = gpio.NoEdge
	case abi.EdgeRising:
		e = gpio.RisingEdge
	case abi.EdgeFalling:
		e = gpio.FallingEdge
	case abi.EdgeBoth:
		e = gpio.BothEdges
	default:
		return -abi.EINVAL
	}
	p := s.p // not s: the watcher outlives this instance's session
	if err := g.watch(e, func() { p.notify(abi.EventGPIO) }); err != nil {
		s.p.log.Warn("gpio watch failed", "bus", g.name, "err", err)
		return -abi.EIO
	}
	return 0
}

func (s *session) GPIOEdges(h uint32) int32 {
	g := s.grant(h, bus.KindGPIO)
	if g == nil {
		return -abi.EBADF
	}
	return g.edges.Swap(0)
}

func (s *session) UARTRead(h uint32, p []byte) int32 {
	g := s.grant(h, bus.KindUART)
	if g == nil {
		return -abi.EBADF
	}
	n, err := g.uart.Read(p)
	if err != nil {
		return busErrno(err)
	}
	return int32(n)
}

func (s *session) UARTWrite(h uint32, p []byte) int32 {
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
		n, err := g.uart.Write(p[written:min(len(p), written+uartChunk)])
		written += n
		if err != nil {
			if written > 0 {
				break
			}
			return busErrno(err)
		}
	}
	return int32(written)
}

const (
	uartChunk  = 256
	uartMargin = 100 * time.Millisecond
)

func (s *session) FrameRead(h uint32, p []byte) int32 {
	g := s.grant(h, bus.KindFrame)
	if g == nil {
		return -abi.EBADF
	}
	n, err := g.frame.ReadFrame(p)
	if err != nil {
		return busErrno(err)
	}
	return int32(n)
}

func (s *session) FrameWrite(h uint32, p []byte) int32 {
	g := s.grant(h, bus.KindFrame)
	if g == nil {
		return -abi.EBADF
	}
	if err := g.frame.WriteFrame(p); err != nil {
		return busErrno(err)
	}
	return 0
}

func (s *session) MDIORead(h uint32, phy, reg int32) int32 {
	g := s.grant(h, bus.KindMDIO)
	if g == nil {
		return -abi.EBADF
	}
	if phy < 0 || phy >= bus.MDIOAddrs || reg < 0 || reg >= bus.MDIORegs {
		return -abi.EINVAL
	}
	v, err := g.mdio.ReadReg(uint8(phy), uint8(reg))
	if err != nil {
		return busErrno(err)
	}
	return int32(v)
}

func (s *session) MDIOWrite(h uint32, phy, reg, val int32) int32 {
	g := s.grant(h, bus.KindMDIO)
	if g == nil {
		return -abi.EBADF
	}
	if phy < 0 || phy >= bus.MDIOAddrs || reg < 0 || reg >= bus.MDIORegs || val < 0 || val > 0xffff {
		return -abi.EINVAL
	}
	if err := g.mdio.WriteReg(uint8(phy), uint8(reg), uint16(val)); err != nil {
		return busErrno(err)
	}
	return 0
}
