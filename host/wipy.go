package host

import (
	"context"
	"net"
	"time"

	"github.com/nichost/nichost/abi"
)

// The WLANWiPy profile's constants: WLAN.STA, WLAN.AP, WLAN.WEP,
// WLAN.WPA, WLAN.WPA2, WLAN.INT_ANT and WLAN.EXT_ANT, with the values of
// Pycom's WiPy firmware. The security values are the WLAN class's own
// (SecWEP, SecWPA, SecWPA2).
const (
	WiPySTA    = 1
	WiPyAP     = 2
	WiPyWEP    = SecWEP
	WiPyWPA    = SecWPA
	WiPyWPA2   = SecWPA2
	WiPyIntAnt = 0
	WiPyExtAnt = 1
)

// ProfileWiPy is the value of an interface's profile (config file,
// interfaces.sta.profile) that makes a WLAN station NIC present the
// WLANWiPy API in the control API and the shell.
const ProfileWiPy = "wipy"

// WiPy is the WLANWiPy profile: the WiPy's older WLAN API (one object
// with a mode, station or access point) over a WLAN plugin's two
// interfaces, the same driver and NICs as MicroPython's WLAN. It holds no
// state of its own: the mode is the access point's active(), so any
// number of WiPy values for one plugin agree. The methods follow the
// WiPy's names: Init is init(...), SSID ssid(), and so on.
type WiPy struct {
	sta, ap *NIC
}

// Profile is the API the NIC presents in the control API and the shell
// (its config's interfaces.IFACE.profile): "" MicroPython's class,
// ProfileWiPy the WLANWiPy profile.
func (n *NIC) Profile() string { return n.p.cfg.Interfaces[n.iface].Profile }

// WiPy returns the WLANWiPy profile of the NIC's plugin, which must be of
// class WLAN with the interfaces sta and ap.
func (n *NIC) WiPy() (*WiPy, error) {
	if err := n.open("WiPy"); err != nil {
		return nil, err
	}
	if n.Class() != abi.ClassWLAN {
		return nil, abi.OSError(abi.ENOTSUP, "%s: the WLANWiPy profile is for WLAN NICs, not %s", n.name, n.Class())
	}
	w := &WiPy{}
	for _, o := range n.p.NICs() {
		switch o.iface {
		case "sta":
			w.sta = o
		case "ap":
			w.ap = o
		}
	}
	if w.sta == nil || w.ap == nil {
		return nil, abi.OSError(abi.ENOTSUP, "%s: the WLANWiPy profile needs a driver with the interfaces sta and ap", n.name)
	}
	return w, nil
}

// Station and AccessPoint are the NICs the profile drives.
func (w *WiPy) Station() *NIC     { return w.sta }
func (w *WiPy) AccessPoint() *NIC { return w.ap }

// WiPyAuth is the WiPy's auth=(sec, key).
type WiPyAuth struct {
	Sec int    // WiPyWEP, WiPyWPA or WiPyWPA2
	Key string // the key or passphrase
}

// ParseWiPyAuth reads an auth argument: None (nil: open), or a (sec, key)
// tuple or list with sec WLAN.WEP, WLAN.WPA or WLAN.WPA2 and key a str.
// Anything else is a TypeError or ValueError saying what is wrong.
func ParseWiPyAuth(v any) (*WiPyAuth, error) {
	if v == nil {
		return nil, nil
	}
	var t []any
	switch x := v.(type) {
	case abi.Tuple:
		t = x
	case []any:
		t = x
	default:
		return nil, abi.TypeError("auth: expected a (sec, key) tuple such as (WLAN.WPA2, 'passphrase'), or None for an open network; got %s", abi.TypeName(v))
	}
	if len(t) != 2 {
		return nil, abi.ValueError("auth: expected 2 items (sec, key), got %d", len(t))
	}
	sec, ok := t[0].(int64)
	if !ok {
		return nil, abi.TypeError("auth: sec must be an int (WLAN.WEP, WLAN.WPA or WLAN.WPA2), not %s", abi.TypeName(t[0]))
	}
	if sec != WiPyWEP && sec != WiPyWPA && sec != WiPyWPA2 {
		return nil, abi.ValueError("auth: sec %d: expected WLAN.WEP (%d), WLAN.WPA (%d) or WLAN.WPA2 (%d)", sec, WiPyWEP, WiPyWPA, WiPyWPA2)
	}
	key, ok := t[1].(string)
	if !ok {
		return nil, abi.TypeError("auth: key must be a str, not %s", abi.TypeName(t[1]))
	}
	if key == "" {
		return nil, abi.ValueError("auth: an empty key; use auth=None for an open network")
	}
	return &WiPyAuth{Sec: int(sec), Key: key}, nil
}

// tuple is the auth() value of a: (sec, None) (the key is write-only), or
// None when open.
func (a *WiPyAuth) tuple() any {
	if a == nil {
		return nil
	}
	return abi.Tuple{int64(a.Sec), nil}
}

// WiPyInit is init(...)'s arguments; nil fields keep what the NIC has.
type WiPyInit struct {
	Mode    int       // WiPySTA or WiPyAP (0: keep the current mode)
	SSID    *string   // the access point's
	Auth    *WiPyAuth // the access point's; nil: keep it (see OpenAuth)
	Open    bool      // auth=None given: the access point is open
	Channel *int      // the access point's, 1..11
	Antenna *int      // WiPyIntAnt or WiPyExtAnt
}

// ParseWiPyInit reads init()'s (and the constructor's) arguments: id=0
// (the only one), mode (positional or keyword), and the keywords ssid,
// auth, channel and antenna. Unknown keywords, wrong types and values are
// TypeErrors and ValueErrors naming the argument.
func ParseWiPyInit(pos []any, kw map[string]any) (WiPyInit, error) {
	var o WiPyInit
	if len(pos) > 1 {
		return o, abi.TypeError("init() takes at most 1 positional argument (mode), %d given", len(pos))
	}
	mode, hasMode := kw["mode"]
	if len(pos) == 1 {
		if hasMode {
			return o, abi.TypeError("init(): mode given twice")
		}
		mode, hasMode = pos[0], true
	}
	if hasMode {
		m, ok := mode.(int64)
		if !ok {
			return o, abi.TypeError("mode must be an int (WLAN.STA or WLAN.AP), not %s", abi.TypeName(mode))
		}
		if m != WiPySTA && m != WiPyAP {
			return o, abi.ValueError("mode %d: expected WLAN.STA (%d) or WLAN.AP (%d)", m, WiPySTA, WiPyAP)
		}
		o.Mode = int(m)
	}
	for _, k := range abi.SortedKeys(kw) {
		v := kw[k]
		switch k {
		case "mode":
		case "id":
			if id, ok := v.(int64); !ok || id != 0 {
				return o, abi.ValueError("id: the WLAN has the one id 0, not %s", abi.TypeName(v))
			}
		case "ssid":
			s, err := abi.Str(k, v)
			if err != nil {
				return o, err
			}
			if len(s) < 1 || len(s) > 32 {
				return o, abi.ValueError("ssid: %d bytes, expected 1..32", len(s))
			}
			o.SSID = &s
		case "auth":
			a, err := ParseWiPyAuth(v)
			if err != nil {
				return o, err
			}
			o.Auth, o.Open = a, a == nil
		case "channel":
			c, err := abi.Int(k, v)
			if err != nil {
				return o, err
			}
			if c < 1 || c > 11 {
				return o, abi.ValueError("channel %d: expected 1..11", c)
			}
			ch := int(c)
			o.Channel = &ch
		case "antenna":
			a, err := abi.Int(k, v)
			if err != nil {
				return o, err
			}
			if a != WiPyIntAnt && a != WiPyExtAnt {
				return o, abi.ValueError("antenna %d: expected WLAN.INT_ANT (%d) or WLAN.EXT_ANT (%d)", a, WiPyIntAnt, WiPyExtAnt)
			}
			ant := int(a)
			o.Antenna = &ant
		default:
			return o, abi.TypeError("init(): unexpected keyword argument %q (mode, ssid, auth, channel, antenna)", k)
		}
	}
	return o, nil
}

// Init is init(...): the mode, then the access point's settings. In
// WLAN.STA mode the access point goes down and the station up (ssid,
// auth and channel belong to the access point: in STA mode they are a
// ValueError, since connect() takes the network); in WLAN.AP mode the
// station goes down and the access point comes up with the settings
// (a change while it is up restarts it). Everything is checked by the
// driver before the mode changes.
func (w *WiPy) Init(ctx context.Context, o WiPyInit) error {
	mode := o.Mode
	if mode == 0 {
		m, err := w.Mode(ctx)
		if err != nil {
			return err
		}
		mode = m
	}
	apKW := KW{}
	if o.SSID != nil {
		apKW["ssid"] = *o.SSID
	}
	if o.Auth != nil {
		apKW["security"], apKW["key"] = int64(o.Auth.Sec), o.Auth.Key
	} else if o.Open {
		apKW["security"] = int64(SecOpen)
	}
	if o.Channel != nil {
		apKW["channel"] = int64(*o.Channel)
	}
	if mode == WiPySTA && len(apKW) > 0 {
		return abi.ValueError("init(mode=WLAN.STA): ssid, auth and channel set up the access point (mode=WLAN.AP); a station passes them to connect()")
	}
	if o.Antenna != nil {
		if err := w.sta.SetConfig(ctx, KW{"antenna": int64(*o.Antenna)}); err != nil {
			return err
		}
	}
	if mode == WiPyAP {
		if len(apKW) > 0 {
			if err := w.ap.SetConfig(ctx, apKW); err != nil {
				return err
			}
		}
		if err := w.sta.SetActive(ctx, false); err != nil {
			return err
		}
		return w.ap.SetActive(ctx, true)
	}
	if err := w.ap.SetActive(ctx, false); err != nil {
		return err
	}
	return w.sta.SetActive(ctx, true)
}

// Mode is mode(): WiPyAP while the access point is active, else WiPySTA.
func (w *WiPy) Mode(ctx context.Context) (int, error) {
	up, err := w.ap.Active(ctx)
	if err != nil {
		return 0, err
	}
	if up {
		return WiPyAP, nil
	}
	return WiPySTA, nil
}

// SetMode is mode(m): init(mode=m).
func (w *WiPy) SetMode(ctx context.Context, m int) error {
	if m != WiPySTA && m != WiPyAP {
		return abi.ValueError("mode %d: expected WLAN.STA (%d) or WLAN.AP (%d)", m, WiPySTA, WiPyAP)
	}
	return w.Init(ctx, WiPyInit{Mode: m})
}

// current is the NIC of the current mode.
func (w *WiPy) current(ctx context.Context) (*NIC, int, error) {
	m, err := w.Mode(ctx)
	if err != nil {
		return nil, 0, err
	}
	if m == WiPyAP {
		return w.ap, m, nil
	}
	return w.sta, m, nil
}

// apOnly refuses a setter of the access point's in STA mode.
func (w *WiPy) apOnly(ctx context.Context, what string) error {
	m, err := w.Mode(ctx)
	if err != nil {
		return err
	}
	if m != WiPyAP {
		return abi.ValueError("%s sets the access point's (mode WLAN.AP); in WLAN.STA mode connect() takes the network", what)
	}
	return nil
}

// Connect is connect(ssid, *, auth=None, bssid=None, timeout=None), in
// WLAN.STA mode: auth (see ParseWiPyAuth) nil joins with the network's
// own security and the configured key (an open network needs none);
// bssid pins the access point. With timeout > 0 it waits until the
// station is connected (joined and an address held): a failed join is
// an OSError with the status, no outcome in time OSError ETIMEDOUT.
// timeout 0 returns once the join started, as WLAN.connect() does.
func (w *WiPy) Connect(ctx context.Context, ssid string, auth *WiPyAuth, bssid net.HardwareAddr, timeout time.Duration) error {
	m, err := w.Mode(ctx)
	if err != nil {
		return err
	}
	if m != WiPySTA {
		return abi.OSError(abi.EPERM, "connect(): the WLAN is in mode WLAN.AP; init(mode=WLAN.STA) first")
	}
	sec := int64(-1)
	args := []any{ssid}
	if auth != nil {
		sec = int64(auth.Sec)
		args = append(args, auth.Key)
	}
	if err := w.sta.SetConfig(ctx, KW{"security": sec}); err != nil {
		return err
	}
	if bssid != nil {
		args = append(args, KW{"bssid": []byte(bssid)})
	}
	if err := w.sta.Connect(ctx, args...); err != nil {
		return err
	}
	if timeout <= 0 {
		return nil
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := w.sta.StatusCode(ctx)
		if err != nil {
			return err
		}
		switch {
		case st == StatGotIP:
			return nil
		case st < 0:
			return abi.OSError(abi.EIO, "connect(%q): the join failed (status %d)", ssid, st)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return abi.OSError(abi.ETIMEDOUT, "connect(%q): not connected within %v (status %d)", ssid, timeout, st)
		case <-tick.C:
		}
	}
}

// Scan is scan(), in either mode: the station's scan as the WiPy's
// (ssid, bssid, sec, channel, rssi) tuples, strongest first.
func (w *WiPy) Scan(ctx context.Context) ([]any, error) {
	nets, err := w.sta.Networks(ctx, nil)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(nets))
	for i, n := range nets {
		out[i] = abi.Tuple{n.SSID, []byte(n.BSSID), int64(n.Security), int64(n.Channel), int64(n.RSSI)}
	}
	return out, nil
}

// SSID is ssid(): the access point's in WLAN.AP mode, the station's
// network (config('ssid')) in WLAN.STA mode.
func (w *WiPy) SSID(ctx context.Context) (string, error) {
	n, _, err := w.current(ctx)
	if err != nil {
		return "", err
	}
	v, err := n.Config(ctx, "ssid")
	if err != nil {
		return "", err
	}
	s, _ := v.(string)
	return s, nil
}

// SetSSID is ssid(s), in WLAN.AP mode.
func (w *WiPy) SetSSID(ctx context.Context, s string) error {
	if err := w.apOnly(ctx, "ssid(...)"); err != nil {
		return err
	}
	return w.ap.SetConfig(ctx, KW{"ssid": s})
}

// Auth is auth(): (sec, None) of the current mode's security (the key is
// write-only), None when open or (a station) not chosen.
func (w *WiPy) Auth(ctx context.Context) (any, error) {
	n, _, err := w.current(ctx)
	if err != nil {
		return nil, err
	}
	v, err := n.Config(ctx, "security")
	if err != nil {
		return nil, err
	}
	sec, _ := v.(int64)
	if sec <= SecOpen {
		return nil, nil
	}
	return (&WiPyAuth{Sec: int(sec)}).tuple(), nil
}

// SetAuth is auth(a), in WLAN.AP mode: nil makes the access point open.
func (w *WiPy) SetAuth(ctx context.Context, a *WiPyAuth) error {
	if err := w.apOnly(ctx, "auth(...)"); err != nil {
		return err
	}
	if a == nil {
		return w.ap.SetConfig(ctx, KW{"security": int64(SecOpen)})
	}
	return w.ap.SetConfig(ctx, KW{"security": int64(a.Sec), "key": a.Key})
}

// Channel is channel(): the current mode's channel (a station's is 0
// until joined, when no channel is configured).
func (w *WiPy) Channel(ctx context.Context) (int, error) {
	n, _, err := w.current(ctx)
	if err != nil {
		return 0, err
	}
	v, err := n.Config(ctx, "channel")
	if err != nil {
		return 0, err
	}
	c, _ := v.(int64)
	return int(c), nil
}

// SetChannel is channel(c), in WLAN.AP mode: 1..11.
func (w *WiPy) SetChannel(ctx context.Context, c int) error {
	if c < 1 || c > 11 {
		return abi.ValueError("channel %d: expected 1..11", c)
	}
	if err := w.apOnly(ctx, "channel(...)"); err != nil {
		return err
	}
	return w.ap.SetConfig(ctx, KW{"channel": int64(c)})
}

// Antenna is antenna(): WiPyIntAnt or WiPyExtAnt (the chip's, shared by
// both modes).
func (w *WiPy) Antenna(ctx context.Context) (int, error) {
	v, err := w.sta.Config(ctx, "antenna")
	if err != nil {
		return 0, err
	}
	a, _ := v.(int64)
	return int(a), nil
}

// SetAntenna is antenna(a).
func (w *WiPy) SetAntenna(ctx context.Context, a int) error {
	if a != WiPyIntAnt && a != WiPyExtAnt {
		return abi.ValueError("antenna %d: expected WLAN.INT_ANT (%d) or WLAN.EXT_ANT (%d)", a, WiPyIntAnt, WiPyExtAnt)
	}
	return w.sta.SetConfig(ctx, KW{"antenna": int64(a)})
}

// MAC is mac(): the current mode's interface address.
func (w *WiPy) MAC(ctx context.Context) (net.HardwareAddr, error) {
	n, _, err := w.current(ctx)
	if err != nil {
		return nil, err
	}
	return n.MAC(), nil
}

// SetMAC is mac(b): the current mode's interface address.
func (w *WiPy) SetMAC(ctx context.Context, mac net.HardwareAddr) error {
	n, _, err := w.current(ctx)
	if err != nil {
		return err
	}
	return n.SetConfig(ctx, KW{"mac": []byte(mac)})
}

// IsConnected is isconnected(): in WLAN.STA mode joined with an address,
// in WLAN.AP mode at least one station associated.
func (w *WiPy) IsConnected(ctx context.Context) (bool, error) {
	n, _, err := w.current(ctx)
	if err != nil {
		return false, err
	}
	return n.IsConnected(ctx)
}

// Disconnect is disconnect(): the station leaves its network.
func (w *WiPy) Disconnect(ctx context.Context) error { return w.sta.Disconnect(ctx) }
