package benchkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/linux"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/internal/netns"
	"github.com/nichost/nichost/plugins/lan/landev"
	"github.com/nichost/nichost/plugins/lan/phy"
	"github.com/nichost/nichost/simnet"
)

// TCPPath is one way for Go code to reach a TCP peer: a stack that dials
// the peer's listeners.
type TCPPath struct {
	Name   string // "nichost" (the core and the LAN plugin), "core" (the core alone), "kernel"
	Dial   func(ctx context.Context, addr string) (net.Conn, error)
	Listen func(addr string) (net.Listener, error) // on the peer
	Peer   string                                  // the peer's address
}

// tcpPorts numbers the listeners of every path (paths may share a peer).
var tcpPorts atomic.Int32

// nextAddr is a fresh port on the peer: a closed connection's port may
// linger.
func (p *TCPPath) nextAddr() string {
	return net.JoinHostPort(p.Peer, fmt.Sprint(9300+tcpPorts.Add(1)%20000))
}

// Bulk moves size bytes one way over one new connection and returns the
// time it took: from the path's stack to the peer when send, else the
// other way.
func Bulk(ctx context.Context, p *TCPPath, send bool, size int) (time.Duration, error) {
	addr := p.nextAddr()
	ln, err := p.Listen(addr)
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := p.Dial(ctx, addr)
	if err != nil {
		return 0, fmt.Errorf("%s: dial %s: %w", p.Name, addr, err)
	}
	defer c.Close()
	k := <-accepted
	if k == nil {
		return 0, fmt.Errorf("%s: the peer accepted no connection", p.Name)
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
		n := min(len(payload), size-sent)
		if _, err := from.Write(payload[:n]); err != nil {
			return 0, fmt.Errorf("%s: write: %w", p.Name, err)
		}
	}
	if err := <-done; err != nil {
		return 0, fmt.Errorf("%s: read: %w", p.Name, err)
	}
	return time.Since(start), nil
}

// Connects opens and closes n connections to the peer one after the other
// and returns the time they took.
func Connects(ctx context.Context, p *TCPPath, n int) (time.Duration, error) {
	addr := p.nextAddr()
	ln, err := p.Listen(addr)
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	start := time.Now()
	for range n {
		c, err := p.Dial(ctx, addr)
		if err != nil {
			return 0, fmt.Errorf("%s: dial %s: %w", p.Name, addr, err)
		}
		c.Close()
	}
	return time.Since(start), nil
}

// SimTCPPaths are the simulated paths to simnet's router: "nichost" (the
// Go LAN driver as WASM on engine, "" for the host's default, on its
// LAN8720A simulator, and the core) and "core" (the core alone on a port
// of the same segment).
func SimTCPPaths(ctx context.Context, root, engine string, progress func(string)) ([]*TCPPath, func(), error) {
	router, err := simnet.NewRouter(simnet.Options{})
	if err != nil {
		return nil, nil, err
	}
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	closers = append(closers, router.Close)
	dev := landev.New(router, "dut", 10*time.Millisecond)
	closers = append(closers, dev.Close)
	listen := func(addr string) (net.Listener, error) { return router.NIC.Listen("tcp", addr) }
	plug, err := pluginPath(ctx, root, engine, dev.Sims, dev.Buses, "10.64.0.50/24", progress, &closers)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	plug.Listen, plug.Peer = listen, simnet.RouterAddr.String()
	direct, err := corePath(router.Attach("direct"), "10.64.0.51/24", &closers)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	direct.Listen, direct.Peer = listen, simnet.RouterAddr.String()
	return []*TCPPath{plug, direct}, closeAll, nil
}

// pluginPath is the Go LAN driver of root as WASM on engine with the
// buses sims and grants, statically addressed, up.
func pluginPath(ctx context.Context, root, engine string, sims map[string]any, grants map[string]config.BusGrant, addr4 string, progress func(string), closers *[]func()) (*TCPPath, error) {
	o := host.Options{Logger: discard, Progress: progress, Buses: sims}
	o.Engine = engine
	h, err := host.New(o)
	if err != nil {
		return nil, err
	}
	*closers = append(*closers, func() { h.Close() })
	p, _, err := h.Load(ctx, config.PluginConfig{Name: "eth0", Source: sourceOf(root, "plugins", "lan"), Class: "LAN", Buses: grants,
		Limits: config.Limits{CPUShare: MaxCPUShare}})
	if err != nil {
		return nil, err
	}
	nic := p.NICs()[0]
	if err := nic.SetIPConfig(ctx, host.KW{"addr4": addr4}); err != nil {
		return nil, err
	}
	if err := nic.SetActive(ctx, true); err != nil {
		return nil, err
	}
	if err := linkUp(ctx, nic); err != nil {
		return nil, err
	}
	return &TCPPath{Name: "nichost", Dial: func(ctx context.Context, a string) (net.Conn, error) { return nic.Dial(ctx, "tcp", a) }}, nil
}

// corePath is nichost's core alone with port as its NIC's wire.
func corePath(port bus.FramePort, addr4 string, closers *[]func()) (*TCPPath, error) {
	st := core.New(core.Options{Logger: discard})
	*closers = append(*closers, st.Close)
	n, err := st.AddNIC("eth0", net.HardwareAddr{2, 0, 0, 0, 0x13, 1}, core.LinkEthernet, port.WriteFrame)
	if err != nil {
		return nil, err
	}
	*closers = append(*closers, bus.Forward(port, func(f []byte) { n.DeliverFrame(f) }))
	n.LinkChanged(core.LinkState{Up: true, Type: core.LinkEthernet, MTU: 1500})
	if err := n.SetIPConfig(map[string]any{"addr4": addr4}); err != nil {
		return nil, err
	}
	return &TCPPath{Name: "core", Dial: func(ctx context.Context, a string) (net.Conn, error) { return n.Dial(ctx, "tcp", a) }}, nil
}

// The kernel side of a TAP path.
const (
	KernelAddr4 = "10.213.7.1"
	KernelNet4  = "/24"
)

// kernelTAP is a namespace holding a TAP device with the kernel's address.
func kernelTAP(closers *[]func()) (*netns.NS, *linux.TAP, error) {
	ns, err := netns.New("nhbench-")
	if err != nil {
		return nil, nil, err
	}
	*closers = append(*closers, func() { ns.Close() })
	tap, err := ns.KernelTAP("nhtap", KernelAddr4+KernelNet4, "")
	if err != nil {
		return nil, nil, err
	}
	*closers = append(*closers, func() { tap.Close() })
	return ns, tap, nil
}

// nsListen listens in ns.
func nsListen(ns *netns.NS) func(addr string) (net.Listener, error) {
	return func(addr string) (net.Listener, error) {
		var ln net.Listener
		var err error
		if e := ns.Do(func() { ln, err = net.Listen("tcp", addr) }); e != nil {
			return nil, e
		}
		return ln, err
	}
}

// TAPTCPPaths are the paths to the Linux kernel in network namespaces
// (root only): "nichost" (the core and the Go LAN driver as WASM on
// engine, its frames on a TAP), "core" (the core alone reading a TAP) and
// "kernel" (another kernel stack over a veth pair, for context). Each has
// a namespace of its own.
func TAPTCPPaths(ctx context.Context, root, engine string, progress func(string)) (_ []*TCPPath, _ func(), err error) {
	if err := netns.Available(); err != nil {
		return nil, nil, err
	}
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	defer func() {
		if err != nil {
			closeAll()
		}
	}()
	ns, tap, err := kernelTAP(&closers)
	if err != nil {
		return nil, nil, err
	}
	mdio := sim.NewMDIO()
	mdio.Attach(1, phy.New(phy.Options{Addr: 1, ResetTime: time.Millisecond, AutoNegTime: 10 * time.Millisecond}))
	plug, err := pluginPath(ctx, root, engine, map[string]any{"tap": tap, "mdio": mdio},
		map[string]config.BusGrant{"port": {Kind: "frame", Sim: "tap"}, "mdio": {Kind: "mdio", Sim: "mdio"}}, "10.213.7.50/24", progress, &closers)
	if err != nil {
		return nil, nil, err
	}
	plug.Listen, plug.Peer = nsListen(ns), KernelAddr4

	ns2, tap2, err := kernelTAP(&closers)
	if err != nil {
		return nil, nil, err
	}
	direct, err := corePath(tap2, "10.213.7.51/24", &closers)
	if err != nil {
		return nil, nil, err
	}
	direct.Listen, direct.Peer = nsListen(ns2), KernelAddr4

	kernel, err := kernelPath(&closers)
	if err != nil {
		return nil, nil, err
	}
	return []*TCPPath{plug, direct, kernel}, closeAll, nil
}

// kernelPath: two kernel stacks in two namespaces joined by a veth pair.
func kernelPath(closers *[]func()) (*TCPPath, error) {
	var nss [2]*netns.NS
	for i := range nss {
		ns, err := netns.New("nhbench-")
		if err != nil {
			return nil, err
		}
		*closers = append(*closers, func() { ns.Close() })
		nss[i] = ns
	}
	client, server := nss[0], nss[1]
	steps := [][]string{
		{"ip", "link", "add", "nhva", "netns", client.Name, "type", "veth", "peer", "name", "nhvb", "netns", server.Name},
		{"ip", "-n", client.Name, "addr", "add", "10.213.8.2/24", "dev", "nhva"},
		{"ip", "-n", client.Name, "link", "set", "nhva", "up"},
		{"ip", "-n", server.Name, "addr", "add", "10.213.8.1/24", "dev", "nhvb"},
		{"ip", "-n", server.Name, "link", "set", "nhvb", "up"},
	}
	for _, s := range steps {
		if _, err := netns.Run(s[0], s[1:]...); err != nil {
			return nil, err
		}
	}
	dial := func(ctx context.Context, a string) (net.Conn, error) {
		var c net.Conn
		var err error
		if e := client.Do(func() { c, err = (&net.Dialer{}).DialContext(ctx, "tcp", a) }); e != nil {
			return nil, e
		}
		return c, err
	}
	return &TCPPath{Name: "kernel", Dial: dial, Listen: nsListen(server), Peer: "10.213.8.1"}, nil
}

// TCPRates measures paths in turns until budget has passed: each
// direction's bulk throughput (Mb/s, size bytes a connection) and the
// connection setup rate (conn/s, conns at a time), each a third of the
// budget.
func TCPRates(ctx context.Context, paths []*TCPPath, size, conns int, budget time.Duration) (send, receive, connect map[string]float64, err error) {
	send, receive, connect = map[string]float64{}, map[string]float64{}, map[string]float64{}
	for _, dir := range []struct {
		rates map[string]float64
		send  bool
	}{{send, true}, {receive, false}} {
		el := map[string]time.Duration{}
		bytes := map[string]int{}
		start := time.Now()
		for time.Since(start) < budget/3 || len(el) == 0 {
			for _, p := range paths {
				d, err := Bulk(ctx, p, dir.send, size)
				if err != nil {
					return nil, nil, nil, err
				}
				el[p.Name] += d
				bytes[p.Name] += size
			}
		}
		for name, d := range el {
			dir.rates[name] = float64(bytes[name]) * 8 / 1e6 / d.Seconds()
		}
	}
	el := map[string]time.Duration{}
	n := map[string]int{}
	start := time.Now()
	for time.Since(start) < budget/3 || len(el) == 0 {
		for _, p := range paths {
			d, err := Connects(ctx, p, conns)
			if err != nil {
				return nil, nil, nil, err
			}
			el[p.Name] += d
			n[p.Name] += conns
		}
	}
	for name, d := range el {
		connect[name] = float64(n[name]) / d.Seconds()
	}
	return send, receive, connect, nil
}

// measureTCP: the plugin path against the core alone, on the simulated
// segment and over TAP devices.
func measureTCP(ctx context.Context, e *env, rec *recorder) error {
	size, conns := 8<<20, 50
	if e.Quick {
		size, conns = 1<<20, 20
	}
	for _, kind := range []string{"sim", "tap"} {
		err := func() error {
			var paths []*TCPPath
			var closeAll func()
			var err error
			if kind == "sim" {
				paths, closeAll, err = SimTCPPaths(ctx, e.Root, "wazero", e.Progress)
			} else {
				if err := needTAP(); err != nil {
					return err
				}
				paths, closeAll, err = TAPTCPPaths(ctx, e.Root, "wazero", e.Progress)
			}
			if err != nil {
				return err
			}
			defer closeAll()
			send, receive, connect, err := TCPRates(ctx, paths, size, conns, e.budget/2)
			if err != nil {
				return err
			}
			rec.set([]string{"tcp_plugin_vs_direct", kind, "send"}, send["nichost"], send["core"])
			rec.set([]string{"tcp_plugin_vs_direct", kind, "receive"}, receive["nichost"], receive["core"])
			rec.set([]string{"tcp_plugin_vs_direct", kind, "connect"}, connect["nichost"], connect["core"])
			if k, ok := send["kernel"]; ok {
				rec.set([]string{"tcp_mbps", kind, "send"}, send["nichost"], k)
				rec.set([]string{"tcp_mbps", kind, "receive"}, receive["nichost"], receive["kernel"])
			} else {
				rec.setValue([]string{"tcp_mbps", kind, "send"}, send["nichost"])
				rec.setValue([]string{"tcp_mbps", kind, "receive"}, receive["nichost"])
			}
			return nil
		}()
		if err != nil {
			var u *Unavailable
			if !errors.As(err, &u) {
				err = fmt.Errorf("%s: %w", kind, err)
			}
			rec.null([]string{"tcp_plugin_vs_direct", kind}, err)
			rec.null([]string{"tcp_mbps", kind}, err)
		}
	}
	return nil
}
