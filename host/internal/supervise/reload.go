package supervise

import (
	"context"
	"fmt"
	"time"

	"github.com/nichost/nichost/abi"
)

// A hot reload and the warm handover (ABI.md "Warm handover"): the new
// module is checked while the old instance still runs; a driver that
// declares the resume feature gets the running device handed over (the
// old instance's nic_suspend state in the start info) while the host holds
// the links as they are and queues the core's frames; a new module that
// fails to start is rolled back to the old one.

// LinkHold is how long the host holds the links of a plugin whose next
// instance will be offered the running device, waiting for that instance
// to take them over or to report them up; then they are reported down.
const LinkHold = 2 * time.Second

// Reload replaces the module with m without dropping the plugin's NICs: the
// new module must declare the same class and interfaces, and is brought to
// the state callers asked for. Until m's instance has passed its handshake
// the old instance goes on serving; if m fails there, nothing changed. If
// it fails to start, the old module is started again (resumed from what it
// handed over, when it can) and the error says both what failed and how
// the old one came back. On success, done runs on the plugin goroutine
// right after the swap, so that two reloads record their results in the
// order they took effect. It returns how long the swap took, from the new
// instance's creation to the end of its first poll.
func (s *Supervisor) Reload(ctx context.Context, m Module, done func()) (time.Duration, error) {
	// The new instance is made and checked here, on the caller's
	// goroutine: the running instance goes on serving meanwhile.
	t0 := time.Now()
	c, err := s.newCandidate(m, false)
	if err != nil {
		release(m)
		return 0, s.hooks.Wrap("reload", fmt.Errorf("%w (the new module was not started: the running one goes on)", err))
	}
	ran := false
	var took time.Duration
	_, err = s.DoAlways(ctx, "reload", func() (any, error) {
		ran = true
		resumed, err := s.swap(c, m)
		if err != nil {
			return nil, err
		}
		took = time.Since(t0)
		s.setState(func(st *State) { st.Reloads++ })
		if done != nil {
			done()
		}
		if resumed {
			s.log.Info("plugin reloaded warm: the new instance took the running device over", "generation", s.Generation())
		}
		s.hooks.Lifecycle(LifeReload, s.Generation(), nil)
		return nil, nil
	})
	if !ran { // the plugin closed or ctx ended before the swap ran
		closeInstance(c.inst)
		release(m)
	}
	return took, err
}

func release(m Module) {
	if m.Release != nil {
		m.Release()
	}
}

// swap stops the running instance (handing its device over if both
// modules take part in the warm handover) and starts candidate c of module
// m in its place; if c fails to start, the old module comes back.
func (s *Supervisor) swap(c *candidate, m Module) (resumed bool, err error) {
	old, oldDesc := s.mod, s.Description()
	var offer *abi.Resume
	suspended := false
	if canResume(c.desc) {
		offer = &abi.Resume{Reason: abi.ResumeReload}
		switch {
		case s.inst == nil && s.resumeNext != nil:
			offer = s.resumeNext // down after a fault: the device as it left it
		case s.inst != nil && canResume(oldDesc):
			state, err := s.suspend()
			if err != nil {
				s.log.Warn("the running instance did not hand its device over; the new one starts cold", "err", err)
				offer = nil
				break
			}
			offer.State, suspended = state, true
		}
	}
	if offer != nil {
		s.holdLinks()
	} else {
		s.releaseHold(false)
	}
	s.discard()
	s.resumeNext = nil
	s.mod = m
	s.probing, s.probeErr = true, nil
	resumed, err = s.startCandidate(c, false, offer, nil)
	s.probing = false
	if err == nil {
		release(old)
		s.afterStart(resumed)
		return resumed, nil
	}

	// Roll back: the old module again, taking the device over from what
	// it handed over if it can, cold otherwise.
	s.dropInstance()
	release(m)
	s.mod = old
	s.desc.Store(&oldDesc)
	if canResume(oldDesc) && offer != nil {
		back := &abi.Resume{Reason: abi.ResumeReload}
		if suspended {
			back.State = offer.State
		}
		s.resumeNext = back
		s.holdLinks()
	} else {
		s.releaseHold(false)
		s.hooks.Down()
	}
	err = fmt.Errorf("the new module failed to start: %w", err)
	again, rerr := s.tryStart(nil)
	switch {
	case rerr != nil:
		return false, fmt.Errorf("%w (and the previous module failed to start again: %v; retrying after back-off)", err, rerr)
	case again:
		err = fmt.Errorf("%w (the previous module runs again, resumed from the state it handed over)", err)
	default:
		err = fmt.Errorf("%w (the previous module runs again, started cold)", err)
	}
	s.log.Warn("reload rolled back", "err", err, "generation", s.Generation())
	s.hooks.Lifecycle(LifeRestart, s.Generation(), err)
	return false, err
}

// suspend calls nic_suspend on the running instance and returns the state
// it handed over. Any failure (an error raised, a fault, a reply that is
// not bytes of at most MaxResumeState or None, an engine without the
// export) means the instance did not hand over; a faulted instance is
// dropped, not restarted.
func (s *Supervisor) suspend() ([]byte, error) {
	s.probing, s.probeErr = true, nil
	v, err := s.Control(abi.ExportSuspend, 0, []byte{})
	s.probing = false
	if err != nil {
		return nil, err
	}
	switch st := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		if len(st) <= abi.MaxResumeState {
			return st, nil
		}
		return nil, fmt.Errorf("%w: nic_suspend replied %d bytes of state, more than %d", ErrBadModule, len(st), abi.MaxResumeState)
	}
	return nil, fmt.Errorf("%w: nic_suspend replied %s; the state is bytes or None", ErrBadModule, abi.TypeName(v))
}

// holdLinks keeps the links as the core has them while the next instance
// comes up: frames the core sends wait in the transmit queue (flushTx
// offers none until the hold ends), and LinkHold from now the links still
// held are reported down.
func (s *Supervisor) holdLinks() {
	if s.hold {
		return
	}
	s.hold, s.holdUntil = true, time.Now().Add(LinkHold)
	s.hooks.Hold()
}

// afterStart ends the hold after a successful start: a resumed instance
// takes the links over as they are; a cold one keeps the hold until it
// reports them up (holding reports whether that happened already).
func (s *Supervisor) afterStart(resumed bool) {
	if s.hold && resumed {
		s.releaseHold(true)
	}
}

// releaseHold ends the hold: the instance took the links over, or (not
// takenOver) the hold ran out or was given up, and the links still held
// are reported down.
func (s *Supervisor) releaseHold(takenOver bool) {
	if !s.hold {
		return
	}
	s.hold = false
	s.hooks.Release(takenOver)
}

// holding reports whether frames must still wait for the next instance:
// the hold ends once a cold instance has reported every held link up, or
// when LinkHold has passed.
func (s *Supervisor) holding() bool {
	if !s.hold {
		return false
	}
	switch {
	case !time.Now().Before(s.holdUntil):
		s.log.Warn("the next instance did not take the link over in time; reporting it down", "hold", LinkHold)
		s.releaseHold(false)
	case s.inst != nil && !s.hooks.Held():
		s.hold = false
	}
	return s.hold
}
