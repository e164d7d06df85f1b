// Package conformance is the AbstractNIC conformance suite: the checks a
// driver plugin of a class must pass on its simulated device, attached to
// a simulated LAN with a router (simnet). `nichost test DIR --sim NAME`
// runs it with Run and prints a line per check; a plugin's own tests run it
// with conformancetest.Test, which keeps package testing out of this one
// (and out of the CLI).
package conformance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/spi"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/simnet"
)

// Config says what to test.
type Config struct {
	Source string // the plugin: a Go source directory or a .wasm file
	Class  string // its class
	// Device wires the plugin's simulated device to the suite's LAN (for
	// example plugins/lan/landev.Conformance, or Model.Conformance of
	// simnet/devices). The suite hands the host the device's SPI and MDIO
	// buses behind a gate of its own, which can hold the driver in a bus
	// access while a check queues frames (see gate); the other buses go
	// as they are.
	Device func(lan *simnet.Router) (*simnet.Device, error)
	// Timeout bounds each check that waits for the device (default 20 s);
	// loading the plugin, which may build it, is bounded by Run's context
	// alone.
	Timeout time.Duration
	Logger  *slog.Logger
	// Engine is the host's WebAssembly engine (host.Options.Engine): ""
	// for $NICHOST_ENGINE or the default.
	Engine string
}

// PluginName is the name the suite loads the plugin under: the host's log
// lines for it carry the attribute plugin=PluginName.
const PluginName = "dut"

// maxCPUShare is the plugin's cpu_share under test: the most the host
// allows, so that the host never throttles it.
const maxCPUShare = 64

// Result is the outcome of one check.
type Result struct {
	Name string
	// Section is the heading of abi/ABI.md whose rule the check tests,
	// e.g. "8.2 WIZNET5K".
	Section  string
	Err      error // nil: passed
	Skipped  string
	Duration time.Duration
}

// env is what checks work with.
type env struct {
	cfg    Config
	lan    *simnet.Router
	dev    *simnet.Device
	h      *host.Host
	plugin *host.Plugin
	nic    *host.NIC
	// gate holds the plugin's goroutine in a bus access while a check
	// queues frames (see gate).
	gate *gate
	// apStation is the station that joined the WLAN access point, until
	// the check that makes it leave.
	apStation *simnet.Station
}

// Run runs the suite for cfg.Class, calling report after each check. A
// check during which the device recorded misuse fails with a MisuseError,
// whatever else it saw: a driver that breaks the part's datasheet does not
// pass on a simulator that forgives it.
func Run(ctx context.Context, cfg Config, report func(Result)) ([]Result, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 20 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	checks, ok := suites[cfg.Class]
	if !ok {
		return nil, fmt.Errorf("conformance: no suite for class %q yet", cfg.Class)
	}
	if cfg.Device == nil {
		return nil, errors.New("conformance: no simulated device (Config.Device)")
	}
	lan, err := simnet.NewRouter(simnet.Options{Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	defer lan.Close()
	dev, err := cfg.Device(lan)
	if err != nil {
		return nil, fmt.Errorf("conformance: simulated device: %w", err)
	}
	if dev.Close != nil {
		defer dev.Close()
	}
	g := &gate{}
	h, err := host.New(host.Options{Logger: cfg.Logger, Hostname: "conformance", Buses: g.wrap(dev), Engine: cfg.Engine})
	if err != nil {
		return nil, err
	}
	defer h.Close()
	e := &env{cfg: cfg, lan: lan, dev: dev, h: h, gate: g}
	defer func() {
		if e.apStation != nil {
			e.apStation.Close()
		}
	}()
	var results []Result
	var seen misuseSeen // misuse already blamed on a check
	for _, c := range checks {
		start := time.Now()
		r := Result{Name: c.name, Section: c.section}
		if e.nic == nil && c.name != loadCheck {
			r.Skipped = "the plugin did not load"
		} else {
			cctx, cancel := ctx, context.CancelFunc(func() {})
			if c.name != loadCheck {
				cctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
			}
			r.Err = c.run(cctx, e)
			cancel()
			if r.Err != nil && c.name == loadCheck {
				r.Section = loadSection(r.Err)
			}
			if m := e.misuse(&seen); m != nil && r.Err == nil {
				r.Err = m
			} else if m != nil {
				r.Err = fmt.Errorf("%w; and %w", r.Err, m)
			}
		}
		r.Duration = time.Since(start)
		results = append(results, r)
		if report != nil {
			report(r)
		}
	}
	return results, nil
}

// Failed reports whether any check failed.
func Failed(rs []Result) bool {
	for _, r := range rs {
		if r.Err != nil {
			return true
		}
	}
	return false
}

var errTimeout = errors.New("timed out")

// MisuseError fails a check during which the simulated device recorded
// misuse (simnet.Device.Misuse): the driver broke a rule of the part's
// datasheet, which each error names, even if what the check looked at
// came out right.
type MisuseError struct {
	Misuse []error
}

// maxMisuseShown is how many of a check's misuse errors its FAIL line
// quotes.
const maxMisuseShown = 3

func (m *MisuseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the driver misused the simulated device (%d time(s)): ", len(m.Misuse))
	for i, err := range m.Misuse[:min(len(m.Misuse), maxMisuseShown)] {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(err.Error())
	}
	if n := len(m.Misuse) - maxMisuseShown; n > 0 {
		fmt.Fprintf(&b, "; and %d more", n)
	}
	return b.String()
}

// Unwrap returns the misuse errors.
func (m *MisuseError) Unwrap() []error { return m.Misuse }

// misuseSeen is how far the misuse a device recorded has been blamed: how
// many errors, and the text of the last. A simulator keeps a bounded list
// and then one line counting what it did not keep, which changes as more
// misuse comes while the list's length does not.
type misuseSeen struct {
	n    int
	last string
}

// misuse returns the device's misuse recorded since *seen (nil: none) and
// moves *seen past it.
func (e *env) misuse(seen *misuseSeen) error {
	if e.dev.Misuse == nil {
		return nil
	}
	all := e.dev.Misuse()
	if len(all) == 0 {
		return nil
	}
	last := all[len(all)-1].Error()
	var fresh []error
	switch {
	case len(all) > seen.n:
		fresh = all[seen.n:]
	case len(all) == seen.n && last != seen.last:
		fresh = all[len(all)-1:] // only the count of what was not kept moved
	default:
		return nil
	}
	*seen = misuseSeen{len(all), last}
	return &MisuseError{Misuse: fresh}
}

// gate can hold the plugin's goroutine inside the driver's next access to
// an SPI or MDIO bus of the device, until the check that armed it releases
// it. Every call into a plugin instance runs on that goroutine and the
// host offers queued frames after each one, so frames queued while it is
// held wait in the host's queue until it is released, and are then offered
// as batches (nic_transmit_batch): the burst check uses this to offer
// batches of many frames whatever the speed of the machine.
type gate struct {
	mu      sync.Mutex
	held    chan struct{} // closed by the access that waits; nil: not armed
	release chan struct{}
}

// wrap returns dev's simulated buses with every SPI and MDIO bus behind g.
func (g *gate) wrap(dev *simnet.Device) map[string]any {
	sims := make(map[string]any, len(dev.Sims))
	for name, obj := range dev.Sims {
		sims[name] = obj
	}
	for _, grant := range dev.Buses {
		obj, ok := sims[grant.Sim]
		if !ok {
			continue
		}
		switch b := obj.(type) {
		case *gatedSPI, *gatedMDIO: // granted twice
		case spi.Conn:
			if bus.Kind(grant.Kind) == bus.KindSPI {
				sims[grant.Sim] = &gatedSPI{Conn: b, g: g}
			}
		case bus.MDIO:
			if bus.Kind(grant.Kind) == bus.KindMDIO {
				sims[grant.Sim] = &gatedMDIO{MDIO: b, g: g}
			}
		}
	}
	return sims
}

// arm makes the next bus access wait: held is closed once one does, and
// release lets it go on (or disarms the gate if none came). Call release
// in every case; calls after the first do nothing.
func (g *gate) arm() (held <-chan struct{}, release func()) {
	h, r := make(chan struct{}), make(chan struct{})
	g.mu.Lock()
	g.held, g.release = h, r
	g.mu.Unlock()
	return h, sync.OnceFunc(func() {
		g.mu.Lock()
		if g.held == h {
			g.held, g.release = nil, nil
		}
		g.mu.Unlock()
		close(r)
	})
}

// pass is called before every bus access.
func (g *gate) pass() {
	g.mu.Lock()
	h, r := g.held, g.release
	g.held, g.release = nil, nil
	g.mu.Unlock()
	if h != nil {
		close(h)
		<-r
	}
}

// gatedSPI is an SPI bus behind a gate.
type gatedSPI struct {
	spi.Conn
	g *gate
}

func (s *gatedSPI) Tx(w, r []byte) error {
	s.g.pass()
	return s.Conn.Tx(w, r)
}

func (s *gatedSPI) TxPackets(p []spi.Packet) error {
	s.g.pass()
	return s.Conn.TxPackets(p)
}

// gatedMDIO is an MDIO bus behind a gate.
type gatedMDIO struct {
	bus.MDIO
	g *gate
}

func (m *gatedMDIO) ReadReg(phy, reg uint8) (uint16, error) {
	m.g.pass()
	return m.MDIO.ReadReg(phy, reg)
}

func (m *gatedMDIO) WriteReg(phy, reg uint8, v uint16) error {
	m.g.pass()
	return m.MDIO.WriteReg(phy, reg, v)
}
