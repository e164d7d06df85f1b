//go:build !linux

package linux

import (
	"fmt"
	"runtime"

	"github.com/nichost/nichost/host/bus"
)

// TAP is a Linux TAP device; on this system OpenTAP always fails.
type TAP struct{}

// Packet is a Linux network interface reached through an AF_PACKET socket;
// on this system OpenPacket always fails.
type Packet struct{}

var (
	_ bus.FramePort = (*TAP)(nil)
	_ bus.FramePort = (*Packet)(nil)
)

// OpenTAP is only implemented on Linux, where it uses /dev/net/tun.
func OpenTAP(cfg TAPConfig) (*TAP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("bus: tap: %s: TAP devices are only supported on Linux, not %s", cfg.Name, runtime.GOOS)
}

// OpenPacket is only implemented on Linux, where it uses an AF_PACKET socket.
func OpenPacket(cfg PacketConfig) (*Packet, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("bus: packet: %s: AF_PACKET sockets are only supported on Linux, not %s", cfg.Interface, runtime.GOOS)
}

// Name returns "".
func (*TAP) Name() string { return "" }

// String returns "tap:".
func (*TAP) String() string { return "tap:" }

// MTU returns 0.
func (*TAP) MTU() int { return 0 }

// WriteFrame returns bus.ErrClosed.
func (*TAP) WriteFrame([]byte) error { return bus.ErrClosed }

// ReadFrame returns bus.ErrClosed.
func (*TAP) ReadFrame([]byte) (int, error) { return 0, bus.ErrClosed }

// Notify does nothing.
func (*TAP) Notify(func()) {}

// Close returns nil.
func (*TAP) Close() error { return nil }

// Stats returns zero counters.
func (*TAP) Stats() bus.FrameStats { return bus.FrameStats{} }

// Name returns "".
func (*Packet) Name() string { return "" }

// String returns "packet:".
func (*Packet) String() string { return "packet:" }

// MTU returns 0.
func (*Packet) MTU() int { return 0 }

// WriteFrame returns bus.ErrClosed.
func (*Packet) WriteFrame([]byte) error { return bus.ErrClosed }

// ReadFrame returns bus.ErrClosed.
func (*Packet) ReadFrame([]byte) (int, error) { return 0, bus.ErrClosed }

// Notify does nothing.
func (*Packet) Notify(func()) {}

// Close returns nil.
func (*Packet) Close() error { return nil }

// Stats returns zero counters.
func (*Packet) Stats() bus.FrameStats { return bus.FrameStats{} }
