package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/internal/engine"
)

// Plugin is one loaded driver plugin: one instance at a time of one module,
// supervised. All calls into the instance run on the plugin's own goroutine,
// one at a time, each under the call deadline. When the instance faults (a
// trap, a deadline, memory exhaustion, an ABI violation) it is discarded and
// a fresh one is started after a back-off, with the desired state replayed:
// the NICs, their MAC addresses and whatever the core holds for them stay.
type Plugin struct {
	h      *Host
	cfg    config.PluginConfig
	limits config.Limits
	log    *slog.Logger
	desc   abi.Description

	// newInstance makes a fresh instance (WASM or native) bound to a session.
	newInstance func(ctx context.Context, s *session) (engine.Instance, error)
	release     func() // frees the module and runtime

	grants []*grant // handle-1 -> grant
	nics   []*NIC

	reqs    chan func() // calls that need a running instance
	ctrl    chan func() // work that runs even while the plugin is down (reload)
	wakeCh  chan struct{}
	pending atomic.Uint32
	quit    chan struct{}
	done    chan struct{}
	closeMu sync.Once

	txMu sync.Mutex
	txq  []txFrame

	// Owned by the plugin goroutine.
	inst      engine.Instance
	sess      *session
	wakeAt    int64 // host monotonic ns of the requested poll; -1 none
	txBusy    bool
	backoff   time.Duration
	restartAt time.Time
	startedAt time.Time

	state    atomic.Pointer[PluginState]
	logLimit rateLimiter
	stats    pluginStats
}

type txFrame struct {
	iface int
	frame []byte
}

// maxTxQueue is how many frames may wait for a plugin's transmitter. A
// TCP sender's burst must fit: at 256 the queue overflowed under bulk
// transfers, the dropped segments cost retransmission timeouts, and
// throughput over a TAP swung between 19 and 144 MB/s; at 1024 (at most
// about 1.5 MiB of frames) it stays at 135-167 MB/s.
const maxTxQueue = 1024

// PluginState is a snapshot of a plugin's health.
type PluginState struct {
	Up        bool      // an instance is running
	Restarts  int       // instances started after faults
	Reloads   int       // modules replaced by Reload
	Faults    int       // faults so far
	LastFault error     // the last fault, nil if none
	RestartAt time.Time // when the next restart is due, if down
}

// Name is the plugin's configured name.
func (p *Plugin) Name() string { return p.cfg.Name }

// Description is what the plugin declared about itself.
func (p *Plugin) Description() abi.Description { return p.desc }

// NICs are the plugin's interfaces, in interface-index order.
func (p *Plugin) NICs() []*NIC { return slices.Clone(p.nics) }

// State reports the plugin's health.
func (p *Plugin) State() PluginState { return *p.state.Load() }

// Stats returns the plugin's counters.
func (p *Plugin) Stats() PluginStats { return p.stats.snapshot() }

func (p *Plugin) setState(f func(*PluginState)) {
	s := *p.state.Load()
	f(&s)
	p.state.Store(&s)
}

// notify records an event and wakes the plugin goroutine; callable from
// any goroutine (bus callbacks).
func (p *Plugin) notify(ev abi.Event) {
	p.pending.Or(uint32(ev))
	select {
	case p.wakeCh <- struct{}{}:
	default:
	}
}

// do runs fn on the plugin goroutine once an instance is up, waiting at most
// until ctx is done.
func (p *Plugin) do(ctx context.Context, op string, fn func() (any, error)) (any, error) {
	return p.send(ctx, p.reqs, op, fn)
}

// doAlways runs fn on the plugin goroutine even while no instance is up.
func (p *Plugin) doAlways(ctx context.Context, op string, fn func() (any, error)) (any, error) {
	return p.send(ctx, p.ctrl, op, fn)
}

func (p *Plugin) send(ctx context.Context, ch chan func(), op string, fn func() (any, error)) (any, error) {
	type result struct {
		v   any
		err error
	}
	res := make(chan result, 1)
	req := func() {
		v, err := fn()
		res <- result{v, err}
	}
	select {
	case ch <- req:
	case <-p.done:
		return nil, &PluginError{Plugin: p.cfg.Name, Op: op, Err: ErrClosed}
	case <-ctx.Done():
		err := ctx.Err()
		if st := p.State(); !st.Up && st.LastFault != nil {
			err = fmt.Errorf("waiting for the plugin to restart after a fault (%v): %w", st.LastFault, err)
		}
		return nil, &PluginError{Plugin: p.cfg.Name, Op: op, Err: err}
	}
	r := <-res
	if r.err != nil {
		var pe *PluginError
		if !errors.As(r.err, &pe) {
			r.err = &PluginError{Plugin: p.cfg.Name, Op: op, Err: r.err}
		}
	}
	return r.v, r.err
}

// run is the plugin goroutine.
func (p *Plugin) run() {
	defer close(p.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var reqs chan func()
		var due time.Time
		if p.inst != nil {
			reqs = p.reqs
			if p.wakeAt >= 0 {
				due = p.h.epoch.Add(time.Duration(p.wakeAt))
			}
		} else {
			due = p.restartAt
		}
		var tc <-chan time.Time
		if !due.IsZero() {
			timer.Reset(max(time.Until(due), 0))
			tc = timer.C
		}
		select {
		case <-p.quit:
			p.discard()
			return
		case fn := <-reqs:
			fn()
		case fn := <-p.ctrl:
			fn()
		case <-p.wakeCh:
			// A wake-up for frames to send needs no poll unless the driver
			// said it was busy: flushTx below offers them.
			if ev := abi.Event(p.pending.Swap(0)); p.inst != nil && (ev&^abi.EventTx != 0 || p.txBusy) {
				p.poll(ev)
			}
		case <-tc:
			if p.inst == nil {
				p.restart()
			} else {
				p.wakeAt = -1
				p.poll(abi.EventTimer | abi.Event(p.pending.Swap(0)))
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		p.flushTx()
	}
}

// callCtx is the context of one call into the instance.
func (p *Plugin) callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), p.limits.CallTimeout)
}

// control calls a control export with CBOR-encoded args and decodes its
// result. It runs on the plugin goroutine.
func (p *Plugin) control(export string, iface int, args any) (any, error) {
	if p.inst == nil {
		return nil, fmt.Errorf("no running instance (last fault: %v)", p.State().LastFault)
	}
	b, err := encodeArgs(args)
	if err != nil {
		return nil, err
	}
	ctx, cancel := p.callCtx()
	defer cancel()
	p.sess.begin(ctx, b)
	p.stats.calls.Add(1)
	rc, err := p.inst.Call(ctx, export, int32(iface))
	if err != nil {
		return nil, p.fault(err)
	}
	return p.result(export, rc)
}

func encodeArgs(args any) ([]byte, error) {
	if b, ok := args.([]byte); ok {
		return b, nil
	}
	b, err := abi.Marshal(args)
	if err != nil {
		return nil, abi.TypeError("%v", err)
	}
	return b, nil
}

// result interprets a control export's status and what it set.
func (p *Plugin) result(export string, rc int32) (any, error) {
	s := p.sess
	if s.bad != nil {
		return nil, p.violation(export, s.bad.Error())
	}
	switch rc {
	case abi.StatusOK:
		if !s.replied {
			return nil, nil
		}
		v, err := abi.Unmarshal(s.reply)
		if err != nil {
			return nil, p.violation(export, fmt.Sprintf("its result is not a valid ABI value: %v", err))
		}
		return v, nil
	case abi.StatusError:
		if s.raised == nil {
			return nil, p.violation(export, "it returned -1 without calling raise")
		}
		return nil, s.raised
	}
	return nil, p.violation(export, fmt.Sprintf("it returned %d; control exports return 0 or -1", rc))
}

func (p *Plugin) violation(export, detail string) error {
	return p.fault(&engine.Fault{Kind: engine.FaultViolation, Export: export, Detail: detail})
}

// fault handles an error from the instance: a Fault discards it and
// schedules a restart. It returns err.
func (p *Plugin) fault(err error) error {
	if !engine.IsFault(err) {
		return err
	}
	var f *engine.Fault
	errors.As(err, &f)
	if f.Kind == engine.FaultMemory {
		f.Detail += fmt.Sprintf(" (memory limit %s)", p.limits.MemoryLimit)
	}
	recorded := &PluginError{Plugin: p.cfg.Name, Op: f.Export, Err: err}
	p.log.Error("plugin instance failed; discarding it", "err", recorded)
	p.scheduleRestart(recorded)
	return err
}

// scheduleRestart discards the instance (if any), counts the failure and
// sets the next start after the back-off.
func (p *Plugin) scheduleRestart(cause error) {
	p.stats.faults.Add(1)
	p.discard()
	if p.backoff == 0 || time.Since(p.startedAt) > p.limits.HealthyAfter {
		p.backoff = p.limits.RestartBackoff
	} else {
		p.backoff = min(2*p.backoff, p.limits.RestartBackoffMax)
	}
	p.restartAt = time.Now().Add(p.backoff)
	p.setState(func(s *PluginState) {
		s.Up, s.Faults, s.LastFault, s.RestartAt = false, s.Faults+1, cause, p.restartAt
	})
}

// discard closes the running instance, if any.
func (p *Plugin) discard() {
	if p.inst == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	p.inst.Close(ctx)
	cancel()
	p.inst, p.sess = nil, nil
	p.txBusy = false
	// Nothing moves frames now: tell the core the links are down; the next
	// instance reports them again.
	for _, n := range p.nics {
		if st := n.LinkState(); st.Up {
			st.Up = false
			n.setLink(st)
		}
	}
}

// restart starts a fresh instance after a fault; on failure it schedules
// the next try.
func (p *Plugin) restart() {
	if err := p.tryStart(); err != nil {
		p.log.Error("plugin restart failed", "err", err, "retry_in", p.backoff)
		return
	}
	p.setState(func(s *PluginState) { s.Restarts++ })
	p.log.Info("plugin restarted", "restarts", p.State().Restarts)
}

// tryStart starts a fresh instance after a fault or for a reload. If it
// fails without a fault having been handled already (a start that raised,
// a module that would not instantiate), the failure is recorded as it is
// and the next try backs off.
func (p *Plugin) tryStart() error {
	before := p.stats.faults.Load()
	err := p.startInstance(false)
	if err != nil && p.stats.faults.Load() == before {
		p.scheduleRestart(&PluginError{Plugin: p.cfg.Name, Op: "restart", Err: err})
	}
	return err
}

// startInstance makes an instance, checks it, starts it and, unless first,
// replays the desired state. On the first start it validates the
// description against the config and the grants.
func (p *Plugin) startInstance(first bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), p.limits.StartTimeout)
	defer cancel()
	sess := newSession(p)
	inst, err := p.newInstance(ctx, sess)
	if err != nil {
		return err
	}
	p.inst, p.sess = inst, sess
	p.wakeAt = -1 // before nic_start, which may ask for a wake-up
	if err := p.handshake(first); err != nil {
		p.discard()
		return err
	}
	p.startedAt = time.Now()
	p.setState(func(s *PluginState) { s.Up, s.RestartAt = true, time.Time{} })
	if !first {
		p.replay()
	}
	p.poll(abi.EventStart)
	if p.inst == nil {
		return p.State().LastFault
	}
	return nil
}

func (p *Plugin) handshake(first bool) error {
	ctx, cancel := p.callCtx()
	v, err := p.inst.ABIVersion(ctx)
	cancel()
	if err != nil {
		return err
	}
	if v>>16 != abi.VersionMajor || v&0xffff > abi.VersionMinor {
		return fmt.Errorf("%w: the plugin speaks ABI %s, this host speaks %s", ErrABIVersion, abi.VersionString(v), abi.VersionString(abi.Version))
	}
	if c, ok := p.inst.(interface{ CheckExports() error }); ok {
		if err := c.CheckExports(); err != nil {
			return fmt.Errorf("%w: %v", ErrBadModule, err)
		}
	}
	if _, err := p.control(abi.ExportDescribe, 0, []byte{}); err != nil {
		return fmt.Errorf("describe: %w", err)
	}
	var desc abi.Description
	if err := abi.UnmarshalInto(p.sess.reply, &desc); err != nil {
		return fmt.Errorf("%w: its description: %v", ErrBadModule, err)
	}
	if err := desc.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrBadModule, err)
	}
	if desc.ABI != v {
		return fmt.Errorf("%w: nic_abi_version says %s but the description says %s", ErrBadModule, abi.VersionString(v), abi.VersionString(desc.ABI))
	}
	if err := p.checkDescription(desc); err != nil {
		return err
	}
	if first {
		p.desc = desc
		if err := p.makeNICs(); err != nil {
			return err
		}
	} else if desc.Class != p.desc.Class || !slices.Equal(desc.Interfaces, p.desc.Interfaces) {
		return fmt.Errorf("%w: the new instance declares %s %v, the NICs are %s %v", ErrClassMismatch, desc.Class, desc.Interfaces, p.desc.Class, p.desc.Interfaces)
	} else {
		p.desc = desc // a reloaded module may bring other features or buses
	}
	info, err := abi.MarshalStruct(p.startInfo())
	if err != nil {
		return err
	}
	if _, err := p.control(abi.ExportStart, 0, info); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	return nil
}

// checkDescription compares a first description with the operator's config.
func (p *Plugin) checkDescription(d abi.Description) error {
	if p.cfg.Class != "" && p.cfg.Class != d.Class {
		return fmt.Errorf("%w: the config expects %s, the plugin %q is %s", ErrClassMismatch, p.cfg.Class, d.Name, d.Class)
	}
	byName := map[string]*grant{}
	for _, g := range p.grants {
		byName[g.name] = g
	}
	var missing []string
	for _, need := range d.Buses {
		g, ok := byName[need.Name]
		switch {
		case !ok && need.Optional:
		case !ok:
			missing = append(missing, fmt.Sprintf("%s (%s)", need.Name, need.Kind))
		case abi.BusKind(g.kind) != need.Kind:
			return fmt.Errorf("%w: bus %q is granted as %s, the plugin needs %s", ErrNotGranted, need.Name, g.kind, need.Kind)
		}
		delete(byName, need.Name)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: the plugin needs %v; grant them under buses: in the config", ErrNotGranted, missing)
	}
	for name := range byName {
		p.log.Warn("granted bus is not one the plugin declared; it stays unused", "bus", name)
	}
	return nil
}

func (p *Plugin) startInfo() abi.StartInfo {
	info := abi.StartInfo{Buses: map[string]uint32{}, Options: p.cfg.Options}
	for _, g := range p.grants {
		info.Buses[g.name] = g.handle
	}
	for _, n := range p.nics {
		info.Interfaces = append(info.Interfaces, abi.InterfaceInfo{Name: n.iface, MAC: n.MAC()})
	}
	g := p.h.globals()
	info.Hostname, info.Country, info.PhyMode = g.hostname, g.country, g.phyMode
	return info
}

// replay brings a fresh instance to the state callers asked for.
func (p *Plugin) replay() {
	for _, n := range p.nics {
		for _, step := range n.desired() {
			if _, err := p.control(step.export, n.index, step.args); err != nil {
				p.log.Warn("replaying state after restart failed", "nic", n.name, "call", step.export, "err", err)
				if p.inst == nil {
					return
				}
			}
		}
	}
}

// poll calls nic_poll; errors it raises are logged, faults handled.
func (p *Plugin) poll(events abi.Event) {
	if p.inst == nil {
		return
	}
	ctx, cancel := p.callCtx()
	defer cancel()
	p.sess.begin(ctx, nil)
	p.stats.polls.Add(1)
	p.txBusy = false
	rc, err := p.inst.Poll(ctx, events)
	if err != nil {
		p.fault(err)
		return
	}
	if _, err := p.result(abi.ExportPoll, rc); err != nil && !engine.IsFault(err) {
		p.log.Warn("poll failed", "err", err)
	}
}

// flushTx offers queued frames to the driver until it is busy.
func (p *Plugin) flushTx() {
	for p.inst != nil && !p.txBusy {
		p.txMu.Lock()
		if len(p.txq) == 0 {
			p.txMu.Unlock()
			return
		}
		f := p.txq[0]
		p.txMu.Unlock()

		ctx, cancel := p.callCtx()
		p.sess.begin(ctx, nil)
		rc, err := p.inst.Transmit(ctx, int32(f.iface), f.frame)
		cancel()
		switch {
		case err != nil && engine.IsFault(err):
			p.fault(err)
			return
		case err == nil && p.sess.bad != nil:
			p.violation(abi.ExportTransmit, p.sess.bad.Error())
			return
		case err == nil && rc == abi.TransmitBusy:
			p.txBusy = true
			return
		}
		p.txMu.Lock()
		p.txq = p.txq[1:]
		p.txMu.Unlock()
		n := p.nics[f.iface]
		switch {
		case err != nil:
			n.stats.drop(dropTooLong)
		case rc == abi.StatusOK:
			n.stats.txFrames.Add(1)
			n.stats.txBytes.Add(uint64(len(f.frame)))
			n.traceFrame(f.frame, false)
		default:
			if _, rerr := p.result(abi.ExportTransmit, rc); rerr != nil && !engine.IsFault(rerr) {
				n.stats.drop(dropDriverError)
				if p.logLimit.allow(time.Now()) {
					p.log.Warn("driver refused a frame", "nic", n.name, "err", rerr)
				}
			}
		}
	}
}

// enqueue adds a frame for the driver to send.
func (p *Plugin) enqueue(iface int, frame []byte) error {
	p.txMu.Lock()
	if len(p.txq) >= maxTxQueue {
		p.txMu.Unlock()
		return ErrTxQueueFull
	}
	p.txq = append(p.txq, txFrame{iface: iface, frame: append([]byte(nil), frame...)})
	p.txMu.Unlock()
	p.notify(abi.EventTx)
	return nil
}

// ErrTxQueueFull is returned by NIC.Transmit when the plugin's transmit
// queue is full; the frame was dropped.
var ErrTxQueueFull = errors.New("nichost: transmit queue full")

func (p *Plugin) grantFor(h uint32) *grant {
	if h == 0 || int(h) > len(p.grants) {
		return nil
	}
	return p.grants[h-1]
}

func (p *Plugin) countBadHandle(h uint32, k bus.Kind) {
	p.stats.badHandles.Add(1)
	if p.logLimit.allow(time.Now()) {
		p.log.Warn("plugin used a handle it was not granted", "handle", h, "as", k)
	}
}

// Close stops the plugin: its instance, its goroutine and its grants.
func (p *Plugin) Close() error {
	p.closeMu.Do(func() {
		close(p.quit)
		<-p.done
		for _, g := range p.grants {
			g.close()
		}
		if p.release != nil {
			p.release()
		}
		for _, n := range p.nics {
			n.setTracer(nil, true)
		}
		p.removeNICs()
		p.h.forget(p)
	})
	return nil
}
