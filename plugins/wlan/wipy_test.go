//go:build !wasip1

package main_test

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/plugins/wlan/radio"
	"github.com/nichost/nichost/plugins/wlan/wlandev"
)

// The WLANWiPy profile through the Go API: every method, init with each
// mode, the scan tuple order and the errors of bad arguments, over the
// same driver and NICs as the WLAN class.
func TestWiPy_GoAPI(t *testing.T) {
	_, dev, h, p := loadOnLAN(t, map[string]config.InterfaceConfig{"sta": {Name: "wlan", Profile: host.ProfileWiPy}, "ap": {Name: "ap0"}})
	ctx := wait.Context(t)
	sta, _ := h.NIC("wlan")
	ap, _ := h.NIC("ap0")
	if sta.Profile() != host.ProfileWiPy || ap.Profile() != "" {
		t.Fatalf("profiles %q, %q; want wipy on the station only", sta.Profile(), ap.Profile())
	}
	w, err := ap.WiPy() // either NIC gives the plugin's profile
	if err != nil {
		t.Fatal(err)
	}
	if w.Station() != sta || w.AccessPoint() != ap || len(p.NICs()) != 2 {
		t.Fatal("the profile does not drive the plugin's two NICs")
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	get := func(v any, err error) any {
		t.Helper()
		must(err)
		return v
	}

	// WLAN.STA: init, scan in the WiPy's order, connect with auth and a
	// timeout, the getters.
	if m := get(w.Mode(ctx)); m != host.WiPySTA {
		t.Fatalf("mode() at start = %v, want WLAN.STA", m)
	}
	ext := host.WiPyExtAnt
	must(w.Init(ctx, host.WiPyInit{Mode: host.WiPySTA, Antenna: &ext}))
	if a := get(w.Antenna(ctx)); a != host.WiPyExtAnt {
		t.Errorf("antenna() = %v, want WLAN.EXT_ANT after init(antenna=WLAN.EXT_ANT)", a)
	}
	must(w.SetAntenna(ctx, host.WiPyIntAnt))
	if a := get(w.Antenna(ctx)); a != host.WiPyIntAnt {
		t.Errorf("antenna() = %v after antenna(WLAN.INT_ANT)", a)
	}
	l, err := w.Scan(ctx)
	must(err)
	n := wlandev.NetWPA2
	first, ok := l[0].(abi.Tuple)
	if !ok || len(first) != 5 || first[0] != n.SSID || !bytes.Equal(first[1].([]byte), n.BSSID) ||
		first[2] != int64(n.Security) || first[3] != int64(n.Channel) || first[4].(int64) > -40 {
		t.Fatalf("scan()[0] = %#v, want (ssid, bssid, sec, channel, rssi) of %s", l[0], n.SSID)
	}
	if len(l) != len(dev.Networks) {
		t.Fatalf("scan() found %d networks, want %d", len(l), len(dev.Networks))
	}
	must(w.Connect(ctx, n.SSID, &host.WiPyAuth{Sec: host.WiPyWPA2, Key: n.Key}, nil, 9*time.Second))
	if ok := get(w.IsConnected(ctx)); ok != true {
		t.Fatal("isconnected() False after connect(timeout=...) returned")
	}
	if s := get(w.SSID(ctx)); s != n.SSID {
		t.Errorf("ssid() = %v, want %s", s, n.SSID)
	}
	if a := get(w.Auth(ctx)); a.(abi.Tuple)[0] != int64(host.WiPyWPA2) || a.(abi.Tuple)[1] != nil {
		t.Errorf("auth() = %v, want (WLAN.WPA2, None)", a)
	}
	if c := get(w.Channel(ctx)); c != n.Channel {
		t.Errorf("channel() = %v, want %d", c, n.Channel)
	}
	if m := get(w.MAC(ctx)); !bytes.Equal(m.(net.HardwareAddr), sta.MAC()) {
		t.Errorf("mac() in STA mode = %v, want the station's %v", m, sta.MAC())
	}
	if err := w.SetSSID(ctx, "x"); !errors.Is(err, abi.ErrValue) {
		t.Errorf("ssid('x') in STA mode = %v, want a ValueError", err)
	}
	if err := w.Connect(ctx, "nichost-nowhere", nil, nil, 9*time.Second); !errors.Is(err, abi.ErrOS) {
		t.Errorf("connect() to no network with a timeout = %v, want an OSError", err)
	}
	must(w.Disconnect(ctx))

	// WLAN.AP: init with the access point's settings; a station joins.
	ssid, ch := "wipy-ap", 11
	must(w.Init(ctx, host.WiPyInit{Mode: host.WiPyAP, SSID: &ssid, Auth: &host.WiPyAuth{Sec: host.WiPyWPA2, Key: "wipy-secret"}, Channel: &ch}))
	if m := get(w.Mode(ctx)); m != host.WiPyAP {
		t.Fatalf("mode() = %v after init(mode=WLAN.AP)", m)
	}
	if up := get(sta.Active(ctx)); up != false {
		t.Error("the station is still active in WLAN.AP mode")
	}
	if s := get(w.SSID(ctx)); s != ssid {
		t.Errorf("ssid() = %v, want %s", s, ssid)
	}
	if c := get(w.Channel(ctx)); c != ch {
		t.Errorf("channel() = %v, want %d", c, ch)
	}
	if m := get(w.MAC(ctx)); !bytes.Equal(m.(net.HardwareAddr), ap.MAC()) {
		t.Errorf("mac() in AP mode = %v, want the access point's %v", m, ap.MAC())
	}
	wait.For(t, "the access point up", func() bool {
		st, err := ap.StatusCode(ctx)
		return err == nil && st == apUp
	})
	if ok := get(w.IsConnected(ctx)); ok != false {
		t.Error("isconnected() True in AP mode with no station")
	}
	s := dev.Env.NewStation(net.HardwareAddr{0x02, 0x57, 0x50, 0, 0, 1}, nil, nil)
	t.Cleanup(s.Close)
	if res, _ := s.Join(radio.JoinRequest{SSID: ssid, Security: radio.SecWPA2, Passphrase: "wipy-secret"}); res != radio.JoinOK {
		t.Fatalf("a station joining the WiPy's access point: %v", res)
	}
	wait.For(t, "isconnected() with a station", func() bool {
		ok, err := w.IsConnected(ctx)
		return err == nil && ok
	})
	must(w.SetChannel(ctx, 6))
	if c := get(w.Channel(ctx)); c != 6 {
		t.Errorf("channel() = %v after channel(6)", c)
	}
	if err := w.SetChannel(ctx, 12); !errors.Is(err, abi.ErrValue) {
		t.Errorf("channel(12) = %v, want a ValueError (1..11)", err)
	}
	must(w.SetAuth(ctx, nil))
	if a := get(w.Auth(ctx)); a != nil {
		t.Errorf("auth() = %v after auth(None), want None (open)", a)
	}
	if err := w.Connect(ctx, n.SSID, nil, nil, 0); !errors.Is(err, abi.ErrOS) {
		t.Errorf("connect() in AP mode = %v, want an OSError", err)
	}
	if err := w.Init(ctx, host.WiPyInit{Mode: host.WiPySTA, SSID: &ssid}); !errors.Is(err, abi.ErrValue) {
		t.Errorf("init(mode=WLAN.STA, ssid=...) = %v, want a ValueError", err)
	}
	if m := get(w.Mode(ctx)); m != host.WiPyAP {
		t.Errorf("a refused init changed the mode to %v", m)
	}
	must(w.SetMode(ctx, host.WiPySTA))
	if up := get(ap.Active(ctx)); up != false {
		t.Error("the access point is still active after mode(WLAN.STA)")
	}

	// Bad arguments, each a clear error.
	for _, c := range []struct {
		v    any
		kind error
	}{
		{int64(host.WiPyWPA2), abi.ErrType},
		{abi.Tuple{int64(host.WiPyWPA2)}, abi.ErrValue},
		{abi.Tuple{int64(9), "k"}, abi.ErrValue},
		{abi.Tuple{"WPA2", "k"}, abi.ErrType},
		{abi.Tuple{int64(host.WiPyWPA2), int64(7)}, abi.ErrType},
		{abi.Tuple{int64(host.WiPyWPA2), ""}, abi.ErrValue},
	} {
		if _, err := host.ParseWiPyAuth(c.v); !errors.Is(err, c.kind) {
			t.Errorf("auth=%#v: %v, want %v", c.v, err, c.kind)
		}
	}
	for _, kw := range []map[string]any{{"mode": int64(3)}, {"mode": "AP"}, {"channel": int64(12)}, {"antenna": int64(2)}, {"id": int64(1)}, {"essid": "x"}} {
		if _, err := host.ParseWiPyInit(nil, kw); err == nil {
			t.Errorf("init(**%v) accepted", kw)
		}
	}
}
