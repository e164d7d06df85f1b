package host

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"slices"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/build"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/internal/engine"
	"github.com/nichost/nichost/host/internal/grant"
	"github.com/nichost/nichost/host/internal/hostcall"
	"github.com/nichost/nichost/host/internal/supervise"
	"github.com/nichost/nichost/host/sign"
)

// LoadInfo says how a plugin's module was obtained.
type LoadInfo struct {
	Build         *build.Result // set when the source was a Go or C directory
	Engine        string        // the WebAssembly engine the plugin runs on ("wazero", "wasmtime"); "native" for LoadNative
	Compile       time.Duration // compiling the module (fast when the engine's cache had it)
	CompileCached bool          // the module was compiled before: kept in memory by the host after its last plugin closed, or in the engine's disk cache
	Start         time.Duration // instantiating, the handshake and nic_start
	Digest        string        // "sha256:" and the hex SHA-256 of the module's bytes
	Origin        string        // OriginBuild or OriginFile
	SignedBy      string        // the KeyID of the signature the host checked; "" when it checked none
}

// Where a plugin's module came from (LoadInfo.Origin, Plugin.Origin).
const (
	OriginBuild = "build" // built by the host from a Go or C source directory
	OriginFile  = "file"  // a .wasm file, prebuilt
)

// Load builds (or takes from the cache) and compiles the plugin, checks its
// ABI version, its description against the config and the grants, starts it
// and registers its NICs. Any failure leaves the host as it was.
func (h *Host) Load(ctx context.Context, cfg config.PluginConfig) (*Plugin, LoadInfo, error) {
	var info LoadInfo
	if h.closed.Load() {
		return nil, info, &PluginError{Plugin: cfg.Name, Op: "load", Err: ErrClosed}
	}
	if err := cfg.Validate(); err != nil {
		return nil, info, &PluginError{Plugin: cfg.Name, Op: "load", Err: err}
	}
	limits := cfg.Limits.Or(h.opts.Limits)
	m, err := h.prepare(ctx, cfg.Name, cfg.Source, limits, &info)
	if err != nil {
		return nil, info, &PluginError{Plugin: cfg.Name, Op: "load", Err: err}
	}
	p, err := h.start(cfg, limits, m, &info)
	if err != nil {
		return nil, info, &PluginError{Plugin: cfg.Name, Op: "load", Err: err}
	}
	return p, info, nil
}

// prepare builds (if source is a directory) and compiles a module in a
// runtime of its own with the plugin's memory limit.
func (h *Host) prepare(ctx context.Context, name, source string, limits config.Limits, info *LoadInfo) (supervise.Module, error) {
	wasmPath := source
	st, err := os.Stat(source)
	if err != nil {
		return supervise.Module{}, fmt.Errorf("source: %w", err)
	}
	policy := h.signatures.Load()
	info.Origin = OriginFile
	if st.IsDir() {
		if policy != nil { // before anything is built
			if _, err := policy.Check(source, true, nil); err != nil {
				return supervise.Module{}, err
			}
		}
		res, err := h.builder.Build(ctx, source)
		if err != nil {
			return supervise.Module{}, err
		}
		info.Build, wasmPath, info.Origin = &res, res.Path, OriginBuild
	}
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		return supervise.Module{}, fmt.Errorf("source: %w", err)
	}
	var declared func(abi.Description) error
	if policy != nil && !st.IsDir() { // before the engine sees a byte of it
		sig, err := policy.Check(source, false, wasm)
		if err != nil {
			return supervise.Module{}, err
		}
		info.SignedBy = sig.Key
		declared = func(d abi.Description) error { return sign.CheckDeclaration(source, sig, d) }
	}
	info.Digest = digest(wasm)
	info.Engine = h.engine.Name()
	limit := uint64(limits.MemoryLimit)
	w, ok := h.warm.take(info.Digest, limit)
	if ok {
		info.CompileCached = true
	} else if w, err = h.compile(ctx, name, wasm, limit, info); err != nil {
		return supervise.Module{}, err
	}
	rt, mod := w.rt, w.mod
	log := h.log.With("plugin", name)
	return supervise.Module{
		NewInstance: func(ctx context.Context, imp abi.Imports) (engine.Instance, error) {
			out := engine.Output{Log: func(line string) { log.Debug("plugin output", "line", line) }}
			if s, ok := imp.(*hostcall.Session); ok { // stdout and stderr share the log import's limit
				out.Allow, out.Dropped = s.AllowLog, s.OutputDropped()
			}
			return mod.Instantiate(ctx, imp, out)
		},
		Release:  func() { h.warm.put(warmModule{digest: info.Digest, limit: limit, rt: rt, mod: mod}) },
		Declared: declared,
	}, nil
}

// compile compiles wasm in a runtime of its own with memory limit limit;
// the result's rt and mod are set, its key fields left to the caller.
func (h *Host) compile(ctx context.Context, name string, wasm []byte, limit uint64, info *LoadInfo) (warmModule, error) {
	rt, err := h.engine.NewRuntime(ctx, limit)
	if err != nil {
		return warmModule{}, err
	}
	// A person waiting is told why after a moment.
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
		return warmModule{}, fmt.Errorf("%w: %v", ErrBadModule, err)
	}
	info.Compile = time.Since(t0)
	info.CompileCached = mod.Cached()
	return warmModule{rt: rt, mod: mod}, nil
}

// EngineNative is Plugin.Engine and LoadInfo.Engine of a plugin loaded
// with LoadNative.
const EngineNative = "native"

// LoadNative runs a plugin compiled into the host instead of a WASM module:
// the same ABI calls, grants, supervision and NICs, without the sandbox (no
// memory limit, and a looping driver cannot be interrupted). It is the
// baseline of the WASM-versus-native benchmarks and a debugging aid.
// newExports is called for every instance with the host's side of the ABI
// for it; package host/native adapts a Go SDK driver to it.
func (h *Host) LoadNative(ctx context.Context, cfg config.PluginConfig, newExports func(abi.Imports) abi.Exports) (*Plugin, error) {
	if h.closed.Load() {
		return nil, &PluginError{Plugin: cfg.Name, Op: "load", Err: ErrClosed}
	}
	if err := ctx.Err(); err != nil {
		return nil, &PluginError{Plugin: cfg.Name, Op: "load", Err: err}
	}
	if cfg.Source == "" {
		cfg.Source = "native"
	}
	if err := cfg.Validate(); err != nil {
		return nil, &PluginError{Plugin: cfg.Name, Op: "load", Err: err}
	}
	m := supervise.Module{NewInstance: func(_ context.Context, imp abi.Imports) (engine.Instance, error) {
		return engine.NewNative(newExports(imp)), nil
	}}
	info := LoadInfo{Engine: EngineNative}
	p, err := h.start(cfg, cfg.Limits.Or(h.opts.Limits), m, &info)
	if err != nil {
		return nil, &PluginError{Plugin: cfg.Name, Op: "load", Err: err}
	}
	return p, nil
}

// start opens the grants, starts the first instance and registers the
// plugin. On failure everything it opened is released.
func (h *Host) start(cfg config.PluginConfig, limits config.Limits, m supervise.Module, info *LoadInfo) (*Plugin, error) {
	p := &Plugin{h: h, name: cfg.Name, cfg: cfg, limits: limits, log: h.log.With("plugin", cfg.Name), digest: info.Digest, engine: info.Engine,
		origin: info.Origin, signedBy: info.SignedBy}
	p.sup = supervise.New(cfg.Name, limits, p.log, h.epoch, (*hooks)(p), m)
	if err := h.reserve(cfg); err != nil {
		p.sup.Close()
		return nil, err
	}
	if err := p.openGrants(h.opts.Buses); err != nil {
		p.sup.Close()
		p.release()
		h.unreserve(cfg)
		return nil, err
	}
	t0 := time.Now()
	if err := p.sup.Start(); err != nil {
		p.sup.Close()
		p.release()
		h.unreserve(cfg)
		return nil, err
	}
	info.Start = time.Since(t0)
	p.sup.Go() // before the plugin is listed, so a Close from elsewhere finds it running
	// The interfaces' ipconfig: sections, before anyone can call active(True).
	if err := p.applyIPConfig(); err != nil {
		p.Close()
		return nil, err
	}
	h.mu.Lock()
	if h.closed.Load() { // Close began during the load and did not see p
		h.mu.Unlock()
		p.Close()
		return nil, ErrClosed
	}
	h.plugins[cfg.Name] = p
	h.mu.Unlock()
	d := p.Description()
	p.log.Info("plugin loaded", "class", d.Class, "driver", d.Name, "nics", len(p.NICs()))
	return p, nil
}

// openGrants opens every granted bus in name order, so handles are stable.
func (p *Plugin) openGrants(sims map[string]any) error {
	for _, name := range slices.Sorted(maps.Keys(p.cfg.Buses)) {
		g, err := grant.Open(name, p.cfg.Buses[name], sims)
		if err != nil {
			return err
		}
		g.Handle = uint32(len(p.grants) + 1)
		switch {
		case g.UART != nil:
			g.UART.Notify(func() { p.sup.Notify(abi.EventUART) })
		case g.Frame != nil:
			g.Frame.Notify(func() { p.sup.Notify(abi.EventFrame) })
		}
		p.grants = append(p.grants, g)
	}
	return nil
}

// makeNICs creates the plugin's NICs from its first description, each
// with its interface in the TCP/IP core (an IP-only link for PPP, Ethernet
// for the other classes).
func (p *Plugin) makeNICs(desc abi.Description) error {
	kind := core.LinkEthernet
	if desc.Class == abi.ClassPPP {
		kind = core.LinkIP
	}
	p.h.macSem <- struct{}{} // no other NIC takes a MAC meanwhile
	defer func() { <-p.h.macSem }()
	var nics []*NIC
	fail := func(err error) error { // the NICs made so far go
		for _, n := range nics {
			n.remove()
		}
		return err
	}
	for i, iface := range desc.Interfaces {
		name := p.name
		if ic, ok := p.cfg.Interfaces[iface]; ok && ic.Name != "" {
			name = ic.Name
		} else if len(desc.Interfaces) > 1 {
			name += "." + iface
		}
		if pr := p.cfg.Interfaces[iface].Profile; pr != "" && desc.Class != abi.ClassWLAN {
			return fail(fmt.Errorf("interfaces.%s.profile: %q is a profile of WLAN plugins, and this one is %s", iface, pr, desc.Class))
		}
		mac := p.macFor(iface)
		for _, o := range append(p.h.NICs(), nics...) {
			switch {
			case o.name == name:
				return fail(fmt.Errorf("interfaces.%s.name: %q is the name of another NIC (of plugin %s)", iface, name, o.p.name))
			case bytes.Equal(o.MAC(), mac):
				return fail(fmt.Errorf("interfaces.%s.mac: %s is the MAC address of NIC %s", iface, mac, o.name))
			}
		}
		n, err := newNIC(p, i, iface, name, mac, kind, dhcpByDefault(desc.Class, iface), servesDHCP(desc.Class, iface))
		if err != nil {
			return fail(err)
		}
		nics = append(nics, n)
	}
	p.nics.Store(&nics)
	return nil
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

// forget takes a closed plugin out of the host and frees its claims.
func (h *Host) forget(p *Plugin) {
	h.mu.Lock()
	if h.plugins[p.name] == p {
		delete(h.plugins, p.name)
	}
	h.mu.Unlock()
	h.unreserve(p.Config())
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
		if cfg.Buses[name].Kind == string(bus.KindBlob) {
			continue // read-only: two chips may share one firmware file
		}
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
