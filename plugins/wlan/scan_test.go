//go:build !wasip1

package main_test

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/simnet"
)

// result is one scan() tuple.
type result = host.WiFiNetwork

// scan runs scan(**kw) and checks the tuples' shape, the order and that
// no BSSID comes twice.
func (r *rig) scan(t *testing.T, kw host.KW) []result {
	t.Helper()
	out, err := r.nic.Networks(ctxT(t), kw)
	if err != nil {
		t.Fatalf("scan(%v): %v", kw, err)
	}
	for i, x := range out {
		if i > 0 && x.RSSI > out[i-1].RSSI {
			t.Fatalf("scan(%v): not strongest first: %+v after %+v", kw, x, out[i-1])
		}
		for _, o := range out[:i] {
			if bytes.Equal(o.BSSID, x.BSSID) {
				t.Fatalf("scan(%v) lists %v twice", kw, x.BSSID)
			}
		}
	}
	return out
}

func find(l []result, bssid net.HardwareAddr) *result {
	for i := range l {
		if bytes.Equal(l[i].BSSID, bssid) {
			return &l[i]
		}
	}
	return nil
}

// expectScan checks that l lists exactly the networks want selects, with
// the SSID ssid gives.
func expectScan(t *testing.T, what string, l []result, nets []simnet.Network, want func(simnet.Network) bool, ssid func(simnet.Network) string) {
	t.Helper()
	for _, n := range nets {
		s := find(l, n.BSSID)
		switch {
		case want(n) && s == nil:
			t.Errorf("%s: %q (%v, channel %d) missing from %+v", what, n.SSID, n.BSSID, n.Channel, l)
		case !want(n) && s != nil:
			t.Errorf("%s: %q listed, which the filter leaves out", what, n.SSID)
		case s != nil:
			if s.SSID != ssid(n) || s.Channel != n.Channel || s.Security != n.Security || s.RSSI != n.RSSI {
				t.Errorf("%s: %v listed as %+v; want ssid %q, channel %d, security %d, rssi %d", what, n.BSSID, *s, ssid(n), n.Channel, n.Security, n.RSSI)
			}
		}
	}
	if len(l) > len(nets) {
		t.Errorf("%s: %d results for %d networks", what, len(l), len(nets))
	}
}

func TestWLAN_Scan(t *testing.T) {
	engines(t, func(t *testing.T, native bool) {
		r := newRig(t, rigConfig{native: native})
		nets := r.dev.Networks
		all := func(simnet.Network) bool { return true }
		shown := func(n simnet.Network) string {
			if n.Hidden {
				return ""
			}
			return n.SSID
		}
		// A scan of an inactive station activates it.
		l := r.scan(t, nil)
		expectScan(t, "scan()", l, nets, all, shown)
		for _, n := range nets {
			if s := find(l, n.BSSID); s != nil && s.Hidden != n.Hidden {
				t.Errorf("scan(): %q hidden %v, want %v", n.SSID, s.Hidden, n.Hidden)
			}
		}
		if a, _ := r.nic.Active(ctxT(t)); !a {
			t.Error("scan() left the station inactive")
		}
		// ssid: only that network; a hidden one answers with its name.
		for _, n := range nets {
			l := r.scan(t, host.KW{"ssid": n.SSID})
			expectScan(t, fmt.Sprintf("scan(ssid=%q)", n.SSID), l, nets, func(o simnet.Network) bool { return o.SSID == n.SSID },
				func(o simnet.Network) string { return o.SSID })
		}
		// channel: an int and a list.
		for _, n := range nets {
			l := r.scan(t, host.KW{"channel": int64(n.Channel)})
			expectScan(t, fmt.Sprintf("scan(channel=%d)", n.Channel), l, nets, func(o simnet.Network) bool { return o.Channel == n.Channel }, shown)
		}
		chans := []any{int64(nets[1].Channel), int64(nets[3].Channel)}
		l = r.scan(t, host.KW{"channel": chans})
		expectScan(t, fmt.Sprintf("scan(channel=%v)", chans), l, nets, func(o simnet.Network) bool { return slices.Contains(chans, any(int64(o.Channel))) }, shown)
		// passive: beacons only; a hidden network never gives its name.
		l = r.scan(t, host.KW{"passive": true})
		expectScan(t, "scan(passive=True)", l, nets, all, shown)
		hidden := nets[3]
		l = r.scan(t, host.KW{"passive": true, "ssid": hidden.SSID})
		expectScan(t, "scan(passive=True, ssid=hidden)", l, nets, func(simnet.Network) bool { return false }, shown)
		l = r.scan(t, host.KW{"passive": false, "ssid": hidden.SSID, "channel": int64(hidden.Channel)})
		expectScan(t, "scan(active, ssid=hidden, its channel)", l, nets, func(o simnet.Network) bool { return o.Hidden },
			func(o simnet.Network) string { return o.SSID })
		// duration: ms per channel.
		for _, ms := range []int64{10, 50, 130} {
			kw := host.KW{"duration": ms}
			if ms == 130 {
				kw["channel"] = []any{int64(1), int64(6), int64(11)}
			}
			l = r.scan(t, kw)
			expectScan(t, fmt.Sprintf("scan(%v)", kw), l, nets, func(o simnet.Network) bool {
				return ms != 130 || o.Channel == 1 || o.Channel == 6 || o.Channel == 11
			}, shown)
		}
	})
}

func TestWLAN_ScanErrors(t *testing.T) {
	r := newRig(t, rigConfig{native: true})
	ctx := ctxT(t)
	for _, c := range []struct {
		kw   host.KW
		kind int
		part string
	}{
		{host.KW{"bogus": int64(1)}, abi.KindTypeError, "bogus"},
		{host.KW{"ssid": int64(1)}, abi.KindTypeError, "ssid"},
		{host.KW{"ssid": ""}, abi.KindValueError, "ssid"},
		{host.KW{"channel": int64(0)}, abi.KindValueError, "channel"},
		{host.KW{"channel": int64(12)}, abi.KindValueError, "XX"},
		{host.KW{"channel": []any{int64(1), int64(14)}}, abi.KindValueError, "14"},
		{host.KW{"channel": []any{}}, abi.KindValueError, "channel"},
		{host.KW{"channel": "6"}, abi.KindTypeError, "channel"},
		{host.KW{"channel": []any{"6"}}, abi.KindTypeError, "channel"},
		{host.KW{"passive": int64(1)}, abi.KindTypeError, "passive"},
		{host.KW{"duration": int64(9)}, abi.KindValueError, "duration"},
		{host.KW{"duration": int64(201)}, abi.KindValueError, "duration"},
		{host.KW{"duration": "long"}, abi.KindTypeError, "duration"},
		{host.KW{"duration": int64(150)}, abi.KindValueError, "1.5 s"},
	} {
		if v, err := r.nic.Scan(ctx, c.kw); !isErr(err, c.kind, 0, c.part) {
			t.Errorf("scan(%v) = %v, %v; want %s naming %s", c.kw, v, err, abi.KindName(c.kind), c.part)
		}
	}
	// None of them activated the station.
	if a, _ := r.nic.Active(ctx); a {
		t.Error("a refused scan() activated the station")
	}
}
