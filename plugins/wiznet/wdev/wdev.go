// Package wdev wires a simulated W5500 into a simnet.Device for the
// WIZNET5K driver: an SPI bus to the chip, its INTn and RSTn lines, and its
// wire on a frame port. The conformance suite, the device table of
// simnet/devices (`nichost test --sim w5500`, the demo) and the tests use
// it.
package wdev

import (
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/plugins/wiznet/w5500"
	"github.com/nichost/nichost/simnet"
)

// Device is a simulated W5500 and the buses a driver is granted to it.
type Device struct {
	*simnet.Device
	Chip *w5500.Chip
	SPI  *sim.SPI
}

// New makes a W5500 whose wire is port, with buses named after name. With
// irq false the interrupt line is not granted (the driver polls).
func New(port bus.FramePort, name string, irq bool) *Device {
	chip := w5500.New(w5500.Options{Strict: true})
	chip.Attach(port)
	spi := sim.NewSPI(chip)
	d := &Device{Chip: chip, SPI: spi, Device: &simnet.Device{
		Buses: map[string]config.BusGrant{
			"spi": {Kind: "spi", Sim: name + "-spi"},
			"rst": {Kind: "gpio", Sim: name + "-rst"},
		},
		Sims:    map[string]any{name + "-spi": spi, name + "-rst": chip.RST()},
		SetLink: chip.SetLink,
		Close:   chip.Close,
		Misuse:  chip.Errors,
	}}
	if irq {
		d.Buses["int"] = config.BusGrant{Kind: "gpio", Sim: name + "-int"}
		d.Sims[name+"-int"] = chip.INT()
	}
	return d
}

// Conformance is the device the conformance suite uses: a W5500 with its
// interrupt line on the simulated LAN.
func Conformance(lan *simnet.Router) (*simnet.Device, error) {
	d := New(lan.Attach("dut"), "dut", true)
	return d.Device, nil
}
