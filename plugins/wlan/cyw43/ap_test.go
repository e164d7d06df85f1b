package cyw43

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/plugins/wlan/radio"
)

// iovarOn sends an iovar SET on interface iface and returns its status.
func (h *host) iovarOn(iface int, name string, v []byte) int32 {
	h.t.Helper()
	st, _ := h.ioctlOn(iface, wlcSetVar, true, append([]byte(name+"\x00"), v...))
	return st
}

// mustIovarOn is iovarOn that fails the test unless the status is 0.
func (h *host) mustIovarOn(iface int, name string, v []byte) {
	h.t.Helper()
	if st := h.iovarOn(iface, name, v); st != 0 {
		h.t.Fatalf("SET %s on interface %d: status %d", name, iface, st)
	}
}

// getVarArg is an iovar GET with arg after the name and room for n bytes.
func (h *host) getVarArg(iface int, name string, arg []byte, n int) (int32, []byte) {
	h.t.Helper()
	room := append(append([]byte(name+"\x00"), arg...), make([]byte, n)...)
	st, resp := h.ioctlOn(iface, wlcGetVar, false, room)
	return st, resp[:n]
}

func ssidStruct(s string) []byte {
	b := make([]byte, ssidStructLen)
	binary.LittleEndian.PutUint32(b, uint32(len(s)))
	copy(b[4:], s)
	return b
}

func pmkStruct(key string, flags uint16) []byte {
	p := make([]byte, pmkLen)
	binary.LittleEndian.PutUint16(p[0:], uint16(len(key)))
	binary.LittleEndian.PutUint16(p[2:], flags)
	copy(p[4:], key)
	return p
}

func saeStruct(key string) []byte {
	p := make([]byte, saePasswordLen)
	binary.LittleEndian.PutUint16(p, uint16(len(key)))
	copy(p[2:], key)
	return p
}

func bsscfg1(v ...uint32) []byte {
	b := le32(1)
	for _, x := range v {
		b = append(b, le32(x)...)
	}
	return b
}

// apSec is the spec's mapping of a security to (wsec, wpa_auth, mfp).
var apSec = map[radio.Security][3]uint32{
	radio.SecOpen: {0, 0, 0}, radio.SecWPA: {2, 0x4, 0}, radio.SecWPA2: {4, 0x80, 0},
	radio.SecWPAWPA2: {6, 0x84, 0}, radio.SecWPA3: {4, 0x40000, 2}, radio.SecWPA2WPA3: {4, 0x40080, 1},
}

// apSetup is an access point a test starts.
type apSetup struct {
	mac     net.HardwareAddr // nil: the default
	ssid    string
	channel uint32
	hidden  bool
	sec     radio.Security
	key     string
}

// configAP sends steps 1-8 of the spec's AP sequence.
func (h *host) configAP(s apSetup) {
	h.t.Helper()
	if s.mac != nil {
		h.mustIovarOn(0, "bsscfg:cur_etheraddr", append(le32(1), s.mac...))
	}
	h.mustIovarOn(0, "bsscfg:ssid", append(le32(1), ssidStruct(s.ssid)...))
	if st, _ := h.ioctlOn(ifAP, wlcSetChannel, true, le32(s.channel)); st != 0 {
		h.t.Fatalf("SET_CHANNEL %d on interface 1: status %d", s.channel, st)
	}
	h.mustIovarOn(0, "bsscfg:closednet", bsscfg1(b2u(s.hidden)))
	m := apSec[s.sec]
	h.mustIovarOn(0, "bsscfg:wsec", bsscfg1(m[0]))
	h.mustIovarOn(0, "bsscfg:wpa_auth", bsscfg1(m[1]))
	h.mustIovarOn(ifAP, "mfp", le32(m[2]))
	if m[1]&(wpaAuthPSK|wpaAuth2PSK) != 0 {
		if st, _ := h.ioctlOn(ifAP, wlcSetWsecPMK, true, pmkStruct(s.key, pmkPassphrase)); st != 0 {
			h.t.Fatalf("SET_WSEC_PMK on interface 1: status %d", st)
		}
	}
	if m[1]&wpaAuth3SAE != 0 {
		h.mustIovarOn(ifAP, "sae_password", saeStruct(s.key))
	}
}

// bss sends bss (1, up) and returns the status.
func (h *host) bss(up bool) int32 {
	h.t.Helper()
	return h.iovarOn(0, "bss", bsscfg1(b2u(up)))
}

// bssUp reads GET bss (1).
func (h *host) bssUp() bool {
	h.t.Helper()
	st, v := h.getVarArg(0, "bss", le32(1), 4)
	if st != 0 {
		h.t.Fatalf("GET bss (1): status %d", st)
	}
	return binary.LittleEndian.Uint32(v) == 1
}

// startAP configures and starts an AP; the LINK event must follow the
// response.
func (h *host) startAP(s apSetup) {
	h.t.Helper()
	h.configAP(s)
	h.takeEvents()
	if st := h.bss(true); st != 0 {
		h.t.Fatalf("bss (1, 1): status %d", st)
	}
	if len(h.events) != 0 {
		h.t.Fatalf("events before the bss response: %s", apEventList(h.events))
	}
	h.drain()
	evs := h.takeEvents()
	if len(evs) != 1 || evs[0].typ != evLink || evs[0].flags != linkFlagUp || evs[0].ifidx != ifAP || evs[0].bsscfg != ifAP {
		h.t.Fatalf("events after bss (1, 1): %s, want LINK up on interface 1", apEventList(evs))
	}
}

// apEventList renders events with their interface and address.
func apEventList(evs []rxEvent) string {
	var s []string
	for _, e := range evs {
		if e.typ == evEscanResult {
			continue
		}
		s = append(s, fmt.Sprintf("%s %d/%d/%d if%d/%d %v", evName(e.typ), e.status, e.reason, e.flags, e.ifidx, e.bsscfg, e.addr))
	}
	return strings.Join(s, ", ")
}

// assocList reads GET_ASSOCLIST on interface 1 with room for max MACs.
func (h *host) assocList(max int) (int, []net.HardwareAddr) {
	h.t.Helper()
	req := append(le32(uint32(max)), make([]byte, 6*max)...)
	st, resp := h.ioctlOn(ifAP, wlcGetAssocList, false, req)
	if st != 0 {
		h.t.Fatalf("GET_ASSOCLIST: status %d", st)
	}
	n := int(binary.LittleEndian.Uint32(resp))
	var l []net.HardwareAddr
	for i := 0; i < min(n, max); i++ {
		l = append(l, net.HardwareAddr(slices.Clone(resp[4+6*i:10+6*i])))
	}
	return n, l
}

// stationRSSI reads GET_RSSI on interface 1 for mac.
func (h *host) stationRSSI(mac net.HardwareAddr) (int32, int32) {
	h.t.Helper()
	st, resp := h.ioctlOn(ifAP, wlcGetRSSI, false, append(le32(0), mac...))
	return st, int32(binary.LittleEndian.Uint32(resp))
}

func (h *host) apChannel() uint32 {
	h.t.Helper()
	st, resp := h.ioctlOn(ifAP, wlcGetChannel, false, make([]byte, 12))
	if st != 0 {
		h.t.Fatalf("GET_CHANNEL on interface 1: status %d", st)
	}
	return binary.LittleEndian.Uint32(resp)
}

// sendData sends an Ethernet frame on interface ifidx (BDC flags2).
func (h *host) sendData(ifidx byte, eth []byte) {
	h.t.Helper()
	h.sendFrame(chanData, sdpcmDataHdr, append([]byte{bdcVersion2, 0, ifidx, 0}, eth...))
}

// takeData returns the data frames read so far with their interfaces and
// forgets them.
func (h *host) takeData() ([][]byte, []byte) {
	d, i := h.data, h.dataIf
	h.data, h.dataIf = nil, nil
	return d, i
}

var (
	apMAC   = net.HardwareAddr{0x02, 0xA9, 0, 0, 0, 1} // the AP chip's BSSID
	macB    = net.HardwareAddr{0x02, 0x43, 0x34, 0x39, 0x00, 0x0B}
	macBare = net.HardwareAddr{0x02, 0x57, 0, 0, 0, 7}
)

// apWorld is newWorld's chip (A, the AP) and a second chip (B, a station)
// in the same radio environment, on one clock.
type apWorld struct {
	*world
	b  *Chip
	hb *host
	bw *world // B as a world, for its joins and scans
	aw *world // A's station side
}

func newAPWorld(t *testing.T, o Options, ext ...radio.APConfig) *apWorld {
	t.Helper()
	env, clk := newEnv(t)
	seg := sim.NewSegment(sim.SegmentOptions{})
	w := &world{env: env, clk: clk, aps: map[string]*radio.AP{}, lan: seg.Attach("lan")}
	for _, cfg := range ext {
		ap, err := env.AddAP(cfg, seg.Attach("ap-"+cfg.SSID))
		if err != nil {
			t.Fatal(err)
		}
		w.aps[cfg.SSID] = ap
	}
	w.c, w.h = newChipOpts(t, env, clk, o)
	w.h.up()
	b, hb := newChipOpts(t, w.env, w.clk, Options{MAC: macB})
	hb.up()
	return &apWorld{world: w, b: b, hb: hb,
		bw: &world{env: w.env, clk: w.clk, c: b, h: hb, aps: w.aps},
		aw: w}
}

// The AP starts with the spec's sequence (response, then LINK up on
// interface 1, bsscfg 1, the BSSID) and is on the air as configured; the
// default AP address is the OTP MAC with the locally administered bit;
// bss (1, 0) takes it down (LINK down on interface 1), a second bss (1, 1)
// brings it back, and powering off takes it off the air.
func TestAP_StartStop(t *testing.T) {
	env, clk := newEnv(t)
	otp := net.HardwareAddr{0x00, 0xA0, 0x50, 0x11, 0x22, 0x33}
	c, h := newChipOpts(t, env, clk, Options{MAC: otp})
	h.up()
	st, v := h.getVarArg(0, "bsscfg:cur_etheraddr", le32(1), 6)
	if want := (net.HardwareAddr{0x02, 0xA0, 0x50, 0x11, 0x22, 0x33}); st != 0 || !bytes.Equal(v, want) {
		t.Fatalf("GET bsscfg:cur_etheraddr (1): status %d, % X, want % X", st, v, want)
	}
	if h.bssUp() || c.APUp() {
		t.Fatal("AP up before bss (1, 1)")
	}
	h.startAP(apSetup{mac: apMAC, ssid: "nichost-ap", channel: 6, sec: radio.SecOpen})
	if _, v := h.getVarArg(0, "bsscfg:cur_etheraddr", le32(1), 6); !bytes.Equal(v, apMAC) {
		t.Fatalf("AP address % X after SET", v)
	}
	if st, v := h.getVarArg(0, "bsscfg:ssid", le32(1), ssidStructLen); st != 0 || string(v[4:4+binary.LittleEndian.Uint32(v)]) != "nichost-ap" {
		t.Fatalf("GET bsscfg:ssid (1): %d % X", st, v)
	}
	if !h.bssUp() || !c.APUp() {
		t.Fatal("GET bss (1) is not 1 after the start")
	}
	aps := env.APs()
	if len(aps) != 1 || aps[0] != c.AP() {
		t.Fatalf("%d APs on the air", len(aps))
	}
	cfg := aps[0].Config()
	if cfg.SSID != "nichost-ap" || !bytes.Equal(cfg.BSSID, apMAC) || cfg.Channel != 6 || cfg.RSSI != DefaultAPRSSI ||
		cfg.Security != radio.SecOpen || cfg.Hidden {
		t.Fatalf("radio AP %+v", cfg)
	}
	if ch := h.apChannel(); ch != 6 {
		t.Fatalf("GET_CHANNEL on interface 1: %d", ch)
	}
	if n, _ := h.assocList(4); n != 0 {
		t.Fatalf("%d stations", n)
	}
	// The station interface is unaffected.
	if st, _ := h.ioctl(wlcGetRSSI, false, le32(0)); st != bcmeNotAssociated {
		t.Fatalf("station GET_RSSI: status %d", st)
	}

	if st := h.bss(false); st != 0 {
		t.Fatalf("bss (1, 0): status %d", st)
	}
	h.drain()
	if got, want := apEventList(h.takeEvents()), "LINK 0/0/0 if1/1 "+apMAC.String(); got != want {
		t.Fatalf("stop events %s, want %s", got, want)
	}
	if h.bssUp() || len(env.APs()) != 0 || c.AP() != nil {
		t.Fatal("AP still up after bss (1, 0)")
	}
	if st := h.bss(false); st != 0 {
		t.Fatalf("a second bss (1, 0): status %d", st)
	}
	h.sendData(ifAP, ethFrame(macB, apMAC, 60))
	if s := c.Stats(); s.TxDropped != 1 {
		t.Fatalf("a frame for the AP while down: TxDropped %d", s.TxDropped)
	}

	h.takeEvents()
	if st := h.bss(true); st != 0 {
		t.Fatalf("restart: status %d", st)
	}
	h.drain()
	if len(env.APs()) != 1 || len(h.takeEvents()) != 1 {
		t.Fatal("the restart did not bring the AP back")
	}
	h.power(false)
	if len(env.APs()) != 0 || c.APUp() {
		t.Fatal("AP still on the air after power-off")
	}
	checkErrors(t, c)
}

// Each missing or bad piece of configuration refuses bss (1, 1) with the
// spec's status and a misuse naming it; nothing goes on the air.
func TestAP_StartRefusals(t *testing.T) {
	ssid := func(h *host) { h.mustIovarOn(0, "bsscfg:ssid", append(le32(1), ssidStruct("ap")...)) }
	sec := func(h *host, s radio.Security) {
		m := apSec[s]
		h.mustIovarOn(0, "bsscfg:wsec", bsscfg1(m[0]))
		h.mustIovarOn(0, "bsscfg:wpa_auth", bsscfg1(m[1]))
		h.mustIovarOn(ifAP, "mfp", le32(m[2]))
	}
	pmk := func(h *host, key string, flags uint16) {
		if st, _ := h.ioctlOn(ifAP, wlcSetWsecPMK, true, pmkStruct(key, flags)); st != 0 {
			h.t.Fatalf("SET_WSEC_PMK: status %d", st)
		}
	}
	for _, tc := range []struct {
		name  string
		setup func(h *host) // after h.up() unless noUp
		noUp  bool
		want  int32
		errs  []string
	}{
		{"before the CLM", func(h *host) {
			h.busInit(busNichost)
			h.download(testFirmware(8192), testNVRAM, true)
			h.boot()
		}, true, bcmeError, []string{`iovar SET "bss" before the CLM is loaded`}},
		{"firmware down", func(h *host) {
			h.bringUp(busNichost)
			ssid(h)
		}, true, bcmeError, []string{"the firmware is down (WLC_UP first)"}},
		{"no SSID", func(h *host) {}, false, bcmeError, []string{"the AP has no SSID"}},
		{"SSID of 33 bytes", func(h *host) {
			b := append(le32(1), le32(33)...)
			if st := h.iovarOn(0, "bsscfg:ssid", append(b, make([]byte, 33)...)); st != bcmeBadArg {
				t.Fatalf("33-byte SSID: status %d", st)
			}
		}, false, bcmeError, []string{"an AP's SSID has 1..32 bytes", "the AP has no SSID"}},
		{"WPA2 without its passphrase", func(h *host) { ssid(h); sec(h, radio.SecWPA2) }, false, bcmeError,
			[]string{"a WPA2 AP without its passphrase (SET_WSEC_PMK on interface 1 first)"}},
		{"WPA2 with a PMK", func(h *host) { ssid(h); sec(h, radio.SecWPA2); pmk(h, strings.Repeat("ab", 32), 0) }, false, bcmeBadArg,
			[]string{"the simulated AP takes the passphrase"}},
		{"the PMK on interface 0", func(h *host) {
			ssid(h)
			sec(h, radio.SecWPA2)
			h.mustIoctl(wlcSetWsecPMK, true, pmkStruct("station key", pmkPassphrase))
		}, false, bcmeError, []string{"without its passphrase"}},
		{"WPA3 without its SAE password", func(h *host) { ssid(h); sec(h, radio.SecWPA3) }, false, bcmeError,
			[]string{"a WPA3 AP without its SAE password (sae_password on interface 1 first)"}},
		{"WPA2/WPA3 with two secrets", func(h *host) {
			ssid(h)
			sec(h, radio.SecWPA2WPA3)
			pmk(h, "first secret", pmkPassphrase)
			h.mustIovarOn(ifAP, "sae_password", saeStruct("other secret"))
		}, false, bcmeBadArg, []string{"differ: the simulated AP has one secret"}},
		{"WPA3 without mfp 2", func(h *host) {
			ssid(h)
			sec(h, radio.SecWPA3)
			h.mustIovarOn(ifAP, "mfp", le32(1))
			h.mustIovarOn(ifAP, "sae_password", saeStruct("sae secret"))
		}, false, bcmeBadArg, []string{"WPA3 requires management frame protection (mfp 2)"}},
		{"open with a cipher", func(h *host) { ssid(h); h.mustIovarOn(0, "bsscfg:wsec", bsscfg1(4)) }, false, bcmeBadArg,
			[]string{"an open AP has wsec 0"}},
		{"WEP", func(h *host) {
			ssid(h)
			if st := h.iovarOn(0, "bsscfg:wsec", bsscfg1(1)); st != bcmeBadArg {
				t.Fatalf("wsec 1: status %d", st)
			}
			if st := h.iovarOn(0, "bsscfg:wpa_auth", bsscfg1(0x8)); st != bcmeBadArg {
				t.Fatalf("wpa_auth 8: status %d", st)
			}
		}, false, bcmeOK, []string{"WEP is not offered", "the AP takes 0, 0x4"}},
		{"channel 13 in XX", func(h *host) {
			ssid(h)
			h.ioctlOn(ifAP, wlcSetChannel, true, le32(13))
			if st, _ := h.ioctlOn(ifAP, wlcSetChannel, true, le32(15)); st != bcmeBadArg {
				t.Fatalf("SET_CHANNEL 15: status %d", st)
			}
		}, false, bcmeBadArg, []string{"the AP's channel is 1..14", "channel 13 is not allowed in country XX (channels [1 2 3 4 5 6 7 8 9 10 11])"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, clk := newEnv(t)
			c, h := newChip(t, env, clk)
			if !tc.noUp {
				h.up()
			}
			tc.setup(h)
			if st := h.bss(true); st != tc.want {
				t.Fatalf("bss (1, 1): status %d, want %d", st, tc.want)
			}
			up := tc.want == bcmeOK
			if up != c.APUp() || (len(env.APs()) == 1) != up {
				t.Fatalf("AP up %v, %d on the air", c.APUp(), len(env.APs()))
			}
			checkErrors(t, c, tc.errs...)
		})
	}
	// GET_RSSI on interface 1 needs a station's MAC.
	_, h := newChip(t, nil, nil)
	h.up()
	if st, _ := h.ioctlOn(ifAP, wlcGetRSSI, false, le32(0)); st != bcmeBadArg {
		t.Fatalf("GET_RSSI on interface 1 without a MAC: status %d", st)
	}
	checkErrors(t, h.c, "the AP has no RSSI of its own")
}

// Stations join the chip's WPA2 AP: a second chip with the right key (its
// part 1 join script; ASSOC_IND on interface 1 at the AP), a bare radio
// station; the assoc list and per-station RSSI follow (Options.APRSSI and
// a station's own level); a wrong key is refused with no ASSOC_IND; a
// station leaving is DISASSOC_IND (reason 8).
func TestAP_StationsJoinAndLeave(t *testing.T) {
	w := newAPWorld(t, Options{APRSSI: -52})
	ha := w.h
	ha.startAP(apSetup{mac: apMAC, ssid: "chip-ap", channel: 3, sec: radio.SecWPA2, key: "chip secret"})

	evs := w.bw.join(t, "chip-ap", radio.SecWPA2, "wrong secret")
	if got, want := eventList(evs), "AUTH 0/0/0, PSK_SUP 1/0/0, DEAUTH_IND 0/2/0"; got != want {
		t.Fatalf("wrong key at the station: %s, want %s", got, want)
	}
	ha.drain()
	if evs := ha.takeEvents(); len(evs) != 0 {
		t.Fatalf("AP events for a wrong key: %s", apEventList(evs))
	}

	evs = w.bw.join(t, "chip-ap", radio.SecWPA2, "chip secret")
	if got, want := eventList(evs), "AUTH 0/0/0, ASSOC 0/0/0, LINK 0/0/1, JOIN 0/0/0, SET_SSID 0/0/0, PSK_SUP 6/0/0"; got != want {
		t.Fatalf("join at the station: %s, want %s", got, want)
	}
	if !w.b.Linked() {
		t.Fatal("station chip not linked")
	}
	ha.drain()
	if got, want := apEventList(ha.takeEvents()), "ASSOC_IND 0/0/0 if1/1 "+macB.String(); got != want {
		t.Fatalf("AP events %s, want %s", got, want)
	}
	if rssi := int32(binary.LittleEndian.Uint32(w.hb.mustIoctl(wlcGetRSSI, false, le32(0)))); rssi != -52 {
		t.Fatalf("the station hears the AP at %d, want -52", rssi)
	}

	bare := w.env.NewStation(macBare, nil, nil)
	if res, _ := bare.Join(radio.JoinRequest{SSID: "chip-ap", Security: radio.SecWPA2, Passphrase: "nope nope"}); res != radio.JoinWrongKey {
		t.Fatal(res)
	}
	bare.SetRSSI(-61)
	if res, _ := bare.Join(radio.JoinRequest{SSID: "chip-ap", Security: radio.SecWPA2, Passphrase: "chip secret"}); res != radio.JoinOK {
		t.Fatal(res)
	}
	ha.drain()
	if got, want := apEventList(ha.takeEvents()), "ASSOC_IND 0/0/0 if1/1 "+macBare.String(); got != want {
		t.Fatalf("AP events %s, want %s", got, want)
	}
	if n, l := ha.assocList(8); n != 2 || len(l) != 2 || !bytes.Equal(l[0], macB) || !bytes.Equal(l[1], macBare) {
		t.Fatalf("assoc list %d %v", n, l)
	}
	if n, l := ha.assocList(1); n != 2 || len(l) != 1 || !bytes.Equal(l[0], macB) {
		t.Fatalf("assoc list with room for 1: %d %v", n, l)
	}
	if st, v := ha.stationRSSI(macB); st != 0 || v != -52 {
		t.Fatalf("GET_RSSI of the chip station: status %d, %d dBm", st, v)
	}
	if st, v := ha.stationRSSI(macBare); st != 0 || v != -61 {
		t.Fatalf("GET_RSSI of the bare station: status %d, %d dBm", st, v)
	}
	if st, _ := ha.stationRSSI(net.HardwareAddr{2, 0, 0, 0, 0, 9}); st != bcmeNotFound {
		t.Fatalf("GET_RSSI of no station: status %d", st)
	}

	w.hb.mustIoctl(wlcDisassoc, true, nil)
	ha.drain()
	if got, want := apEventList(ha.takeEvents()), "DISASSOC_IND 0/8/0 if1/1 "+macB.String(); got != want {
		t.Fatalf("AP events %s, want %s", got, want)
	}
	if n, l := ha.assocList(8); n != 1 || !bytes.Equal(l[0], macBare) {
		t.Fatalf("assoc list after the leave %d %v", n, l)
	}
	bare.Close()
	ha.drain()
	if got, want := apEventList(ha.takeEvents()), "DISASSOC_IND 0/8/0 if1/1 "+macBare.String(); got != want {
		t.Fatalf("AP events %s, want %s", got, want)
	}
	if n, _ := ha.assocList(8); n != 0 {
		t.Fatalf("%d stations after both left", n)
	}
	checkErrors(t, w.c)
	checkErrors(t, w.b)
}

// The event mask gates the AP's station events as the station's.
func TestAP_EventMask(t *testing.T) {
	w := newAPWorld(t, Options{})
	ha := w.h
	ha.startAP(apSetup{mac: apMAC, ssid: "chip-ap", channel: 1, sec: radio.SecOpen})
	mask := bytes.Repeat([]byte{0xFF}, 24)
	mask[evAssocInd/8] &^= 1 << (evAssocInd % 8)
	ha.setVar("bsscfg:event_msgs", append(le32(0), mask...))
	masked := w.c.Stats().EventsMasked
	w.bw.join(t, "chip-ap", radio.SecOpen, "")
	ha.drain()
	if evs := ha.takeEvents(); len(evs) != 0 || w.c.Stats().EventsMasked != masked+1 {
		t.Fatalf("masked ASSOC_IND: events %s, masked %d", apEventList(evs), w.c.Stats().EventsMasked-masked)
	}
	if n, _ := ha.assocList(4); n != 1 {
		t.Fatalf("assoc list %d", n)
	}
}

// Data through the AP interface: the host's frames with BDC flags2 1 go to
// the AP's stations; the stations' frames for the host (unicast to it, or
// group) come with flags2 1; station-to-station traffic is bridged by the
// radio without the host.
func TestAP_Data(t *testing.T) {
	w := newAPWorld(t, Options{})
	ha, hb := w.h, w.hb
	ha.startAP(apSetup{mac: apMAC, ssid: "chip-ap", channel: 1, sec: radio.SecOpen})
	w.bw.join(t, "chip-ap", radio.SecOpen, "")
	var bareRx [][]byte
	bare := w.env.NewStation(macBare, func(f []byte) { bareRx = append(bareRx, f) }, nil)
	if res, _ := bare.Join(radio.JoinRequest{SSID: "chip-ap"}); res != radio.JoinOK {
		t.Fatal(res)
	}

	down := ethFrame(macB, apMAC, 1514)
	ha.sendData(ifAP, down)
	hb.drain()
	if d, ifs := hb.takeData(); len(d) != 1 || !bytes.Equal(d[0], down) || ifs[0] != ifSTA {
		t.Fatalf("station chip got %d frames (interfaces %v)", len(d), ifs)
	}
	bcast := ethFrame(net.HardwareAddr{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, apMAC, 60)
	ha.sendData(ifAP, bcast)
	hb.drain()
	if d, _ := hb.takeData(); len(d) != 1 || !bytes.Equal(d[0], bcast) || len(bareRx) != 1 {
		t.Fatalf("broadcast from the host: station chip %d frames, bare station %d", len(d), len(bareRx))
	}

	up := ethFrame(apMAC, macB, 200)
	hb.sendData(ifSTA, up)
	ha.drain()
	if d, ifs := ha.takeData(); len(d) != 1 || !bytes.Equal(d[0], up) || ifs[0] != ifAP {
		t.Fatalf("AP host got %d frames (interfaces %v), want the station's with flags2 1", len(d), ifs)
	}
	group := ethFrame(net.HardwareAddr{0x01, 0x00, 0x5E, 0, 0, 1}, macB, 80)
	hb.sendData(ifSTA, group)
	ha.drain()
	if d, ifs := ha.takeData(); len(d) != 1 || !bytes.Equal(d[0], group) || ifs[0] != ifAP || len(bareRx) != 2 {
		t.Fatalf("group frame: AP host %d frames (%v), bare station %d", len(d), ifs, len(bareRx))
	}
	local := ethFrame(macBare, macB, 90)
	hb.sendData(ifSTA, local)
	ha.drain()
	if d, _ := ha.takeData(); len(d) != 0 || len(bareRx) != 3 || !bytes.Equal(bareRx[2], local) {
		t.Fatalf("station to station: AP host %d frames, bare station %d", len(d), len(bareRx))
	}
	// The AP chip's station is not joined: its frames are dropped.
	ha.sendData(ifSTA, ethFrame(bssid(1), apMAC, 60))
	if s := w.c.Stats(); s.TxFrames != 2 || s.TxDropped != 1 || s.RxFrames != 2 {
		t.Fatalf("AP chip stats %+v", s)
	}
	checkErrors(t, w.c)
	checkErrors(t, w.b)
}

// A hidden AP (closednet 1) beacons without its SSID: a passive scan shows
// it nameless, a directed scan finds it, a join by SSID works.
func TestAP_Hidden(t *testing.T) {
	w := newAPWorld(t, Options{})
	ha := w.h
	ha.startAP(apSetup{mac: apMAC, ssid: "secret-ap", channel: 6, hidden: true, sec: radio.SecWPA3, key: "sae secret"})
	if cfg := w.c.AP().Config(); !cfg.Hidden || cfg.Security != radio.SecWPA3 {
		t.Fatalf("radio AP %+v", cfg)
	}
	if _, v := ha.getVarArg(0, "bsscfg:closednet", le32(1), 4); binary.LittleEndian.Uint32(v) != 1 {
		t.Fatalf("closednet reads %d", binary.LittleEndian.Uint32(v))
	}
	got := w.bw.escan(t, scanOpts{passive: true, chans: []uint16{6}, syncID: 1}, defaultPassiveDwell*time.Millisecond)
	if len(got) != 1 || got[0].ssid != "" || !bytes.Equal(got[0].bssid, apMAC) || got[0].security != "sae" {
		t.Fatalf("passive scan %+v", got)
	}
	got = w.bw.escan(t, scanOpts{ssid: "secret-ap", chans: []uint16{6}, syncID: 2}, defaultActiveDwell*time.Millisecond)
	if len(got) != 2 || got[1].ssid != "secret-ap" {
		t.Fatalf("directed scan %+v", got)
	}
	evs := w.bw.join(t, "secret-ap", radio.SecWPA3, "sae secret")
	if !w.b.Linked() {
		t.Fatalf("join of the hidden AP: %s", eventList(evs))
	}
	ha.drain()
	if got := apEventList(ha.takeEvents()); got != "ASSOC_IND 0/0/0 if1/1 "+macB.String() {
		t.Fatalf("AP events %s", got)
	}
}

// One radio: the AP starts on the channel the chip's station is joined on,
// and moves when the station joins elsewhere; its stations stay associated
// and see the new channel. The station interface keeps working.
func TestAP_ChannelFollow(t *testing.T) {
	w := newAPWorld(t, Options{},
		radio.APConfig{SSID: "ext6", BSSID: bssid(0x61), Channel: 6, RSSI: -50, Security: radio.SecOpen},
		radio.APConfig{SSID: "ext11", BSSID: bssid(0x62), Channel: 11, RSSI: -50, Security: radio.SecOpen},
	)
	ha := w.h
	w.aw.join(t, "ext6", radio.SecOpen, "")
	ha.startAP(apSetup{mac: apMAC, ssid: "chip-ap", channel: 1, sec: radio.SecOpen})
	if ch := ha.apChannel(); ch != 6 {
		t.Fatalf("AP on channel %d, want the station's 6", ch)
	}
	if cfg := w.c.AP().Config(); cfg.Channel != 6 {
		t.Fatalf("radio AP on channel %d", cfg.Channel)
	}
	w.bw.join(t, "chip-ap", radio.SecOpen, "")
	ha.drain()
	ha.takeEvents()

	w.aw.join(t, "ext11", radio.SecOpen, "")
	if ch := ha.apChannel(); ch != 11 {
		t.Fatalf("AP on channel %d after the station moved to 11", ch)
	}
	if cfg := w.c.AP().Config(); cfg.Channel != 11 {
		t.Fatalf("radio AP on channel %d", cfg.Channel)
	}
	if b, ok := w.b.Station().Joined(); !ok || b.Channel != 11 || !w.b.Linked() {
		t.Fatalf("station chip joined %v on %d", ok, b.Channel)
	}
	if v := binary.LittleEndian.Uint32(w.hb.mustIoctl(wlcGetChannel, false, make([]byte, 12))); v != 11 {
		t.Fatalf("station chip GET_CHANNEL %d", v)
	}
	ha.drain()
	for _, e := range ha.takeEvents() {
		if e.ifidx == ifAP {
			t.Fatalf("AP event on the channel switch: %v", e)
		}
	}
	// The station side still carries data to its LAN.
	out := ethFrame(net.HardwareAddr{0x02, 0xBB, 0, 0, 0, 1}, DefaultMAC, 100)
	ha.sendData(ifSTA, out)
	buf := make([]byte, 2000)
	var n int
	wait.For(t, "the station's frame on the LAN", func() bool {
		n, _ = w.lan.ReadFrame(buf)
		return n > 0
	})
	if !bytes.Equal(buf[:n], out) {
		t.Fatalf("LAN got %d bytes", n)
	}
	checkErrors(t, w.c)
}

// bss (1, 0) deauthenticates the AP's stations at once: a station chip
// reports DEAUTH_IND (reason 3) and LINK down without the clock moving,
// the AP's host DEAUTH_IND per station and LINK down on interface 1.
// Powering the AP chip off does the same to the air.
func TestAP_StopDeauthenticates(t *testing.T) {
	w := newAPWorld(t, Options{})
	ha, hb := w.h, w.hb
	ha.startAP(apSetup{mac: apMAC, ssid: "chip-ap", channel: 1, sec: radio.SecWPA2, key: "chip secret"})
	w.bw.join(t, "chip-ap", radio.SecWPA2, "chip secret")
	var lost []radio.Loss
	bare := w.env.NewStationLoss(macBare, nil, func(_ net.HardwareAddr, why radio.Loss) { lost = append(lost, why) })
	bare.Join(radio.JoinRequest{SSID: "chip-ap", Security: radio.SecWPA2, Passphrase: "chip secret"})
	ha.drain()
	ha.takeEvents()
	hb.takeEvents()
	pending := w.clk.Pending()

	if st := ha.bss(false); st != 0 {
		t.Fatalf("bss (1, 0): status %d", st)
	}
	hb.drain()
	if got, want := apEventList(hb.takeEvents()), "DEAUTH_IND 0/3/0 if0/0 "+apMAC.String()+", LINK 0/2/0 if0/0 "+apMAC.String(); got != want {
		t.Fatalf("station chip events %s, want %s", got, want)
	}
	if w.b.Linked() || len(lost) != 1 || lost[0] != radio.LossDeauth {
		t.Fatalf("after the stop: station chip linked %v, bare station lost %v", w.b.Linked(), lost)
	}
	if _, ok := w.b.Station().Joined(); ok {
		t.Fatal("station chip still joined")
	}
	ha.drain()
	want := "DEAUTH_IND 0/3/0 if1/1 " + macB.String() + ", DEAUTH_IND 0/3/0 if1/1 " + macBare.String() + ", LINK 0/0/0 if1/1 " + apMAC.String()
	if got := apEventList(ha.takeEvents()); got != want {
		t.Fatalf("AP events %s, want %s", got, want)
	}
	if w.clk.Pending() > pending {
		t.Fatal("the stop scheduled something on the clock")
	}

	// Again, by powering the AP chip off.
	if st := ha.bss(true); st != 0 {
		t.Fatalf("restart: status %d", st)
	}
	w.bw.join(t, "chip-ap", radio.SecWPA2, "chip secret")
	hb.takeEvents()
	ha.power(false)
	hb.drain()
	if got, want := eventList(hb.takeEvents()), "DEAUTH_IND 0/3/0, LINK 0/2/0"; got != want {
		t.Fatalf("station chip events after the AP's power-off %s, want %s", got, want)
	}
	if len(w.env.APs()) != 0 {
		t.Fatal("AP on the air after power-off")
	}
	checkErrors(t, w.c)
	checkErrors(t, w.b)
}
