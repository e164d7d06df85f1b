package supervise

import (
	"context"
	"fmt"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/internal/engine"
)

// callCtx is the context of one call into the instance.
func (s *Supervisor) callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.limits.CallTimeout)
}

// Control calls a control export with args (ABI values, or already encoded
// bytes) and decodes its result. It must run on the plugin goroutine: call
// it from a function passed to Do.
func (s *Supervisor) Control(export string, iface int, args any) (any, error) {
	if s.inst == nil {
		return nil, fmt.Errorf("no running instance (last fault: %v)", s.State().LastFault)
	}
	b, err := encodeArgs(args)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.callCtx()
	defer cancel()
	s.sess.Begin(ctx, b)
	s.calls.Add(1)
	t0 := time.Now()
	rc, err := s.inst.Call(ctx, export, int32(iface))
	s.account(export, t0)
	if err != nil {
		return nil, s.fault(err)
	}
	return s.result(export, rc)
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
func (s *Supervisor) result(export string, rc int32) (any, error) {
	if bad := s.sess.Violation(); bad != nil {
		return nil, s.violation(export, bad.Error())
	}
	switch rc {
	case abi.StatusOK:
		reply, ok := s.sess.Result()
		if !ok {
			return nil, nil
		}
		v, err := abi.Unmarshal(reply)
		if err != nil {
			return nil, s.violation(export, fmt.Sprintf("its result is not a valid ABI value: %v", err))
		}
		return v, nil
	case abi.StatusError:
		raised := s.sess.Raised()
		if raised == nil {
			return nil, s.violation(export, "it returned -1 without calling raise")
		}
		return nil, raised
	}
	return nil, s.violation(export, fmt.Sprintf("it returned %d; control exports return 0 or -1", rc))
}

// poll calls nic_poll; errors it raises are logged, faults handled.
func (s *Supervisor) poll(events abi.Event) {
	if s.inst == nil {
		return
	}
	ctx, cancel := s.callCtx()
	defer cancel()
	s.sess.Begin(ctx, nil)
	s.polls.Add(1)
	s.txBusy = false
	t0 := time.Now()
	rc, err := s.inst.Poll(ctx, events)
	s.account(abi.ExportPoll, t0)
	if err != nil {
		s.fault(err)
		return
	}
	if _, err := s.result(abi.ExportPoll, rc); err != nil && !engine.IsFault(err) {
		s.log.Warn("poll failed", "err", err)
	}
}

// Instance is the running instance, nil while the plugin is down. It must
// be used on the plugin goroutine only (inside Do): benchmarks call its
// exports directly to measure them alone.
func (s *Supervisor) Instance() engine.Instance { return s.inst }
