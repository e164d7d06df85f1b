package host

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
)

// KW holds keyword arguments, as in config(mac=b"...", trace=True). Pass it
// last among the arguments of Connect and Call.
type KW map[string]any

// NIC is one network interface of a plugin: MicroPython's AbstractNIC with
// Go types. Its methods may be called from any goroutine; they are
// serialised on the plugin's goroutine and wait at most until ctx is done.
// Errors a driver raises are *abi.Error values (match them with errors.Is
// against abi.ErrValue, abi.ErrType, abi.ErrOS, abi.ErrUnsupported or a
// syscall.Errno); failures of the plugin itself are *PluginError.
type NIC struct {
	p     *Plugin
	index int
	iface string // the interface's name in the plugin's description
	name  string // the NIC's name on the host
	core  *core.NIC

	mu     sync.Mutex
	mac    net.HardwareAddr
	link   Link
	state  LinkState
	info   map[string]any
	trace  *tracer // config(trace="file.pcapng")
	rx     *rxQueue
	stats  nicStats
	desire desiredState
}

// desiredState is what callers asked of the NIC; a fresh instance is
// brought back to it. Only the plugin goroutine touches it.
type desiredState struct {
	config  map[string]any
	active  *bool
	connect []any // [args, kwargs] of the last connect, nil after disconnect
}

type step struct {
	export string
	args   any
}

// desired lists the calls that rebuild the state: config, then active, then
// connect.
func (n *NIC) desired() []step {
	var steps []step
	if len(n.desire.config) > 0 {
		steps = append(steps, step{abi.ExportConfig, []any{[]any{}, maps.Clone(n.desire.config)}})
	}
	if n.desire.active != nil {
		steps = append(steps, step{abi.ExportActive, []any{[]any{*n.desire.active}, map[string]any{}}})
	}
	if n.desire.connect != nil {
		steps = append(steps, step{abi.ExportConnect, n.desire.connect})
	}
	return steps
}

// Name is the NIC's name on the host: the plugin's name, with
// ".<interface>" when the plugin has several interfaces.
func (n *NIC) Name() string { return n.name }

// Class is the plugin's class (WLAN, WIZNET5K, LAN, PPP).
func (n *NIC) Class() string { return n.p.desc.Class }

// Plugin is the plugin serving this NIC.
func (n *NIC) Plugin() *Plugin { return n.p }

// Index is the interface index within the plugin.
func (n *NIC) Index() int { return n.index }

// MAC is the NIC's current MAC address.
func (n *NIC) MAC() net.HardwareAddr {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append(net.HardwareAddr(nil), n.mac...)
}

// LinkState is what the driver last reported about the link.
func (n *NIC) LinkState() LinkState {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state
}

// Reported is what the driver last reported it negotiated (PPP addresses).
func (n *NIC) Reported() map[string]any {
	n.mu.Lock()
	defer n.mu.Unlock()
	return maps.Clone(n.info)
}

// Stats returns the NIC's frame counters.
func (n *NIC) Stats() NICStats { return n.stats.snapshot() }

// call runs a control export on the plugin goroutine.
func (n *NIC) call(ctx context.Context, op, export string, pos []any, kw map[string]any, after func(any)) (any, error) {
	if kw == nil {
		kw = map[string]any{}
	}
	if pos == nil {
		pos = []any{}
	}
	return n.p.do(ctx, n.name+"."+op, func() (any, error) {
		v, err := n.p.control(export, n.index, []any{pos, kw})
		if err == nil && after != nil {
			after(v)
		}
		return v, err
	})
}

// Active reports whether the interface is up.
func (n *NIC) Active(ctx context.Context) (bool, error) {
	v, err := n.call(ctx, "active()", abi.ExportActive, nil, nil, nil)
	if err != nil {
		return false, err
	}
	return n.boolResult("active()", v)
}

// SetActive brings the interface up or down. Bringing it up starts the
// medium's bring-up and returns; Status and IsConnected report progress.
func (n *NIC) SetActive(ctx context.Context, up bool) error {
	op := "active(False)"
	if up {
		op = "active(True)"
	}
	_, err := n.call(ctx, op, abi.ExportActive, []any{up}, nil, func(any) { n.desire.active = &up })
	return err
}

// Connect connects to a network: Connect(ctx), Connect(ctx, ssid, key),
// Connect(ctx, ssid, KW{"bssid": b}); the arguments depend on the class.
func (n *NIC) Connect(ctx context.Context, args ...any) error {
	pos, kw := splitKW(args)
	_, err := n.call(ctx, "connect()", abi.ExportConnect, pos, kw, func(any) {
		n.desire.connect = []any{cloneValue(pos), cloneValue(kw)}
	})
	return err
}

// Disconnect leaves the network.
func (n *NIC) Disconnect(ctx context.Context) error {
	_, err := n.call(ctx, "disconnect()", abi.ExportDisconnect, nil, nil, func(any) { n.desire.connect = nil })
	return err
}

// IsConnected reports whether the interface is connected to a network.
func (n *NIC) IsConnected(ctx context.Context) (bool, error) {
	v, err := n.call(ctx, "isconnected()", abi.ExportIsConnected, nil, nil, nil)
	if err != nil {
		return false, err
	}
	return n.boolResult("isconnected()", v)
}

// Scan lists the networks in reach, as tuples in the class's format
// (WLAN: ssid, bssid, channel, RSSI, security, hidden).
func (n *NIC) Scan(ctx context.Context, kw KW) ([]any, error) {
	v, err := n.call(ctx, "scan()", abi.ExportScan, nil, kw, nil)
	if err != nil {
		return nil, err
	}
	l, ok := v.([]any)
	if !ok {
		return nil, n.badResult("scan()", "a list", v)
	}
	return l, nil
}

// Status is status(): the link status, in the class's codes.
func (n *NIC) Status(ctx context.Context) (any, error) {
	return n.call(ctx, "status()", abi.ExportStatus, nil, nil, nil)
}

// StatusParam is status(param), e.g. "rssi" or "stations".
func (n *NIC) StatusParam(ctx context.Context, param string) (any, error) {
	return n.call(ctx, fmt.Sprintf("status(%q)", param), abi.ExportStatus, []any{param}, nil, nil)
}

// Config is config(name): one parameter's value.
func (n *NIC) Config(ctx context.Context, name string) (any, error) {
	if name == "trace" {
		n.mu.Lock()
		t := n.trace
		n.mu.Unlock()
		if t != nil {
			return t.path, nil
		}
	}
	return n.call(ctx, fmt.Sprintf("config(%q)", name), abi.ExportConfig, []any{name}, nil, nil)
}

// SetConfig is config(k=v, ...). The host checks what it owns (a MAC must
// be 6 bytes) before the driver sees the call; the driver checks the rest
// and applies all or nothing.
func (n *NIC) SetConfig(ctx context.Context, kw KW) error {
	if len(kw) == 0 {
		return abi.TypeError("config() needs at least one keyword argument to set")
	}
	var mac []byte
	if v, ok := kw["mac"]; ok {
		var err error
		if mac, err = abi.MAC("mac", v); err != nil {
			return err
		}
	}
	// trace="file.pcapng" (or None/False/"" to stop) is the host's: it
	// records frames where they cross into and out of the driver. Other
	// trace values (MicroPython's flag bits) are the driver's.
	kw, tr, stopTrace, err := n.takeTrace(kw)
	if err != nil {
		return err
	}
	if len(kw) == 0 {
		n.setTracer(tr, stopTrace)
		return nil
	}
	op := "config(" + strings.Join(abi.SortedKeys(kw), "=..., ") + "=...)"
	_, err = n.call(ctx, op, abi.ExportConfig, nil, kw, func(any) {
		if n.desire.config == nil {
			n.desire.config = map[string]any{}
		}
		maps.Copy(n.desire.config, cloneValue(map[string]any(kw)).(map[string]any))
		if mac != nil {
			n.mu.Lock()
			n.mac = mac
			n.mu.Unlock()
			n.core.SetMAC(mac)
		}
	})
	if err != nil {
		if tr != nil { // all or nothing: the driver refused the rest
			tr.close()
			os.Remove(tr.path)
		}
		return err
	}
	n.setTracer(tr, stopTrace)
	return nil
}

// takeTrace splits a host-handled trace setting off kw. It opens the file
// at once, so a bad path fails before anything changes.
func (n *NIC) takeTrace(kw KW) (rest KW, tr *tracer, stop bool, err error) {
	v, ok := kw["trace"]
	path, isPath := v.(string)
	if !ok || !(isPath || v == nil || v == false) {
		return kw, nil, false, nil // absent, or flags for the driver
	}
	rest = maps.Clone(kw)
	delete(rest, "trace")
	if path == "" {
		return rest, nil, true, nil
	}
	link := uint16(pcapLinkEthernet)
	if n.Class() == abi.ClassPPP {
		link = pcapLinkRaw
	}
	if tr, err = newTracer(path, link, n.name); err != nil {
		return nil, nil, false, abi.OSError(abi.EIO, "%v", err)
	}
	return rest, tr, false, nil
}

// setTracer replaces the NIC's tracer (nil and stop: tracing ends).
func (n *NIC) setTracer(tr *tracer, stop bool) {
	if tr == nil && !stop {
		return
	}
	n.mu.Lock()
	old := n.trace
	n.trace = tr
	n.mu.Unlock()
	if old != nil {
		old.close()
	}
}

// traceFrame records a frame if the NIC is being traced.
func (n *NIC) traceFrame(frame []byte, inbound bool) {
	n.mu.Lock()
	t := n.trace
	n.mu.Unlock()
	if t != nil {
		t.record(frame, inbound, time.Now())
	}
}

// Call runs a class-specific method, e.g. Call(ctx, "regs") on WIZNET5K.
func (n *NIC) Call(ctx context.Context, method string, args ...any) (any, error) {
	pos, kw := splitKW(args)
	return n.p.do(ctx, n.name+"."+method+"()", func() (any, error) {
		return n.p.control(abi.ExportCall, n.index, []any{method, pos, kw})
	})
}

// IPConfig is ipconfig(name): dhcp4, has_dhcp4, addr4, gw4, autoconf6,
// has_autoconf6, addr6, dhcp6. IP configuration belongs to the host's
// network core; drivers never see these calls.
func (n *NIC) IPConfig(ctx context.Context, name string) (any, error) {
	return n.core.IPConfig(name)
}

// SetIPConfig is ipconfig(k=v, ...); every argument is checked before any
// is applied.
func (n *NIC) SetIPConfig(ctx context.Context, kw KW) error {
	return n.core.SetIPConfig(kw)
}

// IfConfig is the deprecated ifconfig(): (ip, netmask, gateway, dns).
func (n *NIC) IfConfig(ctx context.Context) (abi.Tuple, error) {
	return n.core.IfConfig(n.p.h.core.DNSServers()), nil
}

// SetIfConfig is the deprecated ifconfig((ip, netmask, gateway, dns)), or
// ifconfig("dhcp"). Its DNS server becomes the global one, as in
// MicroPython.
func (n *NIC) SetIfConfig(ctx context.Context, cfg any) error {
	dns, err := n.core.SetIfConfig(cfg)
	if err != nil || !dns.IsValid() {
		return err
	}
	return n.p.h.SetIPConfig(KW{"dns": dns.String()})
}

// Dial connects from this NIC (the connection is bound to it): network is
// "tcp", "tcp4", "tcp6", "udp", "udp4" or "udp6"; address is "host:port".
func (n *NIC) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	return n.core.Dial(ctx, network, address)
}

// Ping sends one echo request out of this NIC and returns the round trip.
func (n *NIC) Ping(ctx context.Context, addr netip.Addr, size int) (time.Duration, error) {
	return n.core.Ping(ctx, addr, size)
}

// Listen listens for TCP connections arriving on this NIC.
func (n *NIC) Listen(network, address string) (net.Listener, error) {
	return n.core.Listen(network, address)
}

// ListenPacket opens a UDP socket on this NIC.
func (n *NIC) ListenPacket(network, address string) (net.PacketConn, error) {
	return n.core.ListenPacket(network, address)
}

// Attach connects the NIC to another Link than the host's core (tests do,
// to see frames themselves); nil detaches it. The Link gets frames the
// driver receives and link changes (starting with the current state); it
// sends with Transmit. Like every Link call, the first
// report comes from the plugin's goroutine, so it cannot overtake a newer
// one. Do not call Attach from inside a Link method.
func (n *NIC) Attach(l Link) {
	attach := func() (any, error) {
		n.mu.Lock()
		n.link = l
		st, info := n.state, maps.Clone(n.info)
		n.mu.Unlock()
		if l != nil {
			l.LinkChanged(st)
			if info != nil {
				l.Reported(info)
			}
		}
		return nil, nil
	}
	if _, err := n.p.doAlways(context.Background(), "attach", attach); err != nil {
		attach() // the plugin is closed: nothing else calls the Link
	}
}

// Transmit queues a frame for the driver to send. frame is copied. It
// returns ErrTxQueueFull (the frame is dropped and counted) when the driver
// falls behind.
func (n *NIC) Transmit(frame []byte) error {
	if len(frame) > abi.MaxFrame {
		n.stats.drop(dropTooLong)
		return fmt.Errorf("nichost: %s: frame of %d bytes is larger than %d", n.name, len(frame), abi.MaxFrame)
	}
	if err := n.p.enqueue(n.index, frame); err != nil {
		n.stats.drop(dropQueueFull)
		return err
	}
	return nil
}

// deliver hands a received frame to the core (plugin goroutine).
func (n *NIC) deliver(frame []byte) int32 {
	n.stats.rxFrames.Add(1)
	n.stats.rxBytes.Add(uint64(len(frame)))
	n.traceFrame(frame, true)
	if !n.rx.push(frame) {
		n.stats.drop(dropQueueFull)
		return -abi.ENOBUFS
	}
	return 0
}

// toLink hands one received frame to the Link (the rx goroutine).
func (n *NIC) toLink(frame []byte) {
	n.mu.Lock()
	l := n.link
	n.mu.Unlock()
	if l == nil {
		n.stats.drop(dropNoCore)
		return
	}
	if err := l.DeliverFrame(frame); err != nil {
		n.stats.drop(dropCoreRefused)
	}
}

func (n *NIC) setLink(st LinkState) {
	n.mu.Lock()
	n.state = st
	l := n.link
	n.mu.Unlock()
	if l != nil {
		l.LinkChanged(st)
	}
}

func (n *NIC) report(info map[string]any) {
	n.mu.Lock()
	if n.info == nil {
		n.info = map[string]any{}
	}
	maps.Copy(n.info, info)
	l := n.link
	n.mu.Unlock()
	if l != nil {
		l.Reported(info)
	}
}

func (n *NIC) boolResult(op string, v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, n.badResult(op, "a bool", v)
	}
	return b, nil
}

func (n *NIC) badResult(op, want string, v any) error {
	return &PluginError{Plugin: n.p.cfg.Name, Op: n.name + "." + op,
		Err: fmt.Errorf("%w: the driver returned %s, want %s", ErrBadModule, abi.TypeName(v), want)}
}

// splitKW separates a trailing KW from positional arguments.
func splitKW(args []any) ([]any, map[string]any) {
	if len(args) > 0 {
		if kw, ok := args[len(args)-1].(KW); ok {
			return args[:len(args)-1], map[string]any(kw)
		}
	}
	return args, nil
}

// cloneValue deep-copies an ABI value (one the driver accepted, so it
// encodes), so that state kept for replay does not share the caller's maps
// and slices.
func cloneValue(v any) any {
	b, err := abi.Marshal(v)
	if err != nil {
		return v
	}
	c, err := abi.Unmarshal(b)
	if err != nil {
		return v
	}
	return c
}
