package host

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/build"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/internal/engine"
	"github.com/nichost/nichost/host/sign"
)

// Options configure a Host.
type Options struct {
	// CacheDir holds built plugins and the engine's compiled modules
	// (build.DefaultCacheDir() when empty).
	CacheDir string
	// Engine is the WebAssembly engine the host runs plugins on: "wazero"
	// (pure Go, the default) or "wasmtime" (only in a nichost built with
	// -tags wasmtime, which needs cgo and gcc). When empty, the
	// environment variable NICHOST_ENGINE decides, else "wazero"; a name
	// this build does not have fails New.
	Engine string
	// Logger receives the host's and the plugins' log lines
	// (slog.Default() when nil).
	Logger *slog.Logger
	// Progress, if set, receives one line before slow steps (building a
	// plugin, a cold compile), so a person waiting knows why.
	Progress func(msg string)
	// Buses are simulated (or already opened) buses that grants name with
	// sim: NAME: spi.Conn, gpio.PinIO, bus.UART, bus.FramePort or bus.MDIO
	// values, and bus.Blob or []byte for blobs.
	Buses map[string]any
	// Limits are the defaults for plugins that do not set their own; zero
	// fields take config.DefaultLimits.
	Limits config.Limits
	// Hostname is network.hostname()'s initial value ("nichost" when
	// empty); Country is network.country()'s ("XX" when empty). The
	// hostname is sent with DHCP requests.
	Hostname string
	Country  string
	// Signatures, if not nil, is what the host demands of every module it
	// loads or reloads (package sign): a signature by one of its keys, and
	// source directories only if it allows them. SetSignatures changes it.
	Signatures *sign.Policy
}

// Host holds plugins, their NICs and the module-level state of
// MicroPython's network module.
type Host struct {
	opts    Options
	log     *slog.Logger
	epoch   time.Time
	engine  engine.Engine
	warm    warmModules // compiled modules kept after their plugins closed (warm.go)
	builder *build.Builder
	core    *core.Stack

	mu      sync.Mutex
	plugins map[string]*Plugin
	names   map[string]bool   // plugin names taken, loaded or loading
	claims  map[string]string // bus claim key -> plugin holding it
	g       globals

	closed atomic.Bool // set as Close begins
	// ipMu serialises network.ipconfig(...)'s read-modify-write of the
	// globals (and the loads adding their dns: servers), so that no update
	// is lost.
	ipMu sync.Mutex
	// macSem serialises config(mac=...) across NICs (a one-slot
	// semaphore, so a waiter can give up with its ctx): the check that no
	// other NIC has the MAC and the change happen as one.
	macSem chan struct{}

	events events // Subscribe's fan-out (events.go)

	signatures atomic.Pointer[sign.Policy] // Options.Signatures, SetSignatures
}

// New makes a host.
func New(opts Options) (*Host, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CacheDir == "" {
		opts.CacheDir = build.DefaultCacheDir()
	}
	if err := opts.Limits.Validate(); err != nil {
		return nil, fmt.Errorf("host: limits: %w", err)
	}
	opts.Limits = opts.Limits.Or(config.DefaultLimits)
	g := globals{hostname: "nichost", country: "XX", dns: []string{}, prefer: 4}
	if opts.Hostname != "" {
		if err := config.CheckHostname(opts.Hostname); err != nil {
			return nil, fmt.Errorf("host: hostname: %w", err)
		}
		g.hostname = opts.Hostname
	}
	if opts.Country != "" {
		c, err := config.CheckCountry(opts.Country)
		if err != nil {
			return nil, fmt.Errorf("host: country: %w", err)
		}
		g.country = c
	}
	fromEnv := opts.Engine == ""
	if fromEnv {
		opts.Engine = os.Getenv(EngineEnv)
	}
	if err := os.MkdirAll(opts.CacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("host: cache: %w", err)
	}
	eng, err := engine.Open(opts.Engine, opts.CacheDir)
	if err != nil {
		if fromEnv {
			return nil, fmt.Errorf("host: $%s: %w", EngineEnv, err)
		}
		return nil, fmt.Errorf("host: %w", err)
	}
	h := &Host{
		opts:    opts,
		log:     opts.Logger,
		epoch:   time.Now(),
		engine:  eng,
		builder: &build.Builder{CacheDir: filepath.Join(opts.CacheDir, "plugins"), Progress: opts.Progress},
		plugins: map[string]*Plugin{},
		names:   map[string]bool{},
		claims:  map[string]string{},
		g:       g,
		macSem:  make(chan struct{}, 1),
	}
	h.core = core.New(core.Options{Hostname: h.Hostname, Logger: opts.Logger.With("part", "core"), OnLease: h.leaseEvent})
	h.signatures.Store(opts.Signatures)
	return h, nil
}

// SetSignatures replaces the signature policy (Options.Signatures) for the
// loads and reloads that begin after it; nil demands none. The plugins
// running keep running.
func (h *Host) SetSignatures(p *sign.Policy) { h.signatures.Store(p) }

// EngineEnv is the environment variable that picks the engine of every
// Host whose Options.Engine is empty: NICHOST_ENGINE=wasmtime runs a test
// suite, or a program, on wasmtime without changing its code.
const EngineEnv = "NICHOST_ENGINE"

// Engine is the name of the WebAssembly engine the host runs its plugins
// on ("wazero", "wasmtime").
func (h *Host) Engine() string { return h.engine.Name() }

// Engines lists the engine names Options.Engine accepts, the default
// first; a build without the wasmtime tag refuses "wasmtime" with an
// error saying how to build it.
func Engines() []string { return engine.Names() }

// build.Builder is the host's plugin builder (its cache lives in the host's
// cache directory).
func (h *Host) Builder() *build.Builder { return h.builder }

// Plugin returns a loaded plugin by name.
func (h *Host) Plugin(name string) (*Plugin, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p, ok := h.plugins[name]
	return p, ok
}

// Plugins lists the loaded plugins by name.
func (h *Host) Plugins() []*Plugin {
	h.mu.Lock()
	defer h.mu.Unlock()
	ps := make([]*Plugin, 0, len(h.plugins))
	for _, p := range h.plugins {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b *Plugin) int { return strings.Compare(a.cfg.Name, b.cfg.Name) })
	return ps
}

// NICs lists every NIC of every plugin.
func (h *Host) NICs() []*NIC {
	var nics []*NIC
	for _, p := range h.Plugins() {
		nics = append(nics, p.NICs()...)
	}
	return nics
}

// NIC finds a NIC by name.
func (h *Host) NIC(name string) (*NIC, bool) {
	for _, n := range h.NICs() {
		if n.name == name {
			return n, true
		}
	}
	return nil, false
}

// Close stops every plugin, the TCP/IP core and releases the caches. After
// Close every method of the Host, its Plugins and NICs that has an error
// result returns ErrClosed (Close too); those without one report the last
// known value or nothing.
func (h *Host) Close() error {
	h.mu.Lock() // a load lists its plugin under h.mu, after checking closed
	already := h.closed.Swap(true)
	h.mu.Unlock()
	if already {
		return h.errClosed("close")
	}
	for _, p := range h.Plugins() {
		p.Close()
	}
	h.events.closeAll() // after the plugins' last events
	h.core.Close()
	h.warm.closeAll()
	return h.engine.Close(context.Background())
}

// errClosed is ErrClosed for operation op once the host is closed, else
// nil.
func (h *Host) errClosed(op string) error {
	if h.closed.Load() {
		return fmt.Errorf("host: %s: %w", op, ErrClosed)
	}
	return nil
}

// Dial connects through the NIC the route to address picks (see NIC.Dial).
func (h *Host) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	if err := h.errClosed("dial"); err != nil {
		return nil, err
	}
	return h.core.Dial(ctx, network, address)
}

// Listen listens for TCP connections on every NIC.
func (h *Host) Listen(network, address string) (net.Listener, error) {
	if err := h.errClosed("listen"); err != nil {
		return nil, err
	}
	return h.core.Listen(network, address)
}

// ListenPacket opens a UDP socket on every NIC.
func (h *Host) ListenPacket(network, address string) (net.PacketConn, error) {
	if err := h.errClosed("listen"); err != nil {
		return nil, err
	}
	return h.core.ListenPacket(network, address)
}

// Ping sends one ICMP or ICMPv6 echo request and returns the round-trip
// time.
func (h *Host) Ping(ctx context.Context, addr netip.Addr, size int) (time.Duration, error) {
	if err := h.errClosed("ping"); err != nil {
		return 0, err
	}
	return h.core.Ping(ctx, addr, size)
}

// LookupHost resolves a name through the configured DNS servers (static
// ones first, then those learnt by DHCP or PPP), the preferred family
// (ipconfig(prefer=...)) first.
func (h *Host) LookupHost(ctx context.Context, name string) ([]string, error) {
	if err := h.errClosed("lookup " + name); err != nil {
		return nil, err
	}
	return h.core.LookupHost(ctx, name)
}
