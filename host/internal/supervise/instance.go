package supervise

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/internal/engine"
	"github.com/nichost/nichost/host/internal/hostcall"
)

// The life of an instance: start, handshake, replay, fault, restart. All of
// it runs on the plugin goroutine (or on the loader's, before Go).

// startInstance makes an instance, checks it, starts it and, unless first,
// replays the desired state.
func (s *Supervisor) startInstance(first bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.limits.StartTimeout)
	defer cancel()
	sess := hostcall.New(s.hooks, s.epoch)
	inst, err := s.mod.NewInstance(ctx, sess)
	if err != nil {
		return err
	}
	s.inst, s.sess = inst, sess
	s.wakeAt = -1 // before nic_start, which may ask for a wake-up
	s.txWarned = false
	if err := s.handshake(first); err != nil {
		s.discard()
		return err
	}
	s.startedAt = time.Now()
	s.obs.gen.Add(1)
	s.setState(func(st *State) { st.Up, st.RestartAt = true, time.Time{} })
	if !first {
		s.replay()
	}
	s.poll(abi.EventStart)
	if s.inst == nil {
		return s.State().LastFault
	}
	return nil
}

func (s *Supervisor) handshake(first bool) error {
	ctx, cancel := s.callCtx()
	v, err := s.inst.ABIVersion(ctx)
	cancel()
	if err != nil {
		return err
	}
	if v>>16 != abi.VersionMajor || v&0xffff > abi.VersionMinor {
		return fmt.Errorf("%w: the plugin speaks ABI %s, this host speaks %s", ErrABIVersion, abi.VersionString(v), abi.VersionString(abi.Version))
	}
	if c, ok := s.inst.(interface{ CheckExports(uint32) error }); ok {
		if err := c.CheckExports(v); err != nil {
			return fmt.Errorf("%w: %v", ErrBadModule, err)
		}
	}
	if c, ok := s.inst.(interface{ CheckImports(uint32) error }); ok {
		if err := c.CheckImports(v); err != nil {
			return fmt.Errorf("%w: %v", ErrBadModule, err)
		}
	}
	// A 1.0 plugin sees nothing of 1.1, even an export of that name.
	s.batch = v > abi.Version10 && s.inst.CanBatch()
	if _, err := s.Control(abi.ExportDescribe, 0, []byte{}); err != nil {
		return fmt.Errorf("describe: %w", err)
	}
	var desc abi.Description
	reply, _ := s.sess.Result()
	if err := abi.UnmarshalInto(reply, &desc); err != nil {
		return fmt.Errorf("%w: its description: %v", ErrBadModule, err)
	}
	if err := desc.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrBadModule, err)
	}
	if desc.ABI != v {
		return fmt.Errorf("%w: nic_abi_version says %s but the description says %s", ErrBadModule, abi.VersionString(v), abi.VersionString(desc.ABI))
	}
	if err := s.hooks.Check(desc, first); err != nil {
		return err
	}
	if old := s.Description(); !first && (desc.Class != old.Class || !slices.Equal(desc.Interfaces, old.Interfaces)) {
		return fmt.Errorf("%w: the new instance declares %s %v, the NICs are %s %v", ErrClassMismatch, desc.Class, desc.Interfaces, old.Class, old.Interfaces)
	}
	s.desc.Store(&desc) // a reloaded module may bring other features or buses
	info, err := abi.MarshalStruct(s.hooks.StartInfo())
	if err != nil {
		return err
	}
	if _, err := s.Control(abi.ExportStart, 0, info); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	return nil
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
// schedules a restart. It returns err.
func (s *Supervisor) fault(err error) error {
	var f *engine.Fault
	if !errors.As(err, &f) {
		return err
	}
	if f.Kind == engine.FaultMemory {
		f.Detail += fmt.Sprintf(" (memory limit %s)", s.limits.MemoryLimit)
	}
	recorded := s.hooks.Wrap(f.Export, err)
	s.log.Error("plugin instance failed; discarding it", "err", recorded, "generation", s.Generation())
	s.hooks.Lifecycle(LifeFault, s.Generation(), recorded)
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

// discard closes the running instance, if any.
func (s *Supervisor) discard() {
	if s.inst == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	s.inst.Close(ctx)
	cancel()
	s.inst, s.sess = nil, nil
	s.txBusy = false
	s.instanceGone()
	s.hooks.Down()
}

// restart starts a fresh instance after a fault; on failure it schedules
// the next try.
func (s *Supervisor) restart() {
	if err := s.tryStart(); err != nil {
		s.log.Error("plugin restart failed", "err", err, "retry_in", s.backoff)
		return
	}
	s.setState(func(st *State) { st.Restarts++ })
	s.log.Info("plugin restarted", "restarts", s.State().Restarts, "generation", s.Generation())
	s.hooks.Lifecycle(LifeRestart, s.Generation(), nil)
}

// ErrOperatorRestart is what Hooks.Lifecycle is given for a restart an
// operator asked for.
var ErrOperatorRestart = errors.New("restarted by the operator")

// Restart discards the running instance, if any, and starts a fresh one
// now with the desired state replayed, as after a fault but without the
// back-off: the operator's way out of a plugin waiting out a long back-off
// or stuck in a bad state. If the new instance fails to start, the plugin
// is down and retries after the back-off, and the error says why.
func (s *Supervisor) Restart(ctx context.Context) error {
	_, err := s.DoAlways(ctx, "restart", func() (any, error) {
		s.discard()
		s.backoff = 0
		if err := s.tryStart(); err != nil {
			return nil, err
		}
		s.setState(func(st *State) { st.Restarts++ })
		s.log.Info("plugin restarted by the operator", "generation", s.Generation())
		s.hooks.Lifecycle(LifeRestart, s.Generation(), ErrOperatorRestart)
		return nil, nil
	})
	return err
}

// tryStart starts a fresh instance after a fault or for a reload. If it
// fails without a fault having been handled already (a start that raised,
// a module that would not instantiate), the failure is recorded as it is
// and the next try backs off.
func (s *Supervisor) tryStart() error {
	before := s.faults.Load()
	err := s.startInstance(false)
	if err != nil && s.faults.Load() == before {
		s.scheduleRestart(s.hooks.Wrap("restart", err))
	}
	return err
}

// Reload replaces the module with m without dropping the plugin's NICs: the
// new module must declare the same class and interfaces, and is brought to
// the state callers asked for. If it fails to start, the old module is
// started again and the error returned. On success, done runs on the plugin
// goroutine right after the swap, so that two reloads record their results
// in the order they took effect. It returns how long the new instance took
// to start.
func (s *Supervisor) Reload(ctx context.Context, m Module, done func()) (time.Duration, error) {
	ran := false
	var took time.Duration
	_, err := s.DoAlways(ctx, "reload", func() (any, error) {
		ran = true
		old := s.mod
		s.discard()
		s.mod = m
		t0 := time.Now()
		if err := s.startInstance(false); err != nil {
			s.discard()
			s.mod = old
			if m.Release != nil {
				m.Release()
			}
			if rerr := s.tryStart(); rerr != nil {
				err = fmt.Errorf("%w (and the previous module failed to start again: %v; retrying after back-off)", err, rerr)
			}
			return nil, err
		}
		took = time.Since(t0)
		if old.Release != nil {
			old.Release()
		}
		s.setState(func(st *State) { st.Reloads++ })
		if done != nil {
			done()
		}
		s.hooks.Lifecycle(LifeReload, s.Generation(), nil)
		return nil, nil
	})
	if !ran && m.Release != nil { // the plugin closed or ctx ended before the swap ran
		m.Release()
	}
	return took, err
}
