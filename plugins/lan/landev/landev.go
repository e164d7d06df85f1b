// Package landev wires a simulated LAN8720-style PHY and an Ethernet port
// into a simnet.Device for the LAN driver: the conformance suite, the
// device table of simnet/devices (`nichost test --sim lan8720`, the demo)
// and tests use it.
package landev

import (
	"time"

	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/plugins/lan/phy"
	"github.com/nichost/nichost/simnet"
)

// ConformanceAutoNeg is how long the PHY of Conformance takes to
// negotiate: short, so that the suite runs fast.
const ConformanceAutoNeg = 100 * time.Millisecond

// New attaches a simulated MAC port to the LAN and a PHY at MDIO address 1
// that negotiates in autoNeg (0: the PHY's default). Its buses are named
// after name.
func New(lan *simnet.Router, name string, autoNeg time.Duration) *simnet.Device {
	p := phy.New(phy.Options{Addr: 1, AutoNegTime: autoNeg})
	mdio := sim.NewMDIO()
	mdio.Attach(1, p)
	port := lan.Attach(name)
	return &simnet.Device{
		Buses: map[string]config.BusGrant{
			"port": {Kind: "frame", Sim: name + "-port"},
			"mdio": {Kind: "mdio", Sim: name + "-mdio"},
		},
		Sims:    map[string]any{name + "-port": port, name + "-mdio": mdio},
		SetLink: p.SetLink,
		Close:   func() { port.Close() },
	}
}

// Conformance is the device the conformance suite uses.
func Conformance(lan *simnet.Router) (*simnet.Device, error) {
	return New(lan, "dut", ConformanceAutoNeg), nil
}
