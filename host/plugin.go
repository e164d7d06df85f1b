package host

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/internal/grant"
	"github.com/nichost/nichost/host/internal/rxqueue"
	"github.com/nichost/nichost/host/internal/supervise"
)

// Plugin is one loaded driver plugin: one instance at a time of one module,
// supervised. All calls into the instance run on the plugin's own goroutine,
// one at a time, each under the call deadline. When the instance faults (a
// trap, a deadline, memory exhaustion, an ABI violation) it is discarded and
// a fresh one is started after a back-off, with the desired state replayed:
// the NICs, their MAC addresses and whatever the core holds for them stay.
// Its methods may be called from any goroutine.
type Plugin struct {
	h      *Host
	name   string
	limits config.Limits
	log    *slog.Logger
	sup    *supervise.Supervisor
	grants []*grant.Grant // handle-1 -> grant; fixed once loaded

	mu       sync.Mutex
	cfg      config.PluginConfig // Source changes with Reload
	digest   string              // the running module's (LoadInfo.Digest); changes with Reload
	origin   string              // the running module's LoadInfo.Origin; changes with Reload
	signedBy string              // the running module's LoadInfo.SignedBy; changes with Reload
	engine   string              // LoadInfo.Engine
	nics     atomic.Pointer[[]*NIC]

	logLimit  rateLimiter
	warnLimit rateLimiter     // the host's warnings about the plugin, apart from the plugin's own lines
	rxBudget  *rxqueue.Budget // frames waiting for the core, all NICs together (newNIC)
	stats     pluginStats
	closeOnce sync.Once
	closed    atomic.Bool // set as Close begins
}

// PluginState is a snapshot of a plugin's health.
type PluginState struct {
	Up        bool      // an instance is running
	Restarts  int       // instances started after faults or by Restart
	Reloads   int       // modules replaced by Reload
	Faults    int       // faults so far
	LastFault error     // the last fault, nil if none
	RestartAt time.Time // when the next restart is due, if down
}

// Generation is the number of the plugin's running (or last) instance: 1
// for the first, one more for each instance started after a fault, a
// reload or a restart. Events carry it, so that what an instance did can
// be told from what its successor does.
func (p *Plugin) Generation() int { return p.sup.Generation() }

// Restart discards the running instance, if any, and starts a fresh one of
// the same module now, with the state callers asked for replayed: what an
// operator does to a plugin waiting out a restart back-off or behaving
// badly. The NICs stay. If the fresh instance fails to start, the plugin
// retries after the back-off and the error says why.
func (p *Plugin) Restart(ctx context.Context) error {
	if p.closed.Load() {
		return &PluginError{Plugin: p.name, Op: "restart", Err: ErrClosed}
	}
	return p.sup.Restart(ctx)
}

// Name is the plugin's configured name.
func (p *Plugin) Name() string { return p.name }

// Config is the plugin's configuration, with the source of its current
// module.
func (p *Plugin) Config() config.PluginConfig {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg
}

// Digest identifies the running module: "sha256:" and the hex SHA-256 of
// its bytes ("" for a native plugin).
func (p *Plugin) Digest() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.digest
}

// Origin says where the running module came from: OriginBuild (the host
// built it from a source directory) or OriginFile (a .wasm file); ""
// for a native plugin.
func (p *Plugin) Origin() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.origin
}

// SignedBy is the KeyID of the running module's signature, when the
// host's signature policy checked one; "" otherwise.
func (p *Plugin) SignedBy() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.signedBy
}

// Engine is what runs the plugin: the host's WebAssembly engine
// ("wazero", "wasmtime"), or "native" for a plugin loaded with LoadNative.
func (p *Plugin) Engine() string { return p.engine }

// Description is what the plugin's module declared about itself (a reload
// may bring a new one).
func (p *Plugin) Description() abi.Description { return p.sup.Description() }

// NICs are the plugin's interfaces, in interface-index order; none once the
// plugin is closed.
func (p *Plugin) NICs() []*NIC {
	if l := p.nics.Load(); l != nil {
		return slices.Clone(*l)
	}
	return nil
}

// State reports the plugin's health; once the plugin is closed, Up is
// false.
func (p *Plugin) State() PluginState {
	st := PluginState(p.sup.State())
	if p.closed.Load() {
		st.Up = false
	}
	return st
}

// Stats returns the plugin's counters.
func (p *Plugin) Stats() PluginStats {
	st := p.stats.snapshot()
	s := p.sup.Stats()
	st.Calls, st.Polls, st.Faults = s.Calls, s.Polls, s.Faults
	st.Busy, st.Throttled, st.Throttling = s.Busy, s.Throttled, s.Throttling
	st.HostCalls, st.Memory = p.sup.HostCalls(), p.sup.Memory()
	st.Latency = map[string]Histogram{}
	for k, v := range p.sup.Latency() {
		st.Latency[k] = Histogram(v)
	}
	return st
}

// Reload replaces the plugin's module with the one built from source (a Go
// directory or a .wasm file) without dropping its NICs: the new module must
// declare the same class and interfaces, gets the same grants and MAC
// addresses, and is brought to the state callers asked for. If it fails to
// start, the old module is started again and the error returned.
func (p *Plugin) Reload(ctx context.Context, source string) (LoadInfo, error) {
	var info LoadInfo
	if p.closed.Load() {
		return info, &PluginError{Plugin: p.name, Op: "reload", Err: ErrClosed}
	}
	m, err := p.h.prepare(ctx, p.name, source, p.limits, &info)
	if err != nil {
		return info, &PluginError{Plugin: p.name, Op: "reload", Err: err}
	}
	info.Start, err = p.sup.Reload(ctx, m, func() {
		p.mu.Lock()
		p.cfg.Source = source
		p.digest = info.Digest
		p.origin, p.signedBy = info.Origin, info.SignedBy
		p.mu.Unlock()
		p.log.Info("plugin reloaded", "source", source)
	})
	return info, err
}

// Close stops the plugin: its instance, its goroutine and its grants. Once
// it is closed, every method with an error result returns ErrClosed,
// Close too.
func (p *Plugin) Close() error {
	if p.closed.Swap(true) {
		p.closeOnce.Do(func() {}) // wait for the first Close to finish
		return &PluginError{Plugin: p.name, Op: "close", Err: ErrClosed}
	}
	p.closeOnce.Do(func() {
		p.sup.Close()
		p.release()
		p.h.forget(p) // last: another plugin may claim the buses only once they are closed
	})
	return nil
}

// release frees what the plugin holds besides its instance: grants, traces
// and NICs. It runs once, after the supervisor stopped.
func (p *Plugin) release() {
	for _, g := range p.grants {
		g.Close()
	}
	nics := p.nics.Swap(nil)
	if nics == nil {
		return
	}
	for _, n := range *nics {
		n.setTracer(nil, true)
		n.remove()
	}
}

// do runs fn on the plugin goroutine once an instance is up, waiting at most
// until ctx is done.
func (p *Plugin) do(ctx context.Context, op string, fn func() (any, error)) (any, error) {
	return p.sup.Do(ctx, op, fn)
}

// doAlways runs fn on the plugin goroutine even while no instance is up.
func (p *Plugin) doAlways(ctx context.Context, op string, fn func() (any, error)) (any, error) {
	return p.sup.DoAlways(ctx, op, fn)
}

// control calls a control export; it runs on the plugin goroutine.
func (p *Plugin) control(export string, iface int, args any) (any, error) {
	return p.sup.Control(export, iface, args)
}

// enqueue adds a frame for the driver to send.
func (p *Plugin) enqueue(iface int, frame []byte) error {
	return p.sup.Enqueue(iface, frame)
}

// ErrTxQueueFull is returned when the plugin's transmit
// queue is full; the frame was dropped.
var ErrTxQueueFull = supervise.ErrTxQueueFull

// checkDescription compares a description with the operator's config and
// grants.
// quoteList formats names as "a", or "a", "b".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

func (p *Plugin) checkDescription(d abi.Description) error {
	if p.cfg.Class != "" && p.cfg.Class != d.Class {
		return fmt.Errorf("%w: the config expects %s, the plugin %q is %s", ErrClassMismatch, p.cfg.Class, d.Name, d.Class)
	}
	byName := map[string]*grant.Grant{}
	for _, g := range p.grants {
		byName[g.Name] = g
	}
	var missing []string
	for _, need := range d.Buses {
		g, ok := byName[need.Name]
		switch {
		case !ok && need.Optional:
		case !ok:
			missing = append(missing, fmt.Sprintf("%s (%s)", need.Name, need.Kind))
		case abi.BusKind(g.Kind) != need.Kind:
			return fmt.Errorf("%w: bus %q is granted as %s, the plugin needs %s", ErrNotGranted, need.Name, g.Kind, need.Kind)
		}
		delete(byName, need.Name)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: the plugin needs %v; grant them under buses: in the config", ErrNotGranted, missing)
	}
	if len(byName) > 0 {
		// A grant the driver does not expect is refused rather than
		// handed over unused: an operator's typo ("reset" for "rst")
		// would otherwise leave a line silently unconnected.
		extra := slices.Sorted(maps.Keys(byName))
		declared := make([]string, len(d.Buses))
		for i, b := range d.Buses {
			declared[i] = b.Name
		}
		return fmt.Errorf("%w %s: granted, but the plugin does not declare it (it declares %s)", ErrUndeclaredBus, quoteList(extra), strings.Join(declared, ", "))
	}
	return nil
}
