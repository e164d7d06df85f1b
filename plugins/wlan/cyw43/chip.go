package cyw43

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/plugins/wlan/radio"
	"periph.io/x/conn/v3/gpio"
)

// maxErrors bounds what Errors keeps; later misuse is counted.
const maxErrors = 1000

// DefaultMAC is the OTP MAC address a chip has when Options.MAC is nil: a
// fixed, locally administered unicast address.
var DefaultMAC = net.HardwareAddr{0x02, 0x43, 0x34, 0x39, 0x00, 0x01}

// Options configure a simulated CYW43439. The zero value is a lenient chip
// (misuse is logged, not recorded) with no radio environment (scans find
// nothing, joins find no network) on the wall clock.
type Options struct {
	// Strict records every misuse as an error (see Chip.Errors) as well as
	// logging it. Behaviour is the same either way.
	Strict bool
	// Logger receives misuse (Warn), state changes (Info) and traffic
	// (Debug). nil discards.
	Logger *slog.Logger
	// Radio is the radio environment the chip's station lives in. nil: a
	// chip alone (scans are empty, joins answer "no network").
	Radio *radio.Env
	// Clock times everything that takes time (boot, scans, join events).
	// nil: Radio's clock, or radio.Wall() without Radio. Tests use a
	// radio.Manual and Advance it.
	Clock radio.Clock
	// MAC is the chip's OTP MAC address (cur_etheraddr reads it after
	// power-up). nil: DefaultMAC.
	MAC net.HardwareAddr
	// APRSSI is the level (dBm, -100..-1) at which stations hear the
	// chip's access point (bsscfg 1) and, by default, the AP hears them.
	// 0: DefaultAPRSSI.
	APRSSI int
}

// Stats counts what the chip did.
type Stats struct {
	Transactions uint64 // gSPI transactions (CS assertions)
	Bytes        uint64 // bytes clocked
	PowerUps     uint64 // WL_REG_ON low -> high edges
	Boots        uint64 // firmware starts that reached HT avail
	Ioctls       uint64 // CDC requests answered
	Events       uint64 // async events queued for the host
	EventsMasked uint64 // events the event mask suppressed
	TxFrames     uint64 // Ethernet frames from the host handed to the radio
	TxDropped    uint64 // frames from the host dropped (not joined, AP down, bad BDC)
	RxFrames     uint64 // Ethernet frames from the radio queued for the host
	RxDropped    uint64 // frames from the radio dropped (queue full, not up)
	RxQueued     int    // frames (of any channel) waiting for the host now
	Misuse       uint64 // misuse noticed (strict or not)
}

// Chip is a simulated CYW43439. It implements sim.SPIDevice: plug it into
// sim.NewSPI. ON is its WL_REG_ON input, IRQ its host-wake output. It is
// safe for concurrent use.
type Chip struct {
	opts Options
	log  *slog.Logger
	clk  radio.Clock
	mac  net.HardwareAddr

	onPin  *sim.Pin
	irqPin *sim.Pin

	mu     sync.Mutex
	closed bool

	powered bool
	gen     uint64 // bumped on every power change: stale timers do nothing
	timers  map[uint64]func() bool
	timerID uint64
	irqHigh bool

	bus  busState
	tx   txn
	bp   backplane
	sd   sdpcm
	fw   firmware
	sta  *radio.Station
	todo []func() // radio calls to make once mu is released
	post []func() // events to emit after the current ioctl's response (afterReply)

	errs     []error
	errsMore int
	stats    Stats
}

var _ sim.SPIDevice = (*Chip)(nil)

// New returns a chip that is off: WL_REG_ON is low until the driver drives
// it high.
func New(o Options) *Chip {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clk := o.Clock
	if clk == nil && o.Radio != nil {
		clk = o.Radio.Clock()
	}
	if clk == nil {
		clk = radio.Wall()
	}
	mac := DefaultMAC
	if len(o.MAC) == 6 {
		mac = append(net.HardwareAddr(nil), o.MAC...)
	}
	c := &Chip{
		opts:   o,
		log:    log.With("chip", "cyw43439"),
		clk:    clk,
		mac:    mac,
		onPin:  sim.NewPin("CYW43439.WL_REG_ON", 23),
		irqPin: sim.NewPin("CYW43439.HOST_WAKE", 24),
		timers: map[uint64]func() bool{},
	}
	c.irqPin.SetLevel(gpio.Low)
	c.onPin.OnOut(c.onChanged)
	if o.Radio != nil {
		c.sta = o.Radio.NewStationLoss(mac, c.fromRadio, c.lostAP)
	}
	return c
}

// SPI returns the chip as the device of a sim.SPI (the chip itself).
func (c *Chip) SPI() sim.SPIDevice { return c }

// ON returns WL_REG_ON, the chip's power/reset input. The driver drives it
// as a GPIO output: low holds the chip off (all state is lost, the bus
// reads 0xFF and ignores writes); a low-to-high edge powers it up in
// 16-bit bus mode. Until the driver drives it, the line is taken as low.
func (c *Chip) ON() *sim.Pin { return c.onPin }

// IRQ returns the host-wake line the chip drives: high while CS is
// released and (interrupt status & interrupt enable) != 0 (F0 0x04, 0x06).
func (c *Chip) IRQ() *sim.Pin { return c.irqPin }

// Station returns the radio station the chip uses now (nil without
// Options.Radio; a new MAC address makes a new one). Tests use it to look
// at what the station did.
func (c *Chip) Station() *radio.Station {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sta
}

// MAC returns the chip's OTP MAC address.
func (c *Chip) MAC() net.HardwareAddr { return append(net.HardwareAddr(nil), c.mac...) }

// Powered reports whether WL_REG_ON is high.
func (c *Chip) Powered() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.powered
}

// Booted reports whether the firmware runs: the ARM was released with a
// valid image and HT avail has come.
func (c *Chip) Booted() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bp.htAvail
}

// Dead reports whether the ARM was released without valid firmware or
// NVRAM: the chip then never reaches HT avail until it is powered off.
func (c *Chip) Dead() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bp.dead
}

// Up reports whether the firmware is up (WLC_UP without a later WLC_DOWN).
func (c *Chip) Up() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fw.up
}

// Linked reports whether the station's join is complete (keyed, for a
// secured network): data frames flow.
func (c *Chip) Linked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fw.linkUp
}

// Country returns the country code the host set (the "country" iovar).
func (c *Chip) Country() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fw.country
}

// Stats returns the counters.
func (c *Chip) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.RxQueued = len(c.sd.rxq)
	return s
}

// Errors returns the misuse recorded so far in strict mode, oldest first.
func (c *Chip) Errors() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	errs := append([]error(nil), c.errs...)
	if c.errsMore > 0 {
		errs = append(errs, fmt.Errorf("cyw43439: %d more errors not kept", c.errsMore))
	}
	return errs
}

// Close stops the chip's timers and takes its station and its access
// point off the air (the AP's stations deauthenticated at once). The chip
// then answers like a chip that is off. It is safe to call more than
// once.
func (c *Chip) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.powerOff()
	sta := c.sta
	todo := c.takeTodo()
	c.mu.Unlock()
	runAll(todo)
	if sta != nil {
		sta.Close()
	}
	c.onPin.OnOut(nil)
}

// misuse logs a misuse and, in strict mode, records it; the message ends
// with the rule broken, in parentheses (rules.go). Caller holds mu.
func (c *Chip) misuse(rule, format string, args ...any) {
	err := fmt.Errorf("cyw43439: "+format+" ("+rule+")", args...)
	c.stats.Misuse++
	c.log.Warn("misuse", "err", err)
	if !c.opts.Strict {
		return
	}
	if len(c.errs) < maxErrors {
		c.errs = append(c.errs, err)
	} else {
		c.errsMore++
	}
}

// defer_ queues a call to make once mu is released (radio calls, which may
// call back into the chip). Caller holds mu.
func (c *Chip) later(f func()) { c.todo = append(c.todo, f) }

// takeTodo returns and clears the queued calls. Caller holds mu.
func (c *Chip) takeTodo() []func() {
	t := c.todo
	c.todo = nil
	return t
}

func runAll(fs []func()) {
	for _, f := range fs {
		f()
	}
}

// unlock releases mu and runs the calls queued meanwhile.
func (c *Chip) unlock() {
	todo := c.takeTodo()
	c.mu.Unlock()
	runAll(todo)
}

// after runs f (with mu held) once d has passed on the clock, unless the
// chip is powered off or closed first. Caller holds mu.
func (c *Chip) after(d time.Duration, f func()) {
	gen := c.gen
	c.timerID++
	id := c.timerID
	c.timers[id] = c.clk.AfterFunc(d, func() {
		c.mu.Lock()
		if _, ok := c.timers[id]; !ok || c.gen != gen || c.closed {
			c.unlock()
			return
		}
		delete(c.timers, id)
		f()
		c.unlock()
	})
}

// onChanged follows the driver's WL_REG_ON output.
func (c *Chip) onChanged(l gpio.Level) {
	c.mu.Lock()
	defer c.unlock()
	if c.closed {
		return
	}
	switch {
	case l == gpio.High && !c.powered:
		c.powerOn()
	case l == gpio.Low && c.powered:
		c.powerOff()
		c.log.Info("WL_REG_ON low: chip off")
	}
}

// powerOn puts every block in its power-on state. Caller holds mu.
func (c *Chip) powerOn() {
	c.gen++
	c.powered = true
	c.stats.PowerUps++
	c.bus.reset()
	c.tx = txn{}
	c.bp.reset()
	c.sd.reset()
	c.fw.reset(c.mac)
	if c.sta != nil && !bytes.Equal(c.sta.MAC(), c.mac) {
		c.replaceStation(c.mac) // the host had set cur_etheraddr
	}
	c.log.Info("WL_REG_ON high: chip powered up in 16-bit gSPI mode")
	c.updateIRQ()
}

// powerOff loses all state: timers stop, the station leaves its AP.
// Caller holds mu.
func (c *Chip) powerOff() {
	c.gen++
	c.powered = false
	for id, stop := range c.timers {
		stop()
		delete(c.timers, id)
	}
	c.stopFirmware()
	c.bp = backplane{} // RAM and registers are lost (powerOn rebuilds them)
	c.sd.reset()
	c.bus.reset()
	c.updateIRQ()
}

// stopFirmware ends what the firmware was doing: the station leaves its
// AP, the access point stops (its stations deauthenticated at once, no
// event to the host), the firmware state is lost. Caller holds mu.
func (c *Chip) stopFirmware() {
	c.stopAP(false)
	if c.fw.joined && c.sta != nil {
		c.later(c.sta.Leave)
	}
	c.fw.reset(c.mac)
}

// updateIRQ drives the host-wake line: high while CS is released and an
// enabled interrupt is pending. Caller holds mu.
func (c *Chip) updateIRQ() {
	high := c.powered && !c.bus.selected && c.intStatus()&c.bus.intEnable != 0
	if high != c.irqHigh {
		c.irqHigh = high
		c.irqPin.SetLevel(gpio.Level(high))
	}
}
