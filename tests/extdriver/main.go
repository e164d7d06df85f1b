// Command extdriver is a LAN driver plugin for nichost, written as a driver
// author outside the nichost repository writes one: its own Go module, only
// nichost's public packages (the SDK abi/guest and package abi), and
// nichost's conformance suite run from its own `go test`. See README.md.
//
// The device is an Ethernet MAC whose frames move through a granted frame
// port ("port"), with a clause-22 PHY such as a LAN8720 at address 1 of a
// granted MDIO bus ("mdio"). No call into a plugin may block, so the PHY is
// a state machine that Poll advances: active(True) starts a soft reset and
// returns; Poll sees the reset finish, starts auto-negotiation, then watches
// the link every linkPoll and tells the network core when it comes and goes.
// The host builds it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o extdriver.wasm .
package main

import (
	"slices"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

func init() { guest.Register(newDriver()) }

func main() {}

// Clause 22 registers and bits (IEEE 802.3 22.2.4) that the driver uses.
const (
	phyAddr = 1 // the PHY's MDIO address (the LAN8720's PHYAD strap)

	regBMCR   = 0 // basic control
	regBMSR   = 1 // basic status
	regPHYID1 = 2 // PHY identifier; 0xffff when no PHY answers

	bmcrReset     = 1 << 15 // soft reset; reads 1 until done
	bmcrANEnable  = 1 << 12 // auto-negotiation on
	bmcrPowerDown = 1 << 11 // power down: no link
	bmcrANRestart = 1 << 9  // start a new negotiation; self-clearing

	bmsrANComplete = 1 << 5
	bmsrLink       = 1 << 2 // latching low: read twice for the current state
)

// Timing of the PHY state machine.
const (
	resetPoll    = 2 * time.Millisecond   // look at BMCR.RESET this often
	resetTimeout = 500 * time.Millisecond // IEEE 802.3 allows 0.5 s, then reset again
	linkPoll     = 25 * time.Millisecond  // look at BMSR this often while active
)

// status() codes of MicroPython's network.LAN.
const (
	statusLinkDown = 0 // no link
	statusLinkIdle = 1 // link up, interface inactive
	statusActive   = 2 // link up, interface active

	mtu      = 1500
	maxFrame = 1536 // a VLAN-tagged full-size frame fits
	rxBatch  = 32   // frames moved per poll before yielding to the host
)

// phase is where the PHY state machine stands.
type phase int

const (
	phaseOff   phase = iota // inactive: the PHY is left as it is
	phaseReset              // BMCR.RESET written, waiting for it to clear
	phaseRun                // negotiating or linked: BMSR is watched
)

// driver serves one plugin instance with one interface, "eth" (index 0,
// the only index the host passes). The host serialises its calls.
type driver struct {
	env  *guest.Env
	port guest.FramePort
	mdio guest.MDIO
	mac  []byte
	buf  []byte

	phase    phase
	due      time.Duration // host time of the next PHY step
	resetAt  time.Duration // when the running soft reset began
	link     bool          // the link as last reported to the core
	lowPower bool          // config(low_power=True): the PHY is powered down
	trace    guest.Trace   // config(trace=...) flags
}

// The class's methods beyond guest.Driver: regs() (guest.Caller).
var _ guest.Caller = (*driver)(nil)

// regNames are the clause-22 registers regs() returns.
var regNames = []string{"bmcr", "bmsr", "phyid1", "phyid2", "anar", "anlpar", "aner"}

// Call answers call("regs"): the PHY's registers 0 to 6 by name.
func (d *driver) Call(_ int, name string, a guest.Args) (any, error) {
	if name != "regs" {
		return nil, guest.NoMethod(abi.ClassLAN, name)
	}
	if err := a.Takes("regs", 0); err != nil {
		return nil, err
	}
	out := map[string]any{}
	for i, n := range regNames {
		v, err := d.mdio.Read(phyAddr, i)
		if err != nil {
			return nil, err
		}
		out[n] = int64(v)
	}
	return out, nil
}

// newDriver returns the driver of one instance. A LAN interface is always
// connected: without a guest.Connector or a guest.Scanner, the SDK answers
// connect(), disconnect() and scan() with NotImplementedError "... is not
// supported by LAN".
func newDriver() guest.Driver { return &driver{} }

// Describe declares the class, the interface and the two buses.
func (d *driver) Describe() abi.Description {
	return abi.Description{
		Class: abi.ClassLAN, Name: "extdriver", Version: "1",
		Interfaces: []string{"eth"},
		Buses:      []abi.BusNeed{{Name: "port", Kind: abi.BusFrame}, {Name: "mdio", Kind: abi.BusMDIO}},
	}
}

// Start takes the granted buses and the host-assigned MAC. The driver has
// no options, so any option is a mistake in the operator's configuration.
func (d *driver) Start(env *guest.Env) (err error) {
	d.env, d.mac, d.buf = env, env.MAC(0), make([]byte, maxFrame)
	if opts := env.Info().Options; len(opts) > 0 {
		return abi.ValueError("options: unknown option %q (extdriver takes none)", abi.SortedKeys(opts)[0])
	}
	if d.port, err = env.FramePort("port"); err != nil {
		return err
	}
	d.mdio, err = env.MDIO("mdio")
	return err
}

func (d *driver) Active(int) bool      { return d.phase != phaseOff }
func (d *driver) IsConnected(int) bool { return d.phase == phaseRun && d.link }

// SetActive starts a soft reset of the PHY (active(True)) or stops moving
// frames and reports the link down (active(False)). It never waits: Poll
// does the rest.
func (d *driver) SetActive(_ int, up bool) error {
	if up == d.Active(0) {
		return nil
	}
	if !up {
		d.phase = phaseOff
		d.env.WakeAfter(-1)
		return d.setLink(false)
	}
	id, err := d.mdio.Read(phyAddr, regPHYID1)
	if err != nil {
		return err
	}
	if id == 0xffff {
		return abi.OSError(abi.ETIMEDOUT, "no PHY answers at MDIO address %d", phyAddr)
	}
	if err := d.mdio.Write(phyAddr, regBMCR, bmcrReset); err != nil {
		return err
	}
	d.phase, d.resetAt, d.due = phaseReset, d.env.Now(), d.env.Now()+resetPoll
	d.env.WakeAfter(resetPoll)
	return nil
}

// Status answers status(): 2 while active with a link, 0 while active
// without one; while inactive it asks the PHY whether the cable has a link.
func (d *driver) Status(_ int, param string) (any, error) {
	if param != "" {
		return nil, abi.ValueError("unknown status parameter %q (LAN has none)", param)
	}
	switch {
	case d.IsConnected(0):
		return statusActive, nil
	case d.Active(0):
		return statusLinkDown, nil
	}
	_, bmsr, err := d.readBMSR()
	if err != nil || bmsr&bmsrLink == 0 {
		return statusLinkDown, err
	}
	return statusLinkIdle, nil
}

// readBMSR reads BMSR twice: the latched value, whose link bit is 0 if the
// link failed since the last read, and the current one. An absent PHY
// (0xffff, the bus pull-up) reads as all bits clear.
func (d *driver) readBMSR() (latched, now uint16, err error) {
	if latched, err = d.mdio.Read(phyAddr, regBMSR); err == nil {
		now, err = d.mdio.Read(phyAddr, regBMSR)
	}
	if err != nil || latched == 0xffff || now == 0xffff {
		return 0, 0, err
	}
	return latched, now, nil
}

// configParams are the config() parameters.
const configParams = "mac, low_power, trace"

// ConfigGet answers config('mac'), config('low_power') and config('trace').
func (d *driver) ConfigGet(_ int, name string) (any, error) {
	switch name {
	case "mac":
		return slices.Clone(d.mac), nil
	case "low_power":
		return d.lowPower, nil
	case "trace":
		return int64(d.trace), nil
	}
	return nil, abi.ValueError("unknown config parameter %q (LAN has: %s)", name, configParams)
}

// ConfigSet checks every key before it applies any. The host has already
// checked that a mac is 6 bytes and made it the interface's address.
func (d *driver) ConfigSet(_ int, kv map[string]any) error {
	var (
		mac      []byte
		lowPower *bool
		trace    *guest.Trace
	)
	for _, k := range abi.SortedKeys(kv) {
		var err error
		switch k {
		case "mac":
			mac, err = abi.MAC(k, kv[k])
		case "low_power":
			var b bool
			b, err = abi.Bool(k, kv[k])
			lowPower = &b
		case "trace":
			var t guest.Trace
			t, err = guest.ParseTrace(kv[k])
			trace = &t
		default:
			err = abi.ValueError("unknown config parameter %q (LAN has: %s)", k, configParams)
		}
		if err != nil {
			return err
		}
	}
	if lowPower != nil && *lowPower != d.lowPower {
		if err := d.setLowPower(*lowPower); err != nil {
			return err
		}
	}
	if mac != nil {
		d.mac = mac
	}
	if trace != nil {
		d.trace = *trace
	}
	return nil
}

// setLowPower powers the PHY down (no link) or up again, negotiating anew.
func (d *driver) setLowPower(on bool) error {
	if on {
		if err := d.mdio.Write(phyAddr, regBMCR, bmcrPowerDown); err != nil {
			return err
		}
		d.lowPower = true
		return d.setLink(false)
	}
	if err := d.mdio.Write(phyAddr, regBMCR, bmcrANEnable|bmcrANRestart); err != nil {
		return err
	}
	d.lowPower = false
	d.due = d.env.Now()
	if d.Active(0) {
		d.env.WakeAfter(0)
	}
	return nil
}

// Poll advances the PHY state machine when its time has come and moves the
// frames the port holds to the core. The events are only hints (a frame
// arrived, a timer ran out): every poll does both, then asks for the next.
func (d *driver) Poll(abi.Event) error {
	err := d.stepPHY()
	more, rerr := d.receive()
	switch {
	case more:
		d.env.WakeAfter(0)
	case d.Active(0):
		d.env.WakeAfter(max(d.due-d.env.Now(), 0))
	}
	if err == nil {
		err = rerr
	}
	return err
}

// stepPHY makes one step of the PHY state machine if it is due.
func (d *driver) stepPHY() error {
	now := d.env.Now()
	if !d.Active(0) || now < d.due {
		return nil
	}
	d.due = now + linkPoll
	if d.phase == phaseReset {
		bmcr, err := d.mdio.Read(phyAddr, regBMCR)
		switch {
		case err != nil:
			return err
		case bmcr&bmcrReset == 0: // done: negotiate
			d.phase = phaseRun
			return d.mdio.Write(phyAddr, regBMCR, bmcrANEnable|bmcrANRestart)
		case now-d.resetAt > resetTimeout:
			d.env.Logf(abi.LogWarn, "extdriver: PHY still in reset after %v; resetting again", now-d.resetAt)
			d.resetAt = now
			return d.mdio.Write(phyAddr, regBMCR, bmcrReset)
		}
		d.due = now + resetPoll
		return nil
	}
	latched, bmsr, err := d.readBMSR()
	if err != nil {
		return err
	}
	// A link that failed since the last look is reported down even if it
	// is back already, so that the core renews its lease.
	if latched&bmsrLink == 0 {
		if err := d.setLink(false); err != nil {
			return err
		}
	}
	return d.setLink(bmsr&(bmsrLink|bmsrANComplete) == bmsrLink|bmsrANComplete)
}

// setLink reports a change of the link to the core.
func (d *driver) setLink(up bool) error {
	if up == d.link {
		return nil
	}
	d.link = up
	state := "down"
	if up {
		state = "up"
	}
	d.env.Logf(abi.LogInfo, "extdriver: link %s", state)
	return d.env.SetLink(0, up, abi.LinkEthernet, mtu)
}

// receive hands up to rxBatch frames from the port to the core, dropping
// them while there is no link, and reports whether more may be waiting.
func (d *driver) receive() (more bool, err error) {
	for range rxBatch {
		n, err := d.port.Read(d.buf)
		if err != nil || n == 0 {
			return err != nil, err // after an error (a frame too long, dropped), look again
		}
		if d.IsConnected(0) {
			if err := d.env.Deliver(0, d.buf[:n]); err != nil {
				return true, err
			}
		}
	}
	return true, nil
}

// Transmit sends a frame. Without a link it is refused with EAGAIN, which
// the host counts as dropped (ABI.md §9): holding it with a busy answer
// would keep it for a cable that may stay out for hours.
func (d *driver) Transmit(_ int, frame []byte) error {
	if !d.IsConnected(0) {
		return abi.OSError(abi.EAGAIN, "extdriver: no link; frame dropped")
	}
	return d.port.Write(frame)
}
