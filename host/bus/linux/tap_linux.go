package linux

import (
	"errors"
	"fmt"
	"io"

	"github.com/nichost/nichost/host/bus"
	"golang.org/x/sys/unix"
)

// tunPath is the Linux TUN/TAP clone device.
const tunPath = "/dev/net/tun"

// TAP is a Linux TAP device: frames the plugin writes enter the host's
// network stack as if received on the interface, and frames the stack sends
// out of the interface are read by the plugin. It implements bus.FramePort. A
// TAP is safe for concurrent use.
//
// Frames carry no packet-information prefix (IFF_NO_PI) and no virtio-net
// header (IFF_VNET_HDR is off), so the kernel hands over complete frames with
// their checksums filled in, never offloaded super-packets.
type TAP struct {
	port *linkPort
}

var _ bus.FramePort = (*TAP)(nil)

// OpenTAP attaches to the TAP device cfg.Name through /dev/net/tun, creating
// it when it does not exist (see TAPConfig), sets its MTU and brings it up
// when asked. Opening needs CAP_NET_ADMIN unless the device is a persistent
// TAP owned by the caller. A reader goroutine moves received frames into a
// queue of cfg.QueueLen frames; Close stops it and releases the device.
func OpenTAP(cfg TAPConfig) (*TAP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	label := cfg.Name
	if label == "" {
		label = "(new)"
	}
	fd, err := unix.Open(tunPath, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("bus: tap: %s: open %s: %w", label, tunPath, err)
	}
	name, mtu, err := setupTAP(fd, cfg)
	if err != nil {
		_ = unix.Close(fd)
		if name == "" {
			name = label
		}
		return nil, fmt.Errorf("bus: tap: %s: %w", name, err)
	}
	port, err := newLinkPort("tap", name, fd, mtu, queueLen(cfg.QueueLen), readTAP)
	if err != nil {
		return nil, err
	}
	return &TAP{port: port}, nil
}

// setupTAP attaches fd to the device and configures it; it returns the
// device's name as soon as it is known.
func setupTAP(fd int, cfg TAPConfig) (name string, mtu int, err error) {
	ifr, err := unix.NewIfreq(cfg.Name)
	if err != nil {
		return "", 0, err
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		switch {
		case errors.Is(err, unix.EPERM):
			return "", 0, fmt.Errorf("TUNSETIFF: %w (creating a TAP needs CAP_NET_ADMIN)", err)
		case errors.Is(err, unix.EINVAL) && cfg.Name != "":
			return "", 0, fmt.Errorf("TUNSETIFF: %w (is %q an interface other than a single-queue TAP?)", err, cfg.Name)
		case errors.Is(err, unix.EBUSY):
			return "", 0, fmt.Errorf("TUNSETIFF: %w (the TAP is attached to another process)", err)
		}
		return "", 0, fmt.Errorf("TUNSETIFF: %w", err)
	}
	name = ifr.Name()
	if cfg.MTU != 0 {
		if err := setLinkMTU(name, cfg.MTU); err != nil {
			return name, 0, err
		}
	}
	if mtu, err = linkMTU(name); err != nil {
		return name, 0, err
	}
	if cfg.Up {
		if err := setLinkUp(name); err != nil {
			return name, 0, err
		}
	}
	return name, mtu, nil
}

// readTAP reads one frame: on a TAP every read(2) returns exactly one.
func readTAP(fd int, buf []byte) ([]byte, error) {
	n, err := unix.Read(fd, buf)
	switch {
	case err != nil:
		return nil, err
	case n == 0:
		return nil, io.EOF
	case n < bus.EthernetHeaderLen:
		return nil, errSkipFrame
	}
	return buf[:n], nil
}

// Name returns the interface name the kernel gave the device when it was
// opened (what TAPConfig.Name asked for, or the name the kernel picked).
func (t *TAP) Name() string { return t.port.name }

// String returns "tap:" and the interface name.
func (t *TAP) String() string { return "tap:" + t.port.name }

// MTU implements FramePort: the interface MTU when the device was opened.
func (t *TAP) MTU() int { return t.port.mtu }

// WriteFrame implements FramePort: the frame enters the host's network stack
// as if received on the interface, with one write(2).
func (t *TAP) WriteFrame(frame []byte) error { return t.port.writeFrame(frame) }

// ReadFrame implements bus.FramePort. Once the queue is drained after the device
// failed (for instance when it was deleted), ReadFrame returns that failure.
func (t *TAP) ReadFrame(buf []byte) (int, error) { return t.port.readFrame(buf) }

// Notify implements bus.FramePort.
func (t *TAP) Notify(fn func()) { t.port.setNotify(fn) }

// Close implements FramePort: it stops the reader and closes the descriptor,
// which deletes a device that is not persistent.
func (t *TAP) Close() error { return t.port.close() }

// Stats returns the counters of the port. Dropped counts frames lost to a
// full queue and runt frames shorter than an Ethernet header.
func (t *TAP) Stats() bus.FrameStats { return t.port.getStats() }
