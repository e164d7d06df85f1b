package tests

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/plugins/lan/phy"
)

// benchPath is one way for Go code to reach the kernel in ns: a stack that
// dials the kernel's listeners.
type benchPath struct {
	name string
	dial func(ctx context.Context, addr string) (net.Conn, error)
	ns   *netns // the kernel side
	peer string // the kernel's address
}

// BenchmarkTAP measures, in one run, TCP bulk throughput each way and the
// connection setup rate between the Linux kernel and:
//
//	nichost: the full path (core + LAN plugin in WASM + TAP frame port)
//	core:    the same core reading the TAP itself, no plugin
//	kernel:  another kernel stack over a veth pair (context only)
//
// and reports nichost/core, the price of sandboxed drivers. Needs root.
//
//	go test -run '^$' -bench TAP -benchtime 3x ./tests/
func BenchmarkTAP(b *testing.B) {
	const size = 32 << 20
	paths := []benchPath{nichostPath(b), corePath(b), kernelPath(b)}
	if only := os.Getenv("NICHOST_BENCH_ONLY"); only != "" { // profile one path
		paths = slices.DeleteFunc(paths, func(p benchPath) bool { return p.name != only })
	}
	ctx := context.Background()
	for _, dir := range []string{"send", "receive"} {
		b.Run(dir, func(b *testing.B) {
			rate := map[string]float64{}
			for _, p := range paths {
				var total time.Duration
				for range b.N {
					total += bulk1(b, ctx, p, dir == "send", size)
				}
				rate[p.name] = float64(size) * float64(b.N) / total.Seconds() / 1e6
				b.ReportMetric(rate[p.name], p.name+"-MB/s")
			}
			b.ReportMetric(rate["nichost"]/rate["core"], "nichost/core")
		})
	}
	b.Run("connect", func(b *testing.B) {
		rate := map[string]float64{}
		for _, p := range paths {
			var ln net.Listener
			var err error
			p.ns.do(b, func() { ln, err = net.Listen("tcp", ":9301") })
			if err != nil {
				b.Fatal(err)
			}
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					c.Close()
				}
			}()
			const n = 200
			start := time.Now()
			for range n * b.N {
				c, err := p.dial(ctx, net.JoinHostPort(p.peer, "9301"))
				if err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
			rate[p.name] = float64(n*b.N) / time.Since(start).Seconds()
			ln.Close()
			b.ReportMetric(rate[p.name], p.name+"-conn/s")
		}
		b.ReportMetric(rate["nichost"]/rate["core"], "nichost/core")
	})
}

// bulk1 moves size bytes one way over one connection and returns the time:
// from the path's stack to the kernel when send, else the other way.
func bulk1(b *testing.B, ctx context.Context, p benchPath, send bool, size int) time.Duration {
	var ln net.Listener
	var err error
	p.ns.do(b, func() { ln, err = net.Listen("tcp", ":9300") })
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := p.dial(ctx, net.JoinHostPort(p.peer, "9300"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	k := <-accepted
	if k == nil {
		b.Fatal("the kernel accepted no connection")
	}
	defer k.Close()
	from, to := c, k
	if !send {
		from, to = k, c
	}
	payload := make([]byte, 1<<20)
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := io.CopyN(io.Discard, to, int64(size))
		done <- err
	}()
	for sent := 0; sent < size; sent += len(payload) {
		if _, err := from.Write(payload); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// nichostPath: the LAN plugin (WASM) on a TAP, statically addressed.
func nichostPath(b *testing.B) benchPath {
	ns, tap := kernelTAP(b)
	mdio := sim.NewMDIO()
	mdio.Attach(1, phy.New(phy.Options{Addr: 1, ResetTime: time.Millisecond, AutoNegTime: 10 * time.Millisecond}))
	h, err := host.New(host.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Buses: map[string]any{"tap": tap, "mdio": mdio}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	ctx := context.Background()
	p, _, err := h.Load(ctx, config.PluginConfig{Name: "eth0", Source: filepath.Join("..", "plugins", "lan"),
		Buses: map[string]config.BusGrant{"port": {Kind: "frame", Sim: "tap"}, "mdio": {Kind: "mdio", Sim: "mdio"}}})
	if err != nil {
		b.Fatal(err)
	}
	nic := p.NICs()[0]
	nic.SetIPConfig(ctx, host.KW{"addr4": "10.213.7.50/24"})
	if err := nic.SetActive(ctx, true); err != nil {
		b.Fatal(err)
	}
	eventually(b, "link up", func() bool { ok, _ := nic.IsConnected(ctx); return ok })
	return benchPath{name: "nichost", dial: func(ctx context.Context, a string) (net.Conn, error) { return nic.Dial(ctx, "tcp", a) }, ns: ns, peer: kernelAddr4}
}

// corePath: the same core with the TAP as its NIC's wire, no plugin.
func corePath(b *testing.B) benchPath {
	ns, tap := kernelTAP(b)
	st := core.New(core.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	b.Cleanup(st.Close)
	n, err := st.AddNIC("eth0", net.HardwareAddr{2, 0, 0, 0, 0x13, 1}, core.LinkEthernet, tap.WriteFrame)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(bus.Forward(tap, func(f []byte) { n.DeliverFrame(f) }))
	n.LinkChanged(core.LinkState{Up: true, Type: core.LinkEthernet, MTU: 1500})
	n.SetIPConfig(map[string]any{"addr4": "10.213.7.51/24"})
	return benchPath{name: "core", dial: func(ctx context.Context, a string) (net.Conn, error) { return n.Dial(ctx, "tcp", a) }, ns: ns, peer: kernelAddr4}
}

// kernelPath: two kernel stacks in two namespaces joined by a veth pair.
func kernelPath(b *testing.B) benchPath {
	client, server := newNetns(b), newNetns(b)
	run(b, "ip", "link", "add", "nhva", "netns", client.name, "type", "veth", "peer", "name", "nhvb", "netns", server.name)
	client.ip(b, "addr", "add", "10.213.8.2/24", "dev", "nhva")
	client.ip(b, "link", "set", "nhva", "up")
	server.ip(b, "addr", "add", "10.213.8.1/24", "dev", "nhvb")
	server.ip(b, "link", "set", "nhvb", "up")
	dial := func(ctx context.Context, a string) (net.Conn, error) {
		var c net.Conn
		var err error
		client.do(b, func() { c, err = (&net.Dialer{}).DialContext(ctx, "tcp", a) })
		return c, err
	}
	return benchPath{name: "kernel", dial: dial, ns: server, peer: "10.213.8.1"}
}
