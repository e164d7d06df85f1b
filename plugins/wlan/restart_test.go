//go:build !wasip1

package main_test

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/plugins/wlan/wlandev"
	"github.com/nichost/nichost/simnet"
)

// A restart of the plugin while the station is joined (a fault, say)
// power-cycles the chip; the host replays config, active and connect, the
// station joins again, and a TCP connection the host holds through the
// NIC carries on: the second request on one keep-alive connection is
// answered after the restart.
func TestWLAN_RestartKeepsTCP(t *testing.T) {
	lan, dev, _, p := loadOnLAN(t, nil)
	ctx := wait.Context(t)
	nic := p.NICs()[0]
	n := dev.Networks[0]
	if err := nic.Connect(ctx, n.SSID, n.Key); err != nil {
		t.Fatal(err)
	}
	joined := func() bool {
		st, _ := nic.StatusCode(ctx)
		return st == host.StatGotIP
	}
	wait.For(t, "joined with a lease", joined)
	conn, err := nic.Dial(ctx, "tcp", simnet.RouterAddr.String()+":80")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	get := func(i int) {
		t.Helper()
		fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d on the connection: %v", i, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || len(b) != len(lan.Page) {
			t.Fatalf("request %d: %d, %d bytes, %v", i, resp.StatusCode, len(b), err)
		}
	}
	get(1)
	gen := p.Generation()
	if err := p.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "a new instance joined again", func() bool { return p.Generation() > gen && joined() })
	get(2)
	if errs := dev.Chip.Errors(); len(errs) > 0 {
		t.Errorf("simulator: %v", errs)
	}
}

// loadOnLAN loads the plugin, with interfaces, on a host with the default
// simulated device, whose access points are bridged to a simulated LAN.
func loadOnLAN(t *testing.T, interfaces map[string]config.InterfaceConfig) (*simnet.Router, *wlandev.Device, *host.Host, *host.Plugin) {
	t.Helper()
	lan, err := simnet.NewRouter(simnet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lan.Close() })
	dev, err := wlandev.New(lan, "w")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dev.Close)
	h, err := host.New(host.Options{Logger: slog.New(slog.DiscardHandler), Buses: dev.Sims})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	p, _, err := h.Load(wait.Context(t), config.PluginConfig{Name: "wifi", Source: ".", Class: abi.ClassWLAN, Buses: dev.Buses, Interfaces: interfaces})
	if err != nil {
		t.Fatal(err)
	}
	return lan, dev, h, p
}
