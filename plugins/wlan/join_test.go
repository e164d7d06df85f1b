//go:build !wasip1

package main_test

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/hosttest"
	"github.com/nichost/nichost/plugins/wlan/wlandev"
	"github.com/nichost/nichost/simnet"
)

// joinedTo checks what the station reads while joined to n.
func (r *rig) joinedTo(t *testing.T, n simnet.Network) {
	t.Helper()
	ctx := ctxT(t)
	if c, _ := r.nic.IsConnected(ctx); !c {
		t.Error("isconnected() False while joined")
	}
	if st := r.nic.LinkState(); !st.Up || st.Type != host.LinkEthernet || st.MTU != 1500 {
		t.Errorf("link state %+v, want up, Ethernet, MTU 1500", st)
	}
	bss, ok := r.dev.Chip.Station().Joined()
	if !ok || !bytes.Equal(bss.BSSID, n.BSSID) {
		t.Errorf("the chip's station joined %+v (%v), want %v", bss, ok, n.BSSID)
	}
	for name, want := range map[string]any{"ssid": n.SSID, "security": int64(n.Security), "channel": int64(n.Channel)} {
		if v, err := r.nic.Config(ctx, name); err != nil || v != want {
			t.Errorf("config(%q) while joined = %v, %v; want %v", name, v, err, want)
		}
	}
	v, err := r.nic.StatusParam(ctx, "rssi")
	if err != nil || v != int64(n.RSSI) {
		t.Errorf("status('rssi') = %v, %v; want %d", v, err, n.RSSI)
	}
}

func TestWLAN_Join(t *testing.T) {
	nets := wlandev.Networks()
	for _, tc := range []struct {
		name string
		n    simnet.Network
		sec  int64 // config(security=...) first; 0 leaves the default (-1)
	}{
		{"wpa2", nets[0], 0},
		{"open", nets[1], 0},
		{"wpa3", nets[2], 0},
		{"hidden by name", nets[3], 0},
		{"wpa2 configured", nets[0], 3},
		{"wpa3 configured", nets[2], 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			engines(t, func(t *testing.T, native bool) {
				r := newRig(t, rigConfig{native: native})
				if tc.sec != 0 {
					if err := r.nic.SetConfig(ctxT(t), host.KW{"security": tc.sec}); err != nil {
						t.Fatal(err)
					}
				}
				// connect() on an inactive station activates it.
				r.join(t, tc.n.SSID, tc.n.Key)
				r.joinedTo(t, tc.n)
			})
		})
	}
}

func TestWLAN_JoinDefaultsAndSwitch(t *testing.T) {
	r := newRig(t, rigConfig{native: true})
	ctx := ctxT(t)
	nets := r.dev.Networks
	// connect() with no arguments takes config's ssid and key.
	if err := r.nic.SetConfig(ctx, host.KW{"ssid": nets[0].SSID, "key": nets[0].Key}); err != nil {
		t.Fatal(err)
	}
	r.join(t)
	r.joinedTo(t, nets[0])
	// A connect() while joined leaves that network for the new one.
	r.join(t, nets[2].SSID, nets[2].Key)
	r.joinedTo(t, nets[2])
	// disconnect(): status 0, the link down.
	if err := r.nic.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.status(t); got != 0 {
		t.Errorf("status() after disconnect() = %d", got)
	}
	r.WaitLink(t, false)
	if _, err := r.nic.StatusParam(ctx, "rssi"); !errors.Is(err, syscall.ENOTCONN) {
		t.Errorf("status('rssi') after disconnect() = %v", err)
	}
	eventually(t, "the chip's station to leave", func() bool { _, ok := r.dev.Chip.Station().Joined(); return !ok })
	// Joined again, then active(False): inactive, the link down.
	r.join(t, nets[1].SSID, nil)
	if err := r.nic.SetActive(ctx, false); err != nil {
		t.Fatal(err)
	}
	if got := r.status(t); got != 0 {
		t.Errorf("status() after active(False) = %d", got)
	}
	if r.nic.LinkState().Up {
		t.Error("the link stays up after active(False)")
	}
}

func TestWLAN_JoinFails(t *testing.T) {
	nets := wlandev.Networks()
	for _, tc := range []struct {
		name string
		args []any
		sec  int64 // config(security=...) first; 0 leaves the default (-1)
		want int64
	}{
		{"missing network", []any{"nichost-nowhere", "whatever1"}, 0, -2},
		{"wrong key", []any{nets[0].SSID, "not-the-key"}, 0, -3},
		{"wrong key wpa3", []any{nets[2].SSID, "not-the-key"}, 0, -3},
		{"wrong key hidden", []any{nets[3].SSID, "not-the-key"}, 0, -3},
		{"no key for a secured network", []any{nets[0].SSID, nil}, 0, -3},
		{"pinned to another bssid", []any{nets[0].SSID, nets[0].Key, host.KW{"bssid": []byte(nets[1].BSSID)}}, 0, -2},
		{"security mismatch", []any{nets[0].SSID, nets[0].Key}, 6, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigConfig{native: true})
			ctx := ctxT(t)
			if tc.sec != 0 {
				if err := r.nic.SetConfig(ctx, host.KW{"security": tc.sec}); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.nic.Connect(ctx, tc.args...); err != nil {
				t.Fatalf("connect(%v): %v", tc.args, err)
			}
			r.waitStatus(t, tc.want)
			if c, _ := r.nic.IsConnected(ctx); c {
				t.Error("isconnected() after a failed join")
			}
			for _, s := range r.Link.States() {
				if s.Up {
					t.Error("the link was reported up during a failed join")
				}
			}
			// The failure stays; the next connect() clears it.
			if got := r.status(t); got != tc.want {
				t.Errorf("status() = %d later, want %d to stay", got, tc.want)
			}
			if err := r.nic.SetConfig(ctx, host.KW{"security": int64(-1)}); err != nil {
				t.Fatal(err)
			}
			r.join(t, nets[1].SSID, nil)
		})
	}
}

func TestWLAN_ConnectArgs(t *testing.T) {
	r := newRig(t, rigConfig{native: true})
	ctx := ctxT(t)
	n := r.dev.Networks[0]
	for _, c := range []struct {
		args []any
		kind int
		part string
	}{
		{[]any{int64(1), n.Key}, abi.KindTypeError, "ssid"},
		{[]any{"", n.Key}, abi.KindValueError, "ssid"},
		{[]any{strings.Repeat("s", 33), n.Key}, abi.KindValueError, "ssid"},
		{[]any{n.SSID, int64(1)}, abi.KindTypeError, "key"},
		{[]any{n.SSID, "short"}, abi.KindValueError, "key"},
		{[]any{n.SSID, strings.Repeat("k", 64)}, abi.KindValueError, "key"},
		{[]any{n.SSID, n.Key, host.KW{"bssid": []byte{1, 2, 3}}}, abi.KindValueError, "bssid"},
		{[]any{n.SSID, n.Key, host.KW{"bssid": "aa:bb"}}, abi.KindTypeError, "bssid"},
		{[]any{n.SSID, n.Key, host.KW{"channel": int64(6)}}, abi.KindTypeError, "channel"},
		{[]any{n.SSID, n.Key, "extra"}, abi.KindTypeError, "connect"},
		{nil, abi.KindValueError, "ssid"}, // config('ssid') is empty
	} {
		if err := r.nic.Connect(ctx, c.args...); !isErr(err, c.kind, 0, c.part) {
			t.Errorf("connect(%v) = %v; want %s naming %s", c.args, err, abi.KindName(c.kind), c.part)
		}
	}
	if a, _ := r.nic.Active(ctx); a {
		t.Error("a refused connect() activated the station")
	}
	if got := r.status(t); got != 0 {
		t.Errorf("status() after refused connect() calls = %d", got)
	}
	// With security configured, the key is checked for it.
	if err := r.nic.SetConfig(ctx, host.KW{"security": int64(3)}); err != nil {
		t.Fatal(err)
	}
	if err := r.nic.Connect(ctx, n.SSID, nil); !isErr(err, abi.KindValueError, 0, "key") {
		t.Errorf("connect() to WPA2 without a key = %v", err)
	}
}

func TestWLAN_BSSIDAndChannel(t *testing.T) {
	// Two access points of one SSID: the station takes the strongest,
	// unless connect() pins a BSSID or config('channel') a channel.
	a := simnet.Network{SSID: "twins", BSSID: net.HardwareAddr{0x02, 0, 0, 0, 0, 0xa1}, Channel: 1, Security: 3, Key: "twins-key", RSSI: -40}
	b := simnet.Network{SSID: "twins", BSSID: net.HardwareAddr{0x02, 0, 0, 0, 0, 0xb2}, Channel: 9, Security: 3, Key: "twins-key", RSSI: -70}
	engines(t, func(t *testing.T, native bool) {
		r := newRig(t, rigConfig{native: native, dev: wlandev.Options{Networks: []simnet.Network{a, b}}})
		ctx := ctxT(t)
		r.join(t, "twins", "twins-key")
		r.joinedTo(t, a)
		r.join(t, "twins", "twins-key", host.KW{"bssid": []byte(b.BSSID)})
		r.joinedTo(t, b)
		if err := r.nic.Disconnect(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.nic.SetConfig(ctx, host.KW{"channel": int64(9)}); err != nil {
			t.Fatal(err)
		}
		r.join(t, "twins", "twins-key")
		r.joinedTo(t, b)
		// A scan without a channel keyword keeps to config('channel').
		if l := r.scan(t, nil); len(l) != 1 || !bytes.Equal(l[0].BSSID, b.BSSID) {
			t.Errorf("scan() with config(channel=9) = %+v, want %v alone", l, b.BSSID)
		}
	})
}

// frame builds an Ethernet frame from src to dst of n bytes carrying seq.
func frame(dst, src []byte, seq, n int) []byte {
	f := make([]byte, n)
	copy(f, dst)
	copy(f[6:], src)
	f[12], f[13] = 0x88, 0xb5 // local experimental EtherType
	f[14], f[15] = byte(seq>>8), byte(seq)
	for i := 16; i < n; i++ {
		f[i] = byte(seq + i)
	}
	return f
}

var peerMAC = []byte{0x02, 0xee, 0, 0, 0, 1}

func TestWLAN_Frames(t *testing.T) {
	for _, noIRQ := range []bool{false, true} {
		name := "irq"
		if noIRQ {
			name = "polled"
		}
		t.Run(name, func(t *testing.T) {
			engines(t, func(t *testing.T, native bool) {
				r := newRig(t, rigConfig{native: native, dev: wlandev.Options{NoIRQ: noIRQ}})
				n := r.dev.Networks[0]
				// Refused while not joined.
				r.up(t)
				before := r.nic.Stats().Drops["the driver refused it"]
				if err := hosttest.Transmit(r.nic, frame(peerMAC, r.nic.MAC(), 0, 60)); err != nil {
					t.Fatal(err)
				}
				eventually(t, "the frame refused", func() bool { return r.nic.Stats().Drops["the driver refused it"] > before })
				r.join(t, n.SSID, n.Key)
				// Station to the LAN: every size, in order.
				sizes := []int{60, 61, 62, 63, 64, 100, 1000, 1514}
				for i, sz := range sizes {
					if err := hosttest.Transmit(r.nic, frame(peerMAC, r.nic.MAC(), i, sz)); err != nil {
						t.Fatal(err)
					}
				}
				for i, sz := range sizes {
					got := r.readPeer(t, 0x88b5)
					if want := frame(peerMAC, r.nic.MAC(), i, sz); !bytes.Equal(got, want) {
						t.Fatalf("frame %d at the peer: %d bytes % x..., want %d bytes", i, len(got), got[:min(len(got), 20)], sz)
					}
				}
				// The LAN to the station: unicast and broadcast.
				bcast := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
				want := [][]byte{frame(r.nic.MAC(), peerMAC, 100, 60), frame(bcast, peerMAC, 101, 1514), frame(r.nic.MAC(), peerMAC, 102, 777)}
				for _, f := range want {
					if err := r.peer.WriteFrame(f); err != nil {
						t.Fatal(err)
					}
				}
				eventually(t, "3 frames at the NIC", func() bool { return countEt(r.Link.Frames(), 0x88b5) >= 3 })
				var got [][]byte
				for _, f := range r.Link.Frames() {
					if len(f) > 14 && f[12] == 0x88 && f[13] == 0xb5 {
						got = append(got, f)
					}
				}
				for i := range want {
					if !bytes.Equal(got[i], want[i]) {
						t.Fatalf("frame %d at the NIC: %d bytes, want %d", i, len(got[i]), len(want[i]))
					}
				}
				// A burst both ways, more than the chip's credit window.
				const burst = 100
				for i := range burst {
					if err := hosttest.Transmit(r.nic, frame(peerMAC, r.nic.MAC(), 1000+i, 300)); err != nil {
						t.Fatal(err)
					}
				}
				for i := range burst {
					got := r.readPeer(t, 0x88b5)
					if want := frame(peerMAC, r.nic.MAC(), 1000+i, 300); !bytes.Equal(got, want) {
						t.Fatalf("burst frame %d at the peer differs (seq %d)", i, int(got[14])<<8|int(got[15]))
					}
				}
			})
		})
	}
}

func countEt(fs [][]byte, et uint16) int {
	n := 0
	for _, f := range fs {
		if len(f) >= 14 && uint16(f[12])<<8|uint16(f[13]) == et {
			n++
		}
	}
	return n
}

func TestWLAN_LinkLoss(t *testing.T) {
	engines(t, func(t *testing.T, native bool) {
		r := newRig(t, rigConfig{native: native})
		n := r.dev.Networks[0]
		r.join(t, n.SSID, n.Key)
		// The access point vanishes: the link goes down and the station
		// keeps trying (reconnects -1).
		r.dev.APs[0].SetOn(false)
		r.waitStatus(t, 1)
		r.WaitLink(t, false)
		tries := r.dev.Chip.Stats().Ioctls
		eventually(t, "more tries while the AP is gone", func() bool { return r.dev.Chip.Stats().Ioctls > tries+10 })
		if got := r.status(t); got != 1 {
			t.Fatalf("status() while the AP is gone = %d, want 1", got)
		}
		// Back: joined again, frames flow.
		r.dev.APs[0].SetOn(true)
		r.waitStatus(t, 2)
		r.WaitLink(t, true)
		r.joinedTo(t, n)
		if err := hosttest.Transmit(r.nic, frame(peerMAC, r.nic.MAC(), 7, 100)); err != nil {
			t.Fatal(err)
		}
		if got := r.readPeer(t, 0x88b5); !bytes.Equal(got, frame(peerMAC, r.nic.MAC(), 7, 100)) {
			t.Fatal("the frame after the rejoin differs")
		}
	})
}

func TestWLAN_Reconnects(t *testing.T) {
	for _, tries := range []int64{0, 2} {
		t.Run(itoa(tries), func(t *testing.T) {
			r := newRig(t, rigConfig{native: true})
			ctx := ctxT(t)
			n := r.dev.Networks[0]
			if err := r.nic.SetConfig(ctx, host.KW{"reconnects": tries}); err != nil {
				t.Fatal(err)
			}
			r.join(t, n.SSID, n.Key)
			r.dev.APs[0].SetOn(false)
			// The tries run out: status -1, the link down, and it stays so
			// when the AP comes back.
			r.waitStatus(t, -1)
			r.WaitLink(t, false)
			r.dev.APs[0].SetOn(true)
			if got := r.status(t); got != -1 {
				t.Errorf("status() = %d after the tries ran out, want -1", got)
			}
			// connect() again joins.
			r.join(t, n.SSID, n.Key)
		})
	}
}

func TestWLAN_Country(t *testing.T) {
	ch13 := simnet.Network{SSID: "thirteen", BSSID: net.HardwareAddr{0x02, 0, 0, 0, 0, 0x13}, Channel: 13, Security: 0, RSSI: -50}
	engines(t, func(t *testing.T, native bool) {
		nets := append(wlandev.Networks(), ch13)
		r := newRig(t, rigConfig{native: native, dev: wlandev.Options{Networks: nets}})
		ctx := ctxT(t)
		h := r.Host
		// Worldwide (XX): 1 to 11.
		if err := r.nic.SetConfig(ctx, host.KW{"channel": int64(13)}); !isErr(err, abi.KindValueError, 0, "XX") {
			t.Errorf("config(channel=13) under XX = %v; want a ValueError naming XX", err)
		}
		if l := r.scan(t, nil); find(l, ch13.BSSID) != nil {
			t.Error("scan() under XX lists a network on channel 13")
		}
		if err := h.SetCountry(ctx, "DE"); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the chip's country DE", func() bool { return r.dev.Chip.Country() == "DE" })
		if err := r.nic.SetConfig(ctx, host.KW{"channel": int64(13)}); err != nil {
			t.Errorf("config(channel=13) under DE: %v", err)
		}
		if err := r.nic.SetConfig(ctx, host.KW{"channel": int64(0)}); err != nil {
			t.Fatal(err)
		}
		if l := r.scan(t, host.KW{"channel": int64(13)}); len(l) != 1 || !bytes.Equal(l[0].BSSID, ch13.BSSID) {
			t.Errorf("scan(channel=13) under DE = %+v", l)
		}
		r.join(t, ch13.SSID, nil)
		r.joinedTo(t, ch13)
		// US: 1 to 11, and 30 dBm. The network on 13 is left.
		if err := r.nic.SetConfig(ctx, host.KW{"txpower": int64(18)}); err != nil {
			t.Fatal(err)
		}
		if err := h.SetCountry(ctx, "US"); err != nil {
			t.Fatal(err)
		}
		r.waitStatus(t, 0)
		r.WaitLink(t, false)
		if err := r.nic.SetConfig(ctx, host.KW{"channel": int64(13)}); !isErr(err, abi.KindValueError, 0, "US") {
			t.Errorf("config(channel=13) under US = %v; want a ValueError naming US", err)
		}
		if _, err := r.nic.Scan(ctx, host.KW{"channel": int64(13)}); !isErr(err, abi.KindValueError, 0, "US") {
			t.Errorf("scan(channel=13) under US = %v", err)
		}
		// txpower: at most the country's limit, and what is in effect.
		if err := r.nic.SetConfig(ctx, host.KW{"txpower": int64(25)}); err != nil {
			t.Errorf("config(txpower=25) under US: %v", err)
		}
		if err := h.SetCountry(ctx, "DE"); err != nil {
			t.Fatal(err)
		}
		if v, _ := r.nic.Config(ctx, "txpower"); v != int64(20) {
			t.Errorf("config('txpower') = %v after DE's 20 dBm limit, want 20", v)
		}
		if err := r.nic.SetConfig(ctx, host.KW{"txpower": int64(25)}); !isErr(err, abi.KindValueError, 0, "DE") {
			t.Errorf("config(txpower=25) under DE = %v", err)
		}
		// A code without rules; the call's argument checks.
		if _, err := r.nic.Call(ctx, "country", "QQ"); !isErr(err, abi.KindValueError, 0, "QQ") {
			t.Errorf("call('country', 'QQ') = %v", err)
		}
		if _, err := r.nic.Call(ctx, "country", int64(1)); !isErr(err, abi.KindTypeError, 0, "code") {
			t.Errorf("call('country', 1) = %v", err)
		}
		// phy_mode: b, g, n; nothing else.
		for _, m := range []int{1, 2, 3} {
			if err := h.SetPhyMode(ctx, m); err != nil {
				t.Errorf("network.phy_mode(%d): %v", m, err)
			}
		}
		if _, err := r.nic.Call(ctx, "phy_mode", int64(4)); !isErr(err, abi.KindValueError, 0, "CYW43439") {
			t.Errorf("call('phy_mode', 4) = %v; want a ValueError naming the chip", err)
		}
		r.join(t, r.dev.Networks[0].SSID, r.dev.Networks[0].Key)
	})
}

func TestWLAN_MACWhileJoined(t *testing.T) {
	r := newRig(t, rigConfig{native: true})
	n := r.dev.Networks[0]
	r.join(t, n.SSID, n.Key)
	mac := []byte{0x02, 0x12, 0x34, 0x56, 0x78, 0x9a}
	if err := r.nic.SetConfig(ctxT(t), host.KW{"mac": mac}); err != nil {
		t.Fatal(err)
	}
	// Joined again, with the new address on the air.
	// (The access point's list, not Chip.Station(): the chip replaces its
	// station when its MAC changes.)
	eventually(t, "the station joined with the new MAC", func() bool {
		sts := r.dev.APs[0].Stations()
		return len(sts) == 1 && bytes.Equal(sts[0], mac) && r.status(t) == 2
	})
	r.WaitLink(t, true)
	if err := hosttest.Transmit(r.nic, frame(peerMAC, mac, 9, 80)); err != nil {
		t.Fatal(err)
	}
	if got := r.readPeer(t, 0x88b5); !bytes.Equal(got, frame(peerMAC, mac, 9, 80)) {
		t.Fatal("the frame sent with the new MAC differs")
	}
}
