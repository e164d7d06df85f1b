package host

import (
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/internal/pcapng"
	"github.com/nichost/nichost/host/internal/rxqueue"
	"github.com/nichost/nichost/host/internal/supervise"
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
	trace  *pcapng.Writer // config(trace="file.pcapng")
	rx     *rxqueue.Queue
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

// newNIC makes interface index of plugin p with its interface in the
// network core.
func newNIC(p *Plugin, index int, iface, name string, mac net.HardwareAddr, kind LinkType) (*NIC, error) {
	n := &NIC{p: p, index: index, iface: iface, name: name, mac: mac}
	cn, err := p.h.core.AddNIC(name, mac, kind, n.Transmit)
	if err != nil {
		return nil, err
	}
	n.core, n.link = cn, cn
	n.rx = rxqueue.New(n.toLink)
	return n, nil
}

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
			return t.Path(), nil
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
			tr.Close()
			os.Remove(tr.Path())
		}
		return err
	}
	n.setTracer(tr, stopTrace)
	return nil
}

// Call runs a class-specific method, e.g. Call(ctx, "regs") on WIZNET5K.
func (n *NIC) Call(ctx context.Context, method string, args ...any) (any, error) {
	pos, kw := splitKW(args)
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
