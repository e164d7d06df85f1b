package sim

import (
	"fmt"
	"sync"

	"github.com/nichost/nichost/host/bus"
)

// PHYRegisters is the device side of a simulated PHY: a PHY simulator
// implements it and plugs it into a MDIO with Attach. reg is always below
// 32. MDIO serialises calls to all its PHYs, so an implementation needs no
// lock for MDIO traffic; it must not call back into the MDIO.
type PHYRegisters interface {
	ReadReg(reg uint8) uint16
	WriteReg(reg uint8, v uint16)
}

// MDIO is a simulated clause 22 management bus with up to 32 PHYs. An
// address with no PHY reads 0xFFFF (the bus pull-up) and ignores writes.
// A MDIO is safe for concurrent use.
type MDIO struct {
	mu   sync.Mutex
	phys [bus.MDIOAddrs]PHYRegisters
}

var _ bus.MDIO = (*MDIO)(nil)

// NewMDIO returns a bus with no PHY attached.
func NewMDIO() *MDIO {
	return &MDIO{}
}

// Attach puts dev at PHY address addr, replacing any PHY there; a nil dev
// leaves the address empty. It panics if addr is 32 or more, a programming
// error.
func (m *MDIO) Attach(addr uint8, dev PHYRegisters) {
	if addr >= bus.MDIOAddrs {
		panic(fmt.Sprintf("bus: mdio: PHY address %d out of range 0..31", addr))
	}
	m.mu.Lock()
	m.phys[addr] = dev
	m.mu.Unlock()
}

// ReadReg implements bus.MDIO.
func (m *MDIO) ReadReg(phy, reg uint8) (uint16, error) {
	if err := bus.CheckMDIOAddr(phy, reg); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if dev := m.phys[phy]; dev != nil {
		return dev.ReadReg(reg), nil
	}
	return 0xFFFF, nil
}

// WriteReg implements bus.MDIO.
func (m *MDIO) WriteReg(phy, reg uint8, v uint16) error {
	if err := bus.CheckMDIOAddr(phy, reg); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if dev := m.phys[phy]; dev != nil {
		dev.WriteReg(reg, v)
	}
	return nil
}
