package host_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
)

// Each hostile plugin does one bad thing. The host must stay up, say what
// happened, keep the other plugin working, and (for faults) restart the
// hostile one.
func TestHostile_RuntimeFaults(t *testing.T) {
	tests := []struct {
		plugin  string
		limits  config.Limits
		want    error
		msg     string
		restart bool // the fault discards the instance
	}{
		{"loop", config.Limits{CallTimeout: 300 * time.Millisecond}, host.ErrTimeout, "call deadline exceeded in nic_active", true},
		// The call deadline is long so that the memory limit, not the clock,
		// ends the call on a slow machine (or under the race detector).
		{"oom", config.Limits{MemoryLimit: 16 << 20, CallTimeout: time.Minute}, host.ErrOutOfMemory, "fatal error: out of memory (memory limit 16MiB)", true},
		{"trap", config.Limits{}, host.ErrTrap, "out of bounds memory access", true},
		{"panic", config.Limits{}, host.ErrCrashed, "panic: driver bug: boom", true},
		{"oob", config.Limits{}, host.ErrViolation, "log: buffer [0xfff00000, 0xfff00040) lies outside guest memory", true},
		{"badhandle", config.Limits{}, syscall.EBADF, "returned -9", false},
	}
	for _, tt := range tests {
		t.Run(tt.plugin, func(t *testing.T) {
			r := newRig(t, config.Limits{})
			good := r.load(t, "good", plugin("full"), noBuses).NICs()[0]
			bad := r.load(t, "bad", plugin("hostile/"+tt.plugin), func(c *config.PluginConfig) { c.Limits = tt.limits })
			nic := bad.NICs()[0]
			ctx := ctxT(t)

			err := nic.SetActive(ctx, true)
			if !errors.Is(err, tt.want) || !contains(err.Error(), tt.msg) {
				t.Fatalf("SetActive(true) = %v\nwant %v containing %q", err, tt.want, tt.msg)
			}
			if !contains(err.Error(), `plugin "bad": bad.eth0.active(True)`) {
				t.Fatalf("error %q does not name the plugin", err)
			}
			if got := host.IsFault(err); got != tt.restart {
				t.Fatalf("IsFault = %v, want %v", got, tt.restart)
			}
			if tt.plugin == "loop" && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("a timeout should match context.DeadlineExceeded: %v", err)
			}
			// The other plugin is untouched.
			if err := good.SetActive(ctx, true); err != nil {
				t.Fatalf("the good plugin failed after the bad one's fault: %v", err)
			}
			// The hostile plugin comes back (calls wait for the restart)
			// and answers calls that do not hit its bad method.
			if up, err := nic.Active(ctx); err != nil || up {
				t.Fatalf("after the fault: Active() = %v, %v; want false", up, err)
			}
			st := bad.State()
			if tt.restart && (st.Restarts != 1 || st.Faults != 1 || !errors.Is(st.LastFault, tt.want)) {
				t.Fatalf("state %+v, want one fault and one restart", st)
			}
			if !tt.restart && (st.Restarts != 0 || st.Faults != 0) {
				t.Fatalf("state %+v, want no fault", st)
			}
		})
	}
}

func TestHostile_BadHandleTouchesNothing(t *testing.T) {
	r := newRig(t, config.Limits{})
	bad := r.load(t, "bad", plugin("hostile/badhandle"))
	before := r.spi.Stats()
	err := bad.NICs()[0].SetActive(ctxT(t), true)
	if !errors.Is(err, abi.ErrOS) || !errors.Is(err, syscall.EBADF) {
		t.Fatalf("SetActive = %v, want OSError EBADF", err)
	}
	if _, isOut := r.pin.Output(); isOut {
		t.Fatal("the GPIO pin was driven through a handle that was not granted for it")
	}
	if r.spi.Stats() != before {
		t.Fatal("the SPI bus saw traffic")
	}
	if n := bad.Stats().BadHandles; n != 2 {
		t.Fatalf("BadHandles = %d, want 2 (handle 99, and the SPI handle used as GPIO)", n)
	}
	if !contains(r.log.String(), "plugin used a handle it was not granted") {
		t.Fatalf("host log does not report the bad handle:\n%s", r.log)
	}
}

func TestHostile_GarbageResults(t *testing.T) {
	r := newRig(t, config.Limits{})
	nic := r.load(t, "bad", plugin("hostile/garbage"), func(c *config.PluginConfig) { c.Buses = nil }).NICs()[0]
	ctx := ctxT(t)
	_, err := nic.IsConnected(ctx)
	if !errors.Is(err, host.ErrViolation) || !contains(err.Error(), "nic_isconnected") || !contains(err.Error(), "not a valid ABI value") {
		t.Fatalf("IsConnected = %v, want an ABI violation about the encoding", err)
	}
	_, err = nic.Status(ctx)
	if !errors.Is(err, host.ErrViolation) || !contains(err.Error(), "returned 7; control exports return 0 or -1") {
		t.Fatalf("Status = %v, want an ABI violation about the status code", err)
	}
	if up, err := nic.Active(ctx); err != nil || !up {
		t.Fatalf("Active = %v, %v: well-formed answers still work", up, err)
	}
	if st := nic.Plugin().State(); st.Faults != 2 || st.Restarts != 2 {
		t.Fatalf("state %+v, want 2 faults and 2 restarts", st)
	}
}

func TestHostile_RefusedAtLoad(t *testing.T) {
	tests := []struct {
		plugin string
		want   error
		msg    string
	}{
		{"abiversion", host.ErrABIVersion, "the plugin speaks ABI 2.0, this host speaks " + abi.VersionString(abi.Version)},
		{"noexport", host.ErrBadModule, "lacks required exports: nic_start, nic_active"},
	}
	for _, tt := range tests {
		t.Run(tt.plugin, func(t *testing.T) {
			r := newRig(t, config.Limits{})
			good := r.load(t, "good", plugin("full"), noBuses).NICs()[0]
			_, _, err := r.loadErr(t, "bad", plugin("hostile/"+tt.plugin))
			if !errors.Is(err, tt.want) || !contains(err.Error(), tt.msg) || !contains(err.Error(), `plugin "bad": load`) {
				t.Fatalf("Load = %v\nwant %v containing %q", err, tt.want, tt.msg)
			}
			if _, ok := r.h.Plugin("bad"); ok {
				t.Fatal("a refused plugin was registered")
			}
			if _, err := good.Active(ctxT(t)); err != nil {
				t.Fatalf("the good plugin: %v", err)
			}
		})
	}
}
