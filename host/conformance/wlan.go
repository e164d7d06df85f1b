package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/simnet"
)

// MicroPython's WLAN station status codes (section 8.4).
const (
	wlanIdle       = int64(host.StatIdle)
	wlanConnecting = int64(host.StatConnecting)
	wlanGotIP      = int64(host.StatGotIP)
	wlanNoAP       = int64(host.StatNoAPFound)
	wlanWrongKey   = int64(host.StatWrongPassword)
)

// eNOTCONN is Linux's errno for status('rssi') while not joined.
const eNOTCONN = 107

// wlanSuite is the WLAN class's suite for the station (section 8.4): a
// driver on a Wi-Fi chip whose radio reaches the device's networks
// (simnet.Device.Networks), each an access point bridged to the LAN.
func wlanSuite() []check {
	sec := classSections[abi.ClassWLAN]
	return []check{
		{loadCheck, secShape, func(ctx context.Context, e *env) error {
			if len(e.dev.Networks) < 4 {
				return errors.New("the simulated device lists fewer than 4 networks (simnet.Device.Networks): the WLAN suite needs a WPA2 one first, an open one, a WPA3 one and a hidden one")
			}
			if err := load(ctx, e, abi.ClassWLAN); err != nil {
				return err
			}
			if ifs := e.plugin.Description().Interfaces; !slices.Equal(ifs, []string{"sta", "ap"}) {
				return fmt.Errorf("the description's interfaces are %q; a WLAN driver declares the station and the access point, [\"sta\" \"ap\"] (section 8.4)", ifs)
			}
			return nil
		}},
		{"inactive after load: status() 0, isconnected() False", sec, func(ctx context.Context, e *env) error {
			if err := expect(e.nic.Active(ctx))(false, "active()"); err != nil {
				return err
			}
			if err := expectValue(e.nic.Status(ctx))(wlanIdle, "status()"); err != nil {
				return err
			}
			return expect(e.nic.IsConnected(ctx))(false, "isconnected()")
		}},
		checkMAC(sec),
		{"config parameters read back with their types; the aliases; the write-only key", sec, checkWLANConfig},
		{"config errors name the problem; a refused call changes nothing", secErrors, checkWLANConfigErrors},
		{"trace flags: 1, 2, 4 and 8, an int", secClasses, checkTrace},
		checkNoStatusParam,
		checkNoMethod(abi.ClassWLAN),
		{"active(True): active, status() 0, status('rssi') ENOTCONN", sec, func(ctx context.Context, e *env) error {
			if err := e.nic.SetActive(ctx, true); err != nil {
				return fmt.Errorf("active(True): %w", err)
			}
			if err := until(ctx, "active() True", func() (bool, error) { return e.nic.Active(ctx) }); err != nil {
				return err
			}
			if err := expectValue(e.nic.Status(ctx))(wlanIdle, "status()"); err != nil {
				return err
			}
			if v, err := e.nic.StatusParam(ctx, "rssi"); !isErrno(err, eNOTCONN) {
				return fmt.Errorf("status('rssi') while not joined = %v, %v; want OSError(ENOTCONN)", v, err)
			}
			return nil
		}},
		{"scan() lists every network: BSSID, channel, security, hidden", sec, checkWLANScan},
		{"scan() filters: ssid, channel, passive, duration", sec, checkWLANScanFilters},
		{"scan() errors name the keyword", secErrors, checkWLANScanErrors},
		{"connect() checks its arguments before it starts", sec, checkWLANConnectArgs},
		{"connect() to a missing network: status() -2", sec, func(ctx context.Context, e *env) error {
			return wlanFails(ctx, e, wlanNoAP, "nichost-no-such-network", "whatever1")
		}},
		{"connect() with a wrong key: status() -3", sec, func(ctx context.Context, e *env) error {
			n := e.dev.Networks[0]
			return wlanFails(ctx, e, wlanWrongKey, n.SSID, n.Key+"-wrong")
		}},
		{"connect() to the open network: status() 3 with a lease, then HTTP", sec, func(ctx context.Context, e *env) error {
			return wlanJoin(ctx, e, wlanNetwork(e, host.SecOpen, false), false)
		}},
		{"connect() to the WPA3 network", sec, func(ctx context.Context, e *env) error {
			return wlanJoin(ctx, e, wlanNetwork(e, host.SecWPA3, false), false)
		}},
		{"connect() to the hidden network by name", sec, func(ctx context.Context, e *env) error {
			return wlanJoin(ctx, e, wlanNetwork(e, -1, true), false)
		}},
		{"connect(bssid=...) to the first network: status() 3, status('rssi')", sec, func(ctx context.Context, e *env) error {
			n := &e.dev.Networks[0]
			if err := wlanJoin(ctx, e, n, true); err != nil {
				return err
			}
			v, err := e.nic.StatusParam(ctx, "rssi")
			if err != nil {
				return fmt.Errorf("status('rssi') while joined: %w", err)
			}
			if r, ok := v.(int64); !ok || r > 0 || r < -100 {
				return fmt.Errorf("status('rssi') = %v; want an int of dBm, -100..0", v)
			}
			return expectValue(e.nic.Config(ctx, "ssid"))(n.SSID, "config('ssid') while joined")
		}},
		{"DNS and HTTP through the NIC", secLink, get},
		{"a burst of packets arrives whole", secExports, checkBurst},
		{"access point lost: frames offered are refused, not kept", secLink, refusedWhileDown(wlanConnecting, wlanGotIP)},
		{"access point lost: status() 1, the link down; back: joined again, HTTP", sec, checkWLANLost},
		{"disconnect(): status() 0, the link reported down", sec, func(ctx context.Context, e *env) error {
			if err := e.nic.Disconnect(ctx); err != nil {
				return fmt.Errorf("disconnect(): %w", err)
			}
			return until(ctx, "status() 0, isconnected() False and the link reported down", func() (bool, error) {
				st, err := e.nic.Status(ctx)
				ok, _ := e.nic.IsConnected(ctx)
				return st == wlanIdle && !ok && !e.nic.LinkState().Up, err
			})
		}},
		{"network.country(): a channel the country does not allow is refused", sec, checkWLANCountry},
		{"active(False): inactive, status() 0", sec, func(ctx context.Context, e *env) error {
			if err := e.nic.SetActive(ctx, false); err != nil {
				return fmt.Errorf("active(False): %w", err)
			}
			if err := expect(e.nic.Active(ctx))(false, "active()"); err != nil {
				return err
			}
			return expectValue(e.nic.Status(ctx))(wlanIdle, "status()")
		}},
		{"the access point: down after load; config errors; active(True) without a key refused", secAP, checkAPConfig},
		{"the access point: up on the chip alone, 192.168.4.1/24, isconnected() False", secAP, checkAPUp},
		{"the access point: a station joins, gets a lease, is listed in status('stations')", secAP, checkAPStation},
		{"the access point: the station leaves, the list follows; active(False): down", secAP, checkAPDown},
	}
}

// secAP is the access point's part of section 8.4.
const secAP = "8.4.1 The access point"

// The access point's status() values.
const (
	apDown = int64(0)
	apUp   = int64(2)
)

// The suite's access point and the station that joins it.
const (
	apSSID = "nichost-conformance-ap"
	apKey  = "conformance-ap"
)

// apNIC is the plugin's access point interface.
func apNIC(e *env) (*host.NIC, error) {
	for _, n := range e.plugin.NICs() {
		if n.Index() == 1 {
			return n, nil
		}
	}
	return nil, errors.New("the plugin has no interface 1 (ap)")
}

func checkAPConfig(ctx context.Context, e *env) error {
	ap, err := apNIC(e)
	if err != nil {
		return err
	}
	if err := expect(ap.Active(ctx))(false, "ap active()"); err != nil {
		return err
	}
	if err := expectValue(ap.Status(ctx))(apDown, "ap status()"); err != nil {
		return err
	}
	if v, err := ap.StatusParam(ctx, "stations"); err != nil || !isEmptyList(v) {
		return fmt.Errorf("ap status('stations') while down = %v, %v; want []", v, err)
	}
	for _, c := range []struct {
		kw   host.KW
		kind error
	}{
		{host.KW{"security": int64(host.SecWEP)}, abi.ErrValue},
		{host.KW{"ssid": strings.Repeat("s", 33)}, abi.ErrValue},
		{host.KW{"key": "short"}, abi.ErrValue},
		{host.KW{"channel": int64(15)}, abi.ErrValue},
		{host.KW{"hidden": int64(1)}, abi.ErrType},
		{host.KW{"reconnects": int64(1)}, abi.ErrValue},
	} {
		if err := ap.SetConfig(ctx, c.kw); !errors.Is(err, c.kind) {
			return fmt.Errorf("ap config(%v) = %v; want a %v", c.kw, err, c.kind)
		}
	}
	if err := ap.SetConfig(ctx, host.KW{"ssid": apSSID, "security": int64(host.SecWPA2)}); err != nil {
		return fmt.Errorf("ap config(ssid=..., security=SEC_WPA2): %w", err)
	}
	if err := ap.SetActive(ctx, true); !errors.Is(err, abi.ErrValue) {
		return fmt.Errorf("ap active(True) with SEC_WPA2 and no key = %v; want a ValueError", err)
	}
	return expect(ap.Active(ctx))(false, "ap active() after the refused start")
}

// isEmptyList reports whether v is [].
func isEmptyList(v any) bool {
	l, ok := v.([]any)
	return ok && len(l) == 0
}

func checkAPUp(ctx context.Context, e *env) error {
	ap, err := apNIC(e)
	if err != nil {
		return err
	}
	if err := ap.SetConfig(ctx, host.KW{"key": apKey, "channel": int64(6)}); err != nil {
		return fmt.Errorf("ap config(key=..., channel=6): %w", err)
	}
	if err := ap.SetActive(ctx, true); err != nil {
		return fmt.Errorf("ap active(True): %w", err)
	}
	if err := until(ctx, "ap status() 2 and its link up", func() (bool, error) {
		st, err := ap.Status(ctx)
		return st == apUp && ap.LinkState().Up, err
	}); err != nil {
		return err
	}
	if err := expectValue(ap.Config(ctx, "ssid"))(apSSID, "ap config('ssid')"); err != nil {
		return err
	}
	if err := expectValue(ap.Config(ctx, "security"))(int64(host.SecWPA2), "ap config('security')"); err != nil {
		return err
	}
	if err := expectValue(ap.IPConfig(ctx, "addr4"))(abi.Tuple{"192.168.4.1", "255.255.255.0"}, "ap ipconfig('addr4')"); err != nil {
		return err
	}
	return expect(ap.IsConnected(ctx))(false, "ap isconnected() with no station")
}

func checkAPStation(ctx context.Context, e *env) error {
	ap, err := apNIC(e)
	if err != nil {
		return err
	}
	if e.dev.JoinAP == nil {
		return errors.New("the simulated device has no station to join the access point (simnet.Device.JoinAP)")
	}
	sta, err := e.dev.JoinAP(apSSID, apKey)
	if err != nil {
		return fmt.Errorf("a station joining the access point: %w", err)
	}
	e.apStation = sta
	if err := until(ctx, "the station's lease from the access point", func() (bool, error) {
		return sta.NIC.Addr4().IsValid(), nil
	}); err != nil {
		return err
	}
	if a := sta.NIC.Addr4(); a.Bits() != 24 || !strings.HasPrefix(a.Addr().String(), "192.168.4.") {
		return fmt.Errorf("the station's lease is %v; want an address of 192.168.4.0/24", a)
	}
	if _, err := sta.NIC.Ping(ctx, sta.NIC.Gateway4(), 56); err != nil {
		return fmt.Errorf("the station pinging the access point %v: %w", sta.NIC.Gateway4(), err)
	}
	l, err := ap.Stations(ctx)
	if err != nil {
		return fmt.Errorf("ap status('stations'): %w", err)
	}
	if len(l) != 1 || !bytes.Equal(l[0].MAC, sta.MAC) || l[0].RSSI > 0 || l[0].RSSI < -100 {
		return fmt.Errorf("ap status('stations') = %v; want the one station %v with an RSSI in dBm", l, sta.MAC)
	}
	return expect(ap.IsConnected(ctx))(true, "ap isconnected() with a station")
}

func checkAPDown(ctx context.Context, e *env) error {
	ap, err := apNIC(e)
	if err != nil {
		return err
	}
	if e.apStation != nil {
		e.apStation.Close()
		e.apStation = nil
		if err := until(ctx, "ap status('stations') empty after the station left", func() (bool, error) {
			l, err := ap.Stations(ctx)
			return len(l) == 0, err
		}); err != nil {
			return err
		}
		if err := expect(ap.IsConnected(ctx))(false, "ap isconnected() after the station left"); err != nil {
			return err
		}
	}
	if err := ap.SetActive(ctx, false); err != nil {
		return fmt.Errorf("ap active(False): %w", err)
	}
	return until(ctx, "ap status() 0 and its link down", func() (bool, error) {
		st, err := ap.Status(ctx)
		return st == apDown && !ap.LinkState().Up, err
	})
}

// wlanNetwork is the device's first network with security sec (-1: any)
// and the hidden flag.
func wlanNetwork(e *env, sec int, hidden bool) *simnet.Network {
	for i := range e.dev.Networks {
		n := &e.dev.Networks[i]
		if (sec < 0 || n.Security == sec) && n.Hidden == hidden {
			return n
		}
	}
	return nil
}

// wlanJoin connects to n (pinned to its BSSID if pin) and waits for
// status() 3, isconnected(), the link up and a DHCP lease, then fetches the
// router's page.
func wlanJoin(ctx context.Context, e *env, n *simnet.Network, pin bool) error {
	if n == nil {
		return errors.New("the simulated device has no such network (simnet.Device.Networks)")
	}
	var kw host.KW
	if pin {
		kw = host.KW{"bssid": []byte(n.BSSID)}
	}
	args := []any{n.SSID, n.Key}
	if kw != nil {
		args = append(args, kw)
	}
	if err := e.nic.Connect(ctx, args...); err != nil {
		return fmt.Errorf("connect(%q, ...): %w", n.SSID, err)
	}
	if err := until(ctx, fmt.Sprintf("status() 3, isconnected() and the link up on %q", n.SSID), func() (bool, error) {
		st, err := e.nic.Status(ctx)
		if err != nil {
			return false, err
		}
		if c, ok := st.(int64); ok && c < 0 {
			return false, fmt.Errorf("status() %d joining %q", c, n.SSID)
		}
		ok, err := e.nic.IsConnected(ctx)
		return st == wlanGotIP && ok && e.nic.LinkState().Up, err
	}); err != nil {
		return err
	}
	return get(ctx, e)
}

// wlanFails connects to ssid with key and waits for status() want, which
// the driver must reach within the join timeout (never an endless 1), with
// the link never up.
func wlanFails(ctx context.Context, e *env, want int64, ssid, key string) error {
	if err := e.nic.Connect(ctx, ssid, key); err != nil {
		return fmt.Errorf("connect(%q, ...): %w", ssid, err)
	}
	var last any
	err := until(ctx, fmt.Sprintf("status() %d", want), func() (bool, error) {
		st, err := e.nic.Status(ctx)
		last = st
		if e.nic.LinkState().Up {
			return false, fmt.Errorf("the link was reported up joining %q (status() %v)", ssid, st)
		}
		return st == want, err
	})
	if err != nil {
		return fmt.Errorf("%w (the last status() was %v)", err, last)
	}
	return expect(e.nic.IsConnected(ctx))(false, "isconnected() after the failed join")
}

// checkWLANConfig: every parameter of section 8.4 reads back with its type;
// what is set reads back; the aliases read and write the same; key is
// write-only; hostname is network.hostname().
func checkWLANConfig(ctx context.Context, e *env) error {
	types := map[string]string{"ssid": "str", "essid": "str", "channel": "int", "hidden": "bool", "security": "int",
		"reconnects": "int", "txpower": "number", "pm": "int", "antenna": "int", "hostname": "str", "trace": "int"}
	for _, k := range slices.Sorted(maps.Keys(types)) {
		v, err := e.nic.Config(ctx, k)
		if err != nil {
			return fmt.Errorf("config(%q): %w", k, err)
		}
		if !wlanTyped(v, types[k]) {
			return fmt.Errorf("config(%q) = %v (%s); want %s", k, v, abi.TypeName(v), types[k])
		}
	}
	if err := expectValue(e.nic.Config(ctx, "pm"))(int64(host.PMPerformance), "config('pm'), the default"); err != nil {
		return err
	}
	n := e.dev.Networks[0]
	sets := []struct {
		set  host.KW
		name string
		want any
	}{
		{host.KW{"ssid": n.SSID}, "essid", n.SSID},
		{host.KW{"essid": "other-net"}, "ssid", "other-net"},
		{host.KW{"ssid": n.SSID}, "ssid", n.SSID},
		{host.KW{"hidden": true}, "hidden", true},
		{host.KW{"hidden": false}, "hidden", false},
		{host.KW{"security": int64(host.SecWPA2)}, "security", int64(host.SecWPA2)},
		{host.KW{"security": int64(-1)}, "security", int64(-1)},
		{host.KW{"reconnects": int64(3)}, "reconnects", int64(3)},
		{host.KW{"reconnects": int64(-1)}, "reconnects", int64(-1)},
		{host.KW{"pm": int64(host.PMPowerSave)}, "pm", int64(host.PMPowerSave)},
		{host.KW{"pm": int64(host.PMNone)}, "pm", int64(host.PMNone)},
		{host.KW{"pm": int64(host.PMPerformance)}, "pm", int64(host.PMPerformance)},
		{host.KW{"antenna": int64(1)}, "antenna", int64(1)},
		{host.KW{"antenna": int64(0)}, "antenna", int64(0)},
		{host.KW{"channel": int64(6)}, "channel", int64(6)},
		{host.KW{"channel": int64(0)}, "channel", int64(0)},
		{host.KW{"txpower": int64(10)}, "txpower", int64(10)},
		{host.KW{"hostname": "wlan-conformance"}, "hostname", "wlan-conformance"},
	}
	for _, c := range sets {
		if err := e.nic.SetConfig(ctx, c.set); err != nil {
			return fmt.Errorf("config(%v): %w", c.set, err)
		}
		v, err := e.nic.Config(ctx, c.name)
		if err != nil {
			return fmt.Errorf("config(%q) after config(%v): %w", c.name, c.set, err)
		}
		if !wlanSame(v, c.want) {
			return fmt.Errorf("config(%q) after config(%v) = %v; want %v", c.name, c.set, v, c.want)
		}
	}
	if got := e.h.Hostname(); got != "wlan-conformance" {
		return fmt.Errorf("network.hostname() after config(hostname='wlan-conformance') = %q: config's hostname is an alias of it", got)
	}
	if err := e.h.SetHostname("conformance"); err != nil {
		return err
	}
	for _, kw := range []host.KW{{"key": "secret-key"}, {"password": "secret-key"}} {
		if err := e.nic.SetConfig(ctx, kw); err != nil {
			return fmt.Errorf("config(%v): %w", kw, err)
		}
	}
	for _, k := range []string{"key", "password"} {
		if v, err := e.nic.Config(ctx, k); !errors.Is(err, abi.ErrValue) || !strings.Contains(err.Error(), "write-only") {
			return fmt.Errorf("config(%q) = %v, %v; want a ValueError saying it is write-only", k, v, err)
		}
	}
	return nil
}

func wlanTyped(v any, want string) bool {
	switch v.(type) {
	case string:
		return want == "str"
	case bool:
		return want == "bool"
	case int64:
		return want == "int" || want == "number"
	case float64:
		return want == "number"
	}
	return false
}

// wlanSame compares config values, an int and a float of the same number
// alike (txpower may read as either).
func wlanSame(got, want any) bool {
	if f, ok := got.(float64); ok {
		if w, ok := want.(int64); ok {
			return f == float64(w)
		}
	}
	return got == want
}

// checkWLANConfigErrors: unknown names and wrong types are errors naming
// the parameter; values out of range are ValueErrors; a call with one bad
// key applies none of the others.
func checkWLANConfigErrors(ctx context.Context, e *env) error {
	for _, c := range []struct {
		kw   host.KW
		want error
		part string
	}{
		{host.KW{"no_such_param": int64(1)}, abi.ErrValue, "no_such_param"},
		{host.KW{"ssid": int64(5)}, abi.ErrType, "ssid"},
		{host.KW{"ssid": strings.Repeat("s", 33)}, abi.ErrValue, "ssid"},
		{host.KW{"ssid": ""}, abi.ErrValue, "ssid"},
		{host.KW{"hidden": "yes"}, abi.ErrType, "hidden"},
		{host.KW{"security": int64(5)}, abi.ErrValue, "security"},
		{host.KW{"security": "wpa2"}, abi.ErrType, "security"},
		{host.KW{"key": int64(1)}, abi.ErrType, "key"},
		{host.KW{"reconnects": int64(-2)}, abi.ErrValue, "reconnects"},
		{host.KW{"reconnects": "forever"}, abi.ErrType, "reconnects"},
		{host.KW{"txpower": int64(99)}, abi.ErrValue, "txpower"},
		{host.KW{"txpower": "max"}, abi.ErrType, "txpower"},
		{host.KW{"pm": int64(7)}, abi.ErrValue, "pm"},
		{host.KW{"antenna": int64(2)}, abi.ErrValue, "antenna"},
		{host.KW{"channel": int64(15)}, abi.ErrValue, "channel"},
		{host.KW{"channel": "6"}, abi.ErrType, "channel"},
		{host.KW{"hostname": strings.Repeat("h", 33)}, abi.ErrValue, "hostname"},
	} {
		if err := e.nic.SetConfig(ctx, c.kw); !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.part) {
			return fmt.Errorf("config(%v) = %v; want %v naming %s", c.kw, err, c.want, c.part)
		}
	}
	was, err := e.nic.Config(ctx, "reconnects")
	if err != nil {
		return err
	}
	bad := host.KW{"reconnects": int64(7), "antenna": int64(9)}
	if err := e.nic.SetConfig(ctx, bad); !errors.Is(err, abi.ErrValue) {
		return fmt.Errorf("config(%v) = %v; want a ValueError for antenna", bad, err)
	}
	return expectValue(e.nic.Config(ctx, "reconnects"))(was, "config('reconnects') after a refused call that also set it")
}

func wlanScan(ctx context.Context, e *env, kw host.KW) ([]host.WiFiNetwork, error) {
	l, err := e.nic.Networks(ctx, kw)
	if err != nil {
		return nil, fmt.Errorf("scan(%v): %w", kw, err)
	}
	for i, s := range l {
		if i > 0 && s.RSSI > l[i-1].RSSI {
			return nil, fmt.Errorf("scan(%v): %v (%d dBm) after %v (%d dBm): the list is strongest first", kw, s.BSSID, s.RSSI, l[i-1].BSSID, l[i-1].RSSI)
		}
		for _, o := range l[:i] {
			if bytes.Equal(o.BSSID, s.BSSID) {
				return nil, fmt.Errorf("scan(%v) lists %v twice: one tuple per BSSID", kw, s.BSSID)
			}
		}
	}
	return l, nil
}

func findBSS(l []host.WiFiNetwork, bssid net.HardwareAddr) *host.WiFiNetwork {
	for i := range l {
		if bytes.Equal(l[i].BSSID, bssid) {
			return &l[i]
		}
	}
	return nil
}

// checkWLANScan: an unfiltered scan lists every network of the device as
// the device describes it; the hidden one with an empty SSID.
func checkWLANScan(ctx context.Context, e *env) error {
	l, err := wlanScan(ctx, e, nil)
	if err != nil {
		return err
	}
	for _, n := range e.dev.Networks {
		s := findBSS(l, n.BSSID)
		if s == nil {
			return fmt.Errorf("scan() lists %d networks, not %q (%v, channel %d)", len(l), n.SSID, n.BSSID, n.Channel)
		}
		wantSSID := n.SSID
		if n.Hidden {
			wantSSID = ""
		}
		if s.SSID != wantSSID || s.Channel != n.Channel || s.Security != n.Security || s.Hidden != n.Hidden {
			return fmt.Errorf("scan() lists %v as (%q, channel %d, security %d, hidden %t); want (%q, channel %d, security %d, hidden %t)",
				n.BSSID, s.SSID, s.Channel, s.Security, s.Hidden, wantSSID, n.Channel, n.Security, n.Hidden)
		}
		if s.RSSI > 0 || s.RSSI < -100 {
			return fmt.Errorf("scan() gives %v an RSSI of %d; want dBm, -100..0", n.BSSID, s.RSSI)
		}
	}
	return nil
}

// checkWLANScanFilters: ssid (the hidden network answers a scan for its
// name), channel (an int and a list), passive, duration.
func checkWLANScanFilters(ctx context.Context, e *env) error {
	first := e.dev.Networks[0]
	only := func(kw host.KW, want func(simnet.Network) bool, ssid func(simnet.Network) string) error {
		l, err := wlanScan(ctx, e, kw)
		if err != nil {
			return err
		}
		for _, n := range e.dev.Networks {
			s := findBSS(l, n.BSSID)
			switch {
			case want(n) && s == nil:
				return fmt.Errorf("scan(%v) does not list %q (%v)", kw, n.SSID, n.BSSID)
			case !want(n) && s != nil:
				return fmt.Errorf("scan(%v) lists %q (%v), which the filter leaves out", kw, n.SSID, n.BSSID)
			case s != nil && s.SSID != ssid(n):
				return fmt.Errorf("scan(%v) lists %v with SSID %q; want %q", kw, n.BSSID, s.SSID, ssid(n))
			case s != nil && s.Hidden != n.Hidden:
				return fmt.Errorf("scan(%v) lists %q (%v) with hidden %t; want %t", kw, n.SSID, n.BSSID, s.Hidden, n.Hidden)
			}
		}
		return nil
	}
	shown := func(n simnet.Network) string {
		if n.Hidden {
			return ""
		}
		return n.SSID
	}
	if err := only(host.KW{"ssid": first.SSID}, func(n simnet.Network) bool { return n.SSID == first.SSID }, shown); err != nil {
		return err
	}
	hidden := wlanNetwork(e, -1, true)
	if hidden == nil {
		return errors.New("the simulated device has no hidden network")
	}
	if err := only(host.KW{"ssid": hidden.SSID}, func(n simnet.Network) bool { return n.SSID == hidden.SSID },
		func(n simnet.Network) string { return n.SSID }); err != nil {
		return fmt.Errorf("%w (a hidden network answers a scan for its SSID, with it)", err)
	}
	if err := only(host.KW{"channel": int64(first.Channel)}, func(n simnet.Network) bool { return n.Channel == first.Channel }, shown); err != nil {
		return err
	}
	chans := []any{int64(e.dev.Networks[1].Channel), int64(e.dev.Networks[2].Channel)}
	if err := only(host.KW{"channel": chans}, func(n simnet.Network) bool { return slices.Contains(chans, any(int64(n.Channel))) }, shown); err != nil {
		return err
	}
	if err := only(host.KW{"passive": true}, func(simnet.Network) bool { return true }, shown); err != nil {
		return err
	}
	if err := only(host.KW{"passive": true, "ssid": hidden.SSID}, func(n simnet.Network) bool { return false }, shown); err != nil {
		return fmt.Errorf("%w (a passive scan sends no probe, so a hidden network never gives its name)", err)
	}
	return only(host.KW{"duration": int64(20)}, func(simnet.Network) bool { return true }, shown)
}

// checkWLANScanErrors: bad keywords, types and values name the keyword.
func checkWLANScanErrors(ctx context.Context, e *env) error {
	for _, c := range []struct {
		kw   host.KW
		want error
		part string
	}{
		{host.KW{"no_such_filter": int64(1)}, abi.ErrType, "no_such_filter"},
		{host.KW{"ssid": int64(1)}, abi.ErrType, "ssid"},
		{host.KW{"channel": int64(0)}, abi.ErrValue, "channel"},
		{host.KW{"channel": int64(15)}, abi.ErrValue, "channel"},
		{host.KW{"channel": "6"}, abi.ErrType, "channel"},
		{host.KW{"passive": "yes"}, abi.ErrType, "passive"},
		{host.KW{"duration": int64(5)}, abi.ErrValue, "duration"},
		{host.KW{"duration": int64(200)}, abi.ErrValue, "1.5 s"},
	} {
		if v, err := e.nic.Scan(ctx, c.kw); !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.part) {
			return fmt.Errorf("scan(%v) = %v, %v; want %v naming %s", c.kw, v, err, c.want, c.part)
		}
	}
	return nil
}

// checkWLANConnectArgs: connect()'s argument errors, before anything
// changes (status() stays 0).
func checkWLANConnectArgs(ctx context.Context, e *env) error {
	n := e.dev.Networks[0]
	for _, c := range []struct {
		args []any
		want error
		part string
	}{
		{[]any{int64(1), n.Key}, abi.ErrType, "ssid"},
		{[]any{strings.Repeat("s", 33), n.Key}, abi.ErrValue, "ssid"},
		{[]any{n.SSID, int64(1)}, abi.ErrType, "key"},
		{[]any{n.SSID, "short"}, abi.ErrValue, "key"},
		{[]any{n.SSID, n.Key, host.KW{"bssid": []byte{1, 2, 3}}}, abi.ErrValue, "bssid"},
		{[]any{n.SSID, n.Key, host.KW{"bssid": "aa:bb"}}, abi.ErrType, "bssid"},
	} {
		if err := e.nic.Connect(ctx, c.args...); !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.part) {
			return fmt.Errorf("connect(%v) = %v; want %v naming %s", c.args, err, c.want, c.part)
		}
	}
	return expectValue(e.nic.Status(ctx))(wlanIdle, "status() after the refused connect() calls")
}

// checkWLANLost: the joined access point goes off the air: the link goes
// down and status() is 1 while the driver tries again (reconnects -1);
// back on the air, it joins again: status() 3 and HTTP.
func checkWLANLost(ctx context.Context, e *env) error {
	if err := quiet(ctx, e); err != nil {
		return err
	}
	defer e.dev.SetLink(true)
	e.dev.SetLink(false)
	if err := until(ctx, "the link reported down and status() 1", func() (bool, error) {
		st, err := e.nic.Status(ctx)
		return st == wlanConnecting && !e.nic.LinkState().Up, err
	}); err != nil {
		return err
	}
	e.dev.SetLink(true)
	if err := until(ctx, "status() 3 and the link up again", func() (bool, error) {
		st, err := e.nic.Status(ctx)
		ok, _ := e.nic.IsConnected(ctx)
		return st == wlanGotIP && ok && e.nic.LinkState().Up, err
	}); err != nil {
		return err
	}
	return get(ctx, e)
}

// checkWLANCountry: under the US rules (channels 1 to 11) config(channel=13)
// is a ValueError naming the country; under DE (1 to 13) it is taken;
// back to XX.
func checkWLANCountry(ctx context.Context, e *env) error {
	defer e.h.SetCountry(context.WithoutCancel(ctx), "XX")
	if err := e.h.SetCountry(ctx, "US"); err != nil {
		return fmt.Errorf("network.country('US'): %w", err)
	}
	if err := e.nic.SetConfig(ctx, host.KW{"channel": int64(13)}); !errors.Is(err, abi.ErrValue) || !strings.Contains(err.Error(), "US") {
		return fmt.Errorf("config(channel=13) under network.country('US') = %v; want a ValueError naming US", err)
	}
	if _, err := e.nic.Scan(ctx, host.KW{"channel": int64(13)}); !errors.Is(err, abi.ErrValue) {
		return fmt.Errorf("scan(channel=13) under network.country('US') = %v; want a ValueError", err)
	}
	if err := e.h.SetCountry(ctx, "DE"); err != nil {
		return fmt.Errorf("network.country('DE'): %w", err)
	}
	if err := e.nic.SetConfig(ctx, host.KW{"channel": int64(13)}); err != nil {
		return fmt.Errorf("config(channel=13) under network.country('DE'): %w (DE allows channels 1 to 13)", err)
	}
	if err := expectValue(e.nic.Config(ctx, "channel"))(int64(13), "config('channel')"); err != nil {
		return err
	}
	return e.nic.SetConfig(ctx, host.KW{"channel": int64(0)})
}
