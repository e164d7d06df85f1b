//go:build !wasip1

package main_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/plugins/wlan/radio"
	"github.com/nichost/nichost/plugins/wlan/wlandev"
)

// Access point status() values (ABI.md 8.4).
const (
	apDown     = 0
	apStarting = 1
	apUp       = 2
)

// air is one radio environment on a manual clock that a goroutine moves
// on in small steps, so the chips' timers (boot, scans, joins) run, until
// the test holds it to look at what happens with no simulated time
// passing.
type air struct {
	env *radio.Env
	clk *radio.Manual

	mu     sync.Mutex
	held   bool
	stop   chan struct{}
	done   chan struct{}
	macs   byte
	logger *slog.Logger
}

func newAir(t *testing.T) *air {
	t.Helper()
	clk := radio.NewManual(time.Unix(1e9, 0))
	a := &air{env: radio.New(radio.Options{Clock: clk, Seed: 7}), clk: clk,
		stop: make(chan struct{}), done: make(chan struct{}), logger: slog.New(slog.DiscardHandler)}
	go func() {
		defer close(a.done)
		tick := time.NewTicker(200 * time.Microsecond)
		defer tick.Stop()
		for {
			select {
			case <-a.stop:
				return
			case <-tick.C:
			}
			a.mu.Lock()
			if !a.held {
				clk.Advance(time.Millisecond)
			}
			a.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		close(a.stop)
		<-a.done
		a.env.Close()
	})
	return a
}

// hold stops simulated time (until release) and returns the time it
// stopped at.
func (a *air) hold() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.held = true
	return a.clk.Now()
}

func (a *air) release() {
	a.mu.Lock()
	a.held = false
	a.mu.Unlock()
}

// board is one nichost host with one simulated CYW43439 on the air, its
// WLAN plugin loaded with the NICs wlan0 (station) and ap0.
type board struct {
	h    *host.Host
	dev  *wlandev.Device
	p    *host.Plugin
	sta  *host.NIC
	ap   *host.NIC
	name string
}

func (a *air) board(t *testing.T, name string) *board {
	t.Helper()
	a.macs++
	dev, err := wlandev.New(nil, name, wlandev.Options{Radio: a.env, MAC: net.HardwareAddr{0x02, 0x43, 0x39, 0, 0, a.macs}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, err := range dev.Chip.Errors() {
			t.Errorf("%s: the chip saw a misuse: %v", name, err)
		}
		dev.Close()
	})
	h, err := host.New(host.Options{Logger: a.logger, Buses: dev.Sims, Hostname: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	p, _, err := h.Load(wait.Context(t), config.PluginConfig{Name: name, Source: ".", Class: abi.ClassWLAN, Buses: dev.Buses,
		Interfaces: map[string]config.InterfaceConfig{"sta": {Name: "wlan0"}, "ap": {Name: "ap0"}}})
	if err != nil {
		t.Fatal(err)
	}
	b := &board{h: h, dev: dev, p: p, name: name}
	b.sta, _ = h.NIC("wlan0")
	b.ap, _ = h.NIC("ap0")
	if b.sta == nil || b.ap == nil {
		t.Fatalf("%s: NICs %v, want wlan0 and ap0", name, p.NICs())
	}
	return b
}

// startAP configures and starts b's access point and waits until it is up.
func (b *board) startAP(t *testing.T, kw host.KW) {
	t.Helper()
	ctx := wait.Context(t)
	if err := b.ap.SetConfig(ctx, kw); err != nil {
		t.Fatal(err)
	}
	if err := b.ap.SetActive(ctx, true); err != nil {
		t.Fatal(err)
	}
	wait.For(t, b.name+"'s access point up", func() bool {
		st, err := b.ap.StatusCode(ctx)
		return err == nil && st == apUp
	})
}

func status(ctx context.Context, n *host.NIC) int {
	st, err := n.StatusCode(ctx)
	if err != nil {
		return -100
	}
	return st
}

// MicroPython's two-board Wi-Fi scenario with two hosts in one process:
// one chip as access point, the other as station joining it over the
// simulated air (a wrong key first, then the right one); the station
// gets a lease from the access point's DHCP server, pings it and moves
// 4 MiB over TCP to a listener on the access point's host, byte-exact;
// the radio counters show the frames crossed the air; then the access
// point stops and the station reports the link gone with no simulated
// time passing (its chip is deauthenticated at once, ABI.md 8.4).
func TestWLAN_TwoBoards(t *testing.T) {
	a := newAir(t)
	apb, stab := a.board(t, "board-a"), a.board(t, "board-b")
	ctx := wait.Context(t)
	events, unsubscribe := apb.h.Subscribe(64)
	defer unsubscribe()

	const ssid, key = "nichost-two", "two-boards"
	apb.startAP(t, host.KW{"ssid": ssid, "key": key, "security": int64(host.SecWPA2)})
	if got, _ := apb.ap.IPConfig(ctx, "addr4"); !slices.Equal(got.(abi.Tuple), abi.Tuple{"192.168.4.1", "255.255.255.0"}) {
		t.Fatalf("the access point's addr4 = %v, want the default 192.168.4.1/24", got)
	}
	if ok, _ := apb.ap.IsConnected(ctx); ok {
		t.Fatal("the access point reports connected with no station")
	}

	// A wrong key fails the handshake, as in part 1.
	if err := stab.sta.Connect(ctx, ssid, "not-the-key"); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "status -3 (wrong password)", func() bool { return status(ctx, stab.sta) == host.StatWrongPassword })
	if l, _ := apb.ap.Stations(ctx); len(l) != 0 {
		t.Fatalf("after a wrong key the access point lists %v", l)
	}

	if err := stab.sta.Connect(ctx, ssid, key); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the station joined with a lease", func() bool { return status(ctx, stab.sta) == host.StatGotIP })
	lease, err := stab.sta.Addr4()
	if err != nil {
		t.Fatal(err)
	}
	if !core.DefaultAP4.Masked().Contains(lease.Addr()) || lease.Bits() != 24 || lease.Addr() == core.DefaultAP4.Addr() {
		t.Fatalf("the station's address is %v, want one of 192.168.4.0/24 from the access point", lease)
	}
	l, err := apb.ap.Stations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 1 || !bytes.Equal(l[0].MAC, stab.sta.MAC()) || l[0].RSSI >= 0 || l[0].RSSI < -100 {
		t.Fatalf("status('stations') = %v, want the station %v with an RSSI in dBm", l, stab.sta.MAC())
	}
	if ok, _ := apb.ap.IsConnected(ctx); !ok {
		t.Fatal("the access point is not connected with a station associated")
	}
	if leases := apb.ap.DHCPLeases(); len(leases) != 1 || leases[0].Addr != lease.Addr() || !leases[0].Bound {
		t.Fatalf("the access point's leases %v, want the station's %v", leases, lease.Addr())
	}

	if _, err := stab.sta.Ping(ctx, core.DefaultAP4.Addr(), 56); err != nil {
		t.Fatalf("ping 192.168.4.1 from the station: %v", err)
	}

	// 4 MiB over TCP to a listener on the access point's host.
	ln, err := apb.ap.Listen("tcp", ":5001")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const size = 4 << 20
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(16, 4))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	type got struct {
		n   int64
		sum [32]byte
		err error
	}
	recv := make(chan got, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			recv <- got{err: err}
			return
		}
		defer c.Close()
		h := sha256.New()
		n, err := io.Copy(h, c)
		var s [32]byte
		copy(s[:], h.Sum(nil))
		recv <- got{n, s, err}
	}()
	before := a.env.Stats()
	conn, err := stab.sta.Dial(ctx, "tcp", netip.AddrPortFrom(core.DefaultAP4.Addr(), 5001).String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(data); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	var r got
	select {
	case r = <-recv:
	case <-ctx.Done():
		t.Fatal("the listener did not receive the stream")
	}
	if r.err != nil || r.n != size || r.sum != sha256.Sum256(data) {
		t.Fatalf("the access point's host received %d bytes (%v), sha256 match %v; want %d byte-exact", r.n, r.err, r.sum == sha256.Sum256(data), size)
	}
	after := a.env.Stats()
	frames, bytesOnAir := after.TxFrames-before.TxFrames, after.TxBytes-before.TxBytes
	if frames < size/1500 || bytesOnAir < size {
		t.Fatalf("the air carried %d frames, %d bytes for the 4 MiB stream; want at least %d frames and %d bytes", frames, bytesOnAir, size/1500, size)
	}
	t.Logf("the stream crossed the air in %d frames, %d bytes", frames, bytesOnAir)

	// The access point stops: the station's link is gone, with no
	// simulated time passing.
	t0 := a.hold()
	if err := apb.ap.SetActive(ctx, false); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the station reports the link gone", func() bool {
		ok, err := stab.sta.IsConnected(ctx)
		return err == nil && !ok && status(ctx, stab.sta) != host.StatGotIP && !stab.sta.LinkState().Up
	})
	if d := a.clk.Now().Sub(t0); d != 0 {
		t.Fatalf("%v of simulated time passed before the station noticed; want none (deauthenticated at once)", d)
	}
	a.release()
	if st := status(ctx, apb.ap); st != apDown {
		t.Errorf("the stopped access point's status() = %d, want %d", st, apDown)
	}
	if l, _ := apb.ap.Stations(ctx); len(l) != 0 {
		t.Errorf("the stopped access point lists %v", l)
	}

	// The daemon's event stream saw the station join and leave.
	var seen []string
	wait.For(t, "station join and leave events", func() bool {
		for {
			select {
			case e := <-events:
				if e.Kind == host.EventStation && e.NIC == "ap0" && e.Data["mac"] == stab.sta.MAC().String() {
					seen = append(seen, e.Data["event"].(string))
				}
				continue
			default:
			}
			return slices.Equal(seen, []string{"join", "leave"})
		}
	})
}

// An access point with two stations: status('stations') lists both in
// the order they joined; when one leaves, the list follows, and so do
// isconnected() and the events.
func TestWLAN_APTwoStations(t *testing.T) {
	a := newAir(t)
	apb := a.board(t, "board-a")
	ctx := wait.Context(t)
	events, unsubscribe := apb.h.Subscribe(64)
	defer unsubscribe()
	apb.startAP(t, host.KW{"ssid": "nichost-ap", "key": "two-stations", "channel": int64(6)})
	if sec, _ := apb.ap.Config(ctx, "security"); sec != int64(host.SecWPA2) {
		t.Errorf("config('security') with a key and no security = %v, want SEC_WPA2 (%d)", sec, host.SecWPA2)
	}
	var stas []*radio.Station
	for i := range 2 {
		s := a.env.NewStation(net.HardwareAddr{0x02, 0x57, 0x41, 0, 0, byte(i + 1)}, nil, nil)
		t.Cleanup(s.Close)
		if res, _ := s.Join(radio.JoinRequest{SSID: "nichost-ap", Security: radio.SecWPA2, Passphrase: "two-stations"}); res != radio.JoinOK {
			t.Fatalf("station %d: join %v", i, res)
		}
		stas = append(stas, s)
	}
	macs := func() []string {
		l, err := apb.ap.Stations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range l {
			out = append(out, s.MAC.String())
		}
		return out
	}
	m0, m1 := stas[0].MAC().String(), stas[1].MAC().String()
	wait.For(t, "both stations listed", func() bool { return slices.Equal(macs(), []string{m0, m1}) })
	if ok, _ := apb.ap.IsConnected(ctx); !ok {
		t.Fatal("isconnected() False with two stations")
	}
	stas[0].Leave()
	wait.For(t, "the list follows the leave", func() bool { return slices.Equal(macs(), []string{m1}) })
	stas[1].Close()
	wait.For(t, "no station left", func() bool { return len(macs()) == 0 })
	wait.For(t, "isconnected() False with no station", func() bool {
		ok, err := apb.ap.IsConnected(ctx)
		return err == nil && !ok
	})
	var seen []string
	wait.For(t, "join, join, leave, leave events", func() bool {
		for {
			select {
			case e := <-events:
				if e.Kind == host.EventStation {
					seen = append(seen, e.Data["event"].(string)+" "+e.Data["mac"].(string))
				}
				continue
			default:
			}
			return len(seen) >= 4
		}
	})
	if want := []string{"join " + m0, "join " + m1, "leave " + m0, "leave " + m1}; !slices.Equal(seen, want) {
		t.Fatalf("station events %v, want %v", seen, want)
	}
}
