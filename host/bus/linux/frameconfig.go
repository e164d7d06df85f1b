package linux

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nichost/nichost/host/bus"
)

// Limits of a Linux network interface's MTU as a TAP device accepts it:
// ETH_MIN_MTU, and 65535 less the Ethernet header.
const (
	minLinkMTU = 68
	maxLinkMTU = 65535 - bus.EthernetHeaderLen

	maxFrameQueue = 1 << 16 // largest queue_len of a TAP or packet port
)

// TAPConfig selects a Linux TAP device for OpenTAP.
//
// OpenTAP attaches to /dev/net/tun with TUNSETIFF, which creates the device
// when no interface has the name; the device then lives until the TAP is
// closed. When a persistent TAP of that name exists (made with `ip tuntap add
// mode tap`), OpenTAP attaches to it instead, and it outlives Close.
type TAPConfig struct {
	// Name is the interface name, e.g. tap0, at most 15 bytes; empty lets the
	// kernel pick one (tapN), which TAP.Name reports. A name with %d is a
	// pattern the kernel fills in, as in "nic%d".
	Name string `yaml:"name"`
	// Up brings the link up once the device is attached.
	Up bool `yaml:"up"`
	// MTU sets the interface MTU, 68..65521; 0 keeps the current one (1500
	// for a new device).
	MTU int `yaml:"mtu"`
	// QueueLen is the receive queue, in frames, up to 65536 (0: 512). A frame arriving at a
	// full queue is dropped and counted.
	QueueLen int `yaml:"queue_len"`
}

// Validate reports the first bad field, by its yaml name.
func (c TAPConfig) Validate() error {
	if c.Name != "" {
		if err := checkIfName(c.Name); err != nil {
			return fmt.Errorf("bus: tap config: name: %w", err)
		}
	}
	switch {
	case c.MTU != 0 && (c.MTU < minLinkMTU || c.MTU > maxLinkMTU):
		return fmt.Errorf("bus: tap config: mtu: %d out of range %d..%d", c.MTU, minLinkMTU, maxLinkMTU)
	case c.QueueLen < 0 || c.QueueLen > maxFrameQueue:
		return fmt.Errorf("bus: tap config: queue_len: %d out of range 0..%d", c.QueueLen, maxFrameQueue)
	}
	return nil
}

// PacketConfig selects an existing Linux network interface for OpenPacket.
type PacketConfig struct {
	// Interface is the network interface, e.g. eth0 or veth1.
	Interface string `yaml:"interface"`
	// Promiscuous puts the interface in promiscuous mode while the port is
	// open, so that frames for other MAC addresses reach it too. The kernel
	// counts promiscuous users, so closing the port does not turn off a mode
	// someone else asked for.
	Promiscuous bool `yaml:"promiscuous"`
	// QueueLen is the receive queue, in frames, up to 65536 (0: 512). A frame arriving at a
	// full queue is dropped and counted.
	QueueLen int `yaml:"queue_len"`
}

// Validate reports the first bad field, by its yaml name.
func (c PacketConfig) Validate() error {
	if c.Interface == "" {
		return errors.New("bus: packet config: interface: missing, want a name such as eth0")
	}
	if err := checkIfName(c.Interface); err != nil {
		return fmt.Errorf("bus: packet config: interface: %w", err)
	}
	if strings.Contains(c.Interface, "%") {
		return fmt.Errorf("bus: packet config: interface: %q is a pattern, want an existing interface", c.Interface)
	}
	if c.QueueLen < 0 || c.QueueLen > maxFrameQueue {
		return fmt.Errorf("bus: packet config: queue_len: %d out of range 0..%d", c.QueueLen, maxFrameQueue)
	}
	return nil
}

// checkIfName applies the kernel's rules for interface names (dev_valid_name):
// 1..15 bytes, not "." or "..", no '/', ':' or white space.
func checkIfName(name string) error {
	switch {
	case len(name) > 15:
		return fmt.Errorf("%q longer than 15 bytes", name)
	case name == "." || name == "..":
		return fmt.Errorf("%q is not a valid interface name", name)
	}
	if i := strings.IndexFunc(name, func(r rune) bool {
		return r == '/' || r == ':' || r == ' ' || (r >= '\t' && r <= '\r') || r == 0
	}); i >= 0 {
		return fmt.Errorf("%q contains %q, not allowed in an interface name", name, name[i])
	}
	return nil
}
