package radio_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"

	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/plugins/wlan/radio"
)

// hooks records a hosted AP's hook calls.
type hooks struct {
	mu    sync.Mutex
	rx    [][]byte
	calls []string // "join MAC" / "leave MAC"
}

func (h *hooks) get() radio.APHooks {
	return radio.APHooks{
		Rx: func(f []byte) { h.mu.Lock(); h.rx = append(h.rx, f); h.mu.Unlock() },
		Join: func(m net.HardwareAddr) {
			h.mu.Lock()
			h.calls = append(h.calls, "join "+m.String())
			h.mu.Unlock()
		},
		Leave: func(m net.HardwareAddr) {
			h.mu.Lock()
			h.calls = append(h.calls, "leave "+m.String())
			h.mu.Unlock()
		},
	}
}

func (h *hooks) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.calls
	h.calls = nil
	return c
}

func (h *hooks) frames() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.rx)
}

// lossRec records the calls of a NewStationLoss lost function.
type lossRec struct {
	mu sync.Mutex
	l  []string
}

func (l *lossRec) fn(b net.HardwareAddr, why radio.Loss) {
	l.mu.Lock()
	l.l = append(l.l, b.String()+" "+why.String())
	l.mu.Unlock()
}

func (l *lossRec) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.l)
}

func addHosted(t *testing.T, e *radio.Env, c radio.APConfig, h *hooks) *radio.AP {
	t.Helper()
	a, err := e.AddHostedAP(c, h.get())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var hostedCfg = radio.APConfig{SSID: "chip-ap", BSSID: bssid(0x40), Channel: 3, RSSI: -45, Security: radio.SecWPA2, Passphrase: "chip pass"}

// A hosted AP's Join and Leave hooks follow its station list, in order,
// before the call that changed it returns: a join, a refused join (no
// hook), a leave, a join elsewhere, a close. A bad config is refused as by
// AddAP.
func TestHostedAP_JoinLeaveHooks(t *testing.T) {
	e, _ := newEnv(t, 1)
	var h hooks
	a := addHosted(t, e, hostedCfg, &h)
	addAP(t, e, radio.APConfig{SSID: "other", BSSID: bssid(0x41), Channel: 6, RSSI: -60, Security: radio.SecOpen}, nil)
	if _, err := e.AddHostedAP(radio.APConfig{SSID: "", BSSID: bssid(0x42), Channel: 1, RSSI: -45}, radio.APHooks{}); err == nil {
		t.Fatal("AddHostedAP took an empty SSID")
	}
	if _, err := e.AddHostedAP(hostedCfg, radio.APHooks{}); err == nil {
		t.Fatal("AddHostedAP took a BSSID already on the air")
	}
	s1 := e.NewStation(stamac(1), nil, nil)
	s2 := e.NewStation(stamac(2), nil, nil)
	s3 := e.NewStation(stamac(3), nil, nil)
	good := radio.JoinRequest{SSID: "chip-ap", Security: radio.SecWPA2, Passphrase: "chip pass"}
	if res, _ := s1.Join(good); res != radio.JoinOK {
		t.Fatal(res)
	}
	if res, _ := s2.Join(radio.JoinRequest{SSID: "chip-ap", Security: radio.SecWPA2, Passphrase: "wrong pass"}); res != radio.JoinWrongKey {
		t.Fatal(res)
	}
	if res, _ := s2.Join(good); res != radio.JoinOK {
		t.Fatal(res)
	}
	if res, _ := s3.Join(good); res != radio.JoinOK {
		t.Fatal(res)
	}
	if got, want := h.take(), []string{"join " + stamac(1).String(), "join " + stamac(2).String(), "join " + stamac(3).String()}; !slices.Equal(got, want) {
		t.Fatalf("hooks %q, want %q", got, want)
	}
	if st := a.Stations(); len(st) != 3 || !bytes.Equal(st[1], stamac(2)) {
		t.Fatalf("stations %v", st)
	}
	s2.Leave()
	if res, _ := s1.Join(radio.JoinRequest{SSID: "other"}); res != radio.JoinOK {
		t.Fatal(res)
	}
	s3.Close()
	if got, want := h.take(), []string{"leave " + stamac(2).String(), "leave " + stamac(1).String(), "leave " + stamac(3).String()}; !slices.Equal(got, want) {
		t.Fatalf("hooks %q, want %q", got, want)
	}
	if st := a.Stations(); len(st) != 0 {
		t.Fatalf("stations %v", st)
	}
	// Rejoining the same AP is a leave and a join.
	s2.Join(good)
	s2.Join(good)
	if got := h.take(); len(got) != 3 || got[1] != "leave "+stamac(2).String() {
		t.Fatalf("rejoin hooks %q", got)
	}
}

// Data through a hosted AP: a station's unicast frame to a MAC that is no
// station of the AP goes to Rx; a group frame to Rx and the other
// stations; a frame to another station only to it. Transmit sends a
// unicast frame to its station, a group frame to all, and refuses bad
// lengths and a stopped AP.
func TestHostedAP_Data(t *testing.T) {
	e, _ := newEnv(t, 1)
	var h hooks
	a := addHosted(t, e, hostedCfg, &h)
	var rx1, rx2 frames
	s1 := e.NewStation(stamac(1), rx1.rx, nil)
	s2 := e.NewStation(stamac(2), rx2.rx, nil)
	for _, s := range []*radio.Station{s1, s2} {
		if res, _ := s.Join(radio.JoinRequest{SSID: "chip-ap", Security: radio.SecWPA2, Passphrase: "chip pass"}); res != radio.JoinOK {
			t.Fatal(res)
		}
	}
	host := net.HardwareAddr{0x02, 0xCC, 0, 0, 0, 1}
	up := ethFrame(host, stamac(1), 0x0800, make([]byte, 46))
	bcast := ethFrame(net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, stamac(1), 0x0806, make([]byte, 28))
	local := ethFrame(stamac(2), stamac(1), 0x0800, make([]byte, 50))
	for _, f := range [][]byte{up, bcast, local} {
		if err := s1.Send(f); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.frames(); len(got) != 2 || !bytes.Equal(got[0], up) || !bytes.Equal(got[1], bcast) {
		t.Fatalf("Rx got %d frames, want the unicast and the broadcast", len(got))
	}
	if got := rx2.get(); len(got) != 2 || !bytes.Equal(got[0], bcast) || !bytes.Equal(got[1], local) {
		t.Fatalf("the other station got %d frames, want the broadcast and its own", len(got))
	}
	if len(rx1.get()) != 0 {
		t.Fatal("the sender got its own frame")
	}

	down := ethFrame(stamac(1), host, 0x0800, make([]byte, 46))
	if err := a.Transmit(down); err != nil {
		t.Fatal(err)
	}
	if err := a.Transmit(ethFrame(net.HardwareAddr{0x33, 0x33, 0, 0, 0, 1}, host, 0x86DD, make([]byte, 40))); err != nil {
		t.Fatal(err)
	}
	if err := a.Transmit(ethFrame(stamac(9), host, 0x0800, make([]byte, 46))); err != nil {
		t.Fatal(err) // for no station: nowhere, no error
	}
	if got := rx1.get(); len(got) != 2 || !bytes.Equal(got[0], down) || got[1][0] != 0x33 {
		t.Fatalf("station 1 got %d frames, want the unicast and the multicast", len(got))
	}
	if got := rx2.get(); len(got) != 3 || got[2][0] != 0x33 {
		t.Fatalf("station 2 got %d frames, want the multicast too", len(got))
	}
	if err := a.Transmit(make([]byte, 13)); err == nil {
		t.Fatal("Transmit took a 13-byte frame")
	}
	if as := a.Stats(); as.RxFrames != 3 || as.TxFrames != 4 || as.Dropped != 0 {
		t.Fatalf("AP stats %+v", as)
	}
	a.Stop()
	if err := a.Transmit(down); !errors.Is(err, radio.ErrClosed) {
		t.Fatalf("Transmit on a stopped AP: %v", err)
	}
}

// Stop deauthenticates at once: the lost functions (LossDeauth) and the
// Leave hooks run before Stop returns, nothing waits for the clock, and the
// AP is gone from the air. Close keeps its beacon loss (LossBeacon), which
// a Stop within BeaconLoss makes immediate.
func TestHostedAP_Stop(t *testing.T) {
	e, m := newEnv(t, 1)
	var h hooks
	a := addHosted(t, e, hostedCfg, &h)
	var l1, l2 lossRec
	var old lost
	s1 := e.NewStationLoss(stamac(1), nil, l1.fn)
	s2 := e.NewStationLoss(stamac(2), nil, l2.fn)
	s3 := e.NewStation(stamac(3), nil, old.fn)
	good := radio.JoinRequest{SSID: "chip-ap", Security: radio.SecWPA2, Passphrase: "chip pass"}
	for _, s := range []*radio.Station{s1, s2, s3} {
		if res, _ := s.Join(good); res != radio.JoinOK {
			t.Fatal(res)
		}
	}
	h.take()
	a.Stop()
	want := bssid(0x40).String() + " deauthenticated"
	if got := l1.get(); !slices.Equal(got, []string{want}) {
		t.Fatalf("station 1 lost calls %q, want %q", got, want)
	}
	if got := l2.get(); !slices.Equal(got, []string{want}) {
		t.Fatalf("station 2 lost calls %q", got)
	}
	if got := old.get(); len(got) != 1 || !bytes.Equal(got[0], bssid(0x40)) {
		t.Fatalf("NewStation lost calls %v", got)
	}
	if got := h.take(); len(got) != 3 || got[0] != "leave "+stamac(1).String() {
		t.Fatalf("Leave hooks %q", got)
	}
	if _, ok := s1.Joined(); ok || len(a.Stations()) != 0 || len(e.APs()) != 0 || a.On() {
		t.Fatal("still associated or on the air after Stop")
	}
	if m.Pending() != 0 {
		t.Fatalf("%d functions scheduled after Stop", m.Pending())
	}
	if res, _ := s1.Join(good); res != radio.JoinNoNetwork {
		t.Fatalf("join of a stopped AP: %v", res)
	}
	a.Stop()
	a.Close()

	// Close: beacon loss after BeaconLoss, with LossBeacon.
	b := addHosted(t, e, hostedCfg, &h)
	s1.Join(good)
	b.Close()
	m.Advance(radio.BeaconLoss)
	wantB := bssid(0x40).String() + " beacon loss"
	wait.For(t, "the beacon-loss callback", func() bool { return len(l1.get()) == 2 })
	if got := l1.get(); got[1] != wantB {
		t.Fatalf("lost calls %q, want %q last", got, wantB)
	}
	if got := h.take(); len(got) != 2 || got[1] != "leave "+stamac(1).String() {
		t.Fatalf("hooks %q", got)
	}

	// Stop within BeaconLoss of a Close: at once.
	c := addHosted(t, e, hostedCfg, &h)
	s2.Join(good)
	c.Close()
	m.Advance(radio.BeaconLoss / 2)
	c.Stop()
	if got := l2.get(); len(got) != 2 || got[1] != want {
		t.Fatalf("lost calls %q", got)
	}
	if m.Pending() != 0 {
		t.Fatalf("%d functions scheduled after Stop", m.Pending())
	}
}

// SetChannel moves the AP; its stations stay associated and see the new
// channel; scans find it there. StationRSSI is the AP's level unless the
// station set its own.
func TestHostedAP_ChannelAndRSSI(t *testing.T) {
	e, _ := newEnv(t, 1)
	var h hooks
	a := addHosted(t, e, hostedCfg, &h)
	s1 := e.NewStation(stamac(1), nil, nil)
	s2 := e.NewStation(stamac(2), nil, nil)
	for _, s := range []*radio.Station{s1, s2} {
		s.Join(radio.JoinRequest{SSID: "chip-ap", Security: radio.SecWPA2, Passphrase: "chip pass"})
	}
	if err := a.SetChannel(11); err != nil {
		t.Fatal(err)
	}
	if b, ok := s1.Joined(); !ok || b.Channel != 11 || len(a.Stations()) != 2 {
		t.Fatalf("after SetChannel: joined %v on %d, %d stations", ok, b.Channel, len(a.Stations()))
	}
	if l := s2.Scan(radio.ScanRequest{Channels: []int{3}}); len(l) != 0 {
		t.Fatalf("found on the old channel: %v", l)
	}
	if l := s2.Scan(radio.ScanRequest{Channels: []int{11}}); len(l) != 1 {
		t.Fatalf("not found on the new channel: %v", l)
	}
	for _, ch := range []int{0, 15} {
		if err := a.SetChannel(ch); err == nil {
			t.Fatalf("SetChannel(%d) accepted", ch)
		}
	}
	if v, ok := a.StationRSSI(stamac(1)); !ok || v != -45 {
		t.Fatalf("StationRSSI %d %v, want the AP's -45", v, ok)
	}
	s2.SetRSSI(-72)
	a.SetRSSI(-50)
	if v, _ := a.StationRSSI(stamac(1)); v != -50 {
		t.Fatalf("StationRSSI follows the AP's level: %d", v)
	}
	if v, _ := a.StationRSSI(stamac(2)); v != -72 {
		t.Fatalf("StationRSSI of a station with its own level: %d", v)
	}
	if r, _ := s2.RSSI(); r != -50 {
		t.Fatalf("the station hears the AP at %d", r)
	}
	if _, ok := a.StationRSSI(stamac(9)); ok {
		t.Fatal("StationRSSI of no station")
	}
	a.Stop()
	if err := a.SetChannel(6); !errors.Is(err, radio.ErrClosed) {
		t.Fatalf("SetChannel on a stopped AP: %v", err)
	}
}

// Hooks from many goroutines come one at a time and in the order of the
// changes: replaying them gives the AP's final station list.
func TestHostedAP_HookOrder(t *testing.T) {
	e, _ := newEnv(t, 1)
	var mu sync.Mutex
	set := map[string]bool{}
	inHook := false
	check := func(mac net.HardwareAddr, join bool) {
		mu.Lock()
		if inHook {
			panic("hooks overlap")
		}
		inHook = true
		if set[mac.String()] == join {
			panic(fmt.Sprintf("hook join=%v for %v out of order", join, mac))
		}
		set[mac.String()] = join
		inHook = false
		mu.Unlock()
	}
	a, err := e.AddHostedAP(radio.APConfig{SSID: "busy", BSSID: bssid(0x50), Channel: 1, RSSI: -40},
		radio.APHooks{Join: func(m net.HardwareAddr) { check(m, true) }, Leave: func(m net.HardwareAddr) { check(m, false) }})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		s := e.NewStation(stamac(byte(i)), nil, nil)
		wg.Go(func() {
			for j := range 50 {
				if j%3 == 2 {
					s.Leave()
				} else {
					s.Join(radio.JoinRequest{SSID: "busy"})
				}
			}
		})
	}
	wg.Wait()
	a.Stop()
	mu.Lock()
	defer mu.Unlock()
	for mac, in := range set {
		if in {
			t.Errorf("%s still in after Stop's Leave hooks", mac)
		}
	}
}
