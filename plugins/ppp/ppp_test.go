//go:build !wasip1

package main_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
	"github.com/nichost/nichost/host/native"
	"github.com/nichost/nichost/plugins/ppp/driver"
	"github.com/nichost/nichost/plugins/ppp/peer"
	"github.com/nichost/nichost/plugins/ppp/session"
)

var (
	peerAddr = netip.MustParseAddr("10.64.0.1")
	ourAddr  = netip.MustParseAddr("10.64.0.2")
	dnsAddr  = netip.MustParseAddr("10.64.0.53")
)

// rig is the PPP plugin on a simulated serial line to a simulated access
// server.
type rig struct {
	*hosttest.Rig
	peer *peer.Peer

	mu  sync.Mutex
	got [][]byte // IPv4 packets the peer received
}

func newRig(t *testing.T, nat bool, opts peer.Options) *rig {
	t.Helper()
	ours, theirs := sim.NewUARTPair()
	r := &rig{}
	if opts.DNS == nil {
		opts.DNS = []netip.Addr{dnsAddr}
	}
	opts.IP = func(pkt []byte) {
		r.mu.Lock()
		r.got = append(r.got, slices.Clone(pkt))
		r.mu.Unlock()
	}
	cfg := hosttest.RigConfig{
		Hostname: "ppptest",
		Sims:     map[string]any{"serial0": ours},
		Plugin: config.PluginConfig{
			Name: "ppp0", Source: ".",
			Buses: map[string]config.BusGrant{"uart": {Kind: "uart", Sim: "serial0"}},
		},
	}
	if nat {
		cfg.Native = native.Exports(driver.New)
	}
	r.peer = peer.New(theirs, opts)
	t.Cleanup(r.peer.Close)
	r.Rig = hosttest.NewRig(t, cfg)
	return r
}

func (r *rig) received() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func (r *rig) statusParam(t *testing.T, p string) any {
	t.Helper()
	v, err := r.NIC.StatusParam(hosttest.Context(t), p)
	if err != nil {
		t.Fatalf("status(%q): %v", p, err)
	}
	return v
}

// waitStatus polls the driver until status() is want, each poll a real
// call into the plugin.
func (r *rig) waitStatus(t *testing.T, want int64) {
	t.Helper()
	hosttest.Eventually(t, "status() "+strconv.FormatInt(want, 10), func() bool { return r.Status(t) == want })
}

// ipv4 is a minimal IPv4 packet from src to dst with a marker payload.
func ipv4(src, dst netip.Addr, n int, marker byte) []byte {
	p := make([]byte, n)
	p[0], p[8], p[9] = 0x45, 64, 253 // protocol 253: experimental
	binary.BigEndian.PutUint16(p[2:], uint16(n))
	s, d := src.As4(), dst.As4()
	copy(p[12:], s[:])
	copy(p[16:], d[:])
	for i := 20; i < n; i++ {
		p[i] = marker ^ byte(i)
	}
	return p
}

// transmitRefused offers pkt to the driver and waits for the host to
// count it refused; the peer must not receive it.
func (r *rig) transmitRefused(t *testing.T, pkt []byte, what string) {
	t.Helper()
	before := r.NIC.Stats().Drops["the driver refused it"]
	got := len(r.received())
	if err := hosttest.Transmit(r.NIC, pkt); err != nil {
		t.Fatalf("transmit %s: %v", what, err)
	}
	hosttest.Eventually(t, what+" refused", func() bool { return r.NIC.Stats().Drops["the driver refused it"] == before+1 })
	if n := len(r.received()); n != got {
		t.Errorf("%s reached the peer", what)
	}
}

func TestPPP_Describe(t *testing.T) {
	r := newRig(t, true, peer.Options{})
	d := r.NIC.Plugin().Description()
	if d.Class != abi.ClassPPP || !slices.Equal(d.Buses, []abi.BusNeed{{Name: "uart", Kind: abi.BusUART}}) {
		t.Fatalf("description %+v", d)
	}
	ctx := hosttest.Context(t)
	if _, err := r.NIC.Scan(ctx, nil); !errors.Is(err, abi.ErrUnsupported) {
		t.Errorf("scan() = %v, want NotImplementedError", err)
	}
	if v, err := r.NIC.Config(ctx, "stream"); err != nil || v != "uart" {
		t.Errorf("config('stream') = %v, %v; want \"uart\"", v, err)
	}
	if err := r.NIC.SetConfig(ctx, host.KW{"stream": "x"}); !errors.Is(err, abi.ErrValue) {
		t.Errorf("config(stream=...) = %v, want ValueError (read-only)", err)
	}
	if _, err := r.NIC.Call(ctx, "poll"); err != nil {
		t.Errorf("poll() = %v", err)
	}
	if r.Status(t) != driver.StatusInactive {
		t.Errorf("status() before anything: %d, want 0", r.Status(t))
	}
}

// connect() on the simulated access server: IPCP gives the address, the
// peer's and DNS, which the driver reports to the core; IPv4 packets move
// both ways; disconnect() terminates cleanly.
func TestPPP_ConnectAndMove(t *testing.T) {
	hosttest.Engines(t, func(t *testing.T, nat bool) {
		r := newRig(t, nat, peer.Options{})
		ctx := hosttest.Context(t)
		if err := r.NIC.Connect(ctx); err != nil {
			t.Fatalf("connect(): %v", err)
		}
		r.WaitLink(t, true)
		if got := r.Status(t); got != driver.StatusConnected {
			t.Errorf("status() connected: %d, want 4", got)
		}
		if ph := r.statusParam(t, "phase"); ph != "running" {
			t.Errorf("status('phase') = %v, want running", ph)
		}
		st := r.NIC.LinkState()
		if st.Type != abi.LinkIP || st.MTU != 1500 {
			t.Errorf("link %+v, want IP-only, MTU 1500", st)
		}
		reps := r.Link.Reports()
		if len(reps) == 0 {
			t.Fatal("nothing reported to the core")
		}
		rep := reps[len(reps)-1]
		if rep["addr4"] != ourAddr.String() || rep["peer4"] != peerAddr.String() || !slices.Equal(rep["dns"].([]any), []any{dnsAddr.String()}) {
			t.Errorf("report %v, want addr4 %v, peer4 %v, dns [%v]", rep, ourAddr, peerAddr, dnsAddr)
		}
		// Up: the core's packets reach the peer.
		for i := range 5 {
			pkt := ipv4(ourAddr, peerAddr, 100+i*300, byte(i))
			if err := hosttest.Transmit(r.NIC, pkt); err != nil {
				t.Fatalf("transmit: %v", err)
			}
		}
		hosttest.Eventually(t, "5 packets at the peer", func() bool { return len(r.received()) == 5 })
		for i, p := range r.received() {
			if !bytes.Equal(p, ipv4(ourAddr, peerAddr, 100+i*300, byte(i))) {
				t.Fatalf("packet %d damaged", i)
			}
		}
		// Down: the peer's reach the core.
		for i := range 5 {
			if err := r.peer.SendIP(ipv4(peerAddr, ourAddr, 60+i, byte(i))); err != nil {
				t.Fatal(err)
			}
		}
		hosttest.Eventually(t, "5 packets at the core", func() bool { return r.Link.Count() == 5 })
		// A packet past the peer's MRU and an IPv6 packet are refused,
		// dropped and counted, and never reach the line.
		r.transmitRefused(t, ipv4(ourAddr, peerAddr, 1501, 9), "a 1501-octet packet")
		v6 := make([]byte, 60)
		v6[0] = 0x60
		r.transmitRefused(t, v6, "an IPv6 packet")
		if err := r.NIC.Disconnect(ctx); err != nil {
			t.Fatalf("disconnect(): %v", err)
		}
		r.WaitLink(t, false)
		hosttest.Eventually(t, "the peer to see the terminate", func() bool { return r.peer.Phase() == session.Dead })
		if f := r.peer.Failure(); f != "peer terminated" {
			t.Errorf("the peer's view of the disconnect: %q, want \"peer terminated\" (not a timeout)", f)
		}
		hosttest.Eventually(t, "status() 1 after disconnect", func() bool { return r.Status(t) == driver.StatusActive })
		if f := r.statusParam(t, "failure"); f != nil {
			t.Errorf("status('failure') after a clean disconnect: %v", f)
		}
		r.transmitRefused(t, ipv4(ourAddr, peerAddr, 40, 0), "a packet after disconnect")
		// connect() again, and then once more before the terminate is
		// over: both connect.
		for range 2 {
			if err := r.NIC.Connect(ctx); err != nil {
				t.Fatalf("connect() again: %v", err)
			}
			r.WaitLink(t, true)
			if err := r.NIC.Disconnect(ctx); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestPPP_Auth(t *testing.T) {
	for _, tc := range []struct {
		name     string
		server   peer.Options
		args     []any
		failure  string // "" when the connect succeeds
		peerFail string
	}{
		{"PAP", peer.Options{Security: session.SecPAP, User: "nic", Key: "s3cret"}, []any{int64(1), "nic", "s3cret"}, "", ""},
		{"CHAP", peer.Options{Security: session.SecCHAP, User: "nic", Key: "s3cret", Name: "nas"}, []any{host.KW{"security": int64(2), "user": "nic", "key": "s3cret"}}, "", ""},
		{"PAP refused", peer.Options{Security: session.SecPAP, User: "nic", Key: "s3cret"}, []any{int64(1), "nic", "wrong"},
			"authentication refused by the peer (PAP)", "peer failed authentication"},
		{"CHAP refused", peer.Options{Security: session.SecCHAP, User: "nic", Key: "s3cret"}, []any{int64(2), "nic", "wrong"},
			"authentication refused by the peer (CHAP)", "peer failed authentication"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, true, tc.server)
			ctx := hosttest.Context(t)
			if err := r.NIC.Connect(ctx, tc.args...); err != nil {
				t.Fatalf("connect(): %v", err)
			}
			if tc.failure == "" {
				r.WaitLink(t, true)
				return
			}
			r.waitStatus(t, driver.StatusFailed)
			if f, _ := r.statusParam(t, "failure").(string); !strings.HasPrefix(f, tc.failure) {
				t.Errorf("status('failure') = %q, want it to begin %q", f, tc.failure)
			}
			if f := r.peer.Failure(); !strings.HasPrefix(f, tc.peerFail) {
				t.Errorf("the peer's failure %q, want %q", f, tc.peerFail)
			}
			if c, _ := r.NIC.IsConnected(ctx); c {
				t.Error("isconnected() after a refused login")
			}
		})
	}
}

func TestPPP_ConnectArguments(t *testing.T) {
	r := newRig(t, true, peer.Options{})
	ctx := hosttest.Context(t)
	for _, tc := range []struct {
		args []any
		want error
		text string
	}{
		{[]any{int64(7)}, abi.ErrValue, "security: 7"},
		{[]any{"PAP"}, abi.ErrType, "security"},
		{[]any{int64(1)}, abi.ErrValue, "needs a user"},
		{[]any{int64(1), int64(5), "k"}, abi.ErrType, "user"},
		{[]any{host.KW{"ssid": "x"}}, abi.ErrType, "ssid"},
	} {
		if err := r.NIC.Connect(ctx, tc.args...); !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("connect(%v) = %v, want %v naming %q", tc.args, err, tc.want, tc.text)
		}
	}
	if s := r.Status(t); s != driver.StatusInactive {
		t.Errorf("status() after refused connects: %d, want 0 (nothing started)", s)
	}
}

func TestPPP_Config(t *testing.T) {
	r := newRig(t, true, peer.Options{MRU: 576})
	ctx := hosttest.Context(t)
	for _, tc := range []struct {
		kw   host.KW
		want error
	}{
		{host.KW{"mru": int64(64)}, abi.ErrValue},
		{host.KW{"mru": "big"}, abi.ErrType},
		{host.KW{"accm": int64(-1)}, abi.ErrValue},
		{host.KW{"echo_interval": "soon"}, abi.ErrType},
		{host.KW{"echo_failures": int64(0)}, abi.ErrValue},
		{host.KW{"addr4": "10.0.0.300"}, abi.ErrValue},
		{host.KW{"chat": "ATD"}, abi.ErrType},
		{host.KW{"chat": []any{abi.Tuple{"OK"}}}, abi.ErrType},
		{host.KW{"nosuch": int64(1)}, abi.ErrValue},
		{host.KW{"mru": int64(1000), "accm": "x"}, abi.ErrType}, // nothing applied
	} {
		if err := r.NIC.SetConfig(ctx, tc.kw); !errors.Is(err, tc.want) {
			t.Errorf("config(%v) = %v, want %v", tc.kw, err, tc.want)
		}
	}
	if v, _ := r.NIC.Config(ctx, "mru"); v != int64(1500) {
		t.Errorf("mru after refused calls: %v, want 1500", v)
	}
	if err := r.NIC.SetConfig(ctx, host.KW{"mru": int64(1000), "echo_interval": 2.5, "echo_failures": int64(2), "addr4": ourAddr.String()}); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"mru": int64(1000), "echo_interval": 2.5, "echo_failures": int64(2), "addr4": ourAddr.String(), "accm": int64(0)} {
		if v, err := r.NIC.Config(ctx, k); err != nil || v != want {
			t.Errorf("config(%q) = %v, %v; want %v", k, v, err, want)
		}
	}
	if err := r.NIC.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	r.WaitLink(t, true)
	if mtu := r.NIC.LinkState().MTU; mtu != 576 {
		t.Errorf("MTU %d, want the peer's MRU 576", mtu)
	}
}

// The peer stops answering: LCP echoes go unanswered, the link is lost,
// isconnected() goes false and status says why.
func TestPPP_EchoLinkLoss(t *testing.T) {
	r := newRig(t, true, peer.Options{})
	ctx := hosttest.Context(t)
	if err := r.NIC.SetConfig(ctx, host.KW{"echo_interval": 0.2, "echo_failures": int64(2)}); err != nil {
		t.Fatal(err)
	}
	if err := r.NIC.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	r.WaitLink(t, true)
	r.peer.Cut(true)
	r.WaitLink(t, false)
	r.waitStatus(t, driver.StatusFailed)
	if f, _ := r.statusParam(t, "failure").(string); !strings.HasPrefix(f, "peer not answering: no reply to 2 LCP Echo-Requests") {
		t.Errorf("status('failure') = %q", f)
	}
	if ups := r.Link.Ups(); !slices.Equal(ups, []bool{false, true, false}) {
		t.Errorf("link states %v, want down (at attach), up, down", ups)
	}
}

// The dial step: a modem answering CONNECT, one answering NO CARRIER, and
// one that says nothing.
func TestPPP_Chat(t *testing.T) {
	script := []any{abi.Tuple{"", "AT"}, abi.Tuple{"OK", "ATD*99#"}, abi.Tuple{"CONNECT", "", 0.5}}
	for _, tc := range []struct {
		name    string
		modem   peer.Modem
		failure string
	}{
		{"connect", peer.Modem{DialTime: 50 * time.Millisecond}, ""},
		{"no carrier", peer.Modem{Answer: "NO CARRIER"}, `chat step 3 ("CONNECT" -> ""): the modem answered "NO CARRIER"`},
		{"silent modem", peer.Modem{Silent: true}, `chat step 2 ("OK" -> "ATD*99#"): no "OK" from the modem within 10s`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.modem
			r := newRig(t, true, peer.Options{Modem: &m})
			ctx := hosttest.Context(t)
			s := script
			if tc.modem.Silent {
				s = []any{abi.Tuple{"", "AT"}, abi.Tuple{"OK", "ATD*99#", int64(10)}}
			}
			if err := r.NIC.SetConfig(ctx, host.KW{"chat": s}); err != nil {
				t.Fatal(err)
			}
			if err := r.NIC.Connect(ctx); err != nil {
				t.Fatal(err)
			}
			if tc.failure == "" {
				r.WaitLink(t, true)
				return
			}
			if tc.modem.Silent {
				// A 10 s timeout in real time is too long for a test; the
				// dial is checked to be waiting, and the error's text is
				// the chat package's, asserted in its own test.
				if ph := r.statusParam(t, "phase"); ph != "dial" {
					t.Errorf("status('phase') while the modem is silent: %v, want dial", ph)
				}
				if r.Status(t) != driver.StatusConnecting {
					t.Errorf("status() while dialing: %d, want 3", r.Status(t))
				}
				return
			}
			r.waitStatus(t, driver.StatusFailed)
			if f := r.statusParam(t, "failure"); f != tc.failure {
				t.Errorf("status('failure') = %q, want %q", f, tc.failure)
			}
		})
	}
}
