// Package wlandev wires a simulated CYW43439 (package cyw43) and a radio
// environment (package radio) with access points bridged to a simulated
// LAN into a simnet.Device for the WLAN driver: its gSPI bus, WL_REG_ON
// and host-wake lines, and the firmware and CLM blobs. The conformance
// suite, the device table of simnet/devices (`nichost test --sim
// cyw43439`, the demo) and the tests use it.
package wlandev

import (
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/plugins/wlan/cyw43"
	"github.com/nichost/nichost/plugins/wlan/radio"
	"github.com/nichost/nichost/simnet"
)

// The networks of the default environment (Networks): the conformance
// suite's, in its order (a WPA2 one first, an open one, a WPA3 one and a
// hidden one). The keys are the suite's too.
var (
	NetWPA2 = simnet.Network{
		SSID: "nichost-sim", BSSID: net.HardwareAddr{0x02, 0x4e, 0x48, 0x00, 0x00, 0x06},
		Channel: 6, Security: int(radio.SecWPA2), Key: "conformance", RSSI: -45,
	}
	NetOpen = simnet.Network{
		SSID: "nichost-open", BSSID: net.HardwareAddr{0x02, 0x4e, 0x48, 0x00, 0x00, 0x01},
		Channel: 1, Security: int(radio.SecOpen), RSSI: -60,
	}
	NetWPA3 = simnet.Network{
		SSID: "nichost-wpa3", BSSID: net.HardwareAddr{0x02, 0x4e, 0x48, 0x00, 0x00, 0x0b},
		Channel: 11, Security: int(radio.SecWPA3), Key: "conformance3", RSSI: -55,
	}
	NetHidden = simnet.Network{
		SSID: "nichost-hidden", BSSID: net.HardwareAddr{0x02, 0x4e, 0x48, 0x00, 0x00, 0x03},
		Channel: 3, Security: int(radio.SecWPA2), Hidden: true, Key: "conformance", RSSI: -70,
	}
)

// Networks is the default environment: NetWPA2, NetOpen, NetWPA3,
// NetHidden.
func Networks() []simnet.Network {
	return []simnet.Network{clone(NetWPA2), clone(NetOpen), clone(NetWPA3), clone(NetHidden)}
}

func clone(n simnet.Network) simnet.Network {
	n.BSSID = append(net.HardwareAddr(nil), n.BSSID...)
	return n
}

// Sizes of the generated blobs: those of the CYW43439 firmware 7.95.49
// and its CLM (fact sheet 2.6).
const (
	FirmwareSize = 224190
	CLMSize      = 984
)

// Firmware is a deterministic pseudo-random image of FirmwareSize bytes:
// generated test data standing in for the WLAN firmware, not Infineon's
// (the simulated chip runs nothing; it checks the image's placement).
func Firmware() []byte { return generate(FirmwareSize, 0x43439f1) }

// CLM is generated test data of CLMSize bytes standing in for the CLM
// blob, not Infineon's.
func CLM() []byte { return generate(CLMSize, 0x43439c1) }

// generate returns n bytes of a xorshift64* stream from seed.
func generate(n int, seed uint64) []byte {
	b := make([]byte, n)
	x := seed
	for i := range b {
		x ^= x >> 12
		x ^= x << 25
		x ^= x >> 27
		b[i] = byte((x * 2685821657736338717) >> 56)
	}
	return b
}

// Options shape a device; the zero value is the conformance device.
type Options struct {
	// Networks are the access points on the air, each bridged to the LAN
	// (nil: Networks()). The first is the one SetLink takes off the air.
	Networks []simnet.Network
	// Clock is the radio's and the chip's clock (nil: an OrderedClock,
	// the wall clock with its timers run in order, stopped by Close).
	Clock radio.Clock
	// NoIRQ grants no host-wake line: the driver polls.
	NoIRQ bool
	// Firmware, CLM and NVRAM replace the blobs (nil: Firmware(), CLM()
	// and no nvram grant; an empty non-nil slice grants an empty blob).
	Firmware, CLM, NVRAM []byte
	// Logger receives the chip's log (nil discards).
	Logger *slog.Logger
	// Radio puts the chip into an existing environment, shared with other
	// devices (two chips that talk over the air): Networks are then added
	// to it (nil: none), its clock is the chip's (Clock is ignored), and
	// Close leaves it open for its owner to close.
	Radio *radio.Env
	// MAC is the chip's OTP address (nil: cyw43.DefaultMAC); chips that
	// share an environment need their own.
	MAC net.HardwareAddr
}

// Device is a simulated CYW43439 in a radio environment, and the buses a
// driver is granted to it.
type Device struct {
	*simnet.Device
	Env  *radio.Env
	APs  []*radio.AP // one per network, in the order of Options.Networks
	Chip *cyw43.Chip
	SPI  *sim.SPI

	mu       sync.Mutex
	stations byte // JoinAP's stations so far
}

// New makes the radio environment, its access points (each attached to
// lan as NAME-ap-N), the chip and the grants, with bus names prefixed by
// name. At most one Options.
func New(lan *simnet.Router, name string, opts ...Options) (*Device, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Networks == nil && o.Radio == nil {
		o.Networks = Networks()
	}
	var own *OrderedClock
	env := o.Radio
	if env != nil {
		o.Clock = env.Clock()
	} else {
		if o.Clock == nil {
			own = NewOrderedClock()
			o.Clock = own
		}
		env = radio.New(radio.Options{Clock: o.Clock, Seed: 1})
	}
	closeEnv := func() {
		if o.Radio == nil {
			env.Close()
		}
		if own != nil {
			own.Stop()
		}
	}
	d := &Device{Env: env}
	for i, n := range o.Networks {
		var port *sim.FramePort
		if lan != nil {
			port = lan.Attach(fmt.Sprintf("%s-ap-%d", name, i))
		}
		cfg := radio.APConfig{SSID: n.SSID, BSSID: n.BSSID, Channel: n.Channel, RSSI: n.RSSI,
			Security: radio.Security(n.Security), Hidden: n.Hidden, Passphrase: n.Key}
		var ap *radio.AP
		var err error
		if port != nil {
			ap, err = env.AddAP(cfg, port)
		} else {
			ap, err = env.AddAP(cfg, nil)
		}
		if err != nil {
			for _, a := range d.APs {
				a.Close()
			}
			closeEnv()
			return nil, fmt.Errorf("wlandev: network %d (%q): %w", i, n.SSID, err)
		}
		d.APs = append(d.APs, ap)
	}
	d.Chip = cyw43.New(cyw43.Options{Strict: true, Radio: env, Clock: o.Clock, Logger: o.Logger, MAC: o.MAC})
	d.SPI = sim.NewSPI(d.Chip)
	fw, clm := o.Firmware, o.CLM
	if fw == nil {
		fw = Firmware()
	}
	if clm == nil {
		clm = CLM()
	}
	d.Device = &simnet.Device{
		Buses: map[string]config.BusGrant{
			"spi":      {Kind: "spi", Sim: name + "-spi"},
			"on":       {Kind: "gpio", Sim: name + "-on"},
			"firmware": {Kind: "blob", Sim: name + "-firmware"},
			"clm":      {Kind: "blob", Sim: name + "-clm"},
		},
		Sims: map[string]any{
			name + "-spi": d.SPI, name + "-on": d.Chip.ON(),
			name + "-firmware": fw, name + "-clm": clm,
		},
		Networks: append([]simnet.Network(nil), o.Networks...),
		SetLink: func(up bool) {
			if len(d.APs) > 0 {
				d.APs[0].SetOn(up)
			}
		},
		Close: func() {
			d.Chip.Close()
			for _, a := range d.APs {
				a.Close()
			}
			closeEnv()
		},
		Misuse: d.Chip.Errors,
	}
	d.Device.JoinAP = d.joinAP
	if !o.NoIRQ {
		d.Buses["irq"] = config.BusGrant{Kind: "gpio", Sim: name + "-irq"}
		d.Sims[name+"-irq"] = d.Chip.IRQ()
	}
	if o.NVRAM != nil {
		d.Buses["nvram"] = config.BusGrant{Kind: "blob", Sim: name + "-nvram"}
		d.Sims[name+"-nvram"] = o.NVRAM
	}
	return d, nil
}

// Conformance is the device the conformance suite uses: the default
// networks on an OrderedClock, with the host-wake line.
func Conformance(lan *simnet.Router) (*simnet.Device, error) {
	d, err := New(lan, "dut")
	if err != nil {
		return nil, err
	}
	return d.Device, nil
}

// joinAP is the device's JoinAP: a station of its own, with a core stack
// running DHCPv4, joins an access point of the environment by SSID (the
// chip's, once its driver started one), with the security the access
// point offers.
func (d *Device) joinAP(ssid, key string) (*simnet.Station, error) {
	d.mu.Lock()
	d.stations++
	id := d.stations
	d.mu.Unlock()
	mac := net.HardwareAddr{0x02, 0x57, 0x49, 0x46, 0x49, id}
	st := core.New(core.Options{Hostname: func() string { return fmt.Sprintf("sim-station-%d", id) }, Logger: slog.New(slog.DiscardHandler)})
	var nic *core.NIC
	s := d.Env.NewStation(mac, func(f []byte) {
		if nic != nil {
			nic.DeliverFrame(f)
		}
	}, nil)
	found := s.Scan(radio.ScanRequest{SSID: ssid})
	if len(found) == 0 {
		s.Close()
		st.Close()
		return nil, fmt.Errorf("wlandev: no access point %q in reach", ssid)
	}
	var err error
	if nic, err = st.AddNIC("wlan0", mac, core.LinkEthernet, s.Send); err != nil {
		s.Close()
		st.Close()
		return nil, err
	}
	if res, _ := s.Join(radio.JoinRequest{SSID: ssid, Security: found[0].Security, Passphrase: key}); res != radio.JoinOK {
		s.Close()
		st.Close()
		return nil, fmt.Errorf("wlandev: joining %q: %v", ssid, res)
	}
	nic.LinkChanged(core.LinkState{Up: true, Type: core.LinkEthernet, MTU: 1500})
	nic.StartDHCPByDefault()
	return &simnet.Station{MAC: mac, NIC: nic, Close: func() { s.Close(); st.Close() }}, nil
}
