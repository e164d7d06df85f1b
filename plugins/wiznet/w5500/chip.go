package w5500

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/sim"
	"periph.io/x/conn/v3/gpio"
)

// Timing of the model.
const (
	// defaultRelinkDelay is Options.RelinkDelay's default: how long the PHY
	// takes to link after a PHY reset or a hardware reset. The real PHY
	// auto-negotiates for about 2 s; a short default keeps tests fast.
	defaultRelinkDelay = 2 * time.Millisecond
	// resetPulse is the shortest RSTn low pulse the datasheet allows (Trc).
	resetPulse = 500 * time.Microsecond
	// pllLock is the wait after RSTn's release before SPI access (Tpl).
	pllLock = time.Millisecond
	// maxErrors bounds what Errors keeps; later misuse is counted.
	maxErrors = 1000
)

// Options configure a simulated W5500. The zero value is a lenient chip
// (misuse is logged, not recorded) on the real clock, powered on with its
// PLL locked and its cable plugged into an all-capable partner.
type Options struct {
	// Strict records every misuse as an error (see Chip.Errors) as well as
	// logging it. Behaviour is the same either way.
	Strict bool
	// Logger receives misuse (Warn), unsupported features (Info) and
	// traffic (Debug). nil discards.
	Logger *slog.Logger
	// Now is the clock for the reset timing and the PHY relink delay (nil:
	// time.Now). It may be called from the chip's receive goroutine.
	Now func() time.Time
	// RelinkDelay is how long the PHY takes to link after PHYCFGR.RST goes
	// back to 1 or after RSTn is released (0: 2 ms).
	RelinkDelay time.Duration
	// Unpaced takes frames from the wire as fast as the port hands them
	// over instead of at 100 Mb/s: benchmarks of the driver use it so that
	// the simulated wire is not what they measure.
	Unpaced bool
}

// Stats counts what the chip did.
type Stats struct {
	Transactions uint64 // SPI frames (CS assertions)
	Bytes        uint64 // bytes clocked, header bytes included
	FramesIn     uint64 // frames stored in socket 0's RX buffer
	FramesOut    uint64 // frames transmitted by SEND
	RxDropped    uint64 // frames that passed the MAC filter but did not fit (or were over 1514 bytes)
}

// Chip is a simulated W5500. It implements sim.SPIDevice: plug it into
// sim.NewSPI. INT and RST are its interrupt output and reset input;
// Attach connects its Ethernet side. It is safe for concurrent use.
type Chip struct {
	opts Options
	log  *slog.Logger

	intPin *sim.Pin
	rstPin *sim.Pin

	attachMu sync.Mutex // serialises Attach and Close

	mu      sync.Mutex
	common  [commonSize]byte // plain storage; SIR, PHYCFGR and VERSIONR are computed
	sockets [numSockets]socket
	txMem   [memSize]byte
	rxMem   [memSize]byte
	fr      spiFrame
	out     [][]byte // frames SEND produced, written to the port after mu is released

	// Reset pin and PLL.
	inReset    bool
	resetStart time.Time
	pllLockAt  time.Time

	// PHY and cable.
	cable   bool
	phyHeld bool      // PHYCFGR.RST written 0 and not yet 1
	phyMode byte      // OPMD|OPMDC latched at the last PHY reset
	linkAt  time.Time // the PHY links at this instant (after a reset)

	intLow bool // INTn asserted

	// Torn counter reads (TearNextCounterRead).
	tearArmed bool
	held      [][]byte

	port       bus.FramePort
	wireFrames uint64 // frames read from the port (tests wait on it)
	stop       chan struct{}
	done       chan struct{}

	errs     []error
	errsMore int
	stats    Stats
}

var _ sim.SPIDevice = (*Chip)(nil)

// New returns a chip just out of power-on reset with its PLL locked, all
// registers at their reset values, the cable plugged and the link up.
func New(opts Options) *Chip {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RelinkDelay <= 0 {
		opts.RelinkDelay = defaultRelinkDelay
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Chip{
		opts:    opts,
		log:     log.With("chip", "w5500"),
		intPin:  sim.NewPin("W5500.INTn", 0),
		rstPin:  sim.NewPin("W5500.RSTn", 1),
		cable:   true,
		phyMode: phyDefault &^ phyRST,
	}
	c.intPin.SetLevel(gpio.High)
	c.rstPin.OnOut(c.rstChanged)
	c.mu.Lock()
	c.resetRegisters()
	c.mu.Unlock()
	return c
}

// INT returns the chip's INTn output: low while (IR & IMR) != 0 or
// (SIR & SIMR) != 0. Hand it to the driver as a GPIO input.
func (c *Chip) INT() *sim.Pin { return c.intPin }

// RST returns the chip's RSTn input. The driver drives it as a GPIO output:
// low holds the chip in reset, high releases it. Until the driver drives
// it, the line is taken as pulled up (the chip runs); once driven low, only
// Out(High) releases it (turning the pin into an input does not: the
// simulated line has no pull-up to follow).
func (c *Chip) RST() *sim.Pin { return c.rstPin }

// SetLink plugs (true) or unplugs (false) the cable. It takes effect at
// once: PHYCFGR.LNK follows, and while the link is down no frame is
// received and SEND transmits nothing (and raises no SEND_OK).
func (c *Chip) SetLink(up bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cable != up {
		c.log.Info("cable", "plugged", up)
	}
	c.cable = up
}

// Errors returns the misuse recorded so far in strict mode, oldest first.
// Each error names the register or offset and what was wrong.
func (c *Chip) Errors() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	errs := append([]error(nil), c.errs...)
	if c.errsMore > 0 {
		errs = append(errs, fmt.Errorf("w5500: %d more errors not kept", c.errsMore))
	}
	return errs
}

// Stats returns the counters.
func (c *Chip) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Close detaches the frame port and stops the receive goroutine. The chip
// still answers on SPI. It is safe to call more than once.
func (c *Chip) Close() { c.Attach(nil) }

// TearNextCounterRead is a test hook for the datasheet's advice to read
// 16-bit counters twice. From now on, frames that reach the chip are held
// back; right after the driver next reads S0_RX_RSR's high byte while at
// least one frame is held, the held frames are stored, so a burst read of
// S0_RX_RSR returns the old high byte with the new low byte, as a frame
// arriving mid-read does on the real chip. The hook then disarms. A reset
// discards held frames and disarms it.
func (c *Chip) TearNextCounterRead() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tearArmed = true
}

// misuse logs a misuse and, in strict mode, records it; the message ends
// with the rule broken, in parentheses (rules.go). Caller holds mu.
func (c *Chip) misuse(rule, format string, args ...any) {
	err := fmt.Errorf("w5500: "+format+" ("+rule+")", args...)
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

// now reads the clock.
func (c *Chip) now() time.Time { return c.opts.Now() }

// rstChanged follows the driver's RSTn output.
func (c *Chip) rstChanged(l gpio.Level) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if l == gpio.Low {
		if !c.inReset {
			c.inReset = true
			c.resetStart = now
			c.log.Info("RSTn low: chip held in reset")
			c.resetRegisters()
		}
		return
	}
	if !c.inReset {
		return
	}
	c.inReset = false
	if d := now.Sub(c.resetStart); d < resetPulse {
		c.misuse(ruleReset, "RSTn: low for %v, shorter than the %v the datasheet requires (Trc)", d, resetPulse)
	}
	c.resetRegisters()
	c.pllLockAt = now.Add(pllLock)
	c.phyHeld = false
	c.phyMode = phyDefault &^ phyRST
	c.linkAt = now.Add(c.opts.RelinkDelay)
	c.log.Info("RSTn released", "pll_lock", pllLock, "relink", c.opts.RelinkDelay)
}

// resetRegisters puts every register in its reset state and closes every
// socket; buffer memory keeps its contents. Caller holds mu.
func (c *Chip) resetRegisters() {
	clear(c.common[:])
	c.common[regRTR], c.common[regRTR+1] = 0x07, 0xD0
	c.common[regRCR] = 0x08
	c.common[regPTIMER] = 0x28
	c.common[regPMRU], c.common[regPMRU+1] = 0xFF, 0xFF
	c.common[regPHYCFGR] = phyDefault
	for i := range c.sockets {
		c.sockets[i].reset()
	}
	c.held = nil
	c.tearArmed = false
	c.updateINT(false)
}

// linkUp reports whether the PHY has a link now. Caller holds mu.
func (c *Chip) linkUp(now time.Time) bool {
	if !c.cable || c.inReset || c.phyHeld || now.Before(c.linkAt) {
		return false
	}
	return c.phyMode&phyOPMD == 0 || (c.phyMode&phyOPMDC)>>opmdcShift != opmdcPowDn
}

// phyStatus returns PHYCFGR's DPX, SPD and LNK bits. The partner is taken
// as all-capable, so the mode is the best one the PHY is configured for.
func (c *Chip) phyStatus(now time.Time) byte {
	if !c.linkUp(now) {
		return 0
	}
	mode := byte(0b111) // PMODE pins: all capable (guess: boards strap 111)
	if c.phyMode&phyOPMD != 0 {
		mode = (c.phyMode & phyOPMDC) >> opmdcShift
	}
	switch mode {
	case 0b000:
		return phyLNK
	case 0b001:
		return phyLNK | phyDPX
	case 0b010, 0b100:
		return phyLNK | phySPD
	}
	return phyLNK | phySPD | phyDPX
}

// sir is SIR: bit n while Sn_IR != 0.
func (c *Chip) sir() byte {
	var v byte
	for i := range c.sockets {
		if c.sockets[i].regs[snIR] != 0 {
			v |= 1 << i
		}
	}
	return v
}

// updateINT drives INTn from the interrupt registers. cleared reports that
// the driver has just cleared some interrupt bits: if others keep INTn
// asserted, the pin is released and asserted again so that an edge-
// triggered host sees a new falling edge (guess: the INTLEVEL wait of the
// real chip is not modelled, the re-assertion is immediate). Caller holds
// mu.
func (c *Chip) updateINT(cleared bool) {
	low := !c.inReset && (c.common[regIR]&c.common[regIMR] != 0 || c.sir()&c.common[regSIMR] != 0)
	switch {
	case low != c.intLow:
		c.intLow = low
		c.intPin.SetLevel(gpio.Level(!low))
	case low && cleared:
		c.intPin.SetLevel(gpio.High)
		c.intPin.SetLevel(gpio.Low)
	}
}
