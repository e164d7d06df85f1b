// Package devices is the table of nichost's simulated devices, by name:
// what `nichost test DIR --sim NAME` tests a driver against and what
// `nichost demo` runs. Each model names the driver class it serves and
// makes its device on a simnet LAN. The table is fixed at build time; a
// driver in another module wires its own device into a simnet.Device and
// hands that to the conformance suite directly.
package devices

import (
	"sort"
	"strings"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/plugins/lan/landev"
	"github.com/nichost/nichost/plugins/wiznet/wdev"
	"github.com/nichost/nichost/simnet"
)

// Options say how New wires a device.
type Options struct {
	// Name is the device's port on the LAN and the prefix of its bus
	// names ("dut").
	Name string
	// AutoNeg is how long a device with a separate PHY (lan8720, ksz8081)
	// takes to negotiate its link (0: the short time the conformance suite
	// uses).
	// Devices without one ignore it.
	AutoNeg time.Duration
}

// Model is one simulated device. Each one's simulator records the
// driver's misuse of the part (simnet.Device.Misuse), which the
// conformance suite turns into FAIL lines.
type Model struct {
	Name  string // what --sim takes ("lan8720", "ksz8081")
	Class string // the driver class it serves (abi.ClassLAN)
	About string // one line for help texts
	// Driver is nichost's own driver plugin for it, a directory relative
	// to the module root ("plugins/lan").
	Driver string
	// New makes the device on lan.
	New func(lan *simnet.Router, o Options) (*simnet.Device, error)
}

// Conformance makes the device the conformance suite uses: New with the
// default Options. It fits conformance.Config.Device.
func (m Model) Conformance(lan *simnet.Router) (*simnet.Device, error) {
	return m.New(lan, Options{})
}

// models is the table, by name.
var models = [...]Model{
	{
		Name: "lan8720", Class: abi.ClassLAN, Driver: "plugins/lan",
		About: "LAN8720-style PHY over MDIO, MAC port on the simulated LAN",
		New: func(lan *simnet.Router, o Options) (*simnet.Device, error) {
			o = o.withDefaults()
			if o.AutoNeg == 0 {
				o.AutoNeg = landev.ConformanceAutoNeg
			}
			return landev.New(lan, o.Name, o.AutoNeg), nil
		},
	},
	{
		Name: "ksz8081", Class: abi.ClassLAN, Driver: "plugins/lan",
		About: "KSZ8081RNA PHY over MDIO (address 0), MAC port on the simulated LAN",
		New: func(lan *simnet.Router, o Options) (*simnet.Device, error) {
			o = o.withDefaults()
			if o.AutoNeg == 0 {
				o.AutoNeg = landev.ConformanceAutoNeg
			}
			return landev.NewKSZ8081(lan, o.Name, o.AutoNeg), nil
		},
	},
	{
		Name: "w5500", Class: abi.ClassWIZNET5K, Driver: "plugins/wiznet",
		About: "W5500 over SPI with RSTn and INTn, on the simulated LAN",
		New: func(lan *simnet.Router, o Options) (*simnet.Device, error) {
			o = o.withDefaults()
			return wdev.New(lan.Attach(o.Name), o.Name, true).Device, nil
		},
	},
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = "dut"
	}
	return o
}

// All lists the models by name.
func All() []Model {
	out := append([]Model(nil), models[:]...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the model called name.
func Lookup(name string) (Model, bool) {
	for _, m := range models {
		if m.Name == name {
			return m, true
		}
	}
	return Model{}, false
}

// List is the models for help texts and errors: "ksz8081 (LAN), lan8720
// (LAN), w5500 (WIZNET5K)".
func List() string {
	var names []string
	for _, m := range All() {
		names = append(names, m.Name+" ("+m.Class+")")
	}
	return strings.Join(names, ", ")
}
