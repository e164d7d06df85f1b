package host_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
	"github.com/nichost/nichost/host/native"
	"github.com/nichost/nichost/internal/testdriver"
)

// faultOn is the plugin option that lets call("_fault", kind) through to
// the Go SDK's fault injection.
func faultOn(c *config.PluginConfig) {
	c.Options = map[string]any{"fault_injection": true}
}

// With the option set, each kind of injected fault is contained as the
// real fault would be: the instance is discarded with the matching error,
// the events say so, a fresh instance is started with the state replayed,
// and the NIC, with its MAC address, stays.
func TestFaultInjection_Contained(t *testing.T) {
	tests := []struct {
		kind   string
		limits config.Limits
		want   error
		msg    string
	}{
		{"trap", config.Limits{}, host.ErrTrap, "out of bounds memory access"},
		{"panic", config.Limits{}, host.ErrCrashed, `_fault("panic") requested`},
		{"loop", config.Limits{CallTimeout: 300 * time.Millisecond}, host.ErrTimeout, "call deadline exceeded in nic_call"},
		// The deadline is long so that the memory limit, not the clock,
		// ends the call on a slow machine (or under the race detector).
		{"memory", config.Limits{MemoryLimit: 16 << 20, CallTimeout: time.Minute}, host.ErrOutOfMemory, "memory limit 16MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			r := newRig(t, config.Limits{})
			p := r.load(t, "flaky", plugin("full"), noBuses, faultOn, func(c *config.PluginConfig) { c.Limits = tt.limits })
			nic := p.NICs()[0]
			link := &hosttest.Link{}
			hosttest.Attach(nic, link)
			mac := nic.MAC().String()
			ctx := ctxT(t)
			if err := nic.SetActive(ctx, true); err != nil {
				t.Fatal(err)
			}
			ch, stop := r.h.Subscribe(64)
			defer stop()

			_, err := nic.Call(ctx, "_fault", tt.kind)
			if !errors.Is(err, tt.want) || !contains(err.Error(), tt.msg) || !host.IsFault(err) {
				t.Fatalf("_fault(%q) = %v\nwant a fault %v containing %q", tt.kind, err, tt.want, tt.msg)
			}
			if tt.kind == "loop" && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("a deadline fault should match context.DeadlineExceeded: %v", err)
			}
			f := next(t, ch, host.EventFault)
			if f.Plugin != "flaky" || f.Generation != 1 || !contains(f.Message, tt.msg) {
				t.Fatalf("fault event %+v", f)
			}
			if rs := next(t, ch, host.EventRestart); rs.Generation != 2 {
				t.Fatalf("restart event %+v, want generation 2", rs)
			}
			// The NIC is the same one, with its address, and its fresh
			// driver is active again: the host replayed active(True).
			if n, ok := r.h.NIC(nic.Name()); !ok || n != nic || nic.MAC().String() != mac {
				t.Fatalf("after the fault the host has NIC %v (%v); want the same NIC with MAC %s", n, ok, mac)
			}
			if up, err := nic.Active(ctx); err != nil || !up {
				t.Fatalf("after the restart: active() = %v, %v; want True replayed", up, err)
			}
			st := p.State()
			if !st.Up || st.Faults != 1 || st.Restarts != 1 || !errors.Is(st.LastFault, tt.want) {
				t.Fatalf("state %+v, want up after one fault and one restart", st)
			}
			if !contains(r.log.String(), "injecting the fault the operator asked for") {
				t.Fatal("the host's log does not say the fault was asked for")
			}
		})
	}
}

// Without the option, _fault is an ordinary error the caller sees, and
// the instance keeps running.
func TestFaultInjection_Off(t *testing.T) {
	tests := []struct {
		name    string
		options map[string]any
		want    string
	}{
		{"absent", nil, "fault injection is off for this plugin: set options: {fault_injection: true} in its config"},
		{"false", map[string]any{"fault_injection": false}, "fault injection is off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, config.Limits{})
			p := r.load(t, "steady", plugin("full"), noBuses, func(c *config.PluginConfig) { c.Options = tt.options })
			nic := p.NICs()[0]
			ctx := ctxT(t)
			for _, kind := range []string{"trap", "loop", "memory"} {
				_, err := nic.Call(ctx, "_fault", kind)
				var e *abi.Error
				if !errors.As(err, &e) || e.Kind != abi.KindValueError || !contains(e.Msg, tt.want) {
					t.Fatalf("_fault(%q) = %v; want ValueError containing %q", kind, err, tt.want)
				}
				if host.IsFault(err) {
					t.Fatalf("_fault(%q) with injection off is a fault: %v", kind, err)
				}
			}
			if st := p.State(); !st.Up || st.Faults != 0 || p.Generation() != 1 {
				t.Fatalf("state %+v, generation %d; want the first instance still up", st, p.Generation())
			}
		})
	}
}

// The option is checked when the plugin starts, like a driver's own.
func TestFaultInjection_BadOption(t *testing.T) {
	r := newRig(t, config.Limits{})
	_, _, err := r.loadErr(t, "bad", plugin("full"), noBuses, func(c *config.PluginConfig) {
		c.Options = map[string]any{"fault_injection": "yes"}
	})
	if !errors.Is(err, abi.ErrType) || !contains(err.Error(), "options.fault_injection: expected bool, got str") {
		t.Fatalf("load with fault_injection: \"yes\" = %v; want a TypeError naming the option", err)
	}
}

// A native plugin has no sandbox: the SDK refuses the loop and the memory
// hoard it could not be stopped from, and a trap is a panic that the
// native engine recovers and reports as a trap.
func TestFaultInjection_Native(t *testing.T) {
	r := newRig(t, config.Limits{})
	cfg := config.PluginConfig{Name: "native", Options: map[string]any{"fault_injection": true}}
	p, err := native.Load(ctxT(t), r.h, cfg, testdriver.New)
	if err != nil {
		t.Fatal(err)
	}
	nic := p.NICs()[0]
	ctx := ctxT(t)
	for _, kind := range []string{"loop", "memory"} {
		if _, err := nic.Call(ctx, "_fault", kind); !errors.Is(err, abi.ErrUnsupported) || !contains(err.Error(), "no sandbox") {
			t.Fatalf("native _fault(%q) = %v; want NotImplementedError", kind, err)
		}
	}
	if st := p.State(); st.Faults != 0 {
		t.Fatalf("state %+v after refused faults", st)
	}
	if _, err := nic.Call(ctx, "_fault", "trap"); !errors.Is(err, host.ErrTrap) || !contains(err.Error(), `_fault("trap") requested`) {
		t.Fatalf("native _fault(\"trap\") = %v; want a trap", err)
	}
	eventually(t, "the native plugin restarted", func() bool { st := p.State(); return st.Up && st.Restarts == 1 })
	if _, err := nic.Call(ctx, "noop"); err != nil {
		t.Fatalf("after the restart: %v", err)
	}
}
