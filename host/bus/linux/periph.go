package linux

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/host/v3"
	"periph.io/x/host/v3/gpioioctl"
	"periph.io/x/host/v3/sysfs"

	"github.com/nichost/nichost/host/bus"
)

// initHost runs periph's host.Init once, on first use of a real bus.
var initHost = sync.OnceValue(func() error {
	if _, err := host.Init(); err != nil {
		return fmt.Errorf("bus: periph host init: %w", err)
	}
	return nil
})

// OpenSPI opens a Linux spidev device through periph's sysfs driver and
// connects it with the configured speed, mode and word size. The conn
// splits a transaction the kernel would refuse as too long (spidev's
// bufsiz, 4096 bytes by default) at its chip-select releases (see
// spiConn). The caller owns the returned io.Closer and closes it when done
// with the conn; after that the conn's calls return bus.ErrClosed.
func OpenSPI(cfg SPIConfig) (spi.Conn, io.Closer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	// Stat first for a clean, matchable error (fs.ErrNotExist) naming the path.
	if _, err := os.Stat(cfg.Device); err != nil {
		return nil, nil, fmt.Errorf("bus: spi: %w", err)
	}
	if err := initHost(); err != nil {
		return nil, nil, err
	}
	b, cs := cfg.busCS()
	port, err := sysfs.NewSPI(b, cs)
	if err != nil {
		return nil, nil, fmt.Errorf("bus: spi: %s: %w", cfg.Device, err)
	}
	c, err := connectSPI(port, cfg)
	if err != nil {
		return nil, nil, err
	}
	return c, c, nil
}

// OpenGPIO returns one line of a Linux GPIO character device, through
// periph's gpioioctl driver. The returned pin follows the GPIO contract
// (negative WaitForEdge timeout waits without limit, Halt stops a waiter) and
// also implements io.Closer, which releases the line.
func OpenGPIO(cfg GPIOConfig) (gpio.PinIO, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := initHost(); err != nil {
		return nil, err
	}
	var names []string
	for _, c := range gpioioctl.Chips {
		names = append(names, c.Name())
		if cfg.Chip != c.Name() && cfg.Chip != c.Path() && cfg.Chip != c.Label() {
			continue
		}
		if l := c.ByName(cfg.Line); l != nil {
			return newLinePin(l, l.Close), nil
		}
		if n, err := strconv.Atoi(cfg.Line); err == nil && n >= 0 && n < c.LineCount() {
			l := c.ByNumber(n)
			return newLinePin(l, l.Close), nil
		}
		return nil, fmt.Errorf("bus: gpio: chip %s has no line named %q and no offset %s (it has %d lines)", cfg.Chip, cfg.Line, cfg.Line, c.LineCount())
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("bus: gpio: chip %q not found: no bus.GPIO chip on this host", cfg.Chip)
	}
	return nil, fmt.Errorf("bus: gpio: chip %q not found (found %s)", cfg.Chip, strings.Join(names, ", "))
}

// linePin adapts a GPIO line (gpioioctl's, on a real chip) to the GPIO
// contract: gpioioctl treats a timeout of 0 as "forever" and loses a Halt
// that lands just before a wait starts, so linePin waits in bounded slices
// and keeps Halt sticky until the next In. After Close the line is
// released for good: In and Out return bus.ErrClosed, Read reads Low and
// WaitForEdge returns false, where gpioioctl would request the line from
// the kernel again.
type linePin struct {
	gpio.PinIO
	release func() // gives the line back to the kernel
	halted  atomic.Bool
	closed  atomic.Bool
	edge    atomic.Int32 // gpio.Edge set by the last In
}

var (
	_ gpio.PinIO = (*linePin)(nil)
	_ io.Closer  = (*linePin)(nil)
)

func newLinePin(l gpio.PinIO, release func()) *linePin {
	return &linePin{PinIO: l, release: release}
}

// waitSlice bounds one kernel wait, hence how late a lost Halt is noticed.
const waitSlice = 100 * time.Millisecond

func (p *linePin) In(pull gpio.Pull, edge gpio.Edge) error {
	if p.closed.Load() {
		return fmt.Errorf("bus: gpio: %s: in: %w", p.Name(), bus.ErrClosed)
	}
	p.edge.Store(int32(edge))
	p.halted.Store(false)
	if err := p.PinIO.In(pull, edge); err != nil {
		return fmt.Errorf("bus: gpio: %s: in: %w", p.Name(), err)
	}
	return nil
}

func (p *linePin) Out(l gpio.Level) error {
	if p.closed.Load() {
		return fmt.Errorf("bus: gpio: %s: out: %w", p.Name(), bus.ErrClosed)
	}
	if err := p.PinIO.Out(l); err != nil {
		return fmt.Errorf("bus: gpio: %s: out: %w", p.Name(), err)
	}
	return nil
}

func (p *linePin) Read() gpio.Level {
	if p.closed.Load() {
		return gpio.Low
	}
	return p.PinIO.Read()
}

func (p *linePin) Halt() error {
	p.halted.Store(true)
	if p.closed.Load() {
		return nil
	}
	return p.PinIO.Halt()
}

func (p *linePin) WaitForEdge(timeout time.Duration) bool {
	if gpio.Edge(p.edge.Load()) == gpio.NoEdge {
		return false
	}
	deadline := time.Now().Add(timeout)
	for !p.halted.Load() {
		step := waitSlice
		if timeout >= 0 {
			// At least 1ms: a deadline already past would skip queued edges.
			step = max(min(step, time.Until(deadline)), time.Millisecond)
		}
		start := time.Now()
		if p.PinIO.WaitForEdge(step) {
			return true
		}
		if timeout >= 0 && !time.Now().Before(deadline) {
			return false
		}
		if time.Since(start) < step/2 {
			return false // failed early: not a timeout, so not worth retrying
		}
	}
	return false
}

// Close halts a waiter and releases the line; it is safe to call more
// than once.
func (p *linePin) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	p.halted.Store(true)
	err := p.PinIO.Halt()
	p.release()
	if err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("bus: gpio: %s: %w", p.Name(), err)
	}
	return nil
}
