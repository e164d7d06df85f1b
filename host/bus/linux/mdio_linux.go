package linux

import (
	"fmt"
	"io"
	"sync"
	"unsafe"

	"github.com/nichost/nichost/host/bus"
	"golang.org/x/sys/unix"
)

// miiIfreq is struct ifreq with struct mii_ioctl_data in its union, as the
// SIOCGMIIPHY, SIOCGMIIREG and SIOCSMIIREG ioctls expect it.
type miiIfreq struct {
	name   [unix.IFNAMSIZ]byte
	phyID  uint16
	regNum uint16
	valIn  uint16
	valOut uint16
	_      [16]byte // pads the union to 24 bytes, its size on 64-bit (16 on 32-bit)
}

// linuxMDIO reaches the PHYs behind a network interface through the MII
// ioctls of its kernel driver.
type linuxMDIO struct {
	ifname     string
	allowWrite bool

	mu sync.Mutex
	fd int // -1 once closed
}

var (
	_ bus.MDIO  = (*linuxMDIO)(nil)
	_ io.Closer = (*linuxMDIO)(nil)
)

// OpenMDIO opens the MDIO bus behind the network interface cfg.Interface
// through the SIOCGMIIPHY/SIOCGMIIREG/SIOCSMIIREG ioctls (needs
// CAP_NET_ADMIN to write, and an interface whose driver supports MII). It
// checks the interface answers SIOCGMIIPHY. WriteReg returns bus.ErrReadOnly
// unless cfg.AllowWrite. The returned MDIO also implements io.Closer; close
// it when done.
func OpenMDIO(cfg MDIOConfig) (bus.MDIO, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("bus: mdio: %s: socket: %w", cfg.Interface, err)
	}
	m := &linuxMDIO{ifname: cfg.Interface, allowWrite: cfg.AllowWrite, fd: fd}
	req := m.request(0, 0, 0)
	if err := ioctlMII(fd, unix.SIOCGMIIPHY, &req); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("bus: mdio: %s: SIOCGMIIPHY: %w", cfg.Interface, err)
	}
	return m, nil
}

// ReadReg implements bus.MDIO.
func (m *linuxMDIO) ReadReg(phy, reg uint8) (uint16, error) {
	if err := bus.CheckMDIOAddr(phy, reg); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fd < 0 {
		return 0, bus.ErrClosed
	}
	req := m.request(phy, reg, 0)
	if err := ioctlMII(m.fd, unix.SIOCGMIIREG, &req); err != nil {
		return 0, fmt.Errorf("bus: mdio: %s: read PHY %d register %d: %w", m.ifname, phy, reg, err)
	}
	return req.valOut, nil
}

// WriteReg implements bus.MDIO.
func (m *linuxMDIO) WriteReg(phy, reg uint8, v uint16) error {
	if err := bus.CheckMDIOAddr(phy, reg); err != nil {
		return err
	}
	if !m.allowWrite {
		return fmt.Errorf("%w: mdio on %s (set allow_write to permit writes)", bus.ErrReadOnly, m.ifname)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fd < 0 {
		return bus.ErrClosed
	}
	req := m.request(phy, reg, v)
	if err := ioctlMII(m.fd, unix.SIOCSMIIREG, &req); err != nil {
		return fmt.Errorf("bus: mdio: %s: write PHY %d register %d: %w", m.ifname, phy, reg, err)
	}
	return nil
}

// Close releases the socket used for the ioctls.
func (m *linuxMDIO) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fd < 0 {
		return nil
	}
	err := unix.Close(m.fd)
	m.fd = -1
	if err != nil {
		return fmt.Errorf("bus: mdio: %s: close: %w", m.ifname, err)
	}
	return nil
}

func (m *linuxMDIO) request(phy, reg uint8, v uint16) miiIfreq {
	req := miiIfreq{phyID: uint16(phy), regNum: uint16(reg), valIn: v}
	copy(req.name[:unix.IFNAMSIZ-1], m.ifname)
	return req
}

func ioctlMII(fd int, op uintptr, req *miiIfreq) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), op, uintptr(unsafe.Pointer(req)))
	if errno != 0 {
		return errno
	}
	return nil
}
