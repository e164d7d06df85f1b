package host

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/internal/pcapng"
	"github.com/nichost/nichost/host/internal/rxqueue"
	"github.com/nichost/nichost/host/internal/supervise"
)

// KW holds keyword arguments, as in config(mac=b"...", trace=True). Pass it
// last among the arguments of Connect and Call.
type KW map[string]any

// NIC is one network interface of a plugin: MicroPython's AbstractNIC with
// Go types. It has two faces: the MicroPython-shaped calls (Status,
// Config, IPConfig with string keys and ABI values) and typed accessors
// for Go programs (StatusCode, Addr4, Gateway4, DNS, Addrs6).
//
// Its methods may be called from any goroutine. Those that take a
// context.Context may wait (they are serialised on the plugin's goroutine,
// or wait on the network): a ctx done before the call starts fails it, and
// a call that has started runs to its end, bounded by the plugin's call
// deadline, so an error never hides a change that took effect. Those
// without a ctx never wait.
//
// Every error of the AbstractNIC calls is a *PluginError naming the plugin
// and the call; it wraps what went wrong: an *abi.Error for a refused
// argument, whether the driver or the host refused it (match with
// errors.Is against abi.ErrValue, abi.ErrType, abi.ErrOS or
// abi.ErrUnsupported, a driver's OSError also against its syscall.Errno,
// or errors.As into *abi.Error), ErrClosed once the plugin or host is
// closed, or a fault (ErrTimeout, ErrTrap, ...). The socket methods (Dial,
// Listen, ListenPacket, Ping) return the net package's kind of errors, as
// net.Dial does, so that existing Go code handles them; after Close they
// too return ErrClosed. Methods without an error result (Name, MAC,
// LinkState, ...) report the last known value, also after Close.
type NIC struct {
	p     *Plugin
	index int
	iface string // the interface's name in the plugin's description
	name  string // the NIC's name on the host
	core  *core.NIC
	// needIP: isconnected() also needs an IPv4 address (LAN, WIZNET5K,
	// a Wi-Fi station), as MicroPython's ports report it.
	needIP bool

	mu     sync.Mutex
	mac    net.HardwareAddr
	link   Link
	state  LinkState
	held   bool       // the link is held for the plugin's next instance (hooks.Hold)
	pended *LinkState // a report held back meanwhile; nil: none
	info   map[string]any
	// stations are the MACs (as strings) an access point's driver last
	// reported associated (ap.go).
	stations []string
	trace    *pcapng.Writer // config(trace="file.pcapng")
	rx       *rxqueue.Queue
	stats    nicStats
	desire   desiredState
}

// desiredState is what callers asked of the NIC; a fresh instance is
// brought back to it. Only the plugin goroutine touches it.
type desiredState struct {
	config  map[string]any
	active  *bool
	connect []any // [args, kwargs] of the last connect, nil after disconnect
}

// newNIC makes interface index of plugin p with its interface in the
// network core, its DHCPv4 client on if dhcp, serving DHCPv4 on
// core.DefaultAP4 if serve.
func newNIC(p *Plugin, index int, iface, name string, mac net.HardwareAddr, kind LinkType, dhcp, serve bool) (*NIC, error) {
	n := &NIC{p: p, index: index, iface: iface, name: name, mac: mac, needIP: dhcp}
	cn, err := p.h.core.AddNIC(name, mac, kind, n.transmit)
	if err != nil {
		return nil, err
	}
	if dhcp {
		cn.StartDHCPByDefault()
	}
	if serve {
		if err := cn.ServeDHCP4(core.DefaultAP4); err != nil {
			cn.Remove()
			return nil, err
		}
	}
	n.core, n.link = cn, cn
	if p.rxBudget == nil { // the first NIC: all of the plugin's share it
		p.rxBudget = rxqueue.NewBudget(int64(p.limits.MemoryLimit) / 8)
	}
	n.rx = rxqueue.New(n.toLink, p.rxBudget)
	n.rx.SetInline(true) // the core's DeliverFrame does not block
	return n, nil
}

// dhcpByDefault says which interfaces run the DHCPv4 client from the
// start, as MicroPython's ports do: Ethernet (LAN, WIZNET5K) and a Wi-Fi
// station. PPP learns its address from IPCP; an access point serves DHCP
// instead.
func dhcpByDefault(class, iface string) bool {
	switch class {
	case abi.ClassLAN, abi.ClassWIZNET5K:
		return true
	case abi.ClassWLAN:
		return iface == "sta"
	}
	return false
}

// servesDHCP says which interfaces serve DHCPv4 to their stations from
// the start, on core.DefaultAP4: a Wi-Fi access point, as MicroPython's
// ports do.
func servesDHCP(class, iface string) bool { return class == abi.ClassWLAN && iface == "ap" }

// remove takes the interface out of the core, after delivering the frames
// its receive queue holds.
func (n *NIC) remove() {
	n.rx.Close()
	n.core.Remove()
}

// desired lists the calls that rebuild the state: config, then active, then
// connect.
func (n *NIC) desired() []supervise.Step {
	var steps []supervise.Step
	add := func(export string, args any) {
		steps = append(steps, supervise.Step{Iface: n.index, Name: n.name, Export: export, Args: args})
	}
	if len(n.desire.config) > 0 {
		add(abi.ExportConfig, []any{[]any{}, maps.Clone(n.desire.config)})
	}
	if n.desire.active != nil {
		add(abi.ExportActive, []any{[]any{*n.desire.active}, map[string]any{}})
	}
	if n.desire.connect != nil {
		add(abi.ExportConnect, n.desire.connect)
	}
	return steps
}

// Name is the NIC's name on the host: the plugin's name, with
// ".<interface>" when the plugin has several interfaces.
func (n *NIC) Name() string { return n.name }

// Class is the plugin's class (WLAN, WIZNET5K, LAN, PPP).
func (n *NIC) Class() string { return n.p.Description().Class }

// Plugin is the plugin serving this NIC.
func (n *NIC) Plugin() *Plugin { return n.p }

// Index is the interface index within the plugin.
func (n *NIC) Index() int { return n.index }

// Interface is the interface's name in the plugin's description ("eth",
// "sta", "ap", ...).
func (n *NIC) Interface() string { return n.iface }

// MAC is the NIC's current MAC address.
func (n *NIC) MAC() net.HardwareAddr {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append(net.HardwareAddr(nil), n.mac...)
}

// LinkState is what the driver last reported about the link, once the core
// has applied it: when it says up, the interface is enabled and a Dial can
// route through it. isconnected() is the driver's own answer and may turn
// true a moment before the driver's report reaches the core; wait for both.
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
	if err := n.open(op); err != nil {
		return nil, err
	}
	pos, kw, err := normalizeArgs(pos, kw)
	if err != nil {
		return nil, n.fail(op, err)
	}
	var args any = []any{pos, kw}
	if len(pos) == 0 && len(kw) == 0 {
		args = noArgs // most calls: isconnected(), status(), active()
	}
	return n.p.do(ctx, n.name+"."+op, func() (any, error) {
		v, err := n.p.control(export, n.index, args)
		if err == nil && after != nil {
			after(v)
		}
		return v, err
	})
}

// noArgs is [[], {}] encoded: the arguments of a call without any, which
// need no encoding each time.
var noArgs = []byte{0x82, 0x80, 0xa0}

// open returns ErrClosed (as a *PluginError naming op) once the plugin is
// closed.
func (n *NIC) open(op string) error {
	if n.p.closed.Load() {
		return n.fail(op, ErrClosed)
	}
	return nil
}

// fail wraps an error of call op the way the plugin's own errors are.
func (n *NIC) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	return &PluginError{Plugin: n.p.name, Op: n.name + "." + op, Err: err}
}

// normalizeArgs converts the Go types a caller holds (net.HardwareAddr,
// netip.Prefix, int32, [2]string, ...) to ABI values.
func normalizeArgs(pos []any, kw map[string]any) ([]any, map[string]any, error) {
	np, err := abi.Normalize(pos)
	if err != nil {
		return nil, nil, err
	}
	nk, err := abi.Normalize(kw)
	if err != nil {
		return nil, nil, err
	}
	return np.([]any), nk.(map[string]any), nil
}

// Active reports whether the interface is up: active().
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

// IsConnected is isconnected(): whether the interface is connected to a
// network. On LAN and WIZNET5K interfaces (and a Wi-Fi station) that is
// the driver's answer (the link is up) and an IPv4 address held, static or
// leased, as MicroPython's ports report it: so the seed's loop "wait for
// isconnected(), print ipconfig('addr4')" prints an address. (With a test
// Link attached in place of the core, only the driver's answer counts.)
func (n *NIC) IsConnected(ctx context.Context) (bool, error) {
	v, err := n.call(ctx, "isconnected()", abi.ExportIsConnected, nil, nil, nil)
	if err != nil {
		return false, err
	}
	up, err := n.boolResult("isconnected()", v)
	if !up || err != nil || !n.needIP {
		return up, err
	}
	n.mu.Lock()
	onCore := n.link == Link(n.core)
	n.mu.Unlock()
	return !onCore || n.core.Addr4().IsValid(), nil
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

// Status is status(): the link status in the class's codes, as the ABI
// value the driver returned (an int64 for every class today), except that
// a Wi-Fi station's 2 (StatNoIP) reads 3 (StatGotIP) while the NIC holds
// an IPv4 address. Go programs use StatusCode.
func (n *NIC) Status(ctx context.Context) (any, error) {
	v, err := n.call(ctx, "status()", abi.ExportStatus, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	return n.withAddress(v), nil
}

// StatusCode is status() as an int, to compare with the class's constants
// (StatLinkActive, StatGotIP, StatPPPConnected, ...). A driver that returns
// something else than an int fails with ErrBadModule.
func (n *NIC) StatusCode(ctx context.Context) (int, error) {
	v, err := n.Status(ctx)
	if err != nil {
		return 0, err
	}
	c, ok := v.(int64)
	if !ok {
		return 0, n.badResult("status()", "an int", v)
	}
	return int(c), nil
}

// StatusParam is status(param), e.g. "rssi" or "stations": the ABI value
// the driver returned.
func (n *NIC) StatusParam(ctx context.Context, param string) (any, error) {
	return n.call(ctx, fmt.Sprintf("status(%q)", param), abi.ExportStatus, []any{param}, nil, nil)
}

// Config is config(name): one parameter's value, as an ABI value (mac is
// []byte; Go programs may prefer MAC). A WLAN's hostname is the host's
// network.hostname().
func (n *NIC) Config(ctx context.Context, name string) (any, error) {
	if err := n.open("config()"); err != nil {
		return nil, err
	}
	if name == "hostname" && n.hostnameAlias() {
		return n.hostnameValue(ctx)
	}
	if name == "trace" {
		n.mu.Lock()
		t := n.trace
		n.mu.Unlock()
		if t != nil {
			return t.Path(), nil
		}
	}
	return n.call(ctx, fmt.Sprintf("config(%q)", name), abi.ExportConfig, []any{name}, nil, nil)
}

// SetConfig is config(k=v, ...); values may be ABI values or the Go types
// a caller holds (mac=nic.MAC() as a net.HardwareAddr). The host checks
// what it owns before the driver sees the call: mac must be a 6-byte
// unicast address, not all-zero and not another NIC's (a ValueError names
// the reason); a WLAN's hostname is network.hostname(), which the host
// checks and sets once the driver has accepted the rest; the driver checks
// the rest and applies all or nothing.
func (n *NIC) SetConfig(ctx context.Context, kw KW) error {
	op := "config(" + strings.Join(abi.SortedKeys(kw), "=..., ") + "=...)"
	if err := n.open(op); err != nil {
		return err
	}
	if len(kw) == 0 {
		return n.fail("config()", abi.TypeError("config() needs at least one keyword argument to set"))
	}
	nkw, err := abi.Normalize(map[string]any(kw))
	if err != nil {
		return n.fail(op, err)
	}
	kw = nkw.(map[string]any)
	var mac []byte
	if v, ok := kw["mac"]; ok {
		select { // held until the MAC is applied or refused
		case n.p.h.macSem <- struct{}{}:
			defer func() { <-n.p.h.macSem }()
		case <-ctx.Done():
			return n.fail(op, ctx.Err())
		}
		if mac, err = n.checkMAC(v); err != nil {
			return n.fail(op, err)
		}
	}
	kw, setHostname, err := n.takeHostname(kw)
	if err != nil {
		return n.fail(op, err)
	}
	// trace="file.pcapng" (or None/False/"" to stop) is the host's: it
	// records frames where they cross into and out of the driver. Other
	// trace values (MicroPython's flag bits) are the driver's.
	kw, tr, stopTrace, err := n.takeTrace(kw)
	if err != nil {
		return n.fail(op, err)
	}
	if len(kw) == 0 {
		n.setTracer(tr, stopTrace)
		setHostname()
		return nil
	}
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
			tr.Close()
			os.Remove(tr.Path())
		}
		return err
	}
	n.setTracer(tr, stopTrace)
	setHostname()
	return nil
}

// checkMAC checks a MAC address for config(mac=...): 6 bytes, unicast, not
// all-zero, and no other NIC's (two NICs with one MAC would also share an
// IPv6 link-local address).
func (n *NIC) checkMAC(v any) ([]byte, error) {
	mac, err := abi.MAC("mac", v)
	if err != nil {
		return nil, err
	}
	if err := config.CheckMAC(mac); err != nil {
		return nil, err
	}
	for _, o := range n.p.h.NICs() {
		if o != n && bytes.Equal(o.MAC(), mac) {
			return nil, abi.ValueError("mac: %s is the MAC address of NIC %s", net.HardwareAddr(mac), o.name)
		}
	}
	return mac, nil
}

// Call runs a class-specific method, e.g. Call(ctx, "regs") on WIZNET5K,
// and returns the ABI value the driver returned.
func (n *NIC) Call(ctx context.Context, method string, args ...any) (any, error) {
	op := method + "()"
	if err := n.open(op); err != nil {
		return nil, err
	}
	pos, kw := splitKW(args)
	pos, kw, err := normalizeArgs(pos, kw)
	if err != nil {
		return nil, n.fail(op, err)
	}
	return n.p.do(ctx, n.name+"."+method+"()", func() (any, error) {
		return n.p.control(abi.ExportCall, n.index, []any{method, pos, kw})
	})
}
func (n *NIC) boolResult(op string, v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, n.badResult(op, "a bool", v)
	}
	return b, nil
}
func (n *NIC) badResult(op, want string, v any) error {
	return &PluginError{Plugin: n.p.name, Op: n.name + "." + op,
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
