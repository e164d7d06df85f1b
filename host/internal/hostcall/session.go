// Package hostcall is the host's side of the ABI for one plugin instance:
// every import of module "nic" as a Go method on slices that the engine has
// already checked against guest memory. It validates every argument the
// guest passes (handles, lengths, enums), turns bus errors into errnos, and
// never panics on what a plugin sends.
package hostcall

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/spi"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/internal/grant"
)

// Owner is what a session needs of the plugin it serves. Its methods are
// called on the plugin's goroutine, except Notify, which bus callbacks call
// from any goroutine.
type Owner interface {
	// Grant returns the grant behind handle h if it is of kind k, else nil;
	// the owner counts and logs the misuse.
	Grant(h uint32, k bus.Kind) *grant.Grant
	// NIC returns interface iface, or nil when there is none.
	NIC(iface int32) NIC
	// Notify records ev and wakes the plugin's goroutine.
	Notify(ev abi.Event)
	// WakeAt records when the driver wants its next poll, in host
	// monotonic nanoseconds; -1 cancels.
	WakeAt(ns int64)
	// Logger is the plugin's log.
	Logger() *slog.Logger
	// AllowLog reports whether the driver may log one more line now (a
	// rate limit, so a driver that logs in a loop cannot flood the host).
	AllowLog() bool
	// CountSPI counts one spi_transact of n bytes.
	CountSPI(n int)
	// LinkType is the link type the plugin's class must report: IP-only
	// for PPP, Ethernet for the others. Only an IP-only link may report
	// addresses.
	LinkType() abi.LinkType
	// Class is the plugin's class (abi.ClassWLAN, ...).
	Class() string
	// Deny counts and logs a host call refused with -EPERM because the
	// plugin may not do what it asked (call names the import).
	Deny(call, why string)
	// OutputDropped counts the lines of the guest's stdout and stderr that
	// the log's rate limit dropped.
	OutputDropped() *atomic.Uint64
}

// NIC is the host's side of one interface, for the calls that carry an
// interface index.
type NIC interface {
	// Deliver hands a received frame to the network core; it returns 0 or
	// a negated errno. frame is only valid during the call.
	Deliver(frame []byte) int32
	// SetLink records the link state the driver reported.
	SetLink(st core.LinkState)
	// Report records what the driver negotiated, or an access point's
	// stations (validated already).
	Report(info map[string]any)
	// Role is the interface's name in the plugin's description ("sta",
	// "ap", ...).
	Role() string
}

// Session implements abi.Imports for one plugin instance. It runs on the
// plugin's goroutine only.
type Session struct {
	o     Owner
	epoch time.Time

	ctx     context.Context // the running call's, for sleep
	args    []byte          // arguments of the running call
	reply   []byte
	replied bool
	raised  *abi.Error
	bad     error // a content violation (bad reply encoding, unknown error kind, ...)

	scratch []byte // zeros for SPI reads with no write buffer
	packets []spi.Packet
	txCap   int // bytes of the registered transmit buffer the host uses
}

var _ abi.Imports = (*Session)(nil)

// New makes the session of one instance of o's plugin; Now counts from
// epoch.
func New(o Owner, epoch time.Time) *Session {
	return &Session{o: o, epoch: epoch, ctx: context.Background()}
}

// Begin resets the per-call state for a call into the instance: ctx is the
// call's (sleep stops at its deadline), args what the args import returns.
func (s *Session) Begin(ctx context.Context, args []byte) {
	s.ctx, s.args = ctx, args
	s.reply, s.replied, s.raised, s.bad = s.reply[:0], false, nil, nil
}

// AllowLog reports whether one more line of the plugin's may be logged now:
// the rate limit of the log import, which the guest's stdout and stderr
// share.
func (s *Session) AllowLog() bool { return s.o.AllowLog() }

// OutputDropped is the owner's count of output lines the rate limit dropped.
func (s *Session) OutputDropped() *atomic.Uint64 { return s.o.OutputDropped() }

// Result is what the call passed to reply, if it did.
func (s *Session) Result() (b []byte, ok bool) { return s.reply, s.replied }

// Raised is the error the call raised, or nil.
func (s *Session) Raised() *abi.Error { return s.raised }

// Violation is the first way the call broke the ABI through an import (a
// reply over the limit, an unknown error kind, ...), or nil.
func (s *Session) Violation() error { return s.bad }

func (s *Session) violate(format string, a ...any) {
	if s.bad == nil {
		s.bad = fmt.Errorf(format, a...)
	}
}

// Args is the args import.
func (s *Session) Args(dst []byte) int32 {
	if len(dst) >= len(s.args) {
		copy(dst, s.args)
	}
	return int32(len(s.args))
}

// Reply is the reply import.
func (s *Session) Reply(b []byte) int32 {
	if len(b) > abi.MaxMessage {
		s.violate("reply of %d bytes exceeds the %d-byte limit", len(b), abi.MaxMessage)
		return -abi.E2BIG
	}
	s.reply = append(s.reply[:0], b...)
	s.replied = true
	return 0
}

// Raise is the raise import.
func (s *Session) Raise(kind, errno int32, msg []byte) int32 {
	e, ok := abi.Raised(kind, errno, msg)
	if !ok {
		s.violate("raise with unknown error kind %d", kind)
		return -abi.EINVAL
	}
	s.raised = e
	return 0
}

// Log is the log import.
func (s *Session) Log(level int32, msg []byte) int32 {
	if !s.o.AllowLog() {
		return -abi.ENOBUFS
	}
	s.o.Logger().Log(context.Background(), slog.Level(level), abi.Text(msg))
	return 0
}

// Now is the now import.
func (s *Session) Now() int64 { return int64(time.Since(s.epoch)) }

// sleepMargin is how much of the call's deadline a sleep must leave (the
// longest sleep allowed): a
// sleep that would end closer to it returns -ETIMEDOUT at once, while the
// guest can still act on the answer.
const sleepMargin = 10 * time.Millisecond

// Sleep is the sleep import.
func (s *Session) Sleep(ns int64) int32 {
	if ns < 0 || ns > abi.MaxSleepNanos {
		return -abi.EINVAL
	}
	if dl, ok := s.ctx.Deadline(); ok && time.Until(dl) < time.Duration(ns)+sleepMargin {
		return -abi.ETIMEDOUT
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

// WakeAt is the wake_at import.
func (s *Session) WakeAt(ns int64) int32 {
	s.o.WakeAt(ns)
	return 0
}

// TxBuffer is the tx_buffer import.
func (s *Session) TxBuffer(buf []byte) int32 {
	if len(buf) < abi.MinTxBuffer {
		return -abi.EINVAL
	}
	s.txCap = min(len(buf), abi.MaxTxBuffer)
	return 0
}

// TxCap is how many bytes of the transmit buffer the host may fill: 0
// until the instance registered one.
func (s *Session) TxCap() int { return s.txCap }
