// Package testdriver is a driver that exercises every import and export of
// the ABI, for the host's own tests and benchmarks. It is built as a WASM
// plugin (host/testdata/plugins/full) and run natively through
// host.LoadNative from the same source. Its methods are reached with
// NIC.Call(name, ...) and answer with what the host did.
//
// It declares class LAN with two interfaces ("eth0", "eth1") and optional
// buses: spi (spi), pin (gpio), serial (uart), port (frame), mdio (mdio),
// fw (blob).
package testdriver

import (
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// Interfaces the driver declares.
var Interfaces = []string{"eth0", "eth1"}

// Driver is the test driver. Hostile test plugins embed it and override one
// method.
type Driver struct {
	env    *guest.Env
	active [2]bool
	conn   [2]bool
	mac    [2][]byte
	label  [2]string
	busy   bool
	bridge bool

	polls  int
	events abi.Event
	sent   [][]byte
	buf    []byte
	frame  []byte

	phyMode int64
	country string

	class string       // "" is LAN
	link  abi.LinkType // the link type SetActive reports
	spin  bool         // re-arm wake_at(now) in every poll
}

// The test driver has every method a class may have.
var (
	_ guest.Driver    = (*Driver)(nil)
	_ guest.Connector = (*Driver)(nil)
	_ guest.Scanner   = (*Driver)(nil)
	_ guest.Caller    = (*Driver)(nil)
)

// New makes a driver.
func New() guest.Driver { return &Driver{link: abi.LinkEthernet} }

// NewPPP makes the driver declaring class PPP, whose links are IP-only (so
// that it may report addresses).
func NewPPP() guest.Driver { return &Driver{class: abi.ClassPPP, link: abi.LinkIP} }

// Describe implements guest.Driver.
func (d *Driver) Describe() abi.Description {
	class := d.class
	if class == "" {
		class = abi.ClassLAN
	}
	return abi.Description{
		Class: class, Name: "testdriver", Version: "1",
		Interfaces: Interfaces,
		Buses: []abi.BusNeed{
			{Name: "spi", Kind: "spi", Optional: true},
			{Name: "pin", Kind: "gpio", Optional: true},
			{Name: "serial", Kind: "uart", Optional: true},
			{Name: "port", Kind: "frame", Optional: true},
			{Name: "mdio", Kind: "mdio", Optional: true},
			{Name: "fw", Kind: "blob", Optional: true},
		},
		Features: []string{"phy_mode", "country"},
	}
}

// Start implements guest.Driver.
func (d *Driver) Start(env *guest.Env) error {
	d.env = env
	for i := range d.mac {
		d.mac[i] = env.MAC(i)
	}
	if v, ok := env.Option("bridge"); ok {
		b, err := abi.Bool("options.bridge", v)
		if err != nil {
			return err
		}
		d.bridge = b
	}
	d.country = env.Info().Country
	if v, ok := env.Option("wake_at_start"); ok && v == true {
		env.WakeAfter(time.Millisecond)
	}
	if v, ok := env.Option("spin"); ok && v == true {
		d.spin = true
		env.WakeAfter(0)
	}
	d.buf = make([]byte, 2048)
	d.frame = make([]byte, 1514)
	return nil
}

func (d *Driver) check(iface int) error {
	if iface < 0 || iface >= len(Interfaces) {
		return abi.ValueError("no interface %d", iface)
	}
	return nil
}

// Active implements guest.Driver.
func (d *Driver) Active(iface int) bool { return d.check(iface) == nil && d.active[iface] }

// SetActive implements guest.Driver.
func (d *Driver) SetActive(iface int, up bool) error {
	if err := d.check(iface); err != nil {
		return err
	}
	d.active[iface] = up
	return d.env.SetLink(iface, up, d.link, 1500)
}

// Connect implements guest.Connector: connect(ssid, key=None).
func (d *Driver) Connect(iface int, a guest.Args) error {
	if err := d.check(iface); err != nil {
		return err
	}
	if !d.active[iface] {
		return abi.OSError(abi.EPERM, "interface %s is not active", Interfaces[iface])
	}
	if ssid := a.At(0, "ssid"); ssid.Given {
		if _, err := ssid.Str(); err != nil {
			return err
		}
	}
	d.conn[iface] = true
	return nil
}

// Disconnect implements guest.Connector.
func (d *Driver) Disconnect(iface int) error {
	if err := d.check(iface); err != nil {
		return err
	}
	d.conn[iface] = false
	return nil
}

// IsConnected implements guest.Driver.
func (d *Driver) IsConnected(iface int) bool { return d.check(iface) == nil && d.conn[iface] }

// Scan implements guest.Scanner with one network in WLAN's tuple format.
func (d *Driver) Scan(iface int, a guest.Args) ([]any, error) {
	return []any{abi.Tuple{"testnet", []byte{2, 0, 0, 0, 0, 1}, 6, -42, 3, false}}, nil
}

// Status implements guest.Driver: status() is 1 when active, 0 otherwise.
func (d *Driver) Status(iface int, param string) (any, error) {
	if err := d.check(iface); err != nil {
		return nil, err
	}
	switch param {
	case "":
		if d.active[iface] {
			return 1, nil
		}
		return 0, nil
	case "iface":
		return iface, nil
	}
	return nil, abi.ValueError("unknown status param %q", param)
}

// ConfigGet implements guest.Driver.
func (d *Driver) ConfigGet(iface int, name string) (any, error) {
	if err := d.check(iface); err != nil {
		return nil, err
	}
	switch name {
	case "mac":
		return d.mac[iface], nil
	case "label":
		return d.label[iface], nil
	case "busy":
		return d.busy, nil
	}
	return nil, abi.ValueError("unknown config param %q", name)
}

// ConfigSet implements guest.Driver; it checks every key before applying.
func (d *Driver) ConfigSet(iface int, kv map[string]any) error {
	if err := d.check(iface); err != nil {
		return err
	}
	for _, k := range abi.SortedKeys(kv) {
		var err error
		switch k {
		case "mac":
			_, err = abi.MAC(k, kv[k])
		case "label":
			_, err = abi.Str(k, kv[k])
		case "busy":
			_, err = abi.Bool(k, kv[k])
		default:
			err = abi.ValueError("unknown config param %q", k)
		}
		if err != nil {
			return err
		}
	}
	for k, v := range kv {
		switch k {
		case "mac":
			d.mac[iface] = v.([]byte)
		case "label":
			d.label[iface] = v.(string)
		case "busy":
			d.busy = v.(bool)
			if !d.busy {
				// Like a transmit-done interrupt: ask for a poll, after
				// which the host offers the frames it held back.
				d.env.WakeAfter(0)
			}
		}
	}
	return nil
}

// Poll implements guest.Driver: it counts polls and, with the bridge
// option, moves frames from the granted frame port to the core.
func (d *Driver) Poll(events abi.Event) error {
	d.polls++
	d.events |= events
	if d.spin {
		d.env.WakeAfter(0) // as soon as the host lets it
	}
	if !d.bridge {
		return nil
	}
	port, err := d.env.FramePort("port")
	if err != nil {
		return err
	}
	for {
		n, err := port.Read(d.buf)
		if err != nil || n == 0 {
			return err
		}
		if err := d.env.Deliver(0, d.buf[:n]); err != nil {
			return err
		}
	}
}

// Transmit implements guest.Driver: frames are kept for the "sent" call,
// or written to the frame port with the bridge option.
func (d *Driver) Transmit(iface int, frame []byte) error {
	if d.busy {
		return guest.ErrBusy
	}
	if d.bridge {
		port, err := d.env.FramePort("port")
		if err != nil {
			return err
		}
		return port.Write(frame)
	}
	if len(d.sent) < 64 {
		d.sent = append(d.sent, append([]byte(nil), frame...))
	}
	return nil
}

// Call implements guest.Caller; see calls.go.
func (d *Driver) Call(iface int, name string, a guest.Args) (any, error) {
	fn, ok := calls[name]
	if !ok {
		return nil, abi.Unsupported("testdriver has no method %s()", name)
	}
	return fn(d, iface, a)
}
