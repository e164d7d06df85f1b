package radio_test

import (
	"bytes"
	"errors"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/plugins/wlan/radio"
	"github.com/nichost/nichost/simnet"
)

// newEnv returns an environment on a manual clock, closed with the test.
func newEnv(t *testing.T, seed int64) (*radio.Env, *radio.Manual) {
	t.Helper()
	m := radio.NewManual(epoch)
	e := radio.New(radio.Options{Clock: m, Seed: seed})
	t.Cleanup(e.Close)
	return e, m
}

func bssid(b byte) net.HardwareAddr  { return net.HardwareAddr{0x02, 0xAA, 0, 0, 0, b} }
func stamac(b byte) net.HardwareAddr { return net.HardwareAddr{0x02, 0x57, 0, 0, 0, b} }

func addAP(t *testing.T, e *radio.Env, c radio.APConfig, port bus.FramePort) *radio.AP {
	t.Helper()
	a, err := e.AddAP(c, port)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// frames records what a station's rx receives.
type frames struct {
	mu sync.Mutex
	l  [][]byte
}

func (f *frames) rx(b []byte) { f.mu.Lock(); f.l = append(f.l, b); f.mu.Unlock() }
func (f *frames) get() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.l)
}

// lost records a station's lost calls.
type lost struct {
	mu sync.Mutex
	l  []net.HardwareAddr
}

func (l *lost) fn(b net.HardwareAddr) { l.mu.Lock(); l.l = append(l.l, b); l.mu.Unlock() }
func (l *lost) get() []net.HardwareAddr {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.l)
}

// A bad AP configuration is refused with an error naming the field.
func TestAPConfigValidate(t *testing.T) {
	good := radio.APConfig{SSID: "home", BSSID: bssid(1), Channel: 6, RSSI: -50, Security: radio.SecWPA2, Passphrase: "password1"}
	for _, c := range []struct {
		name  string
		edit  func(*radio.APConfig)
		field string
	}{
		{"empty SSID", func(c *radio.APConfig) { c.SSID = "" }, "SSID"},
		{"33-byte SSID", func(c *radio.APConfig) { c.SSID = strings.Repeat("x", 33) }, "SSID"},
		{"5-byte BSSID", func(c *radio.APConfig) { c.BSSID = c.BSSID[:5] }, "BSSID"},
		{"multicast BSSID", func(c *radio.APConfig) { c.BSSID = net.HardwareAddr{1, 0, 0x5e, 0, 0, 1} }, "BSSID"},
		{"channel 0", func(c *radio.APConfig) { c.Channel = 0 }, "Channel"},
		{"channel 15", func(c *radio.APConfig) { c.Channel = 15 }, "Channel"},
		{"RSSI +1", func(c *radio.APConfig) { c.RSSI = 1 }, "RSSI"},
		{"RSSI -101", func(c *radio.APConfig) { c.RSSI = -101 }, "RSSI"},
		{"security 5", func(c *radio.APConfig) { c.Security = 5 }, "Security"},
		{"WPA2 7 chars", func(c *radio.APConfig) { c.Passphrase = "1234567" }, "Passphrase"},
		{"WPA2 64 chars", func(c *radio.APConfig) { c.Passphrase = strings.Repeat("a", 64) }, "Passphrase"},
		{"WPA3 unprintable", func(c *radio.APConfig) { c.Security = radio.SecWPA3; c.Passphrase = "pass\nword" }, "Passphrase"},
		{"WEP 8 chars", func(c *radio.APConfig) { c.Security = radio.SecWEP; c.Passphrase = "12345678" }, "Passphrase"},
		{"open with key", func(c *radio.APConfig) { c.Security = radio.SecOpen }, "Passphrase"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, _ := newEnv(t, 1)
			cfg := good
			cfg.BSSID = slices.Clone(good.BSSID)
			c.edit(&cfg)
			_, err := e.AddAP(cfg, nil)
			if err == nil || !strings.Contains(err.Error(), "APConfig."+c.field+":") {
				t.Fatalf("AddAP: %v, want an error naming %s", err, c.field)
			}
		})
	}
	e, _ := newEnv(t, 1)
	for _, c := range []radio.APConfig{
		good,
		{SSID: strings.Repeat("x", 32), BSSID: bssid(2), Channel: 1, RSSI: 0, Security: radio.SecOpen},
		{SSID: "w", BSSID: bssid(3), Channel: 14, RSSI: -100, Security: radio.SecWEP, Passphrase: "12345"},
		{SSID: "w", BSSID: bssid(4), Channel: 14, Security: radio.SecWEP, Passphrase: "1234567890123"},
		{SSID: "s", BSSID: bssid(5), Channel: 11, Security: radio.SecWPA2WPA3, Passphrase: strings.Repeat("~", 63)},
	} {
		if _, err := e.AddAP(c, nil); err != nil {
			t.Errorf("AddAP(%+v): %v", c, err)
		}
	}
	if _, err := e.AddAP(good, nil); err == nil || !strings.Contains(err.Error(), "BSSID") {
		t.Errorf("AddAP with a BSSID on the air: %v, want an error naming BSSID", err)
	}
}

// names lists scan results as "ssid@bssid-last-byte".
func names(l []radio.BSS) []string {
	var s []string
	for _, b := range l {
		s = append(s, b.SSID+"@"+string('0'+rune(b.BSSID[5])))
	}
	return s
}

// A scan lists the APs on the air on the channels asked, filtered by SSID
// and BSSID, strongest first; a hidden AP shows an empty SSID except to an
// active scan for its SSID.
func TestScan(t *testing.T) {
	e, _ := newEnv(t, 1)
	addAP(t, e, radio.APConfig{SSID: "home", BSSID: bssid(1), Channel: 1, RSSI: -40, Security: radio.SecWPA2, Passphrase: "password1"}, nil)
	addAP(t, e, radio.APConfig{SSID: "home", BSSID: bssid(2), Channel: 6, RSSI: -60, Security: radio.SecWPA2, Passphrase: "password1"}, nil)
	addAP(t, e, radio.APConfig{SSID: "cafe", BSSID: bssid(3), Channel: 11, RSSI: -50, Security: radio.SecOpen}, nil)
	hidden := addAP(t, e, radio.APConfig{SSID: "secret", BSSID: bssid(4), Channel: 6, RSSI: -45, Security: radio.SecWPA3, Passphrase: "password1", Hidden: true}, nil)
	off := addAP(t, e, radio.APConfig{SSID: "home", BSSID: bssid(5), Channel: 1, RSSI: -10, Security: radio.SecWPA2, Passphrase: "password1"}, nil)
	off.SetOn(false)
	s := e.NewStation(stamac(1), nil, nil)

	for _, c := range []struct {
		name string
		r    radio.ScanRequest
		want []string
	}{
		{"all", radio.ScanRequest{}, []string{"home@1", "@4", "cafe@3", "home@2"}},
		{"passive all", radio.ScanRequest{Passive: true}, []string{"home@1", "@4", "cafe@3", "home@2"}},
		{"ssid", radio.ScanRequest{SSID: "home"}, []string{"home@1", "home@2"}},
		{"bssid", radio.ScanRequest{BSSID: bssid(2)}, []string{"home@2"}},
		{"bssid and other ssid", radio.ScanRequest{BSSID: bssid(2), SSID: "cafe"}, nil},
		{"channels", radio.ScanRequest{Channels: []int{6, 11}}, []string{"@4", "cafe@3", "home@2"}},
		{"channel without AP", radio.ScanRequest{Channels: []int{3}}, nil},
		{"active for hidden", radio.ScanRequest{SSID: "secret"}, []string{"secret@4"}},
		{"passive for hidden", radio.ScanRequest{SSID: "secret", Passive: true}, nil},
		{"active for hidden, bssid", radio.ScanRequest{SSID: "secret", BSSID: bssid(4), Channels: []int{6}}, []string{"secret@4"}},
	} {
		got := s.Scan(c.r)
		if !slices.Equal(names(got), c.want) {
			t.Errorf("%s: scan %v, want %v", c.name, names(got), c.want)
		}
		for _, b := range got {
			if b.BSSID[5] == 4 && (!b.Hidden || b.Security != radio.SecWPA3 || b.Channel != 6 || b.RSSI != -45) {
				t.Errorf("%s: hidden AP shows as %+v", c.name, b)
			}
		}
	}

	// Probes: an active scan sends one per channel, each AP on a probed
	// channel hears it; passive scans send none.
	before, hb := s.Stats().Probes, hidden.Stats().Probes
	s.Scan(radio.ScanRequest{Channels: []int{6}})
	s.Scan(radio.ScanRequest{Channels: []int{6}, Passive: true})
	s.Scan(radio.ScanRequest{Channels: []int{1, 11}})
	if d := s.Stats().Probes - before; d != 3 {
		t.Errorf("station sent %d probes, want 3", d)
	}
	if d := hidden.Stats().Probes - hb; d != 1 {
		t.Errorf("AP on channel 6 heard %d probes, want 1", d)
	}
	if p := off.Stats().Probes; p != 0 {
		t.Errorf("an AP that is off heard %d probes", p)
	}
	if p := e.Stats().Probes; p != s.Stats().Probes {
		t.Errorf("air counted %d probes, the station sent %d", p, s.Stats().Probes)
	}

	// Back on, the AP is found again; with a new level, the order follows.
	off.SetOn(true)
	off.SetRSSI(-70)
	if got := names(s.Scan(radio.ScanRequest{SSID: "home"})); !slices.Equal(got, []string{"home@1", "home@2", "home@5"}) {
		t.Errorf("after SetOn(true): %v", got)
	}
}

// Joins succeed with the right security and secret, and fail with the
// result a driver reports: wrong key, mismatch, no network.
func TestJoin(t *testing.T) {
	const pass = "correct horse"
	aps := map[string]radio.APConfig{
		"open":  {SSID: "open", Security: radio.SecOpen},
		"wep":   {SSID: "wep", Security: radio.SecWEP, Passphrase: "abcde"},
		"wpa":   {SSID: "wpa", Security: radio.SecWPA, Passphrase: pass},
		"wpa2":  {SSID: "wpa2", Security: radio.SecWPA2, Passphrase: pass},
		"mixed": {SSID: "mixed", Security: radio.SecWPAWPA2, Passphrase: pass},
		"wpa3":  {SSID: "wpa3", Security: radio.SecWPA3, Passphrase: pass},
		"trans": {SSID: "trans", Security: radio.SecWPA2WPA3, Passphrase: pass},
	}
	for _, c := range []struct {
		ap   string
		r    radio.JoinRequest
		want radio.JoinResult
	}{
		{"open", radio.JoinRequest{Security: radio.SecOpen}, radio.JoinOK},
		{"open", radio.JoinRequest{Security: radio.SecWPA2, Passphrase: pass}, radio.JoinMismatch},
		{"wep", radio.JoinRequest{Security: radio.SecWEP, Passphrase: "abcde"}, radio.JoinOK},
		{"wep", radio.JoinRequest{Security: radio.SecWEP, Passphrase: "abcdf"}, radio.JoinWrongKey},
		{"wep", radio.JoinRequest{Security: radio.SecOpen}, radio.JoinMismatch},
		{"wpa", radio.JoinRequest{Security: radio.SecWPA, Passphrase: pass}, radio.JoinOK},
		{"wpa", radio.JoinRequest{Security: radio.SecWPA2, Passphrase: pass}, radio.JoinMismatch},
		{"wpa2", radio.JoinRequest{Security: radio.SecWPA2, Passphrase: pass}, radio.JoinOK},
		{"wpa2", radio.JoinRequest{Security: radio.SecWPA2, PMK: radio.PMK(pass, "wpa2")}, radio.JoinOK},
		{"wpa2", radio.JoinRequest{Security: radio.SecWPA2, PMK: radio.PMK(pass, "other ssid")}, radio.JoinWrongKey},
		{"wpa2", radio.JoinRequest{Security: radio.SecWPA2, Passphrase: "wrong horse"}, radio.JoinWrongKey},
		{"wpa2", radio.JoinRequest{Security: radio.SecWPA2}, radio.JoinWrongKey},
		{"wpa2", radio.JoinRequest{Security: radio.SecWPAWPA2, Passphrase: pass}, radio.JoinOK},
		{"wpa2", radio.JoinRequest{Security: radio.SecWPA2WPA3, Passphrase: pass}, radio.JoinOK},
		{"wpa2", radio.JoinRequest{Security: radio.SecWPA3, Passphrase: pass}, radio.JoinMismatch},
		{"wpa2", radio.JoinRequest{Security: radio.SecOpen}, radio.JoinMismatch},
		{"mixed", radio.JoinRequest{Security: radio.SecWPA, Passphrase: pass}, radio.JoinOK},
		{"mixed", radio.JoinRequest{Security: radio.SecWPA2, PMK: radio.PMK(pass, "mixed")}, radio.JoinOK},
		{"mixed", radio.JoinRequest{Security: radio.SecWPA3, Passphrase: pass}, radio.JoinMismatch},
		{"wpa3", radio.JoinRequest{Security: radio.SecWPA3, Passphrase: pass}, radio.JoinOK},
		{"wpa3", radio.JoinRequest{Security: radio.SecWPA3, Passphrase: "wrong horse"}, radio.JoinWrongKey},
		{"wpa3", radio.JoinRequest{Security: radio.SecWPA2WPA3, Passphrase: pass}, radio.JoinOK},
		{"wpa3", radio.JoinRequest{Security: radio.SecWPA2, Passphrase: pass}, radio.JoinMismatch},
		{"wpa3", radio.JoinRequest{Security: radio.SecWPA2WPA3, PMK: radio.PMK(pass, "wpa3")}, radio.JoinMismatch}, // SAE needs the password
		{"trans", radio.JoinRequest{Security: radio.SecWPA2, Passphrase: pass}, radio.JoinOK},
		{"trans", radio.JoinRequest{Security: radio.SecWPA2, PMK: radio.PMK(pass, "trans")}, radio.JoinOK},
		{"trans", radio.JoinRequest{Security: radio.SecWPA3, Passphrase: pass}, radio.JoinOK},
		{"trans", radio.JoinRequest{Security: radio.SecWPA2WPA3, Passphrase: pass}, radio.JoinOK},
		{"trans", radio.JoinRequest{Security: radio.SecWPA2WPA3, PMK: radio.PMK(pass, "trans")}, radio.JoinOK},
		{"trans", radio.JoinRequest{Security: radio.SecWPA3, Passphrase: "wrong horse"}, radio.JoinWrongKey},
		{"trans", radio.JoinRequest{Security: radio.SecWPA, Passphrase: pass}, radio.JoinMismatch},
	} {
		name := c.ap + "/" + c.r.Security.String() + "/" + c.want.String()
		t.Run(name, func(t *testing.T) {
			e, _ := newEnv(t, 1)
			cfg := aps[c.ap]
			cfg.BSSID, cfg.Channel, cfg.RSSI = bssid(1), 6, -50
			a := addAP(t, e, cfg, nil)
			s := e.NewStation(stamac(1), nil, nil)
			r := c.r
			r.SSID = cfg.SSID
			res, b := s.Join(r)
			if res != c.want {
				t.Fatalf("Join: %v, want %v", res, c.want)
			}
			if !bytes.Equal(b.BSSID, cfg.BSSID) || b.SSID != cfg.SSID || b.Security != cfg.Security {
				t.Errorf("Join's BSS: %+v", b)
			}
			_, joined := s.Joined()
			sts := a.Stations()
			if c.want == radio.JoinOK {
				if !joined || len(sts) != 1 || !bytes.Equal(sts[0], stamac(1)) {
					t.Fatalf("after JoinOK: joined %v, AP's stations %v", joined, sts)
				}
				if a.Stats().Assocs != 1 || s.Stats().Assocs != 1 {
					t.Errorf("Assocs: AP %d, station %d", a.Stats().Assocs, s.Stats().Assocs)
				}
				if rssi, ok := s.RSSI(); !ok || rssi != -50 {
					t.Errorf("RSSI: %d, %v", rssi, ok)
				}
				return
			}
			if joined || len(sts) != 0 {
				t.Fatalf("after %v: joined %v, AP's stations %v", res, joined, sts)
			}
			if a.Stats().AuthFailures != 1 || s.Stats().AuthFailures != 1 {
				t.Errorf("AuthFailures: AP %d, station %d", a.Stats().AuthFailures, s.Stats().AuthFailures)
			}
			if err := s.Send(make([]byte, 60)); !errors.Is(err, radio.ErrNotJoined) {
				t.Errorf("Send when not joined: %v", err)
			}
		})
	}
}

// PMK is PBKDF2-HMAC-SHA1 with 4096 iterations (IEEE 802.11i test vector).
func TestPMK(t *testing.T) {
	want := []byte{
		0xf4, 0x2c, 0x6f, 0xc5, 0x2d, 0xf0, 0xeb, 0xef, 0x9e, 0xbb, 0x4b, 0x90, 0xb3, 0x8a, 0x5f, 0x90,
		0x2e, 0x83, 0xfe, 0x1b, 0x13, 0x5a, 0x70, 0xe2, 0x3a, 0xed, 0x76, 0x2e, 0x97, 0x10, 0xa1, 0x2e}
	if got := radio.PMK("password", "IEEE"); !bytes.Equal(got, want) {
		t.Fatalf("PMK(password, IEEE) = %x, want %x", got, want)
	}
}

// A join finds no network for an unknown SSID, an AP on other channels, or
// an AP that is off; a hidden AP is joined by its SSID.
func TestJoinNoNetworkAndHidden(t *testing.T) {
	e, _ := newEnv(t, 1)
	a := addAP(t, e, radio.APConfig{SSID: "home", BSSID: bssid(1), Channel: 6, RSSI: -50, Security: radio.SecOpen}, nil)
	addAP(t, e, radio.APConfig{SSID: "hid", BSSID: bssid(2), Channel: 1, RSSI: -50, Security: radio.SecOpen, Hidden: true}, nil)
	s := e.NewStation(stamac(1), nil, nil)
	open := radio.JoinRequest{Security: radio.SecOpen}
	for _, c := range []struct {
		name string
		edit func(*radio.JoinRequest)
	}{
		{"unknown ssid", func(r *radio.JoinRequest) { r.SSID = "nope" }},
		{"other channel", func(r *radio.JoinRequest) { r.SSID = "home"; r.Channels = []int{1, 11} }},
		{"other bssid", func(r *radio.JoinRequest) { r.SSID = "home"; r.BSSID = bssid(9) }},
	} {
		r := open
		c.edit(&r)
		if res, _ := s.Join(r); res != radio.JoinNoNetwork {
			t.Errorf("%s: %v, want no network", c.name, res)
		}
	}
	a.SetOn(false)
	if res, _ := s.Join(radio.JoinRequest{SSID: "home"}); res != radio.JoinNoNetwork {
		t.Errorf("AP off: %v, want no network", res)
	}
	a.SetOn(true)
	if res, _ := s.Join(radio.JoinRequest{SSID: "home", Channels: []int{6}}); res != radio.JoinOK {
		t.Errorf("AP back on: %v", res)
	}
	res, b := s.Join(radio.JoinRequest{SSID: "hid"})
	if res != radio.JoinOK || b.SSID != "hid" || !b.Hidden {
		t.Fatalf("hidden: %v %+v", res, b)
	}
	if j, ok := s.Joined(); !ok || j.SSID != "hid" || !bytes.Equal(j.BSSID, bssid(2)) {
		t.Errorf("Joined: %+v %v", j, ok)
	}
	if len(a.Stations()) != 0 {
		t.Errorf("joining another AP left the station on the first: %v", a.Stations())
	}
}

// With two APs of one SSID, a join takes the strongest unless a BSSID pins
// the other.
func TestJoinBSSIDPinning(t *testing.T) {
	e, _ := newEnv(t, 1)
	near := addAP(t, e, radio.APConfig{SSID: "home", BSSID: bssid(1), Channel: 1, RSSI: -40, Security: radio.SecWPA2, Passphrase: "password1"}, nil)
	far := addAP(t, e, radio.APConfig{SSID: "home", BSSID: bssid(2), Channel: 11, RSSI: -75, Security: radio.SecWPA2, Passphrase: "password1"}, nil)
	s := e.NewStation(stamac(1), nil, nil)
	r := radio.JoinRequest{SSID: "home", Security: radio.SecWPA2, Passphrase: "password1"}
	if res, b := s.Join(r); res != radio.JoinOK || !bytes.Equal(b.BSSID, bssid(1)) {
		t.Fatalf("unpinned: %v %v, want the strongest", res, b.BSSID)
	}
	r.BSSID = bssid(2)
	if res, b := s.Join(r); res != radio.JoinOK || !bytes.Equal(b.BSSID, bssid(2)) || b.RSSI != -75 {
		t.Fatalf("pinned: %v %+v", res, b)
	}
	if len(near.Stations()) != 0 || len(far.Stations()) != 1 {
		t.Errorf("stations: near %v, far %v", near.Stations(), far.Stations())
	}
	if rssi, _ := s.RSSI(); rssi != -75 {
		t.Errorf("RSSI %d, want the pinned AP's -75", rssi)
	}
	r.Channels = []int{1}
	if res, _ := s.Join(r); res != radio.JoinNoNetwork {
		t.Errorf("pinned AP outside the channels: %v", res)
	}
	// Unpinned but limited to channel 11: the weaker one.
	r.BSSID, r.Channels = nil, []int{11}
	if res, b := s.Join(r); res != radio.JoinOK || !bytes.Equal(b.BSSID, bssid(2)) {
		t.Errorf("channel 11: %v %v", res, b.BSSID)
	}
}

// An AP that vanishes is lost by its stations after exactly BeaconLoss,
// once; it is not found while off, and is joined again once back.
func TestVanishAndReturn(t *testing.T) {
	e, m := newEnv(t, 1)
	a := addAP(t, e, radio.APConfig{SSID: "home", BSSID: bssid(1), Channel: 6, RSSI: -50, Security: radio.SecOpen}, nil)
	var l lost
	s := e.NewStation(stamac(1), nil, l.fn)
	other := e.NewStation(stamac(2), nil, nil) // not joined: never told
	join := radio.JoinRequest{SSID: "home"}
	if res, _ := s.Join(join); res != radio.JoinOK {
		t.Fatal(res)
	}

	// Off and on again within BeaconLoss: the station keeps its AP.
	a.SetOn(false)
	m.Advance(radio.BeaconLoss / 2)
	a.SetOn(true)
	m.Advance(2 * radio.BeaconLoss)
	if _, ok := s.Joined(); !ok || m.Pending() != 0 {
		t.Fatalf("a short outage dropped the station (joined %v, pending %d)", ok, m.Pending())
	}

	a.SetOn(false)
	if a.On() {
		t.Fatal("On after SetOn(false)")
	}
	if l := s.Scan(radio.ScanRequest{}); len(l) != 0 {
		t.Errorf("scan finds the vanished AP: %v", l)
	}
	if res, _ := other.Join(join); res != radio.JoinNoNetwork {
		t.Errorf("join of the vanished AP: %v", res)
	}
	m.Advance(radio.BeaconLoss - time.Nanosecond)
	if _, ok := s.Joined(); !ok || len(l.get()) != 0 {
		t.Fatalf("lost before BeaconLoss (joined %v, lost %v)", ok, l.get())
	}
	if err := s.Send(make([]byte, 60)); err != nil {
		t.Errorf("Send before the station noticed: %v", err)
	}
	m.Advance(time.Nanosecond)
	if _, ok := s.Joined(); ok {
		t.Fatal("still joined after BeaconLoss")
	}
	if len(a.Stations()) != 0 {
		t.Errorf("AP still lists %v", a.Stations())
	}
	wait.For(t, "the lost callback", func() bool { return len(l.get()) > 0 })
	if m.Pending() != 0 {
		t.Errorf("%d functions still scheduled after the loss", m.Pending())
	}
	m.Advance(10 * radio.BeaconLoss)
	if got := l.get(); len(got) != 1 || !bytes.Equal(got[0], bssid(1)) {
		t.Fatalf("lost calls %v, want one with %v", got, bssid(1))
	}
	if err := s.Send(make([]byte, 60)); !errors.Is(err, radio.ErrNotJoined) {
		t.Errorf("Send after the loss: %v", err)
	}

	a.SetOn(true)
	if res, _ := s.Join(join); res != radio.JoinOK {
		t.Fatalf("rejoin: %v", res)
	}
	s.Leave()
	a.SetOn(false)
	m.Advance(radio.BeaconLoss)
	if len(l.get()) != 1 {
		t.Error("lost called for a station that had left")
	}
}

// Closing an AP is vanishing for good: stations lose it after BeaconLoss,
// and its BSSID is free for a new AP.
func TestAPClose(t *testing.T) {
	e, m := newEnv(t, 1)
	cfg := radio.APConfig{SSID: "home", BSSID: bssid(1), Channel: 6, RSSI: -50, Security: radio.SecOpen}
	a := addAP(t, e, cfg, nil)
	var l lost
	s := e.NewStation(stamac(1), nil, l.fn)
	s.Join(radio.JoinRequest{SSID: "home"})
	a.Close()
	a.Close()
	a.SetOn(true) // no effect on a closed AP
	if a.On() || len(e.APs()) != 0 {
		t.Fatalf("closed AP: on %v, env APs %d", a.On(), len(e.APs()))
	}
	m.Advance(radio.BeaconLoss - 1)
	if _, ok := s.Joined(); !ok {
		t.Fatal("lost before BeaconLoss")
	}
	m.Advance(1)
	wait.For(t, "the lost callback", func() bool { return len(l.get()) == 1 })
	if _, err := e.AddAP(cfg, nil); err != nil {
		t.Fatalf("a new AP with the closed one's BSSID: %v", err)
	}
	if res, _ := s.Join(radio.JoinRequest{SSID: "home"}); res != radio.JoinOK {
		t.Errorf("join of the new AP: %v", res)
	}
}

// trace records the levels of an AP over n drift steps.
func trace(t *testing.T, seed int64, n int) []int {
	e, m := newEnv(t, seed)
	a := addAP(t, e, radio.APConfig{SSID: "home", BSSID: bssid(1), Channel: 6, RSSI: -60, Security: radio.SecOpen}, nil)
	s := e.NewStation(stamac(1), nil, nil)
	s.Join(radio.JoinRequest{SSID: "home"})
	a.Drift(4, 100*time.Millisecond)
	var l []int
	for range n {
		m.Advance(100 * time.Millisecond)
		rssi, _ := s.RSSI()
		if sc := s.Scan(radio.ScanRequest{Passive: true}); len(sc) != 1 || sc[0].RSSI != rssi || a.RSSI() != rssi {
			t.Fatalf("scan %+v, station %d, AP %d disagree", sc, rssi, a.RSSI())
		}
		l = append(l, rssi)
	}
	a.Drift(0, 0)
	if a.RSSI() != -60 || m.Pending() != 0 {
		t.Errorf("after Drift(0, 0): RSSI %d, %d functions scheduled", a.RSSI(), m.Pending())
	}
	if c := a.Config(); c.RSSI != -60 {
		t.Errorf("Config().RSSI = %d, want the set level", c.RSSI)
	}
	return l
}

// Drift moves the RSSI within ±dB of the set level, one step per period,
// and the same seed gives the same levels.
func TestDrift(t *testing.T) {
	a, b, c := trace(t, 7, 200), trace(t, 7, 200), trace(t, 8, 200)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different levels:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 7 and 8 gave the same levels")
	}
	prev := -60
	moved := false
	for i, v := range a {
		if v < -64 || v > -56 {
			t.Fatalf("step %d: %d dBm outside -60±4", i, v)
		}
		if d := v - prev; d < -1 || d > 1 {
			t.Fatalf("step %d: jumped %d dB", i, d)
		}
		moved = moved || v != -60
		prev = v
	}
	if !moved {
		t.Error("the level never moved")
	}
}

// Drift near 0 dBm stays within the valid range.
func TestDriftClamp(t *testing.T) {
	e, m := newEnv(t, 3)
	a := addAP(t, e, radio.APConfig{SSID: "x", BSSID: bssid(1), Channel: 1, RSSI: -1, Security: radio.SecOpen}, nil)
	a.Drift(5, time.Second)
	for range 100 {
		m.Advance(time.Second)
		if r := a.RSSI(); r > 0 || r < -6 {
			t.Fatalf("RSSI %d", r)
		}
	}
	a.SetRSSI(-30) // a new level: the drift continues around it
	m.Advance(50 * time.Second)
	if r := a.RSSI(); r < -35 || r > -25 {
		t.Fatalf("RSSI %d after SetRSSI(-30)", r)
	}
}

// ethFrame builds an Ethernet frame.
func ethFrame(dst, src net.HardwareAddr, etherType uint16, payload []byte) []byte {
	f := append(slices.Clone([]byte(dst)), src...)
	f = append(f, byte(etherType>>8), byte(etherType))
	return append(f, payload...)
}

// arpRequest asks who has target, from mac at ip.
func arpRequest(mac net.HardwareAddr, ip, target net.IP) []byte {
	p := []byte{0, 1, 8, 0, 6, 4, 0, 1}
	p = append(p, mac...)
	p = append(p, ip.To4()...)
	p = append(p, 0, 0, 0, 0, 0, 0)
	p = append(p, target.To4()...)
	return ethFrame(net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, mac, 0x0806, p)
}

// A station joined to an AP wired to the simulated LAN reaches the router:
// its ARP request goes out, the router's reply comes back to rx, and the
// counters show both frames.
func TestBridgeToRouter(t *testing.T) {
	r, err := simnet.NewRouter(simnet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	port := r.Attach("ap")
	t.Cleanup(func() { port.Close() })
	e, _ := newEnv(t, 1)
	a := addAP(t, e, radio.APConfig{SSID: "lan", BSSID: bssid(1), Channel: 6, RSSI: -50, Security: radio.SecWPA2, Passphrase: "password1"}, port)
	var rx frames
	s := e.NewStation(stamac(1), rx.rx, nil)
	if res, _ := s.Join(radio.JoinRequest{SSID: "lan", Security: radio.SecWPA2, Passphrase: "password1"}); res != radio.JoinOK {
		t.Fatal(res)
	}
	req := arpRequest(stamac(1), net.IPv4(10, 64, 0, 150), simnet.RouterAddr.AsSlice())
	if err := s.Send(req); err != nil {
		t.Fatal(err)
	}
	var reply []byte
	wait.For(t, "the router's ARP reply", func() bool {
		for _, f := range rx.get() {
			if len(f) >= 42 && bytes.Equal(f[:6], stamac(1)) && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2 {
				reply = f
				return true
			}
		}
		return false
	})
	if !bytes.Equal(reply[28:32], simnet.RouterAddr.AsSlice()) {
		t.Errorf("ARP reply from %v", net.IP(reply[28:32]))
	}
	st, as := s.Stats(), a.Stats()
	if st.TxFrames != 1 || st.TxBytes != uint64(len(req)) || as.RxFrames != 1 || as.RxBytes != uint64(len(req)) {
		t.Errorf("uplink counters: station %+v, AP %+v", st, as)
	}
	if st.RxFrames < 1 || as.TxFrames != st.RxFrames || as.TxBytes != st.RxBytes || st.RxBytes < uint64(len(reply)) {
		t.Errorf("downlink counters: station %+v, AP %+v", st, as)
	}
	if es := e.Stats(); es.TxFrames != st.TxFrames+as.TxFrames || es.RxFrames != as.RxFrames+st.RxFrames {
		t.Errorf("air counters %+v", es)
	}
}

// The AP bridges a plain LAN port both ways: a station's UDP frame comes
// out on the port unchanged, a frame from the port to the station's MAC or
// to broadcast reaches it, a frame for another MAC does not, and a frame
// to a station of the same AP goes straight to it.
func TestBridgeSegment(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{})
	apPort, lan := seg.Attach("ap"), seg.Attach("lan")
	t.Cleanup(func() { apPort.Close(); lan.Close() })
	e, _ := newEnv(t, 1)
	a := addAP(t, e, radio.APConfig{SSID: "lan", BSSID: bssid(1), Channel: 6, RSSI: -50, Security: radio.SecOpen}, apPort)
	var rx1, rx2 frames
	s1 := e.NewStation(stamac(1), rx1.rx, nil)
	s2 := e.NewStation(stamac(2), rx2.rx, nil)
	for _, s := range []*radio.Station{s1, s2} {
		if res, _ := s.Join(radio.JoinRequest{SSID: "lan"}); res != radio.JoinOK {
			t.Fatal(res)
		}
	}
	lanMAC := net.HardwareAddr{0x02, 0x4c, 0, 0, 0, 1}

	udp := ethFrame(lanMAC, stamac(1), 0x0800, bytes.Repeat([]byte{0x45}, 100))
	if err := s1.Send(udp); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1514)
	var got []byte
	wait.For(t, "the station's frame on the LAN", func() bool {
		n, _ := lan.ReadFrame(buf)
		got = buf[:n]
		return n > 0
	})
	if !bytes.Equal(got, udp) {
		t.Fatalf("LAN got % x, want % x", got, udp)
	}
	if len(rx2.get()) != 0 {
		t.Error("a unicast frame for the LAN reached another station")
	}

	// Station to station: delivered directly, synchronously, not on the LAN.
	direct := ethFrame(stamac(2), stamac(1), 0x0800, []byte("hello"))
	s1.Send(direct)
	if l := rx2.get(); len(l) != 1 || !bytes.Equal(l[0], direct) {
		t.Fatalf("station 2 got %q", l)
	}

	// From the LAN: one frame for another MAC (not delivered), one for
	// station 1, then a broadcast for both. Frames arrive in order, so once
	// the broadcast has reached station 2, station 1 has had all of its.
	lan.WriteFrame(ethFrame(net.HardwareAddr{0x02, 0, 0, 0, 0, 9}, lanMAC, 0x0800, []byte("not yours")))
	down := ethFrame(stamac(1), lanMAC, 0x0800, []byte("for station 1"))
	lan.WriteFrame(down)
	bcast := ethFrame(net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, lanMAC, 0x0806, make([]byte, 28))
	lan.WriteFrame(bcast)
	wait.For(t, "the broadcast at station 2", func() bool { return len(rx2.get()) == 2 })
	if l := rx2.get(); !bytes.Equal(l[1], bcast) {
		t.Errorf("station 2 got %q", l)
	}
	wait.For(t, "station 1's frames", func() bool { return len(rx1.get()) == 2 })
	if l := rx1.get(); !bytes.Equal(l[0], down) || !bytes.Equal(l[1], bcast) {
		t.Errorf("station 1 got %q", l)
	}

	// A broadcast from a station: to the LAN and the other station, not
	// back to itself.
	sb := ethFrame(net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, stamac(2), 0x0806, make([]byte, 28))
	s2.Send(sb)
	if l := rx1.get(); len(l) != 3 || !bytes.Equal(l[2], sb) {
		t.Errorf("station 1 got %d frames, want the broadcast last", len(l))
	}
	if len(rx2.get()) != 2 {
		t.Error("a station's broadcast came back to it")
	}
	wait.For(t, "the station's broadcast on the LAN", func() bool {
		n, _ := lan.ReadFrame(buf)
		got = buf[:n]
		return n > 0
	})
	if !bytes.Equal(got, sb) {
		t.Errorf("LAN got % x", got)
	}

	// Counters, each from its own end.
	st1, st2, as := s1.Stats(), s2.Stats(), a.Stats()
	if st1.TxFrames != 2 || st1.RxFrames != 3 || st2.TxFrames != 1 || st2.RxFrames != 2 {
		t.Errorf("station counters: 1 %+v, 2 %+v", st1, st2)
	}
	// AP: received 3 from stations; sent: direct, down, bcast (once), sb.
	if as.RxFrames != 3 || as.TxFrames != 4 {
		t.Errorf("AP counters %+v", as)
	}
	if want := uint64(len(udp) + len(direct)); st1.TxBytes != want {
		t.Errorf("station 1 TxBytes %d, want %d", st1.TxBytes, want)
	}

	// Off the air, the AP forwards nothing; its stations' frames are lost
	// without error until they notice.
	a.SetOn(false)
	if err := s1.Send(udp); err != nil {
		t.Errorf("Send to a vanished AP: %v", err)
	}
	if a.Stats().RxFrames != 3 {
		t.Error("a vanished AP received a frame")
	}
}

// Send checks the frame's length.
func TestSendLength(t *testing.T) {
	e, _ := newEnv(t, 1)
	a := addAP(t, e, radio.APConfig{SSID: "x", BSSID: bssid(1), Channel: 1, RSSI: -50, Security: radio.SecOpen}, nil)
	s := e.NewStation(stamac(1), nil, nil)
	if err := s.Send(make([]byte, 60)); !errors.Is(err, radio.ErrNotJoined) {
		t.Errorf("Send before joining: %v", err)
	}
	s.Join(radio.JoinRequest{SSID: "x"})
	for _, n := range []int{0, 13, 1515} {
		if err := s.Send(make([]byte, n)); err == nil {
			t.Errorf("Send of %d bytes: no error", n)
		}
	}
	for _, n := range []int{14, 1514} {
		if err := s.Send(make([]byte, n)); err != nil {
			t.Errorf("Send of %d bytes: %v", n, err)
		}
	}
	// No port and no station for them: the AP counts them dropped.
	if st := a.Stats(); st.RxFrames != 2 || st.Dropped != 2 {
		t.Errorf("AP counters %+v", st)
	}
}

// Close stops every goroutine and later calls fail.
func TestClose(t *testing.T) {
	before := runtime.NumGoroutine()
	seg := sim.NewSegment(sim.SegmentOptions{})
	e := radio.New(radio.Options{}) // wall clock
	var ports []*sim.FramePort
	for i := range 4 {
		p := seg.Attach("ap")
		ports = append(ports, p)
		a, err := e.AddAP(radio.APConfig{SSID: "x", BSSID: bssid(byte(i + 1)), Channel: 1, RSSI: -50, Security: radio.SecOpen}, p)
		if err != nil {
			t.Fatal(err)
		}
		a.Drift(3, time.Millisecond)
	}
	s := e.NewStation(stamac(1), nil, nil)
	if res, _ := s.Join(radio.JoinRequest{SSID: "x"}); res != radio.JoinOK {
		t.Fatal(res)
	}
	e.Close()
	e.Close()
	wait.For(t, "the goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
	if err := s.Send(make([]byte, 60)); !errors.Is(err, radio.ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	if l := s.Scan(radio.ScanRequest{}); l != nil {
		t.Errorf("Scan after Close: %v", l)
	}
	if res, _ := s.Join(radio.JoinRequest{SSID: "x"}); res != radio.JoinNoNetwork {
		t.Errorf("Join after Close: %v", res)
	}
	if _, err := e.AddAP(radio.APConfig{SSID: "y", BSSID: bssid(9), Channel: 1, Security: radio.SecOpen}, nil); !errors.Is(err, radio.ErrClosed) {
		t.Errorf("AddAP after Close: %v", err)
	}
	if err := e.NewStation(stamac(2), nil, nil).Send(make([]byte, 60)); !errors.Is(err, radio.ErrClosed) {
		t.Errorf("a station made after Close: %v", err)
	}
	for _, p := range ports {
		p.Close() // the env does not own them: still open until now
	}
}

// Many goroutines using one environment at once (run with -race).
func TestConcurrent(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{})
	apPort, lan := seg.Attach("ap"), seg.Attach("lan")
	t.Cleanup(func() { apPort.Close(); lan.Close() })
	e, m := newEnv(t, 1)
	a := addAP(t, e, radio.APConfig{SSID: "x", BSSID: bssid(1), Channel: 1, RSSI: -50, Security: radio.SecOpen}, apPort)
	a.Drift(2, time.Millisecond)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			s := e.NewStation(stamac(byte(i)), func([]byte) {}, func(net.HardwareAddr) {})
			defer s.Close()
			for range 200 {
				s.Join(radio.JoinRequest{SSID: "x"})
				s.Send(ethFrame(stamac(byte(i+1)%4), stamac(byte(i)), 0x0800, make([]byte, 50)))
				s.Scan(radio.ScanRequest{})
				s.Stats()
			}
		})
	}
	wg.Go(func() {
		for j := range 200 {
			a.SetOn(j%3 != 0)
			m.Advance(100 * time.Millisecond)
			lan.WriteFrame(ethFrame(net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, stamac(9), 0x0800, make([]byte, 50)))
			a.Stations()
			a.Stats()
		}
	})
	wg.Wait()
}

// Accepts follows the table of Security's documentation.
func TestAccepts(t *testing.T) {
	kinds := []radio.Security{radio.SecOpen, radio.SecWEP, radio.SecWPA, radio.SecWPA2, radio.SecWPAWPA2, radio.SecWPA3, radio.SecWPA2WPA3}
	table := []string{ // AP row, station column in the order of kinds
		"x......",
		".x.....",
		"..x.x..",
		"...xx.x",
		"..xxx.x",
		".....xx",
		"...xxxx",
	}
	for i, ap := range kinds {
		for j, st := range kinds {
			if want := table[i][j] == 'x'; ap.Accepts(st) != want {
				t.Errorf("%v AP accepts %v station: %v, want %v", ap, st, !want, want)
			}
		}
	}
	if radio.Security(5).Valid() || radio.SecWPA2.Accepts(5) {
		t.Error("Security 5 is valid")
	}
}
