// Package driver is nichost's WLAN driver for the Infineon CYW43439 (the
// Raspberry Pi Pico W's Wi-Fi chip) on its gSPI bus: MicroPython's
// network.WLAN, its station (sta, interface 0) and its access point (ap,
// interface 1) on the one chip. plugins/wlan builds it into a WASM plugin;
// the host can also run it natively (native.Load with New).
//
// active(True) on either interface powers the chip (which stays powered
// while either is active) and starts its bring-up, which Poll runs as a
// state machine: the power cycle on WL_REG_ON, the gSPI mode switch, the
// backplane clocks and cores, the firmware upload from the "firmware" blob
// (in pieces over several polls), the NVRAM, the ARM start, the CLM from
// the "clm" blob and the firmware's init ioctls. connect() starts a join
// (a directed scan for the network's security, the key, SET_SSID) whose
// outcome arrives as the firmware's events; scan() blocks for the scan, a
// second or so at most. The access point starts once the firmware runs
// (its BSS configured on bsscfg 1, then bss (1, 1)); its stations arrive
// as events, reported to the host as they change. The chip's host-wake
// line ("irq") wakes the driver when granted; without it the driver
// polls. See README.md.
package driver

import (
	"errors"
	"fmt"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/plugins/wlan/regdb"
)

// Interfaces.
const (
	ifSTA = 0
	ifAP  = 1
)

// Bus names (ABI.md 8.5).
const (
	busSPI      = "spi"
	busOn       = "on"
	busIRQ      = "irq"
	busFirmware = "firmware"
	busCLM      = "clm"
	busNVRAM    = "nvram"
)

// Poll periods.
const (
	pollBusy  = 5 * time.Millisecond  // joining or scanning without the IRQ line
	pollIdle  = 50 * time.Millisecond // idle, or the safety net beside the IRQ line
	pollReply = time.Millisecond      // an ioctl reply awaited without the IRQ line
	pollTx    = time.Millisecond      // Transmit answered busy: credit awaited
	mtu       = 1500
)

// Linux errnos beyond the ABI's table.
const (
	eOPNOTSUPP = 95
	eNOTCONN   = 107
)

// Driver is the CYW43439 driver. One value serves one plugin instance with
// two interfaces, the station (0) and the access point (1); the host
// serialises its calls.
type Driver struct {
	env    *guest.Env
	g      *gspi
	on     guest.GPIO
	irq    guest.GPIO
	hasIRQ bool
	fw     guest.Blob
	clm    guest.Blob
	nv     guest.Blob

	hasNVRAM bool

	mac   []byte // the station's
	apMAC []byte
	cfg   settings   // the station's, and the chip's (txpower, pm, antenna, trace)
	apCfg apSettings // the access point's
	rules regdb.Rules
	phy   int // network.phy_mode(): 0 never set

	staOn  bool       // the station: active(True) and not failed
	up     *bringUp   // the bring-up in progress, nil when none
	chipUp bool       // the firmware runs: F2 moves
	ready  bool       // the firmware is configured: scans and joins may start
	fault  *abi.Error // why the last bring-up failed

	ctl   ctl
	sta   station
	ap    accessPoint
	scan  *scanRun
	scans uint16 // escan sync ids handed out

	txBuf   []byte
	blocked bool // Transmit answered busy: poll soon
	more    bool // frames were left in the chip: poll at once
}

var (
	_ guest.Driver           = (*Driver)(nil)
	_ guest.Connector        = (*Driver)(nil)
	_ guest.Scanner          = (*Driver)(nil)
	_ guest.Caller           = (*Driver)(nil)
	_ guest.BatchTransmitter = (*Driver)(nil)
)

// New returns a driver for one plugin instance.
func New() guest.Driver { return &Driver{cfg: defaultSettings, apCfg: defaultAPSettings} }

// Describe implements guest.Driver.
func (d *Driver) Describe() abi.Description {
	return abi.Description{
		Class: abi.ClassWLAN, Name: "cyw43439", Version: "1",
		Interfaces: []string{"sta", "ap"},
		Buses: []abi.BusNeed{
			{Name: busSPI, Kind: abi.BusSPI},
			{Name: busOn, Kind: abi.BusGPIO},
			{Name: busIRQ, Kind: abi.BusGPIO, Optional: true},
			{Name: busFirmware, Kind: abi.BusBlob},
			{Name: busCLM, Kind: abi.BusBlob},
			{Name: busNVRAM, Kind: abi.BusBlob, Optional: true},
		},
		Features: []string{"country", "phy_mode"},
	}
}

// Start implements guest.Driver: it takes the grants and holds the chip
// off until active(True).
func (d *Driver) Start(env *guest.Env) error {
	d.env = env
	spi, err := env.SPI(busSPI)
	if err != nil {
		return err
	}
	d.g = newGSPI(spi)
	if d.on, err = env.GPIO(busOn); err != nil {
		return err
	}
	if d.fw, err = env.Blob(busFirmware); err != nil {
		return err
	}
	if d.clm, err = env.Blob(busCLM); err != nil {
		return err
	}
	if d.hasNVRAM = env.Granted(busNVRAM); d.hasNVRAM {
		if d.nv, err = env.Blob(busNVRAM); err != nil {
			return err
		}
	}
	if len(env.Info().Options) > 0 {
		return abi.ValueError("options: the cyw43439 driver has none (%v given); its settings are config() parameters", abi.SortedKeys(env.Info().Options))
	}
	d.mac, d.apMAC = env.MAC(ifSTA), env.MAC(ifAP)
	d.rules, err = regdb.Lookup(env.Info().Country)
	if err != nil {
		env.Logf(abi.LogWarn, "cyw43439: network.country() %q: %v; using the worldwide rules", env.Info().Country, err)
		d.rules, _ = regdb.Lookup(regdb.Worldwide)
	}
	if m := env.Info().PhyMode; m >= 1 && m <= 3 {
		d.phy = m
	}
	d.txBuf = make([]byte, unitLen(sdpcmDataHdr+bdcHeader+abi.MaxFrame))
	d.ctl.reset()
	// Hold the chip off: whatever an earlier instance left running stops.
	if err := d.on.Write(false); err != nil {
		return fmt.Errorf("cyw43439: driving WL_REG_ON low: %w", err)
	}
	if d.hasIRQ = env.Granted(busIRQ); d.hasIRQ {
		if d.irq, err = env.GPIO(busIRQ); err != nil {
			return err
		}
		if err := d.irq.Watch(abi.EdgeRising); err != nil {
			return fmt.Errorf("cyw43439: watching the host-wake line: %w", err)
		}
	}
	return nil
}

func checkIface(iface int) error {
	if iface != ifSTA && iface != ifAP {
		return abi.ValueError("cyw43439 has two interfaces, sta (0) and ap (1), not %d", iface)
	}
	return nil
}

// errStation is an access point's answer to a station's method.
func errStation(what string) error {
	return abi.OSError(eOPNOTSUPP, "cyw43439: %s on the access point (ap): it is the station's (sta)", what)
}

// powered reports whether the chip is (to be) powered: either interface
// is active.
func (d *Driver) powered() bool { return d.staOn || d.ap.on }

// Active implements guest.Driver.
func (d *Driver) Active(iface int) bool {
	if iface == ifAP {
		return d.ap.on
	}
	return iface == ifSTA && d.staOn
}

// SetActive implements guest.Driver. active(True) checks the blobs and
// starts the bring-up if the chip is off; active(False) ends what the
// interface does, and powers the chip off once neither is active.
func (d *Driver) SetActive(iface int, up bool) error {
	if err := checkIface(iface); err != nil {
		return err
	}
	if iface == ifAP {
		return d.setAPActive(up)
	}
	if up == d.staOn {
		return nil
	}
	if !up {
		d.leave(statusIdle)
		d.staOn = false
		d.powerDownIdle()
		return nil
	}
	return d.activate()
}

// activate makes the station active, powering the chip if it is off.
func (d *Driver) activate() error {
	if err := d.powerUp(); err != nil {
		return err
	}
	d.staOn = true
	d.arm()
	return nil
}

// powerUp checks the blobs and starts the bring-up, unless the chip is
// already powered for the other interface.
func (d *Driver) powerUp() error {
	if d.powered() {
		return nil
	}
	b := &bringUp{}
	if err := d.checkBlobs(b); err != nil {
		d.fault = err.(*abi.Error)
		return err
	}
	d.fault = nil
	d.startBringUp(b)
	return nil
}

// powerDownIdle powers the chip off when neither interface is active.
func (d *Driver) powerDownIdle() {
	if d.powered() {
		d.arm()
		return
	}
	d.powerDown()
	d.env.WakeAfter(-1)
}

// powerDown drives WL_REG_ON low and forgets the chip's state; both
// interfaces are inactive.
func (d *Driver) powerDown() {
	if err := d.on.Write(false); err != nil {
		d.env.Logf(abi.LogWarn, "cyw43439: driving WL_REG_ON low: %v", err)
	}
	if d.ap.on {
		d.apForget()
		d.ap.on, d.ap.phase = false, apDown
	}
	d.ap.fwUp = false
	d.staOn, d.up, d.chipUp, d.ready = false, nil, false, false
	d.ctl.reset()
	d.scan = nil
	d.blocked, d.more = false, false
}

// IsConnected implements guest.Driver: the station is joined (associated,
// and keyed on a secured network); the access point's BSS runs with a
// station associated.
func (d *Driver) IsConnected(iface int) bool {
	if iface == ifAP {
		return d.ap.on && d.ap.phase == apUp && len(d.ap.stations) > 0
	}
	return iface == ifSTA && d.staOn && d.sta.phase == phaseJoined
}

// Poll implements guest.Driver.
func (d *Driver) Poll(abi.Event) error {
	err := d.work()
	d.arm()
	return err
}

// work advances everything that is due: the bring-up, the chip's frames,
// the control queue, the join, the access point's start and their timers.
func (d *Driver) work() error {
	if !d.powered() {
		return nil
	}
	if d.up != nil {
		d.advanceBringUp()
	}
	if !d.chipUp {
		return nil
	}
	more, err := d.service()
	d.more = more
	if err != nil {
		return d.chipFailed(err)
	}
	if d.powered() && d.chipUp {
		if err := d.pump(d.env.Now()); err != nil {
			return d.chipFailed(err)
		}
	}
	if d.powered() {
		d.stationTimers(d.env.Now())
		d.scanTimers(d.env.Now())
		d.apTimers(d.env.Now())
	}
	return nil
}

// chipFailed handles a bus error once the chip runs: logged, and the
// driver goes on (the next poll tries again).
func (d *Driver) chipFailed(err error) error {
	d.env.Logf(abi.LogWarn, "cyw43439: %v", err)
	return nil
}

// runUntil does the work of polls until cond holds or the host's clock
// reaches until, sleeping a little in between: for the calls that wait
// within themselves (scan(), status('rssi'), status('stations')). It reports whether cond
// held.
func (d *Driver) runUntil(cond func() bool, until time.Duration) bool {
	for {
		d.work()
		if cond() {
			return true
		}
		now := d.env.Now()
		if now >= until || !d.powered() {
			return cond()
		}
		if d.pause(min(2*time.Millisecond, until-now)) != nil {
			return cond() // the call's deadline is near
		}
	}
}

// pause sleeps for t (at most 10 ms) within a call.
func (d *Driver) pause(t time.Duration) error { return d.env.Sleep(t) }

// arm asks for the next timer poll.
func (d *Driver) arm() {
	if !d.powered() {
		return
	}
	now := d.env.Now()
	next := now + pollIdle
	if !d.hasIRQ && (d.sta.busy() || d.scan != nil) {
		next = now + pollBusy
	}
	if d.up != nil {
		next = min(next, max(d.up.at, now))
	}
	if d.chipUp {
		if d.more {
			next = now
		}
		if d.ctl.cur != nil {
			wait := pollReply
			if d.hasIRQ {
				wait = 10 * time.Millisecond
			}
			next = min(next, now+wait, d.ctl.cur.sentAt+ioctlExpiry)
		} else if len(d.ctl.queue) > 0 {
			t := now
			if d.ctl.holdAt != 0 {
				t = max(now, d.ctl.holdAt)
			} else if !d.ctl.hasCredit() {
				t = now + pollReply
			}
			next = min(next, t)
		}
		if d.blocked {
			next = min(next, now+pollTx)
		}
		if t, ok := d.sta.nextTimer(); ok {
			next = min(next, max(t, now))
		}
		if d.scan != nil {
			next = min(next, max(d.scan.deadline, now))
		}
		if t, ok := d.ap.nextTimer(); ok {
			next = min(next, max(t, now))
		}
	}
	d.env.WakeAfter(next - now)
}

// event logs a line when config(trace=...) includes TraceEvents.
func (d *Driver) event(format string, a ...any) {
	if d.cfg.trace.Has(guest.TraceEvents) {
		d.env.Logf(abi.LogDebug, "cyw43439: "+format, a...)
	}
}

// onReady runs when the bring-up finished: a join asked for meanwhile
// starts, and so does the access point if it is active.
func (d *Driver) onReady() {
	d.env.Logf(abi.LogInfo, "cyw43439: firmware up (%s rules, channels %v)", d.rules.Country, d.rules.Channels)
	if d.sta.phase == phaseWaitChip {
		d.startJoin()
	}
	if d.ap.on {
		d.apStart()
	}
}

// notReady is the error of a call that needs the firmware running.
func (d *Driver) notReady(what string) error {
	if d.fault != nil {
		return &abi.Error{Kind: d.fault.Kind, Errno: d.fault.Errno, Msg: what + ": " + d.fault.Msg}
	}
	if !d.staOn {
		return abi.OSError(abi.EPERM, "cyw43439: %s: the station is not active", what)
	}
	return abi.OSError(abi.EAGAIN, "cyw43439: %s: the chip is still starting (the firmware upload takes a moment); try again", what)
}

// asError keeps an *abi.Error and wraps anything else as an OSError EIO.
func asError(err error) *abi.Error {
	var e *abi.Error
	if errors.As(err, &e) {
		return e
	}
	return abi.OSError(abi.EIO, "cyw43439: %v", err)
}
