package supervise

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/internal/engine"
	"github.com/nichost/nichost/host/internal/grant"
	"github.com/nichost/nichost/host/internal/hostcall"
)

// The life of an instance: start, handshake, replay, fault, restart. All of
// it runs on the plugin goroutine (or on the loader's, before Go). A reload
// and the warm handover are in reload.go.

// candidate is an instance that passed the handshake but has not been
// started: during a reload it exists beside the running instance.
type candidate struct {
	inst  engine.Instance
	sess  *hostcall.Session
	gate  *gate
	desc  abi.Description
	batch bool // it takes frames with nic_transmit_batch
	// declared is the module's own check of the description (Module.Declared).
	declared func(abi.Description) error
}

// gate is the owner a candidate's host calls reach. Until the candidate is
// started, the calls that would touch the plugin's buses, NICs or
// schedule find nothing (a bus handle is not granted, an interface does
// not exist, a wake-up is ignored): a module's initialisation or
// description cannot disturb the instance still serving, nor the device.
type gate struct {
	Hooks
	live atomic.Bool
}

func (g *gate) Grant(h uint32, k bus.Kind) *grant.Grant {
	if !g.live.Load() {
		return nil
	}
	return g.Hooks.Grant(h, k)
}

func (g *gate) NIC(iface int32) hostcall.NIC {
	if !g.live.Load() {
		return nil
	}
	return g.Hooks.NIC(iface)
}

func (g *gate) Notify(ev abi.Event) {
	if g.live.Load() {
		g.Hooks.Notify(ev)
	}
}

func (g *gate) WakeAt(ns int64) {
	if g.live.Load() {
		g.Hooks.WakeAt(ns)
	}
}

// startInstance makes an instance of the current module, checks it,
// starts it (offering resume, if not nil, to a driver that declares the
// feature) and, unless first, replays the desired state. It reports
// whether the driver took the running device over.
func (s *Supervisor) startInstance(first bool, resume *abi.Resume, mark func(*State)) (bool, error) {
	c, err := s.newCandidate(s.mod, first)
	if err != nil {
		return false, err
	}
	return s.startCandidate(c, first, resume, mark)
}

// newCandidate instantiates m and runs the handshake up to nic_start:
// version, exports and imports, description, and its checks against the
// config (first) or the plugin's NICs. It touches nothing of the running
// instance, so a reload runs it on the caller's goroutine while the plugin
// goroutine goes on serving: instantiating a Go module takes tens of
// milliseconds. A fault of the candidate is its error, not the plugin's
// fault.
func (s *Supervisor) newCandidate(m Module, first bool) (*candidate, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.limits.StartTimeout)
	defer cancel()
	g := &gate{Hooks: s.hooks}
	sess := hostcall.New(g, s.epoch)
	inst, err := m.NewInstance(ctx, sess)
	if err != nil {
		return nil, err
	}
	c := &candidate{inst: inst, sess: sess, gate: g, declared: m.Declared}
	if err := s.handshake(c, first); err != nil {
		closeInstance(inst)
		return nil, err
	}
	return c, nil
}

// swapIn makes c's instance the one calls go to (plugin goroutine).
func (s *Supervisor) swapIn(c *candidate) {
	c.gate.live.Store(true)
	s.inst, s.sess, s.batch = c.inst, c.sess, c.batch
}

func closeInstance(inst engine.Instance) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	inst.Close(ctx)
	cancel()
}

func (s *Supervisor) handshake(c *candidate, first bool) error {
	ctx, cancel := s.callCtx()
	v, err := c.inst.ABIVersion(ctx)
	cancel()
	if err != nil {
		return err
	}
	if v>>16 != abi.VersionMajor || v&0xffff > abi.VersionMinor {
		return fmt.Errorf("%w: the plugin speaks ABI %s, this host speaks %s", ErrABIVersion, abi.VersionString(v), abi.VersionString(abi.Version))
	}
	if ch, ok := c.inst.(interface{ CheckExports(uint32) error }); ok {
		if err := ch.CheckExports(v); err != nil {
			return fmt.Errorf("%w: %v", ErrBadModule, err)
		}
	}
	if ch, ok := c.inst.(interface{ CheckImports(uint32) error }); ok {
		if err := ch.CheckImports(v); err != nil {
			return fmt.Errorf("%w: %v", ErrBadModule, err)
		}
	}
	// A 1.0 plugin sees nothing of 1.1, even an export of that name.
	c.batch = v > abi.Version10 && c.inst.CanBatch()
	reply, err := c.describe(s.limits.CallTimeout)
	if err != nil {
		return fmt.Errorf("describe: %w", err)
	}
	if err := abi.UnmarshalInto(reply, &c.desc); err != nil {
		return fmt.Errorf("%w: its description: %v", ErrBadModule, err)
	}
	desc := c.desc
	if err := desc.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrBadModule, err)
	}
	if desc.ABI != v {
		return fmt.Errorf("%w: nic_abi_version says %s but the description says %s", ErrBadModule, abi.VersionString(v), abi.VersionString(desc.ABI))
	}
	if c.declared != nil {
		if err := c.declared(desc); err != nil {
			return err
		}
	}
	if err := s.hooks.Check(desc, first); err != nil {
		return err
	}
	if old := s.Description(); !first && (desc.Class != old.Class || !slices.Equal(desc.Interfaces, old.Interfaces)) {
		return fmt.Errorf("%w: the new instance declares %s %v, the NICs are %s %v", ErrClassMismatch, desc.Class, desc.Interfaces, old.Class, old.Interfaces)
	}
	return nil
}

// describe calls the candidate's nic_describe and returns its reply, with
// the checks Control makes, on whatever goroutine the candidate is being
// made.
func (c *candidate) describe(timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c.sess.Begin(ctx, []byte{})
	rc, err := c.inst.Call(ctx, abi.ExportDescribe, 0)
	switch {
	case err != nil:
		return nil, err
	case c.sess.Violation() != nil:
		return nil, &engine.Fault{Kind: engine.FaultViolation, Export: abi.ExportDescribe, Detail: c.sess.Violation().Error()}
	case rc == abi.StatusError && c.sess.Raised() != nil:
		return nil, c.sess.Raised()
	case rc != abi.StatusOK:
		return nil, &engine.Fault{Kind: engine.FaultViolation, Export: abi.ExportDescribe, Detail: fmt.Sprintf("it returned %d; control exports return 0 or -1", rc)}
	}
	reply, _ := c.sess.Result()
	return reply, nil
}

// canResume reports whether a driver of description d takes part in the
// warm handover: it declares the feature, and speaks 1.1 or later (a 1.0
// plugin sees nothing of 1.1).
func canResume(d abi.Description) bool {
	return d.ABI > abi.Version10 && slices.Contains(d.Features, abi.FeatureResume)
}

// startCandidate makes c the running instance and starts it: nic_start
// (with resume for a driver that takes part in the warm handover), the
// replay unless first, and the first poll. It reports whether the driver
// took the running device over. On failure no instance runs; a fault is
// handled as the plugin's unless s.probing. mark, if not nil, changes the
// state in the same step that marks the plugin up, so that no reader sees
// a restarted plugin up with its restart not yet counted.
func (s *Supervisor) startCandidate(c *candidate, first bool, resume *abi.Resume, mark func(*State)) (bool, error) {
	s.swapIn(c)
	s.wakeAt = -1 // before nic_start, which may ask for a wake-up
	s.txWarned = false
	prev := s.desc.Swap(&c.desc) // a reloaded module may bring other features or buses
	if !canResume(c.desc) {
		resume = nil
	}
	info := s.hooks.StartInfo()
	info.Resume = resume
	b, err := abi.MarshalStruct(info)
	if err != nil {
		s.desc.Store(prev)
		s.dropInstance()
		return false, err
	}
	s.obs.gen.Add(1)
	reply, err := s.Control(abi.ExportStart, 0, b)
	if err != nil {
		if s.inst != nil {
			s.dropInstance()
		}
		return false, fmt.Errorf("start: %w", err)
	}
	resumed := resume != nil && reply == true
	s.startedAt = time.Now()
	s.setState(func(st *State) {
		st.Up, st.RestartAt = true, time.Time{}
		if mark != nil {
			mark(st)
		}
	})
	if !first {
		s.replay()
	}
	s.poll(abi.EventStart)
	if s.inst == nil {
		if s.probing && s.probeErr != nil {
			return false, s.probeErr
		}
		return false, s.State().LastFault
	}
	return resumed, nil
}

// replay brings a fresh instance to the state callers asked for.
func (s *Supervisor) replay() {
	for _, step := range s.hooks.Replay() {
		if _, err := s.Control(step.Export, step.Iface, step.Args); err != nil {
			s.log.Warn("replaying state after restart failed", "nic", step.Name, "call", step.Export, "err", err)
			if s.inst == nil {
				return
			}
		}
	}
}

// fault handles an error from the instance: a Fault discards it and
// schedules a restart. It returns err. While s.probing (a candidate's
// handshake, a reload's start, a suspend) the instance is only dropped and
// the fault recorded in probeErr: the caller decides what follows.
func (s *Supervisor) fault(err error) error {
	var f *engine.Fault
	if !errors.As(err, &f) {
		return err
	}
	if f.Kind == engine.FaultMemory {
		f.Detail += fmt.Sprintf(" (memory limit %s)", s.limits.MemoryLimit)
	}
	recorded := s.hooks.Wrap(f.Export, err)
	if s.probing {
		s.probeErr = recorded
		s.dropInstance()
		return err
	}
	s.log.Error("plugin instance failed; discarding it", "err", recorded, "generation", s.Generation())
	s.hooks.Lifecycle(LifeFault, s.Generation(), recorded)
	// The next instance may take the device over: the link is held for it
	// (ABI.md "Warm handover").
	if canResume(s.Description()) {
		s.resumeNext = &abi.Resume{Reason: abi.ResumeFault}
		s.holdLinks()
	}
	s.scheduleRestart(recorded)
	return err
}

func (s *Supervisor) violation(export, detail string) error {
	return s.fault(&engine.Fault{Kind: engine.FaultViolation, Export: export, Detail: detail})
}

// scheduleRestart discards the instance (if any), counts the failure and
// sets the next start after the back-off.
func (s *Supervisor) scheduleRestart(cause error) {
	s.faults.Add(1)
	s.discard()
	if s.backoff == 0 || time.Since(s.startedAt) > s.limits.HealthyAfter {
		s.backoff = s.limits.RestartBackoff
	} else {
		s.backoff = min(2*s.backoff, s.limits.RestartBackoffMax)
	}
	s.restartAt = time.Now().Add(s.backoff)
	s.setState(func(st *State) {
		st.Up, st.Faults, st.LastFault, st.RestartAt = false, st.Faults+1, cause, s.restartAt
	})
}

// discard closes the running instance, if any. Unless the links are held
// for the next instance, the core is told they are down.
func (s *Supervisor) discard() {
	if s.inst == nil {
		return
	}
	s.dropInstance()
	if !s.hold {
		s.hooks.Down()
	}
}

// dropInstance closes the running instance and forgets it, leaving the
// links as they are.
func (s *Supervisor) dropInstance() {
	if s.inst == nil {
		return
	}
	closeInstance(s.inst)
	s.inst, s.sess = nil, nil
	s.txBusy = false
	s.instanceGone()
}

// restart starts a fresh instance after a fault; on failure it schedules
// the next try.
func (s *Supervisor) restart() {
	if _, err := s.tryStart(countRestart); err != nil {
		s.log.Error("plugin restart failed", "err", err, "retry_in", s.backoff)
		return
	}
	s.log.Info("plugin restarted", "restarts", s.State().Restarts, "generation", s.Generation())
	s.hooks.Lifecycle(LifeRestart, s.Generation(), nil)
}

// countRestart counts an instance started after a fault or by Restart.
func countRestart(st *State) { st.Restarts++ }

// ErrOperatorRestart is what Hooks.Lifecycle is given for a restart an
// operator asked for.
var ErrOperatorRestart = errors.New("restarted by the operator")

// Restart discards the running instance, if any, and starts a fresh one
// now with the desired state replayed, as after a fault but without the
// back-off: the operator's way out of a plugin waiting out a long back-off
// or stuck in a bad state. It is a cold start: the device is not offered
// to the fresh instance, and a link held for a warm restart is reported
// down. If the new instance fails to start, the plugin is down and retries
// after the back-off, and the error says why.
func (s *Supervisor) Restart(ctx context.Context) error {
	_, err := s.DoAlways(ctx, "restart", func() (any, error) {
		s.releaseHold(false)
		s.resumeNext = nil
		s.discard()
		s.backoff = 0
		if _, err := s.tryStart(countRestart); err != nil {
			return nil, err
		}
		s.log.Info("plugin restarted by the operator", "generation", s.Generation())
		s.hooks.Lifecycle(LifeRestart, s.Generation(), ErrOperatorRestart)
		return nil, nil
	})
	return err
}

// tryStart starts a fresh instance after a fault, a failed reload or for
// an operator's restart, offering it the device if s.resumeNext says the
// device was left to take over. If it fails without a fault having been
// handled already (a start that raised, a module that would not
// instantiate), the failure is recorded as it is and the next try backs
// off. It reports whether the driver took the device over. mark is
// startCandidate's.
func (s *Supervisor) tryStart(mark func(*State)) (bool, error) {
	before := s.faults.Load()
	resume := s.resumeNext
	s.resumeNext = nil
	resumed, err := s.startInstance(false, resume, mark)
	if err != nil && s.faults.Load() == before {
		if resume != nil && s.resumeNext == nil {
			s.resumeNext = resume // the next try may still take the device over
		}
		s.scheduleRestart(s.hooks.Wrap("restart", err))
	}
	if err == nil {
		s.afterStart(resumed)
	}
	return resumed, err
}
