// Package driver is nichost's LAN driver: an Ethernet MAC whose frames move
// through a granted frame port, with a PHY managed over a granted MDIO bus:
// a Microchip/SMSC LAN8720A (or a LAN8720, LAN8710, LAN8710A, which share
// its identifier) or a Microchip KSZ8081. Without options.phy_type the
// driver takes the first PHY of either family it finds. plugins/lan builds
// it into a WASM plugin; the host can also run it natively
// (host.LoadNative with New).
//
// The PHY is driven as a poll-driven state machine: active(True) resets it
// and returns; Poll waits for the reset to finish, restarts
// auto-negotiation, waits for the link and then watches it, reporting every
// change to the network core. See plugins/lan/README.md for the chip facts,
// status codes, options and config parameters.
package driver

import (
	"strconv"
	"strings"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// Timing of the PHY state machine.
const (
	resetFirst   = time.Millisecond       // first look at BMCR.RESET (real parts finish in under 1 ms)
	resetPoll    = 10 * time.Millisecond  // later looks
	resetTimeout = 600 * time.Millisecond // IEEE 802.3 allows 0.5 s; then reset again
	linkPoll     = 50 * time.Millisecond  // link watch, and auto-negotiation progress
	retryAfter   = time.Second            // after an MDIO error, or while the PHY is silent
	idlePoll     = time.Second            // powered down: nothing to watch
)

// mtu is the link's MTU as reported to the core.
const mtu = 1500

// rxBufSize holds the largest frame read from the port: a VLAN-tagged
// 1500-byte payload is 1518 bytes; longer frames are dropped by the host.
const rxBufSize = 1536

// status() codes, as MicroPython's LAN (ports/stm32 eth.c) numbers them.
// Code 3 (link up with an IP address) belongs to the host's network core,
// which owns IP configuration; the driver never reports it.
const (
	StatusLinkDown   = 0 // no link (or the PHY does not answer)
	StatusLinkNoIf   = 1 // the PHY has a link but the interface is inactive
	StatusLinkActive = 2 // link up and the interface active
)

// state is where the PHY state machine stands.
type state int

const (
	stateOff       state = iota // interface inactive
	stateReset                  // BMCR.RESET written, waiting for it to clear
	stateLinkWait               // negotiating, or waiting for a cable
	stateUp                     // link up: frames move
	statePowerDown              // active with low_power: the PHY is powered down
)

func (s state) String() string {
	switch s {
	case stateOff:
		return "off"
	case stateReset:
		return "reset"
	case stateLinkWait:
		return "waiting for link"
	case stateUp:
		return "up"
	case statePowerDown:
		return "powered down"
	}
	return "state " + strconv.Itoa(int(s))
}

// Driver is the LAN driver. One value serves one plugin instance with one
// interface ("eth"); the host serialises its calls.
type Driver struct {
	env  *guest.Env
	mdio guest.MDIO
	port guest.FramePort

	addr     int    // the PHY's MDIO address, -1 until found
	addrOpt  bool   // addr comes from options.phy_addr
	phyType  string // options.phy_type, upper case; "" to auto-detect
	want     *part  // the family options.phy_type names; nil: any supported
	part     *part  // the family of the PHY found; nil until found
	mac      []byte
	lowPower bool
	trace    guest.Trace

	active  bool
	state   state
	due     time.Duration // host time of the next state-machine step
	since   time.Duration // when the current reset began
	dropped bool          // a BMSR read outside the link watch saw a latched failure
	silent  bool          // the PHY stopped answering (reads 0xffff)
	more    bool          // frames were left in the port at the end of a poll
	warm    bool          // a PHY taken over after a fault: active(True) takes its link as it is
	speed   int           // 10 or 100 while up
	full    bool          // full duplex while up
	buf     []byte
}

// A LAN interface is always connected: the driver has regs() (Caller) but
// no Connector or Scanner, so the SDK answers connect(), disconnect() and
// scan() with "not supported by LAN".
var (
	_ guest.Driver           = (*Driver)(nil)
	_ guest.Caller           = (*Driver)(nil)
	_ guest.BatchTransmitter = (*Driver)(nil)
)

// New returns a driver for one plugin instance.
func New() guest.Driver { return &Driver{} }

// Describe implements guest.Driver.
func (d *Driver) Describe() abi.Description {
	return abi.Description{
		Class: abi.ClassLAN, Name: "lan", Version: "1",
		Interfaces: []string{"eth"},
		Buses: []abi.BusNeed{
			{Name: "port", Kind: "frame"},
			{Name: "mdio", Kind: "mdio"},
		},
	}
}

// Start implements guest.Driver: it takes the buses and checks the options.
func (d *Driver) Start(env *guest.Env) error {
	d.env = env
	var err error
	if d.mdio, err = env.MDIO("mdio"); err != nil {
		return err
	}
	if d.port, err = env.FramePort("port"); err != nil {
		return err
	}
	d.mac = env.MAC(0)
	d.addr = -1
	d.buf = make([]byte, rxBufSize)
	opts := env.Info().Options
	for _, k := range abi.SortedKeys(opts) {
		switch k {
		case "phy_addr":
			n, err := abi.Int("options.phy_addr", opts[k])
			if err != nil {
				return err
			}
			if n < 0 || n > 31 {
				return abi.ValueError("options.phy_addr: %d is not an MDIO address (0..31)", n)
			}
			d.addr, d.addrOpt = int(n), true
		case "phy_type":
			s, err := abi.Str("options.phy_type", opts[k])
			if err != nil {
				return err
			}
			s = strings.ToUpper(s)
			var names []string
			for _, t := range phyTypes {
				names = append(names, t.name)
				if t.name == s {
					d.phyType, d.want = s, t.part
				}
			}
			if d.want == nil {
				return abi.ValueError("options.phy_type: %q is not supported by this driver (supported: %s)", opts[k], strings.Join(names, ", "))
			}
		default:
			return abi.ValueError("options: unknown option %q (known: phy_addr, phy_type)", k)
		}
	}
	return nil
}

func checkIface(iface int) error {
	if iface != 0 {
		return abi.ValueError("lan has one interface (0), not %d", iface)
	}
	return nil
}

// Active implements guest.Driver.
func (d *Driver) Active(iface int) bool { return iface == 0 && d.active }

// SetActive implements guest.Driver. active(True) finds the PHY, checks its
// ID and starts a soft reset; Poll does the rest. active(False) reports the
// link down and stops moving frames; the PHY is left as it is (it keeps its
// link, and status() then reports 1).
func (d *Driver) SetActive(iface int, up bool) error {
	if err := checkIface(iface); err != nil {
		return err
	}
	if up == d.active {
		return nil
	}
	if !up {
		d.active, d.warm = false, false
		d.setState(stateOff)
		d.env.WakeAfter(-1)
		return nil
	}
	if d.warm {
		return d.activateWarm()
	}
	if err := d.findPHY(); err != nil {
		return err
	}
	if err := d.reset(); err != nil {
		return err
	}
	d.active = true
	d.arm()
	return nil
}

// IsConnected implements guest.Driver: the link is up, as last polled.
func (d *Driver) IsConnected(iface int) bool {
	return iface == 0 && d.active && d.state == stateUp
}

// Status implements guest.Driver: status() is one of the Status* codes.
func (d *Driver) Status(iface int, param string) (any, error) {
	if err := checkIface(iface); err != nil {
		return nil, err
	}
	if param != "" {
		return nil, abi.ValueError("unknown status parameter %q", param)
	}
	switch {
	case d.active && d.state == stateUp:
		return StatusLinkActive, nil
	case d.active:
		return StatusLinkDown, nil
	case d.phyLink():
		return StatusLinkNoIf, nil
	}
	return StatusLinkDown, nil
}

// setState moves the state machine and tells the core when the link comes
// or goes.
func (d *Driver) setState(s state) {
	old := d.state
	d.state = s
	if old == s {
		return
	}
	if d.trace.Has(guest.TraceEvents) {
		d.env.Logf(abi.LogDebug, "lan: %v -> %v", old, s)
	}
	switch {
	case s == stateUp:
		d.env.Logf(abi.LogInfo, "lan: link up, %d Mb/s %s duplex", d.speed, duplex(d.full))
		if err := d.env.SetLink(0, true, abi.LinkEthernet, mtu); err != nil {
			d.env.Logf(abi.LogWarn, "lan: reporting link up: %v", err)
		}
	case old == stateUp:
		d.env.Logf(abi.LogInfo, "lan: link down")
		if err := d.env.SetLink(0, false, abi.LinkEthernet, mtu); err != nil {
			d.env.Logf(abi.LogWarn, "lan: reporting link down: %v", err)
		}
	}
}

// arm asks the host for the next poll of the state machine.
func (d *Driver) arm() {
	if !d.active {
		return
	}
	if d.more {
		d.env.WakeAfter(0)
		return
	}
	d.env.WakeAfter(max(d.due-d.env.Now(), 0))
}

// Poll implements guest.Driver: it advances the PHY state machine when its
// time has come, then moves the frames the port holds. Events are hints:
// every poll does both checks.
func (d *Driver) Poll(events abi.Event) error {
	var err error
	if d.active {
		if now := d.env.Now(); now >= d.due {
			err = d.step(now)
		}
	}
	if rerr := d.receive(); err == nil {
		err = rerr
	}
	d.arm()
	return err
}

func duplex(full bool) string {
	if full {
		return "full"
	}
	return "half"
}
