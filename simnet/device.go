package simnet

import "github.com/nichost/nichost/host/config"

// Device is one simulated NIC's hardware, wired to a LAN: the simulated
// buses a driver plugin drives, the grants that name them, and the cable.
// Device constructors (plugins/lan/landev, plugins/wiznet/wdev, the table
// in simnet/devices) fill it; a host takes Sims as host.Options.Buses and
// Buses as the plugin's grants.
type Device struct {
	// Buses are the grants the plugin gets, naming buses in Sims.
	Buses map[string]config.BusGrant
	// Sims are the simulated buses by name (host.Options.Buses).
	Sims map[string]any
	// Options are the driver options of the plugin config.
	Options map[string]any
	// Connect are the connect() arguments that bring the link up, for a
	// class that connects (PPP: security, user and key, which the
	// device's peer accepts); nil for one that does not.
	Connect []any
	// SetLink plugs (true) or unplugs (false) the cable (for a serial
	// line, cuts it or joins it again).
	SetLink func(up bool)
	// Close releases the device (nil: nothing to release).
	Close func()
	// Misuse returns what the simulated hardware recorded as misuse so
	// far, oldest first: each error names the rule of the part's datasheet
	// the driver broke. The conformance suite fails the check during which
	// new misuse appears. nil: the device records none.
	Misuse func() []error
}
