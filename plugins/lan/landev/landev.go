// Package landev wires a simulated LAN8720-style PHY and an Ethernet port
// into a device for the LAN driver: the conformance suite, `nichost test
// --sim lan8720` and the demo use it.
package landev

import (
	"time"

	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/conformance"
	"github.com/nichost/nichost/internal/simnet"
	"github.com/nichost/nichost/plugins/lan/phy"
)

// New attaches a simulated MAC port to the LAN and a PHY at MDIO address 1
// that negotiates in autoNeg.
func New(lan *simnet.Router, name string, autoNeg time.Duration) *conformance.Device {
	p := phy.New(phy.Options{Addr: 1, AutoNegTime: autoNeg})
	mdio := sim.NewMDIO()
	mdio.Attach(1, p)
	port := lan.Attach(name)
	return &conformance.Device{
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
func Conformance(lan *simnet.Router) (*conformance.Device, error) {
	return New(lan, "dut", 100*time.Millisecond), nil
}
