package host

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/linux"
	"github.com/nichost/nichost/host/config"
)

// grant is one bus the operator granted to a plugin, behind the handle the
// plugin sees. Grants outlive plugin instances: a restarted instance gets the
// same handles and the same open buses.
type grant struct {
	name   string
	handle uint32
	kind   bus.Kind

	spi   spi.Conn
	pin   gpio.PinIO
	uart  bus.UART
	frame bus.FramePort
	mdio  bus.MDIO

	closer func() error // releases what the grant opened (nil for shared sim buses)

	// GPIO edge watching.
	watchMu  sync.Mutex
	watching gpio.Edge
	edges    atomic.Int32
	stopped  chan struct{}
}

// newGrant wraps a bus object, checking that it is of the kind the grant
// names.
func newGrant(name string, kind bus.Kind, obj any) (*grant, error) {
	g := &grant{name: name, kind: kind}
	ok := false
	switch kind {
	case bus.KindSPI:
		g.spi, ok = obj.(spi.Conn)
	case bus.KindGPIO:
		g.pin, ok = obj.(gpio.PinIO)
	case bus.KindUART:
		g.uart, ok = obj.(bus.UART)
	case bus.KindFrame:
		g.frame, ok = obj.(bus.FramePort)
	case bus.KindMDIO:
		g.mdio, ok = obj.(bus.MDIO)
	default:
		return nil, fmt.Errorf("unknown bus kind %q", kind)
	}
	if !ok {
		return nil, fmt.Errorf("bus %q: a %T is not a %s bus", name, obj, kind)
	}
	return g, nil
}

// watch makes the pin an input reporting edges, and (re)starts the goroutine
// that counts them and wakes the plugin. A watcher already running is
// stopped first: In makes its pending WaitForEdge return, so each call
// (a restarted instance calls it again) gets a fresh watcher.
func (g *grant) watch(edge gpio.Edge, notify func()) error {
	g.watchMu.Lock()
	defer g.watchMu.Unlock()
	g.stopWatcher()
	if err := g.pin.In(gpio.PullNoChange, edge); err != nil {
		return err
	}
	g.edges.Store(0)
	g.watching = edge
	if edge == gpio.NoEdge {
		return nil
	}
	stopped := make(chan struct{})
	g.stopped = stopped
	go func() {
		defer close(stopped)
		for g.pin.WaitForEdge(-1) {
			g.edges.Add(1)
			notify()
		}
	}()
	return nil
}

// stopWatcher halts the watcher goroutine, if any, and waits for it
// (caller holds watchMu).
func (g *grant) stopWatcher() {
	if g.stopped == nil {
		return
	}
	g.pin.Halt()
	<-g.stopped
	g.stopped = nil
}

// close stops the edge watcher and releases what the grant opened.
func (g *grant) close() error {
	g.watchMu.Lock()
	g.stopWatcher()
	g.watchMu.Unlock()
	if g.uart != nil {
		g.uart.Notify(nil)
	}
	if g.frame != nil {
		g.frame.Notify(nil)
	}
	if g.closer != nil {
		return g.closer()
	}
	return nil
}

// busErrno maps a bus error to the errno the plugin sees.
func busErrno(err error) int32 {
	switch {
	case errors.Is(err, bus.ErrReadOnly):
		return -abi.EPERM
	case errors.Is(err, bus.ErrFrameTooLong):
		return -abi.EMSGSIZE
	default:
		return -abi.EIO
	}
}

// openBus returns the bus object of a validated grant: a simulated bus from
// sims, or a real Linux device, with a function that releases it.
func openBus(g config.BusGrant, name string, sims map[string]any) (any, func() error, error) {
	if g.Sim != "" {
		obj, ok := sims[g.Sim]
		if !ok {
			return nil, nil, fmt.Errorf("buses.%s: no simulated bus named %q in this host", name, g.Sim)
		}
		return obj, nil, nil
	}
	switch {
	case g.SPI != nil:
		c, closer, err := linux.OpenSPI(*g.SPI)
		if err != nil {
			return nil, nil, err
		}
		return c, closer.Close, nil
	case g.GPIO != nil:
		p, err := linux.OpenGPIO(*g.GPIO)
		if err != nil {
			return nil, nil, err
		}
		if c, ok := p.(io.Closer); ok {
			return p, c.Close, nil // releases the line
		}
		return p, p.Halt, nil
	case g.UART != nil:
		u, err := linux.OpenUART(*g.UART)
		if err != nil {
			return nil, nil, err
		}
		return u, u.Close, nil
	case g.MDIO != nil:
		m, err := linux.OpenMDIO(*g.MDIO)
		if err != nil {
			return nil, nil, err
		}
		var closer func() error
		if c, ok := m.(io.Closer); ok {
			closer = c.Close
		}
		return m, closer, nil
	case g.TAP != nil:
		t, err := linux.OpenTAP(*g.TAP)
		if err != nil {
			return nil, nil, err
		}
		return t, t.Close, nil
	case g.Packet != nil:
		p, err := linux.OpenPacket(*g.Packet)
		if err != nil {
			return nil, nil, err
		}
		return p, p.Close, nil
	}
	return nil, nil, fmt.Errorf("buses.%s: nothing to open", name)
}
