//go:build !wasip1

package main_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
	"github.com/nichost/nichost/host/native"
	"github.com/nichost/nichost/plugins/wlan/driver"
	"github.com/nichost/nichost/plugins/wlan/wlandev"
	"github.com/nichost/nichost/simnet"
)

// rigConfig shapes a rig.
type rigConfig struct {
	native bool // run the driver natively instead of as WASM
	dev    wlandev.Options
	tweak  func(d *wlandev.Device) // changes the device before the host takes it
}

// rig is the WLAN plugin on a simulated CYW43439 whose access points are
// bridged to a simulated LAN, where peer plays a host on the wire. The
// station's NIC goes to the rig's recording Link (no network core).
type rig struct {
	*hosttest.Rig
	dev  *wlandev.Device
	lan  *simnet.Router
	peer *sim.FramePort
	plug *host.Plugin
	nic  *host.NIC
}

// newHost makes the LAN, the device and the host without loading the
// plugin. The chip is strict: the test fails if the driver misused it.
func newHost(t *testing.T, rc rigConfig) *rig {
	t.Helper()
	r := &rig{}
	log := &hosttest.LogBuffer{}
	logger := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	lan, err := simnet.NewRouter(simnet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.lan = lan
	r.peer = lan.Attach("peer")
	if rc.dev.Logger == nil {
		rc.dev.Logger = logger.With("sim", "cyw43439")
	}
	r.dev, err = wlandev.New(lan, "w", rc.dev)
	if err != nil {
		t.Fatal(err)
	}
	if rc.tweak != nil {
		rc.tweak(r.dev)
	}
	cfg := hosttest.RigConfig{
		Hostname: "wlantest",
		Log:      log,
		Sims:     r.dev.Sims,
		Plugin:   config.PluginConfig{Name: "wlan0", Source: ".", Class: abi.ClassWLAN, Buses: r.dev.Buses},
		AfterClose: func(t testing.TB) {
			r.dev.Close()
			lan.Close()
			for _, err := range r.dev.Chip.Errors() {
				t.Errorf("simulator: %v", err)
			}
		},
	}
	if rc.native {
		cfg.Native = native.Exports(driver.New)
	}
	r.Rig = hosttest.NewHost(t, cfg)
	return r
}

// load loads the plugin.
func (r *rig) load(t *testing.T) error {
	t.Helper()
	err := r.Load(t)
	r.plug, r.nic = r.Plugin, r.NIC
	return err
}

// newRig is newHost and load, failing the test if the load fails.
func newRig(t *testing.T, rc rigConfig) *rig {
	t.Helper()
	r := newHost(t, rc)
	if err := r.load(t); err != nil {
		t.Fatalf("load: %v", err)
	}
	return r
}

// engines runs fn as a subtest with the driver as WASM and natively.
func engines(t *testing.T, fn func(t *testing.T, native bool)) { hosttest.Engines(t, fn) }

func ctxT(t *testing.T) context.Context { return hosttest.Context(t) }

// eventually polls cond until it holds (hosttest.Eventually's bound).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	hosttest.Eventually(t, what, cond)
}

// status returns status().
func (r *rig) status(t *testing.T) int64 { t.Helper(); return r.Status(t) }

// up calls active(True) and waits for the firmware: a scan answers.
func (r *rig) up(t *testing.T) {
	t.Helper()
	ctx := ctxT(t)
	if err := r.nic.SetActive(ctx, true); err != nil {
		t.Fatalf("active(True): %v", err)
	}
	eventually(t, "the firmware up", func() bool { return r.dev.Chip.Up() })
}

// join connects and waits for status 2 and the link up.
func (r *rig) join(t *testing.T, args ...any) {
	t.Helper()
	ctx := ctxT(t)
	if err := r.nic.Connect(ctx, args...); err != nil {
		t.Fatalf("connect(%v): %v", args, err)
	}
	r.waitStatus(t, 2)
	r.WaitLink(t, true)
}

// waitStatus waits until status() reads want, failing at once on another
// final failure code.
func (r *rig) waitStatus(t *testing.T, want int64) {
	t.Helper()
	var last int64
	eventually(t, "status() "+itoa(want), func() bool {
		last = r.status(t)
		if last < 0 && last != want {
			t.Fatalf("status() = %d waiting for %d", last, want)
		}
		return last == want
	})
}

func itoa(n int64) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// readPeer waits for the next frame at the peer's port with EtherType et.
func (r *rig) readPeer(t *testing.T, et uint16) []byte {
	t.Helper()
	buf := make([]byte, 65536)
	var got []byte
	eventually(t, "a frame at the peer", func() bool {
		for {
			n, _ := r.peer.ReadFrame(buf)
			if n == 0 {
				return false
			}
			if n >= 14 && uint16(buf[12])<<8|uint16(buf[13]) == et {
				got = append([]byte(nil), buf[:n]...)
				return true
			}
		}
	})
	return got
}
