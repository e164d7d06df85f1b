// Package grant holds the buses an operator granted to a plugin, behind the
// small integer handles the plugin sees: opening them from the config,
// checking their kind, watching GPIO edges, and releasing them.
package grant

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/linux"
	"github.com/nichost/nichost/host/config"
)

// Grant is one bus the operator granted to a plugin, behind the handle the
// plugin sees. Grants outlive plugin instances: a restarted instance gets the
// same handles and the same open buses. Exactly one of the bus fields is set,
// the one of Kind.
type Grant struct {
	Name   string
	Handle uint32
	Kind   bus.Kind

	SPI   spi.Conn
	Pin   gpio.PinIO
	UART  bus.UART
	Frame bus.FramePort
	MDIO  bus.MDIO
	Blob  bus.Blob

	closer func() error // releases what the grant opened (nil for shared sim buses)

	// GPIO edge watching.
	watchMu  sync.Mutex
	watching gpio.Edge
	edges    atomic.Int32
	stopped  chan struct{}
}

// New wraps a bus object, checking that it is of the kind the grant names.
func New(name string, kind bus.Kind, obj any) (*Grant, error) {
	g := &Grant{Name: name, Kind: kind}
	ok := false
	switch kind {
	case bus.KindSPI:
		g.SPI, ok = obj.(spi.Conn)
	case bus.KindGPIO:
		g.Pin, ok = obj.(gpio.PinIO)
	case bus.KindUART:
		g.UART, ok = obj.(bus.UART)
	case bus.KindFrame:
		g.Frame, ok = obj.(bus.FramePort)
	case bus.KindMDIO:
		g.MDIO, ok = obj.(bus.MDIO)
	case bus.KindBlob:
		if b, isBytes := obj.([]byte); isBytes {
			obj = bytesBlob{bytes.NewReader(b)}
		}
		g.Blob, ok = obj.(bus.Blob)
	default:
		return nil, fmt.Errorf("unknown bus kind %q", kind)
	}
	if !ok {
		return nil, fmt.Errorf("bus %q is granted as %s, but what it names is %s", name, kind, describeBus(obj))
	}
	return g, nil
}

// Watch makes the pin an input reporting edges, and (re)starts the goroutine
// that counts them and wakes the plugin. A watcher already running is
// stopped first: In makes its pending WaitForEdge return, so each call
// (a restarted instance calls it again) gets a fresh watcher.
func (g *Grant) Watch(edge gpio.Edge, notify func()) error {
	g.watchMu.Lock()
	defer g.watchMu.Unlock()
	g.stopWatcher()
	if err := g.Pin.In(gpio.PullNoChange, edge); err != nil {
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
		for g.Pin.WaitForEdge(-1) {
			g.edges.Add(1)
			notify()
		}
	}()
	return nil
}

// stopWatcher halts the watcher goroutine, if any, and waits for it
// (caller holds watchMu).
func (g *Grant) stopWatcher() {
	if g.stopped == nil {
		return
	}
	g.Pin.Halt()
	<-g.stopped
	g.stopped = nil
}

// Close stops the edge watcher and releases what the grant opened.
func (g *Grant) Close() error {
	g.watchMu.Lock()
	g.stopWatcher()
	g.watchMu.Unlock()
	if g.UART != nil {
		g.UART.Notify(nil)
	}
	if g.Frame != nil {
		g.Frame.Notify(nil)
	}
	if g.closer != nil {
		return g.closer()
	}
	return nil
}

// Errno maps a bus error to the negated errno the plugin sees.
func Errno(err error) int32 {
	switch {
	case errors.Is(err, bus.ErrReadOnly):
		return -abi.EPERM
	case errors.Is(err, bus.ErrFrameTooLong):
		return -abi.EMSGSIZE
	case errors.Is(err, bus.ErrFrameTooShort):
		return -abi.EINVAL
	case errors.Is(err, bus.ErrFull):
		return -abi.ENOBUFS
	default:
		return -abi.EIO
	}
}

// Open opens the bus of a validated grant named name and wraps it: a
// simulated bus from sims (by the grant's sim: name), or a real Linux
// device, which Close releases. The caller sets Handle.
func Open(name string, bg config.BusGrant, sims map[string]any) (*Grant, error) {
	obj, closer, err := open(bg, name, sims)
	if err != nil {
		return nil, err
	}
	g, err := New(name, bus.Kind(bg.Kind), obj)
	if err != nil {
		if closer != nil {
			closer()
		}
		return nil, err
	}
	g.closer = closer
	return g, nil
}

// Edges returns how many edges the watcher counted since the last call,
// and starts counting again.
func (g *Grant) Edges() int32 { return g.edges.Swap(0) }

// open returns the bus object of a validated grant with a function that
// releases it (nil for a shared simulated bus).
func open(g config.BusGrant, name string, sims map[string]any) (any, func() error, error) {
	if g.Sim != "" {
		obj, ok := sims[g.Sim]
		if !ok {
			have := "none"
			if len(sims) > 0 {
				have = strings.Join(slices.Sorted(maps.Keys(sims)), ", ")
			}
			return nil, nil, fmt.Errorf("buses.%s: no simulated bus named %q in this host (it has: %s)", name, g.Sim, have)
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
	case g.File != "":
		b, err := openFileBlob(g.File)
		if err != nil {
			return nil, nil, fmt.Errorf("buses.%s: %w", name, err)
		}
		return b, b.f.Close, nil
	}
	return nil, nil, fmt.Errorf("buses.%s: nothing to open", name)
}

// bytesBlob is a blob held in memory ([]byte granted as a simulated bus).
type bytesBlob struct{ *bytes.Reader }

// fileBlob is a blob read from a file. Its size is taken when it is
// opened: a file that grows later shows no more bytes, one that shrinks
// reads short.
type fileBlob struct {
	f    *os.File
	size int64
}

func openFileBlob(path string) (*fileBlob, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("blob %s is not a regular file", path)
	}
	return &fileBlob{f: f, size: st.Size()}, nil
}

func (b *fileBlob) Size() int64 { return b.size }

func (b *fileBlob) ReadAt(p []byte, off int64) (int, error) {
	if off >= b.size {
		return 0, io.EOF
	}
	if rest := b.size - off; int64(len(p)) > rest {
		p = p[:rest]
	}
	return b.f.ReadAt(p, off)
}

// describeBus names the kind of a bus object for an error message.
func describeBus(obj any) string {
	switch obj.(type) {
	case spi.Conn:
		return "an SPI device"
	case gpio.PinIO:
		return "a GPIO line"
	case bus.UART:
		return "a UART"
	case bus.FramePort:
		return "a frame port"
	case bus.MDIO:
		return "an MDIO bus"
	case bus.Blob, []byte:
		return "a blob"
	}
	return fmt.Sprintf("a %T, which is no bus", obj)
}
