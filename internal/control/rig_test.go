package control

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/simnet"
	"github.com/nichost/nichost/simnet/devices"
)

// rig is a daemon in miniature: a host with the LAN plugin (lan0) on a
// simulated LAN8720 on a simulated LAN (a router with DHCP) and the test
// driver (t0, NICs t0.eth0 and t0.eth1), the control server on a
// unix socket in a temporary directory, and a Client of it.
type rig struct {
	h      *host.Host
	dev    *simnet.Device
	srv    *Server
	c      *Client
	sock   string
	ring   *LogRing
	source string // lan0's source directory

	testSource string // t0's
}

// newRig builds the rig; opts adjusts the server's options. It waits for
// a cold build of the plugin as long as the test runs.
func newRig(t *testing.T, opts func(*ServerOptions)) *rig {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	router, err := simnet.NewRouter(simnet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(router.Close)
	m, _ := devices.Lookup("lan8720")
	dev, err := m.New(router, devices.Options{Name: "lan0"})
	if err != nil {
		t.Fatal(err)
	}
	if dev.Close != nil {
		t.Cleanup(dev.Close)
	}
	r := &rig{dev: dev, ring: NewLogRing(100), source: filepath.Join(root, "plugins", "lan")}
	log := slog.New(slog.NewTextHandler(r.ring, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r.h, err = host.New(host.Options{Logger: log, Hostname: "board-7", Buses: dev.Sims})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.h.Close() })
	if _, _, err := r.h.Load(context.Background(), config.PluginConfig{
		Name: "lan0", Source: r.source, Class: abi.ClassLAN, Buses: dev.Buses,
	}); err != nil {
		t.Fatalf("load: %v", err)
	}
	// t0 is the test driver (host/testdata/plugins/full), with two
	// interfaces and no buses: its echo(), raise() and crash() reach every
	// value and error a driver can return.
	r.testSource = filepath.Join(root, "host", "testdata", "plugins", "full")
	if _, _, err := r.h.Load(context.Background(), config.PluginConfig{Name: "t0", Source: r.testSource}); err != nil {
		t.Fatalf("load: %v", err)
	}
	o := ServerOptions{Logger: log, Logs: r.ring, Version: "test"}
	if opts != nil {
		opts(&o)
	}
	r.srv = NewServer(r.h, o)
	r.sock = filepath.Join(t.TempDir(), "control.sock")
	l, err := Listen(r.sock, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.srv.Serve(l) }()
	t.Cleanup(func() {
		r.srv.Shutdown(context.Background())
		<-done
		l.Close()
		if t.Failed() {
			for _, line := range r.ring.Lines(-1) {
				t.Log(line.Text)
			}
		}
	})
	r.c = NewClient(r.sock)
	return r
}

// call is Client.Call failing the test on an error.
func (r *rig) call(t *testing.T, method string, args []any, kw map[string]any) any {
	t.Helper()
	v, err := r.c.Call(wait.Context(t), "lan0", method, args, kw)
	if err != nil {
		t.Fatalf("lan0.%s(%v, %v): %v", method, args, kw, err)
	}
	return v
}

// up brings lan0 up through the API and waits for isconnected() (the link
// and a DHCP lease).
func (r *rig) up(t *testing.T) {
	t.Helper()
	if v := r.call(t, "active", []any{true}, nil); v != nil {
		t.Fatalf("active(True) = %#v, want None", v)
	}
	wait.For(t, "isconnected() through the API", func() bool {
		v, err := r.c.Call(context.Background(), "lan0", "isconnected", nil, nil)
		return err == nil && v == true
	})
}
