package simnet

import (
	"net"

	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/config"
)

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
	// Networks are the Wi-Fi networks in the device's reach, with their
	// secrets, for a class that joins one (WLAN); nil for the others. The
	// first is the one the suite joins for the checks that need a link.
	Networks []Network
	// SetLink plugs (true) or unplugs (false) the cable (for a serial
	// line, cuts it or joins it again; for a Wi-Fi device, takes the
	// first network's access point off the air or back).
	SetLink func(up bool)
	// Close releases the device (nil: nothing to release).
	Close func()
	// JoinAP, for a Wi-Fi device: a simulated station in the device's
	// reach joins the access point the driver runs on it (by SSID, with
	// key; "" for an open one) and asks it for an address over DHCPv4.
	// nil for the other devices.
	JoinAP func(ssid, key string) (*Station, error)
	// Misuse returns what the simulated hardware recorded as misuse so
	// far, oldest first: each error names the rule of the part's datasheet
	// the driver broke. The conformance suite fails the check during which
	// new misuse appears. nil: the device records none.
	Misuse func() []error
}

// Network is a Wi-Fi network a simulated device can reach: what a scan()
// should list for it and what joins it.
type Network struct {
	SSID     string
	BSSID    net.HardwareAddr
	Channel  int
	Security int  // the scan() tuple's value (host.SecWPA2, ...)
	Hidden   bool // its beacons carry no SSID
	Key      string
	RSSI     int // dBm, as the device hears it when it does not drift
}

// Station is a simulated Wi-Fi station with a network stack of its own (a
// phone, say), joined to a device's access point (Device.JoinAP).
type Station struct {
	MAC net.HardwareAddr
	// NIC is its interface, with DHCPv4 on: Addr4 once the access point
	// gave it a lease; Ping and Dial reach the access point's side.
	NIC *core.NIC
	// Close leaves the access point and stops the stack.
	Close func()
}
