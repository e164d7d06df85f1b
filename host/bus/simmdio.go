package bus

import (
	"fmt"
	"sync"
)

// PHYRegisters is the device side of a simulated PHY: a PHY simulator
// implements it and plugs it into a SimMDIO with Attach. reg is always below
// 32. SimMDIO serialises calls to all its PHYs, so an implementation needs no
// lock for MDIO traffic; it must not call back into the SimMDIO.
type PHYRegisters interface {
	ReadReg(reg uint8) uint16
	WriteReg(reg uint8, v uint16)
}

// SimMDIO is a simulated clause 22 management bus with up to 32 PHYs. An
// address with no PHY reads 0xFFFF (the bus pull-up) and ignores writes.
// A SimMDIO is safe for concurrent use.
type SimMDIO struct {
	mu   sync.Mutex
	phys [MDIOAddrs]PHYRegisters
}

var _ MDIO = (*SimMDIO)(nil)

// NewSimMDIO returns a bus with no PHY attached.
func NewSimMDIO() *SimMDIO {
	return &SimMDIO{}
}

// Attach puts dev at PHY address addr, replacing any PHY there; a nil dev
// leaves the address empty. It panics if addr is 32 or more, a programming
// error.
func (m *SimMDIO) Attach(addr uint8, dev PHYRegisters) {
	if addr >= MDIOAddrs {
		panic(fmt.Sprintf("bus: mdio: PHY address %d out of range 0..31", addr))
	}
	m.mu.Lock()
	m.phys[addr] = dev
	m.mu.Unlock()
}

// ReadReg implements MDIO.
func (m *SimMDIO) ReadReg(phy, reg uint8) (uint16, error) {
	if err := checkMDIOAddr(phy, reg); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if dev := m.phys[phy]; dev != nil {
		return dev.ReadReg(reg), nil
	}
	return 0xFFFF, nil
}

// WriteReg implements MDIO.
func (m *SimMDIO) WriteReg(phy, reg uint8, v uint16) error {
	if err := checkMDIOAddr(phy, reg); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if dev := m.phys[phy]; dev != nil {
		dev.WriteReg(reg, v)
	}
	return nil
}
