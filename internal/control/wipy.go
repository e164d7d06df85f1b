package control

import (
	"context"
	"net"
	"slices"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
)

// WiPyMethods are the WLANWiPy profile's methods, which a NIC configured
// with profile "wipy" serves in place of (or besides) AbstractNIC's.
var WiPyMethods = []string{"antenna", "auth", "channel", "connect", "disconnect", "init", "isconnected", "mac", "mode", "scan", "ssid"}

// callWiPy runs a WLANWiPy method on n; handled is false for the methods
// the profile leaves to AbstractNIC (active, status, config, ipconfig,
// ifconfig, class-specific calls).
func callWiPy(ctx context.Context, n *host.NIC, method string, a callArgs) (v any, handled bool, err error) {
	if !slices.Contains(WiPyMethods, method) {
		return nil, false, nil
	}
	w, err := n.WiPy()
	if err != nil {
		return nil, true, err
	}
	v, err = wipyMethod(ctx, w, method, a)
	return v, true, err
}

func wipyMethod(ctx context.Context, w *host.WiPy, method string, a callArgs) (any, error) {
	// The getter/setters: no argument reads, one sets.
	one := func() (any, bool, error) {
		if err := noKW(method, a); err != nil {
			return nil, false, err
		}
		switch len(a.pos) {
		case 0:
			return nil, false, nil
		case 1:
			return a.pos[0], true, nil
		}
		return nil, false, tooMany(method, 1, len(a.pos))
	}
	switch method {
	case "init":
		o, err := host.ParseWiPyInit(a.pos, a.kw)
		if err != nil {
			return nil, err
		}
		return nil, w.Init(ctx, o)
	case "connect":
		return nil, wipyConnect(ctx, w, a)
	case "scan":
		if err := noArgs(method, a); err != nil {
			return nil, err
		}
		return w.Scan(ctx)
	case "isconnected":
		if err := noArgs(method, a); err != nil {
			return nil, err
		}
		return w.IsConnected(ctx)
	case "disconnect":
		if err := noArgs(method, a); err != nil {
			return nil, err
		}
		return nil, w.Disconnect(ctx)
	}
	v, set, err := one()
	if err != nil {
		return nil, err
	}
	switch method {
	case "mode":
		if !set {
			m, err := w.Mode(ctx)
			return int64(m), err
		}
		m, err := abi.Int("mode", v)
		if err != nil {
			return nil, err
		}
		return nil, w.SetMode(ctx, int(m))
	case "ssid":
		if !set {
			return w.SSID(ctx)
		}
		s, err := abi.Str("ssid", v)
		if err != nil {
			return nil, err
		}
		return nil, w.SetSSID(ctx, s)
	case "auth":
		if !set {
			return w.Auth(ctx)
		}
		auth, err := host.ParseWiPyAuth(v)
		if err != nil {
			return nil, err
		}
		return nil, w.SetAuth(ctx, auth)
	case "channel":
		if !set {
			c, err := w.Channel(ctx)
			return int64(c), err
		}
		c, err := abi.Int("channel", v)
		if err != nil {
			return nil, err
		}
		return nil, w.SetChannel(ctx, int(c))
	case "antenna":
		if !set {
			c, err := w.Antenna(ctx)
			return int64(c), err
		}
		c, err := abi.Int("antenna", v)
		if err != nil {
			return nil, err
		}
		return nil, w.SetAntenna(ctx, int(c))
	default: // "mac"
		if !set {
			m, err := w.MAC(ctx)
			return []byte(m), err
		}
		b, ok := v.([]byte)
		if !ok || len(b) != 6 {
			return nil, abi.TypeError("mac: expected bytes(6), got %s", abi.TypeName(v))
		}
		return nil, w.SetMAC(ctx, net.HardwareAddr(b))
	}
}

// wipyConnect is connect(ssid, *, auth=None, bssid=None, timeout=None);
// timeout in milliseconds, as the WiPy's.
func wipyConnect(ctx context.Context, w *host.WiPy, a callArgs) error {
	kw := a.kw
	var ssidV any
	switch {
	case len(a.pos) > 1:
		return abi.TypeError("connect() takes 1 positional argument (ssid), %d given; auth, bssid and timeout are keywords", len(a.pos))
	case len(a.pos) == 1:
		if _, dup := kw["ssid"]; dup {
			return abi.TypeError("connect(): ssid given twice")
		}
		ssidV = a.pos[0]
	default:
		v, ok := kw["ssid"]
		if !ok {
			return abi.TypeError("connect() missing the argument ssid")
		}
		ssidV = v
	}
	ssid, err := abi.Str("ssid", ssidV)
	if err != nil {
		return err
	}
	var auth *host.WiPyAuth
	var bssid net.HardwareAddr
	var timeout time.Duration
	for _, k := range abi.SortedKeys(kw) {
		v := kw[k]
		switch k {
		case "ssid":
		case "auth":
			if auth, err = host.ParseWiPyAuth(v); err != nil {
				return err
			}
		case "bssid":
			if v == nil {
				continue
			}
			b, ok := v.([]byte)
			if !ok || len(b) != 6 {
				return abi.TypeError("bssid: expected bytes(6) or None, got %s", abi.TypeName(v))
			}
			bssid = net.HardwareAddr(b)
		case "timeout":
			if v == nil {
				continue
			}
			ms, err := abi.Int("timeout", v)
			if err != nil {
				return err
			}
			if ms < 0 {
				return abi.ValueError("timeout: %d ms; expected 0 or more, or None", ms)
			}
			timeout = time.Duration(ms) * time.Millisecond
		default:
			return abi.TypeError("connect(): unexpected keyword argument %q (auth, bssid, timeout)", k)
		}
	}
	return w.Connect(ctx, ssid, auth, bssid, timeout)
}
