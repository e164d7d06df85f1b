package host_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"periph.io/x/conn/v3/gpio"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
)

// A crashed instance is replaced and brought back to the state callers
// asked for: configuration, active, connection; the NIC keeps its MAC and
// the core sees the link come back.
func TestPlugin_RestartReplaysState(t *testing.T) {
	r := newRig(t, config.Limits{})
	p := r.load(t, "full", plugin("full"))
	nic := p.NICs()[0]
	ctx := ctxT(t)
	link := &hosttest.Link{}
	hosttest.Attach(nic, link)
	mac := []byte{0x02, 1, 2, 3, 4, 5}
	if err := nic.SetConfig(ctx, host.KW{"label": "uplink", "mac": mac}); err != nil {
		t.Fatal(err)
	}
	if err := nic.SetActive(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := nic.Connect(ctx, "net"); err != nil {
		t.Fatal(err)
	}
	if err := r.h.SetHostname("renamed"); err != nil {
		t.Fatal(err)
	}

	_, err := nic.Call(ctx, "crash")
	if !errors.Is(err, host.ErrCrashed) || !contains(err.Error(), "testdriver: crash requested") {
		t.Fatalf("crash: %v", err)
	}
	checks := []struct {
		name string
		get  func() (any, error)
		want any
	}{
		{"active", func() (any, error) { return nic.Active(ctx) }, true},
		{"isconnected", func() (any, error) { return nic.IsConnected(ctx) }, true},
		{"label", func() (any, error) { return nic.Config(ctx, "label") }, "uplink"},
		{"driver's mac", func() (any, error) { v, err := nic.Config(ctx, "mac"); return string(v.([]byte)), err }, string(mac)},
		{"hostname in the new StartInfo", func() (any, error) {
			v, err := nic.Call(ctx, "info")
			return v.(map[string]any)["hostname"], err
		}, "renamed"},
	}
	for _, c := range checks {
		got, err := c.get()
		if err != nil || got != c.want {
			t.Errorf("%s after restart = %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	if !bytes.Equal(nic.MAC(), mac) {
		t.Errorf("host MAC after restart %v", nic.MAC())
	}
	st := p.State()
	if st.Restarts != 1 || st.Faults != 1 || !st.Up {
		t.Errorf("state %+v", st)
	}
	// The second interface was never activated and stays so.
	if up, _ := p.NICs()[1].Active(ctx); up {
		t.Error("restart activated an interface nobody activated")
	}
	var ups []bool
	for _, s := range link.States() {
		ups = append(ups, s.Up)
	}
	if want := []bool{false, true, false, true}; !reflect.DeepEqual(ups, want) {
		t.Errorf("core saw link up/down %v, want %v (attach, active, crash, replay)", ups, want)
	}
}

func TestPlugin_Close(t *testing.T) {
	r := newRig(t, config.Limits{})
	p := r.load(t, "full", plugin("full"))
	nic := p.NICs()[0]
	p.Close()
	if _, err := nic.Active(ctxT(t)); !errors.Is(err, host.ErrClosed) {
		t.Fatalf("call after Close: %v, want ErrClosed", err)
	}
	if _, ok := r.h.Plugin("full"); ok {
		t.Fatal("closed plugin still registered")
	}
	// The name is free again.
	r.load(t, "full", plugin("full"))
}

// A restarted instance watches its interrupt line again; edges must reach
// the new watcher.
func TestPlugin_GPIOWatchAfterRestart(t *testing.T) {
	r := newRig(t, config.Limits{})
	nic := r.load(t, "full", plugin("full")).NICs()[0]
	ctx := ctxT(t)
	if _, err := nic.Call(ctx, "gpio_watch", int64(abi.EdgeBoth)); err != nil {
		t.Fatal(err)
	}
	if _, err := nic.Call(ctx, "crash"); !errors.Is(err, host.ErrCrashed) {
		t.Fatalf("crash: %v", err)
	}
	if _, err := nic.Call(ctx, "gpio_watch", int64(abi.EdgeBoth)); err != nil {
		t.Fatal(err)
	}
	r.pin.SetLevel(gpio.High)
	r.pin.SetLevel(gpio.Low)
	var edges int64
	eventually(t, "two edges after the restart", func() bool {
		v, _ := nic.Call(ctx, "gpio_edges")
		edges += v.(int64)
		return edges >= 2
	})
}

// A driver may ask for its first timer in nic_start.
func TestPlugin_WakeRequestedInStart(t *testing.T) {
	r := newRig(t, config.Limits{})
	nic := r.load(t, "full", plugin("full"), func(c *config.PluginConfig) {
		c.Options = map[string]any{"wake_at_start": true}
	}).NICs()[0]
	eventually(t, "the timer poll asked for in Start", func() bool {
		v, _ := nic.Call(ctxT(t), "info")
		return abi.Event(v.(map[string]any)["events"].(int64))&abi.EventTimer != 0
	})
}
