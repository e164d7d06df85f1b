package guest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/abi/guest/guesttest"
)

// _fault is the SDK's: the driver's Caller never sees it, whatever the
// option says, and an injection that is off says how to turn it on.
// (The faults themselves, as the host contains them, are tested in
// host/fault_injection_test.go.)
func TestModule_FaultRefused(t *testing.T) {
	tests := []struct {
		name    string
		options map[string]any
		args    []any
		kind    int
		want    string
	}{
		{"no option", nil, []any{"trap"}, abi.KindValueError, "fault injection is off for this plugin: set options: {fault_injection: true}"},
		{"option false", map[string]any{"fault_injection": false}, []any{"trap"}, abi.KindValueError, "fault injection is off"},
		{"unknown kind", map[string]any{"fault_injection": true}, []any{"boom"}, abi.KindValueError, `unknown kind "boom" (want trap, panic, loop, memory)`},
		{"no kind", map[string]any{"fault_injection": true}, nil, abi.KindTypeError, "missing argument 0 (kind)"},
		{"kind not a str", map[string]any{"fault_injection": true}, []any{1}, abi.KindTypeError, "kind: expected str, got int"},
		{"two arguments", map[string]any{"fault_injection": true}, []any{"loop", "x"}, abi.KindTypeError, "_fault() takes at most 1 argument, got 2"},
		// Natively nothing could stop a loop or a hoard short of the
		// host's own death: refused, and the driver keeps running.
		{"native loop", map[string]any{"fault_injection": true}, []any{"loop"}, abi.KindUnsupported, `_fault("loop"): a native build has no sandbox to contain it`},
		{"native memory", map[string]any{"fault_injection": true}, []any{"memory"}, abi.KindUnsupported, `_fault("memory"): a native build has no sandbox`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &spy{}
			h := guesttest.New(t, d, guesttest.Options{Options: tt.options})
			_, err := h.Call(guest.FaultMethod, tt.args...)
			var e *abi.Error
			if !errors.As(err, &e) || e.Kind != tt.kind || !strings.Contains(e.Msg, tt.want) {
				t.Fatalf("_fault%v = %v; want %s containing %q", tt.args, err, abi.KindName(tt.kind), tt.want)
			}
			if d.calls != 0 {
				t.Fatalf("the driver's Call saw _fault %d times", d.calls)
			}
			if _, err := h.Call("active"); err != nil {
				t.Fatalf("the driver after a refused _fault: %v", err)
			}
		})
	}
}

// The option is the SDK's: the driver does not see it, so a driver that
// refuses unknown options starts with it; a value that is not a bool
// fails the start.
func TestModule_FaultOption(t *testing.T) {
	d := &spy{}
	guesttest.New(t, d, guesttest.Options{Options: map[string]any{"fault_injection": true, "poll_ms": 20}})
	if opts := d.env.Info().Options; len(opts) != 1 || opts["poll_ms"] != int64(20) {
		t.Fatalf("the driver sees options %v, want only poll_ms", opts)
	}
	if _, ok := d.env.Option("fault_injection"); ok {
		t.Fatal("the driver sees fault_injection")
	}
	_, err := guesttest.Start(&spy{}, guesttest.Options{Options: map[string]any{"fault_injection": "yes"}})
	if !errors.Is(err, abi.ErrType) || !strings.Contains(err.Error(), "options.fault_injection: expected bool, got str") {
		t.Fatalf("start with fault_injection: \"yes\" = %v, want a TypeError naming the option", err)
	}
}

// Natively a trap or a panic is a Go panic out of the export, which the
// host's native engine recovers and reports as a trap.
func TestModule_FaultPanicsNatively(t *testing.T) {
	for _, kind := range []string{guest.FaultTrap, guest.FaultPanic} {
		t.Run(kind, func(t *testing.T) {
			h := guesttest.New(t, &spy{}, guesttest.Options{Options: map[string]any{"fault_injection": true}})
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, `_fault("`+kind+`") requested`) {
					t.Fatalf("recovered %v, want the injected panic", r)
				}
				logs := h.Logs()
				if len(logs) == 0 || !strings.Contains(logs[len(logs)-1].Msg, "injecting the fault the operator asked for") {
					t.Fatalf("no log line before the fault: %v", logs)
				}
			}()
			_, err := h.Call(guest.FaultMethod, kind)
			t.Fatalf("_fault(%q) returned %v", kind, err)
		})
	}
}

// spy is a Caller that counts the calls it gets.
type spy struct {
	recorder
	calls int
}

func (s *spy) Call(int, string, guest.Args) (any, error) { s.calls++; return nil, nil }
