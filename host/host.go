package host

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/build"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/internal/engine"
)

// Options configure a Host.
type Options struct {
	// CacheDir holds built plugins and wazero's compilation cache
	// (build.DefaultCacheDir() when empty).
	CacheDir string
	// Logger receives the host's and the plugins' log lines
	// (slog.Default() when nil).
	Logger *slog.Logger
	// Progress, if set, receives one line before slow steps (building a
	// plugin, a cold compile), so a person waiting knows why.
	Progress func(msg string)
	// Buses are simulated (or already opened) buses that grants name with
	// sim: NAME: spi.Conn, gpio.PinIO, bus.UART, bus.FramePort or bus.MDIO
	// values.
	Buses map[string]any
	// Limits are the defaults for plugins that do not set their own; zero
	// fields take config.DefaultLimits.
	Limits config.Limits
	// Hostname is network.hostname()'s initial value ("nichost" when
	// empty); Country is network.country()'s ("XX" when empty). The
	// hostname is sent with DHCP requests.
	Hostname string
	Country  string
}

// Host holds plugins, their NICs and the module-level state of
// MicroPython's network module.
type Host struct {
	opts    Options
	log     *slog.Logger
	epoch   time.Time
	cache   *engine.Cache
	builder *build.Builder
	core    *core.Stack

	mu      sync.Mutex
	plugins map[string]*Plugin
	names   map[string]bool   // plugin names taken, loaded or loading
	claims  map[string]string // bus claim key -> plugin holding it
	g       globals
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
	wdir := filepath.Join(opts.CacheDir, "wazero")
	if err := os.MkdirAll(wdir, 0o755); err != nil {
		return nil, fmt.Errorf("host: cache: %w", err)
	}
	cache, err := engine.NewCache(wdir)
	if err != nil {
		return nil, err
	}
	h := &Host{
		opts:    opts,
		log:     opts.Logger,
		epoch:   time.Now(),
		cache:   cache,
		builder: &build.Builder{CacheDir: filepath.Join(opts.CacheDir, "plugins"), Progress: opts.Progress},
		plugins: map[string]*Plugin{},
		names:   map[string]bool{},
		claims:  map[string]string{},
		g:       g,
	}
	h.core = core.New(core.Options{Hostname: h.Hostname, Logger: opts.Logger.With("part", "core")})
	return h, nil
}

// build.Builder is the host's plugin builder (its cache lives in the host's
// cache directory).
func (h *Host) Builder() *build.Builder { return h.builder }

// LoadInfo says how a plugin's module was obtained.
type LoadInfo struct {
	Build         *build.Result // set when the source was a Go directory
	Compile       time.Duration // compiling the module (fast when wazero's cache had it)
	CompileCached bool          // wazero's disk cache already held this module
	Start         time.Duration // instantiating, the handshake and nic_start
}

// Load builds (or takes from the cache) and compiles the plugin, checks its
// ABI version, its description against the config and the grants, starts it
// and registers its NICs. Any failure leaves the host as it was.
func (h *Host) Load(ctx context.Context, cfg config.PluginConfig) (*Plugin, LoadInfo, error) {
	var info LoadInfo
	if err := cfg.Validate(); err != nil {
		return nil, info, &PluginError{Plugin: cfg.Name, Op: "load", Err: err}
	}
	limits := cfg.Limits.Or(h.opts.Limits)
	m, err := h.prepare(ctx, cfg.Name, cfg.Source, limits, &info)
	if err != nil {
		return nil, info, &PluginError{Plugin: cfg.Name, Op: "load", Err: err}
	}
	p, err := h.start(cfg, limits, m.newInstance, m.release, &info)
	if err != nil {
		return nil, info, &PluginError{Plugin: cfg.Name, Op: "load", Err: err}
	}
	return p, info, nil
}

// module is a compiled plugin ready to be instantiated.
type module struct {
	newInstance func(context.Context, *session) (engine.Instance, error)
	release     func()
}

// prepare builds (if source is a directory) and compiles a module in a
// runtime of its own with the plugin's memory limit.
func (h *Host) prepare(ctx context.Context, name, source string, limits config.Limits, info *LoadInfo) (*module, error) {
	wasmPath := source
	if st, err := os.Stat(source); err != nil {
		return nil, fmt.Errorf("source: %w", err)
	} else if st.IsDir() {
		res, err := h.builder.Build(ctx, source)
		if err != nil {
			return nil, err
		}
		info.Build, wasmPath = &res, res.Path
	}
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	rt, err := engine.NewRuntime(ctx, h.cache, uint64(limits.MemoryLimit))
	if err != nil {
		return nil, err
	}
	// Whether wazero's disk cache had the module shows afterwards: a miss
	// stores a new file there. A person waiting is told why after a moment.
	before := countFiles(filepath.Join(h.opts.CacheDir, "wazero"))
	t0 := time.Now()
	var slow *time.Timer
	if h.opts.Progress != nil {
		slow = time.AfterFunc(300*time.Millisecond, func() {
			h.opts.Progress(fmt.Sprintf("compiling plugin %s (the first time takes about a second; cached afterwards)...", name))
		})
	}
	mod, err := rt.Compile(ctx, wasm)
	if slow != nil {
		slow.Stop()
	}
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("%w: %v", ErrBadModule, err)
	}
	info.Compile = time.Since(t0)
	info.CompileCached = countFiles(filepath.Join(h.opts.CacheDir, "wazero")) == before
	return &module{
		newInstance: func(ctx context.Context, s *session) (engine.Instance, error) {
			return mod.Instantiate(ctx, s, func(line string) { s.p.log.Debug("plugin output", "line", line) })
		},
		release: func() {
			ctx := context.Background()
			mod.Close(ctx)
			rt.Close(ctx)
		},
	}, nil
}

// Reload replaces the plugin's module with the one built from source (a Go
// directory or a .wasm file) without dropping its NICs: the new module must
// declare the same class and interfaces, gets the same grants and MAC
// addresses, and is brought to the state callers asked for. If it fails to
// start, the old module is started again and the error returned.
func (p *Plugin) Reload(ctx context.Context, source string) (LoadInfo, error) {
	var info LoadInfo
	m, err := p.h.prepare(ctx, p.cfg.Name, source, p.limits, &info)
	if err != nil {
		return info, &PluginError{Plugin: p.cfg.Name, Op: "reload", Err: err}
	}
	ran := false
	defer func() {
		if !ran { // the plugin closed or ctx ended before the swap ran
			m.release()
		}
	}()
	_, err = p.doAlways(ctx, "reload", func() (any, error) {
		ran = true
		oldInst, oldRelease := p.newInstance, p.release
		p.discard()
		p.newInstance, p.release = m.newInstance, m.release
		t0 := time.Now()
		if err := p.startInstance(false); err != nil {
			p.discard()
			p.newInstance, p.release = oldInst, oldRelease
			m.release()
			if rerr := p.tryStart(); rerr != nil {
				err = fmt.Errorf("%w (and the previous module failed to start again: %v; retrying after back-off)", err, rerr)
			}
			return nil, err
		}
		info.Start = time.Since(t0)
		if oldRelease != nil {
			oldRelease()
		}
		p.cfg.Source = source
		p.setState(func(s *PluginState) { s.Reloads++ })
		p.log.Info("plugin reloaded", "source", source)
		return nil, nil
	})
	return info, err
}

// LoadNative runs a plugin compiled into the host instead of a WASM module:
// the same ABI calls, grants, supervision and NICs, without the sandbox (no
// memory limit, and a looping driver cannot be interrupted). It is the
// baseline of the WASM-versus-native benchmarks and a debugging aid.
// newExports is called for every instance with the host's side of the ABI
// for it; package host/native adapts a Go SDK driver to it.
func (h *Host) LoadNative(ctx context.Context, cfg config.PluginConfig, newExports func(abi.Imports) abi.Exports) (*Plugin, error) {
	if cfg.Source == "" {
		cfg.Source = "native"
	}
	if err := cfg.Validate(); err != nil {
		return nil, &PluginError{Plugin: cfg.Name, Op: "load", Err: err}
	}
	newInst := func(_ context.Context, s *session) (engine.Instance, error) {
		return engine.NewNative(newExports(s)), nil
	}
	var info LoadInfo
	p, err := h.start(cfg, cfg.Limits.Or(h.opts.Limits), newInst, nil, &info)
	if err != nil {
		return nil, &PluginError{Plugin: cfg.Name, Op: "load", Err: err}
	}
	return p, nil
}

// start opens the grants, starts the first instance and registers the
// plugin. On failure everything it opened is released.
func (h *Host) start(cfg config.PluginConfig, limits config.Limits, newInst func(context.Context, *session) (engine.Instance, error), release func(), info *LoadInfo) (*Plugin, error) {
	p := &Plugin{
		h: h, cfg: cfg, limits: limits,
		log:         h.log.With("plugin", cfg.Name),
		newInstance: newInst,
		release:     release,
		reqs:        make(chan func()),
		ctrl:        make(chan func()),
		wakeCh:      make(chan struct{}, 1),
		quit:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	p.state.Store(&PluginState{})
	cleanup := func() {
		for _, g := range p.grants {
			g.close()
		}
		if release != nil {
			release()
		}
	}
	if err := h.reserve(cfg); err != nil {
		cleanup()
		return nil, err
	}
	if err := p.openGrants(h.opts.Buses); err != nil {
		cleanup()
		h.unreserve(cfg)
		return nil, err
	}
	t0 := time.Now()
	if err := p.startInstance(true); err != nil {
		p.discard()
		p.removeNICs()
		cleanup()
		h.unreserve(cfg)
		return nil, err
	}
	info.Start = time.Since(t0)
	h.mu.Lock()
	h.plugins[cfg.Name] = p
	h.mu.Unlock()
	go p.run()
	p.log.Info("plugin loaded", "class", p.desc.Class, "driver", p.desc.Name, "nics", len(p.nics))
	return p, nil
}

// openGrants opens every granted bus in name order, so handles are stable.
func (p *Plugin) openGrants(sims map[string]any) error {
	names := make([]string, 0, len(p.cfg.Buses))
	for name := range p.cfg.Buses {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		bg := p.cfg.Buses[name]
		obj, closer, err := openBus(bg, name, sims)
		if err != nil {
			return err
		}
		g, err := newGrant(name, bus.Kind(bg.Kind), obj)
		if err != nil {
			if closer != nil {
				closer()
			}
			return err
		}
		g.closer = closer
		g.handle = uint32(len(p.grants) + 1)
		switch {
		case g.uart != nil:
			g.uart.Notify(func() { p.notify(abi.EventUART) })
		case g.frame != nil:
			g.frame.Notify(func() { p.notify(abi.EventFrame) })
		}
		p.grants = append(p.grants, g)
	}
	return nil
}

// makeNICs creates the plugin's NICs from its first description, each
// with its interface in the TCP/IP core (an IP-only link for PPP, Ethernet
// for the other classes).
func (p *Plugin) makeNICs() error {
	kind := core.LinkEthernet
	if p.desc.Class == abi.ClassPPP {
		kind = core.LinkIP
	}
	for i, iface := range p.desc.Interfaces {
		name := p.cfg.Name
		if len(p.desc.Interfaces) > 1 {
			name += "." + iface
		}
		n := &NIC{p: p, index: i, iface: iface, name: name, mac: p.macFor(iface)}
		cn, err := p.h.core.AddNIC(name, n.mac, kind, n.Transmit)
		if err != nil {
			p.removeNICs()
			return err
		}
		n.core, n.link = cn, cn
		n.rx = newRxQueue(n)
		p.nics = append(p.nics, n)
	}
	return nil
}

// removeNICs takes the plugin's interfaces out of the core.
func (p *Plugin) removeNICs() {
	for _, n := range p.nics {
		n.rx.close()
		n.core.Remove()
	}
	p.nics = nil
}

// macFor is the configured MAC of an interface, or the derived one.
func (p *Plugin) macFor(iface string) net.HardwareAddr {
	if ic, ok := p.cfg.Interfaces[iface]; ok && ic.MAC != "" {
		if mac, err := config.ParseMAC(ic.MAC); err == nil {
			return mac
		}
	}
	return DeriveMAC(p.cfg.Name, iface)
}

func (h *Host) forget(p *Plugin) {
	h.mu.Lock()
	if h.plugins[p.cfg.Name] == p {
		delete(h.plugins, p.cfg.Name)
	}
	h.mu.Unlock()
	h.unreserve(p.cfg)
}

// reserve claims a plugin name and every bus its config grants, so that no
// two plugins (and no two grants of one plugin) drive the same bus.
func (h *Host) reserve(cfg config.PluginConfig) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.names[cfg.Name] {
		return fmt.Errorf("a plugin named %q is already loaded", cfg.Name)
	}
	mine := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(cfg.Buses)) {
		key := cfg.Buses[name].ClaimKey()
		if owner, ok := h.claims[key]; ok {
			return fmt.Errorf("buses.%s: %s is already granted to plugin %q", name, key, owner)
		}
		if other, ok := mine[key]; ok {
			return fmt.Errorf("buses.%s and buses.%s grant the same bus %s", other, name, key)
		}
		mine[key] = name
	}
	h.names[cfg.Name] = true
	for key := range mine {
		h.claims[key] = cfg.Name
	}
	return nil
}

func (h *Host) unreserve(cfg config.PluginConfig) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.names, cfg.Name)
	for _, g := range cfg.Buses {
		if h.claims[g.ClaimKey()] == cfg.Name {
			delete(h.claims, g.ClaimKey())
		}
	}
}

// countFiles counts the files under dir (0 if it cannot be read).
func countFiles(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

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
		nics = append(nics, p.nics...)
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

// Close stops every plugin, the TCP/IP core and releases the caches.
func (h *Host) Close() error {
	for _, p := range h.Plugins() {
		p.Close()
	}
	h.core.Close()
	return h.cache.Close(context.Background())
}

// Dial connects through the NIC the route to address picks (see NIC.Dial).
func (h *Host) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	return h.core.Dial(ctx, network, address)
}

// Listen listens for TCP connections on every NIC.
func (h *Host) Listen(network, address string) (net.Listener, error) {
	return h.core.Listen(network, address)
}

// ListenPacket opens a UDP socket on every NIC.
func (h *Host) ListenPacket(network, address string) (net.PacketConn, error) {
	return h.core.ListenPacket(network, address)
}

// Ping sends one ICMP or ICMPv6 echo request and returns the round-trip
// time.
func (h *Host) Ping(ctx context.Context, addr netip.Addr, size int) (time.Duration, error) {
	return h.core.Ping(ctx, addr, size)
}

// LookupHost resolves a name through the configured DNS servers (static
// ones first, then those learnt by DHCP or PPP), the preferred family
// (ipconfig(prefer=...)) first.
func (h *Host) LookupHost(ctx context.Context, name string) ([]string, error) {
	return h.core.LookupHost(ctx, name)
}
