// Package devices is the table of nichost's simulated devices, by name:
// what `nichost test DIR --sim NAME` tests a driver against and what
// `nichost demo` runs. Each model names the driver class it serves and
// makes its device on a simnet LAN. The table is fixed at build time; a
// driver in another module wires its own device into a simnet.Device and
// hands that to the conformance suite directly.
package devices

import (
	"net/netip"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/plugins/lan/landev"
	"github.com/nichost/nichost/plugins/ppp/peer"
	"github.com/nichost/nichost/plugins/ppp/session"
	"github.com/nichost/nichost/plugins/wiznet/wdev"
	"github.com/nichost/nichost/plugins/wlan/wlandev"
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
		Name: "cyw43439", Class: abi.ClassWLAN, Driver: "plugins/wlan",
		About: "CYW43439 Wi-Fi chip over gSPI, in reach of four access points (WPA2, open, WPA3, hidden) bridged to the simulated LAN",
		New: func(lan *simnet.Router, o Options) (*simnet.Device, error) {
			o = o.withDefaults()
			d, err := wlandev.New(lan, o.Name)
			if err != nil {
				return nil, err
			}
			return d.Device, nil
		},
	},
	{
		Name: "ppp", Class: abi.ClassPPP, Driver: "plugins/ppp",
		About: "PPP access server on a 921600-baud serial line (CHAP), routed onto the simulated LAN",
		New:   newPPP,
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

// The ppp device's account and the address its peer gives: ABI.md 8.6
// documents them.
const (
	PPPUser = "dut"
	PPPKey  = "conformance"
	pppBaud = 921600
)

// PPPAddr is the address the ppp device's access server gives the client
// (IPCP), on the LAN's subnet, outside the DHCP pool; its own address is
// the router's, so the router is the client's gateway.
var PPPAddr = netip.MustParseAddr("10.64.0.210")

// newPPP makes the ppp device: a simulated serial line, granted as uart,
// with the access server (plugins/ppp/peer, strict) at the far end, whose
// routed side joins the LAN by proxy ARP for the client's address.
func newPPP(lan *simnet.Router, o Options) (*simnet.Device, error) {
	o = o.withDefaults()
	ours, theirs := sim.NewUARTPair()
	var port atomic.Pointer[simnet.IPPort] // set once the peer, whose SendIP it takes, runs
	srv := peer.New(theirs, peer.Options{
		Baud: pppBaud, Strict: true,
		Security: session.SecCHAP, User: PPPUser, Key: PPPKey, Name: "simnet",
		Addr4: simnet.RouterAddr, Peer4: PPPAddr, DNS: []netip.Addr{simnet.RouterAddr},
		IP: func(pkt []byte) {
			if p := port.Load(); p != nil {
				_ = p.Send(pkt)
			}
		},
	})
	p, err := lan.AttachIP(o.Name, PPPAddr, srv.SendIP)
	if err != nil {
		srv.Close()
		return nil, err
	}
	port.Store(p)
	uart := o.Name + "-uart"
	return &simnet.Device{
		Buses:   map[string]config.BusGrant{"uart": {Kind: "uart", Sim: uart}},
		Sims:    map[string]any{uart: ours},
		Connect: []any{int64(session.SecCHAP), PPPUser, PPPKey},
		SetLink: func(up bool) { srv.Cut(!up) },
		Close: func() {
			p.Close()
			srv.Close()
		},
		Misuse: srv.Misuse,
	}, nil
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
