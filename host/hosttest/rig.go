package hosttest

import (
	"context"
	"log/slog"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/config"
)

// RigConfig says what a Rig loads and grants.
type RigConfig struct {
	// Plugin is the plugin's configuration: name, source (a Go or C directory or
	// a .wasm file), class, grants naming buses in Sims, options.
	Plugin config.PluginConfig
	// Sims are the simulated buses the grants name (host.Options.Buses).
	Sims map[string]any
	// Hostname is network.hostname() on the rig's host.
	Hostname string
	// Native, when set, runs the driver compiled into the test instead of
	// as WASM (native.Exports(driver.New) for a Go SDK driver).
	Native func(abi.Imports) abi.Exports
	// Log receives the host's log (a new LogBuffer when nil); pass one to
	// put a device simulator's lines in the same place.
	Log *LogBuffer
	// AfterClose runs when the test ends, after the host closed and before
	// a failed test's log is printed: a device simulator checks there what
	// the driver did to it.
	AfterClose func(t testing.TB)
}

// Rig is a host with one driver plugin on simulated buses, its first NIC
// attached to a recording Link instead of the network core: the harness a
// driver's own tests run on. The host's log goes to Log and is printed when
// the test fails.
type Rig struct {
	Host   *host.Host
	Log    *LogBuffer
	Plugin *host.Plugin
	NIC    *host.NIC
	Link   *Link
	cfg    RigConfig
}

// NewHost makes the rig's host without loading the plugin, so a test can
// look at what Load says.
func NewHost(t testing.TB, cfg RigConfig) *Rig {
	t.Helper()
	r := &Rig{Log: cfg.Log, Link: &Link{}, cfg: cfg}
	if r.Log == nil {
		r.Log = &LogBuffer{}
	}
	h, err := host.New(host.Options{
		Logger:   slog.New(slog.NewTextHandler(r.Log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Hostname: cfg.Hostname,
		Buses:    cfg.Sims,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.Host = h
	t.Cleanup(func() {
		h.Close()
		if cfg.AfterClose != nil {
			cfg.AfterClose(t)
		}
		if t.Failed() {
			t.Logf("host log:\n%s", r.Log)
		}
	})
	return r
}

// Load loads the plugin (natively when the config says so) and attaches
// the rig's Link to its first NIC. It waits for a cold build as long as the
// test runs: no deadline of its own.
func (r *Rig) Load(t testing.TB) error {
	t.Helper()
	ctx := context.Background()
	if c, ok := t.(interface{ Context() context.Context }); ok {
		ctx = c.Context()
	}
	var err error
	if r.cfg.Native != nil {
		r.Plugin, err = r.Host.LoadNative(ctx, r.cfg.Plugin, r.cfg.Native)
	} else {
		r.Plugin, _, err = r.Host.Load(ctx, r.cfg.Plugin)
	}
	if err != nil {
		return err
	}
	r.NIC = r.Plugin.NICs()[0]
	Attach(r.NIC, r.Link)
	return nil
}

// NewRig is NewHost and Load, failing the test if the load fails.
func NewRig(t testing.TB, cfg RigConfig) *Rig {
	t.Helper()
	r := NewHost(t, cfg)
	if err := r.Load(t); err != nil {
		t.Fatalf("load: %v", err)
	}
	return r
}

// Engines runs fn as a subtest with the driver as WASM and natively.
func Engines(t *testing.T, fn func(t *testing.T, native bool)) {
	t.Run("wasm", func(t *testing.T) { fn(t, false) })
	t.Run("native", func(t *testing.T) { fn(t, true) })
}

// Up calls active(True) and waits for the link.
func (r *Rig) Up(t testing.TB) {
	t.Helper()
	if err := r.NIC.SetActive(Context(t), true); err != nil {
		t.Fatalf("active(True): %v", err)
	}
	r.WaitLink(t, true)
}

// WaitLink waits until isconnected() and the NIC's link state both say up
// (or both say down).
func (r *Rig) WaitLink(t testing.TB, up bool) {
	t.Helper()
	ctx := Context(t)
	Eventually(t, "isconnected() and the link state to agree", func() bool {
		c, err := r.NIC.IsConnected(ctx)
		return err == nil && c == up && r.NIC.LinkState().Up == up
	})
}

// Status returns status() as the int it is for the Ethernet classes.
func (r *Rig) Status(t testing.TB) int64 {
	t.Helper()
	v, err := r.NIC.Status(Context(t))
	if err != nil {
		t.Fatalf("status(): %v", err)
	}
	n, ok := v.(int64)
	if !ok {
		t.Fatalf("status() = %v (%s), want an int", v, abi.TypeName(v))
	}
	return n
}

// ReadFrame waits for the next frame at port (a peer's end of the
// simulated wire) and returns it.
func ReadFrame(t testing.TB, port bus.FramePort) []byte {
	t.Helper()
	buf := make([]byte, 65536)
	var n int
	Eventually(t, "a frame at "+portName(port), func() bool {
		n, _ = port.ReadFrame(buf)
		return n > 0
	})
	return buf[:n]
}

func portName(p bus.FramePort) string {
	if s, ok := p.(interface{ String() string }); ok {
		return "port " + s.String()
	}
	return "the port"
}
