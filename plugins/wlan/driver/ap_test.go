package driver_test

import (
	"bytes"
	"errors"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest/guesttest"
	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/plugins/wlan/radio"
	"github.com/nichost/nichost/plugins/wlan/wlandev"
)

// The access point (interface 1) on the simulated chip: the driver on the
// fake host, the chip's AP on the radio environment, bare radio stations
// joining it.

const ap = 1

var (
	staMAC = []byte{0x02, 0x4e, 0x49, 0x43, 0x00, 0x01}
	apMAC  = []byte{0x02, 0x4e, 0x49, 0x43, 0x3a, 0x4f}
)

// secWPA2WPA3 is SEC_WPA2_WPA3.
const secWPA2WPA3 = 7

// AP status() values.
const (
	apDown     = 0
	apStarting = 1
	apUp       = 2
)

func newAPRig(t *testing.T) *simRig {
	t.Helper()
	return newSimRigMACs(t, [][]byte{staMAC, apMAC})
}

// callAP calls method on the access point.
func (r *simRig) callAP(t *testing.T, method string, args ...any) any {
	t.Helper()
	v, err := r.h.CallOn(ap, method, args...)
	if err != nil {
		t.Fatalf("ap.%s(%v): %v", method, args, err)
	}
	r.stamp()
	return v
}

func (r *simRig) apStatus(t *testing.T) int64 {
	t.Helper()
	return r.callAP(t, "status").(int64)
}

// startAP configures and activates the access point and steps until it is
// up.
func (r *simRig) startAP(t *testing.T, kw guesttest.KW) {
	t.Helper()
	if kw != nil {
		r.callAP(t, "config", kw)
	}
	r.callAP(t, "active", true)
	r.stepUntil(t, "the access point up", 5*time.Second, func() bool { return r.apStatus(t) == apUp })
}

// events counts the chip's events (delivered or masked).
func (r *simRig) events() uint64 {
	s := r.dev.Chip.Stats()
	return s.Events + s.EventsMasked
}

// settle waits for the chip to have queued at least n more events than
// before (the radio's hooks may run on a goroutine of their own), then
// steps until cond holds.
func (r *simRig) settle(t *testing.T, what string, before, n uint64, cond func() bool) {
	t.Helper()
	wait.For(t, "the chip's events of "+what, func() bool { return r.events() >= before+n })
	r.stepUntil(t, what, 2*time.Second, cond)
}

// checkReported checks the driver's last report of the access point's
// stations, and that it made n reports in all.
func (r *simRig) checkReported(t *testing.T, n int, want ...[]byte) {
	t.Helper()
	if got := r.h.HostCalls(abi.ImportReport); got != n {
		t.Errorf("%d report() calls, want %d", got, n)
	}
	v, ok := r.h.Reported(ap)["stations"]
	if !ok {
		t.Errorf("no stations in the reports (%v)", r.h.Reported(ap))
		return
	}
	l := v.([]any)
	got := make([][]byte, len(l))
	for i, m := range l {
		got[i] = m.([]byte)
	}
	if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("reported stations %x, want %x", got, want)
	}
}

// stations is status('stations') as (MAC, RSSI) pairs.
func (r *simRig) stations(t *testing.T) []apStation {
	t.Helper()
	l := r.callAP(t, "status", "stations").([]any)
	out := make([]apStation, len(l))
	for i, e := range l {
		tu, ok := e.(abi.Tuple)
		if !ok || len(tu) != 2 {
			t.Fatalf("ap.status('stations') = %#v: want (MAC, RSSI) tuples", l)
		}
		out[i] = apStation{tu[0].([]byte), tu[1].(int64)}
	}
	return out
}

type apStation struct {
	mac  []byte
	rssi int64
}

func errIs(err error, kind, errno int, part string) bool {
	var e *abi.Error
	return errors.As(err, &e) && e.Kind == kind && (errno == 0 || e.Errno == errno) && strings.Contains(e.Msg, part)
}

// The access point's config(), status() and refusals, before it starts:
// its defaults, every parameter's errors (a refused call changes
// nothing), the station's methods refused, and active(True) of a secured
// access point without a key refused with the chip left off.
func TestAPConfigAndErrors(t *testing.T) {
	r := newAPRig(t)
	get := func(name string) any {
		t.Helper()
		return r.callAP(t, "config", name)
	}
	for name, want := range map[string]any{
		"mac": apMAC, "ssid": "nichost-3a4f", "essid": "nichost-3a4f", "security": int64(0),
		"channel": int64(1), "hidden": false, "pm": int64(0xa11142), "antenna": int64(0), "trace": int64(0),
	} {
		if got := get(name); !reflect.DeepEqual(got, want) {
			t.Errorf("ap.config(%q) = %#v, want %#v", name, got, want)
		}
	}
	if got := r.call(t, "config", "ssid"); got != "" {
		t.Errorf("sta.config('ssid') = %q: the access point's default leaked to the station", got)
	}
	// A key makes the default security WPA2.
	r.callAP(t, "config", guesttest.KW{"key": "ap-secret-1"})
	if got := get("security"); got != int64(3) {
		t.Errorf("ap.config('security') with a key = %v, want 3 (WPA2)", got)
	}
	// A shared parameter is the chip's: both interfaces read it.
	r.callAP(t, "config", guesttest.KW{"pm": int64(0x10)})
	if got := r.call(t, "config", "pm"); got != int64(0x10) {
		t.Errorf("sta.config('pm') after ap.config(pm=0x10) = %v", got)
	}

	refused := []struct {
		kw         guesttest.KW
		kind       int
		part       string
		unchanging string
	}{
		{guesttest.KW{"ssid": "", "hidden": true}, abi.KindValueError, "1 to 32 bytes", "hidden"},
		{guesttest.KW{"essid": strings.Repeat("x", 33)}, abi.KindValueError, "1 to 32 bytes", "ssid"},
		{guesttest.KW{"ssid": int64(3)}, abi.KindTypeError, "ssid", "ssid"},
		{guesttest.KW{"key": "short", "ssid": "changed"}, abi.KindValueError, "8 to 63", "ssid"},
		{guesttest.KW{"password": strings.Repeat("k", 64)}, abi.KindValueError, "8 to 63", "ssid"},
		{guesttest.KW{"key": "tab\tin-the-key"}, abi.KindValueError, "printable ASCII", "ssid"},
		{guesttest.KW{"security": int64(1)}, abi.KindValueError, "WEP", "security"},
		{guesttest.KW{"security": int64(5), "channel": int64(6)}, abi.KindValueError, "security", "channel"},
		{guesttest.KW{"channel": int64(12)}, abi.KindValueError, "XX", "channel"},
		{guesttest.KW{"channel": int64(0)}, abi.KindValueError, "channel", "channel"},
		{guesttest.KW{"hidden": "yes"}, abi.KindTypeError, "hidden", "hidden"},
		{guesttest.KW{"reconnects": int64(2)}, abi.KindValueError, "station parameter", "ssid"},
		{guesttest.KW{"txpower": int64(99), "ssid": "changed"}, abi.KindValueError, "txpower", "ssid"},
		{guesttest.KW{"no_such": int64(1), "ssid": "changed"}, abi.KindValueError, "hidden", "ssid"},
	}
	for _, c := range refused {
		before := get(c.unchanging)
		_, err := r.h.CallOn(ap, "config", c.kw)
		if !errIs(err, c.kind, 0, c.part) {
			t.Errorf("ap.config(%v) = %v; want %s naming %q", c.kw, err, abi.KindName(c.kind), c.part)
		}
		if got := get(c.unchanging); !reflect.DeepEqual(got, before) {
			t.Errorf("the refused ap.config(%v) changed %s from %v to %v", c.kw, c.unchanging, before, got)
		}
	}
	if _, err := r.h.CallOn(ap, "config", "key"); !errIs(err, abi.KindValueError, 0, "write-only") {
		t.Errorf("ap.config('key') = %v; want ValueError (write-only)", err)
	}
	if _, err := r.h.CallOn(ap, "config", "reconnects"); !errIs(err, abi.KindValueError, 0, "station parameter") {
		t.Errorf("ap.config('reconnects') = %v; want ValueError (a station parameter)", err)
	}
	if _, err := r.h.CallOn(ap, "config", "no_such"); !errIs(err, abi.KindValueError, 0, "channel") {
		t.Errorf("ap.config('no_such') = %v; want ValueError listing the access point's names", err)
	}

	// Status while down.
	if got := r.apStatus(t); got != apDown {
		t.Errorf("ap.status() = %d, want 0", got)
	}
	if got := r.stations(t); len(got) != 0 {
		t.Errorf("ap.status('stations') while down = %v, want []", got)
	}
	if _, err := r.h.CallOn(ap, "status", "rssi"); !errIs(err, abi.KindValueError, 0, "station parameter") {
		t.Errorf("ap.status('rssi') = %v; want ValueError (a station parameter)", err)
	}
	if _, err := r.h.CallOn(ap, "status", "no_such"); !errIs(err, abi.KindValueError, 0, "stations") {
		t.Errorf("ap.status('no_such') = %v; want ValueError", err)
	}
	if c := r.callAP(t, "isconnected"); c != false {
		t.Errorf("ap.isconnected() while down = %v", c)
	}
	// The station's methods.
	for _, m := range []struct {
		name string
		args []any
	}{{"scan", nil}, {"connect", []any{"x", "12345678"}}, {"disconnect", nil}} {
		if _, err := r.h.CallOn(ap, m.name, m.args...); !errIs(err, abi.KindOSError, 95, "station's (sta)") {
			t.Errorf("ap.%s() = %v; want OSError EOPNOTSUPP (the station's)", m.name, err)
		}
	}
	if err := r.h.TransmitOn(ap, make([]byte, 60)); !errIs(err, abi.KindOSError, abi.EAGAIN, "not up") {
		t.Errorf("a frame on the access point while down: %v; want OSError EAGAIN", err)
	}

	// WPA3 without a key: refused, nothing powered.
	r.callAP(t, "config", guesttest.KW{"key": "", "security": int64(6)})
	if _, err := r.h.CallOn(ap, "active", true); !errIs(err, abi.KindValueError, 0, "config(key=...) first") {
		t.Fatalf("ap.active(True) of a WPA3 access point without a key = %v; want ValueError", err)
	}
	if a := r.callAP(t, "active"); a != false {
		t.Errorf("ap.active() after the refusal = %v", a)
	}
	r.run(t, time.Second)
	if r.dev.Chip.Powered() || r.dev.Chip.Stats().Ioctls != 0 {
		t.Errorf("the refused active(True) powered the chip (powered %v, %d ioctls)", r.dev.Chip.Powered(), r.dev.Chip.Stats().Ioctls)
	}
	if got := r.apStatus(t); got != apDown {
		t.Errorf("ap.status() after the refusal = %d, want 0", got)
	}
}

// The access point end to end: it starts (status 1 then 2, its link up)
// with the chip's station inactive; a station with a wrong key is not
// listed, one with the right key is (the report, status('stations') with
// the level the AP hears it at, isconnected()); a frame goes each way on
// interface 1; the station leaves; another joins and active(False)
// deauthenticates it, takes the link down and powers the chip off.
func TestAPStartJoinLeave(t *testing.T) {
	r := newAPRig(t)
	const ssid, key = "nichost-drv", "drv-secret"
	r.callAP(t, "config", guesttest.KW{"ssid": ssid, "key": key, "channel": int64(6)})
	r.callAP(t, "active", true)
	if got := r.apStatus(t); got != apStarting {
		t.Fatalf("ap.status() right after active(True) = %d, want 1", got)
	}
	if a := r.callAP(t, "active"); a != true {
		t.Fatalf("ap.active() = %v", a)
	}
	r.stepUntil(t, "the access point up", 5*time.Second, func() bool { return r.apStatus(t) == apUp })
	if l := r.h.Link(ap); !l.Up || l.MTU != 1500 || l.Type != abi.LinkEthernet {
		t.Fatalf("the access point's link: %+v; want up, Ethernet, MTU 1500", l)
	}
	if a, st := r.call(t, "active"), r.status(t); a != false || st != 0 {
		t.Errorf("the station: active() %v, status() %d; want False, 0", a, st)
	}
	if r.h.Link(0).Up {
		t.Error("the station's link is up")
	}
	rap := r.dev.Chip.AP()
	if rap == nil {
		t.Fatal("the chip has no access point on the air")
	}
	if c := rap.Config(); c.SSID != ssid || c.Channel != 6 || c.Security != radio.SecWPA2 || c.Hidden || !bytes.Equal(c.BSSID, apMAC) || c.Passphrase != key {
		t.Fatalf("the radio access point: %+v", c)
	}
	if got := r.callAP(t, "config", "channel"); got != int64(6) {
		t.Errorf("ap.config('channel') while up = %v, want 6", got)
	}

	env := r.dev.Env
	var mu sync.Mutex
	var got [][]byte
	mac1 := net.HardwareAddr{0x02, 0x57, 0x41, 0, 0, 1}
	s1 := env.NewStation(mac1, func(f []byte) { mu.Lock(); got = append(got, f); mu.Unlock() }, nil)
	t.Cleanup(s1.Close)
	if res, _ := s1.Join(radio.JoinRequest{SSID: ssid, Security: radio.SecWPA2, Passphrase: "not-the-key"}); res != radio.JoinWrongKey {
		t.Fatalf("a join with the wrong key: %v", res)
	}
	before := r.events()
	if res, _ := s1.Join(radio.JoinRequest{SSID: ssid, Security: radio.SecWPA2, Passphrase: key}); res != radio.JoinOK {
		t.Fatalf("a join with the right key: %v", res)
	}
	r.settle(t, "the station's join", before, 1, func() bool { return r.callAP(t, "isconnected") == true })
	r.checkReported(t, 1, mac1)
	level, ok := rap.StationRSSI(mac1)
	if !ok {
		t.Fatal("the radio AP does not hear the station")
	}
	if l := r.stations(t); len(l) != 1 || !bytes.Equal(l[0].mac, mac1) || l[0].rssi != int64(level) {
		t.Fatalf("ap.status('stations') = %v, want [(%x, %d)]", l, mac1, level)
	}

	// A frame from the station to the access point's side: rx_push(1, ...).
	up := make([]byte, 60)
	copy(up, apMAC)
	copy(up[6:], mac1)
	up[12], up[13], up[14] = 0x08, 0x00, 0xAB
	rxBefore := r.dev.Chip.Stats().RxFrames
	if err := s1.Send(up); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the chip took the station's frame", func() bool { return r.dev.Chip.Stats().RxFrames > rxBefore })
	r.stepUntil(t, "the frame on interface 1", time.Second, func() bool { return len(r.h.Frames(ap)) > 0 })
	if f := r.h.Frames(ap); len(f) != 1 || !bytes.Equal(f[0], up) {
		t.Fatalf("interface 1 received %x, want [%x]", f, up)
	}
	if f := r.h.Frames(0); len(f) != 0 {
		t.Fatalf("the station's interface received %d frames", len(f))
	}
	// One from the host to the station: transmit on interface 1.
	down := make([]byte, 60)
	copy(down, mac1)
	copy(down[6:], apMAC)
	down[12], down[13], down[14] = 0x08, 0x00, 0xCD
	if err := r.h.TransmitOn(ap, down); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the station received the frame", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0
	})
	mu.Lock()
	if len(got) != 1 || !bytes.Equal(got[0], down) {
		t.Errorf("the station received %x, want [%x]", got, down)
	}
	mu.Unlock()

	// The station leaves.
	before = r.events()
	s1.Leave()
	r.settle(t, "the station's leave", before, 1, func() bool { return r.callAP(t, "isconnected") == false })
	r.checkReported(t, 2)
	if l := r.stations(t); len(l) != 0 {
		t.Fatalf("ap.status('stations') after the leave = %v", l)
	}

	// Another joins; active(False) deauthenticates it now.
	mac2 := net.HardwareAddr{0x02, 0x57, 0x41, 0, 0, 2}
	lost := make(chan struct{}, 1)
	s2 := env.NewStation(mac2, nil, func(net.HardwareAddr) {
		select {
		case lost <- struct{}{}:
		default:
		}
	})
	t.Cleanup(s2.Close)
	before = r.events()
	if res, _ := s2.Join(radio.JoinRequest{SSID: ssid, Security: radio.SecWPA2, Passphrase: key}); res != radio.JoinOK {
		t.Fatalf("the second station's join: %v", res)
	}
	r.settle(t, "the second station's join", before, 1, func() bool { return r.callAP(t, "isconnected") == true })
	frozen := r.radio.Now()
	r.callAP(t, "active", false)
	select {
	case <-lost:
	default:
		t.Fatal("active(False) returned and the station still holds the access point")
	}
	if !r.radio.Now().Equal(frozen) {
		t.Fatal("the radio clock moved")
	}
	if r.dev.Chip.APUp() || r.dev.Chip.Powered() {
		t.Errorf("after active(False): the chip's AP up %v, powered %v; want neither (the station is inactive)", r.dev.Chip.APUp(), r.dev.Chip.Powered())
	}
	if st, a, c := r.apStatus(t), r.callAP(t, "active"), r.callAP(t, "isconnected"); st != apDown || a != false || c != false {
		t.Errorf("after active(False): status() %d, active() %v, isconnected() %v", st, a, c)
	}
	if r.h.Link(ap).Up {
		t.Error("the access point's link is still up")
	}
	r.checkReported(t, 4) // the join, then none
	if l := r.stations(t); len(l) != 0 {
		t.Errorf("ap.status('stations') after active(False) = %v", l)
	}
	if err := r.h.TransmitOn(ap, down); !errIs(err, abi.KindOSError, abi.EAGAIN, "") {
		t.Errorf("a frame on the stopped access point: %v; want EAGAIN", err)
	}
}

// Both interfaces on the one chip: the access point up on channel 1, the
// station joins a network on channel 6 and the access point follows it
// there; the station's active(False) leaves its network and keeps the
// chip (and the access point) up; the access point's active(False) with
// the station active stops the BSS (bss (1, 0): the chip stays powered).
func TestAPWithStation(t *testing.T) {
	r := newAPRig(t)
	r.startAP(t, guesttest.KW{"ssid": "nichost-both"}) // open, channel 1
	if c := r.dev.Chip.AP().Config(); c.Security != radio.SecOpen || c.Channel != 1 || c.SSID != "nichost-both" {
		t.Fatalf("the radio access point: %+v", c)
	}
	r.call(t, "active", true)
	if got := r.status(t); got != 0 {
		t.Fatalf("the station's status() once active = %d", got)
	}
	n := wlandev.NetWPA2
	r.call(t, "connect", n.SSID, n.Key)
	r.stepUntil(t, "the station's join", 5*time.Second, func() bool { return r.status(t) == 2 })
	r.stepUntil(t, "the access point on the station's channel", time.Second, func() bool {
		return r.callAP(t, "config", "channel") == int64(n.Channel)
	})
	if c := r.dev.Chip.AP().Config(); c.Channel != n.Channel {
		t.Errorf("the radio access point is on channel %d, want %d", c.Channel, n.Channel)
	}
	if got := r.apStatus(t); got != apUp {
		t.Errorf("ap.status() with the station joined = %d", got)
	}

	r.call(t, "active", false)
	r.run(t, 100*time.Millisecond)
	if !r.dev.Chip.Powered() || !r.dev.Chip.APUp() || r.apStatus(t) != apUp || !r.h.Link(ap).Up {
		t.Fatalf("after the station's active(False): powered %v, the chip's AP up %v, ap.status() %d, AP link %v; want the access point running",
			r.dev.Chip.Powered(), r.dev.Chip.APUp(), r.apStatus(t), r.h.Link(ap).Up)
	}
	if r.h.Link(0).Up || r.status(t) != 0 {
		t.Errorf("the inactive station: link up %v, status() %d", r.h.Link(0).Up, r.status(t))
	}
	if len(r.dev.APs[0].Stations()) != 0 {
		t.Errorf("the network still has the chip's station: %v", r.dev.APs[0].Stations())
	}

	// The station active again, the access point stopped: the chip stays.
	r.call(t, "active", true)
	r.callAP(t, "active", false)
	r.stepUntil(t, "the BSS down", time.Second, func() bool { return !r.dev.Chip.APUp() })
	if !r.dev.Chip.Powered() {
		t.Fatal("the chip was powered off with the station active")
	}
	r.call(t, "connect", n.SSID, n.Key)
	r.stepUntil(t, "the station's join after the access point stopped", 5*time.Second, func() bool { return r.status(t) == 2 })
}

// A change of the access point's settings while it runs restarts its BSS:
// its stations are deauthenticated and the new BSS has the new settings;
// a change of a shared parameter does not restart it; a change that would
// leave it secured without a key is refused and changes nothing.
func TestAPRestartOnChange(t *testing.T) {
	r := newAPRig(t)
	const key = "restart-key"
	r.startAP(t, guesttest.KW{"key": key, "security": int64(secWPA2WPA3)})
	first := r.dev.Chip.AP()
	if c := first.Config(); c.SSID != "nichost-3a4f" || c.Security != radio.SecWPA2WPA3 {
		t.Fatalf("the radio access point: %+v", c)
	}
	lost := make(chan struct{}, 1)
	s := r.dev.Env.NewStation(net.HardwareAddr{0x02, 0x57, 0x41, 0, 0, 9}, nil, func(net.HardwareAddr) {
		select {
		case lost <- struct{}{}:
		default:
		}
	})
	t.Cleanup(s.Close)
	before := r.events()
	if res, _ := s.Join(radio.JoinRequest{SSID: "nichost-3a4f", Security: radio.SecWPA3, Passphrase: key}); res != radio.JoinOK {
		t.Fatalf("a WPA3 join: %v", res)
	}
	r.settle(t, "the join", before, 1, func() bool { return r.callAP(t, "isconnected") == true })

	// Shared: no restart.
	r.callAP(t, "config", guesttest.KW{"antenna": int64(1)})
	r.run(t, 100*time.Millisecond)
	if r.dev.Chip.AP() != first || len(first.Stations()) != 1 {
		t.Fatal("config(antenna=1) restarted the access point")
	}
	// Refused: security WPA2 with the key removed.
	if _, err := r.h.CallOn(ap, "config", guesttest.KW{"key": "", "hidden": true}); !errIs(err, abi.KindValueError, 0, "config(key=...) first") {
		t.Fatalf("ap.config(key='') of a running WPA2/WPA3 access point = %v; want ValueError", err)
	}
	if r.callAP(t, "config", "hidden") != false || r.dev.Chip.AP() != first {
		t.Fatal("the refused config changed the access point")
	}

	r.callAP(t, "config", guesttest.KW{"ssid": "nichost-renamed", "hidden": true})
	r.stepUntil(t, "the station deauthenticated by bss (1, 0)", time.Second, func() bool {
		select {
		case <-lost:
			return true
		default:
			return false
		}
	})
	r.stepUntil(t, "the access point back up", 2*time.Second, func() bool {
		return r.apStatus(t) == apUp && r.dev.Chip.AP() != nil && r.dev.Chip.AP() != first
	})
	if c := r.dev.Chip.AP().Config(); c.SSID != "nichost-renamed" || !c.Hidden || c.Security != radio.SecWPA2WPA3 {
		t.Fatalf("the restarted radio access point: %+v", c)
	}
	if r.callAP(t, "isconnected") != false || len(r.stations(t)) != 0 {
		t.Fatal("the restarted access point still lists the station")
	}
	if !r.h.Link(ap).Up {
		t.Fatal("the restarted access point's link is down")
	}
	before = r.events()
	if res, _ := s.Join(radio.JoinRequest{SSID: "nichost-renamed", Security: radio.SecWPA2, Passphrase: key}); res != radio.JoinOK {
		t.Fatalf("a WPA2 join of the renamed access point: %v", res)
	}
	r.settle(t, "the join again", before, 1, func() bool { return r.callAP(t, "isconnected") == true })
}

// A fresh driver instance (a plugin restart) holds the chip off at its
// start, which takes the access point off the air and deauthenticates its
// stations; the host's replay of config() and active(True) brings it back
// with the same settings, and the station joins again.
func TestAPFreshInstance(t *testing.T) {
	r := newAPRig(t)
	const ssid, key = "nichost-again", "again-key"
	kw := guesttest.KW{"ssid": ssid, "key": key, "hidden": true}
	r.startAP(t, kw)
	lost := make(chan struct{}, 1)
	s := r.dev.Env.NewStation(net.HardwareAddr{0x02, 0x57, 0x41, 0, 0, 7}, nil, func(net.HardwareAddr) {
		select {
		case lost <- struct{}{}:
		default:
		}
	})
	t.Cleanup(s.Close)
	join := func(what string) {
		t.Helper()
		before := r.events()
		if res, _ := s.Join(radio.JoinRequest{SSID: ssid, Security: radio.SecWPA2, Passphrase: key}); res != radio.JoinOK {
			t.Fatalf("%s: %v", what, res)
		}
		r.settle(t, what, before, 1, func() bool { return r.callAP(t, "isconnected") == true })
	}
	join("the join")

	r.restart(t)
	select {
	case <-lost:
	default:
		t.Fatal("the fresh instance started and the station still holds the access point")
	}
	if r.dev.Chip.Powered() || r.dev.Chip.APUp() {
		t.Fatalf("after the fresh instance's start: powered %v, AP up %v", r.dev.Chip.Powered(), r.dev.Chip.APUp())
	}
	if got := r.apStatus(t); got != apDown {
		t.Fatalf("the fresh instance's ap.status() = %d", got)
	}
	r.startAP(t, kw) // the host's replay
	if c := r.dev.Chip.AP().Config(); c.SSID != ssid || !c.Hidden || c.Security != radio.SecWPA2 {
		t.Fatalf("the access point after the replay: %+v", c)
	}
	join("the join after the restart")
}
