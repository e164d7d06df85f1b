package cyw43

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/plugins/wlan/radio"
)

// scanOpts are the escan parameters a test varies.
type scanOpts struct {
	ssid     string
	passive  bool
	dwell    int32    // ms, 0: -1 (default)
	chans    []uint16 // chanspecs or plain channels
	syncID   uint16
	bssidAny bool
}

// escanParams builds the escan value (fact sheet 5.4).
func escanParams(o scanOpts) []byte {
	b := make([]byte, escanFixedLen+2*len(o.chans))
	le := binary.LittleEndian
	le.PutUint32(b[0:], escanVersion)
	le.PutUint16(b[4:], escanActionStart)
	le.PutUint16(b[6:], o.syncID)
	le.PutUint32(b[8:], uint32(len(o.ssid)))
	copy(b[12:], o.ssid)
	copy(b[44:50], []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	b[50] = 2
	if o.passive {
		b[51] = scanPassive
	}
	d := int32(-1)
	if o.dwell != 0 {
		d = o.dwell
	}
	le.PutUint32(b[52:], ^uint32(0))
	le.PutUint32(b[56:], uint32(d))
	le.PutUint32(b[60:], uint32(d))
	le.PutUint32(b[64:], ^uint32(0))
	le.PutUint32(b[68:], uint32(len(o.chans)))
	for i, c := range o.chans {
		le.PutUint16(b[72+2*i:], c)
	}
	return b
}

// scanned is a BSS as a driver decodes it from an ESCAN_RESULT.
type scanned struct {
	ssid     string
	bssid    net.HardwareAddr
	channel  int
	rssi     int
	security string // "open", "wep", "wpa", "wpa2", "wpa/wpa2", with "+sae"/"sae"
}

// decodeBSS checks a BSS record the way [C] does and decodes it.
func decodeBSS(t *testing.T, d []byte) scanned {
	t.Helper()
	le := binary.LittleEndian
	if len(d) < escanResultHdr+bssFixedLen || le.Uint32(d[0:]) != uint32(len(d)) || le.Uint16(d[10:]) != 1 {
		t.Fatalf("bad escan result header % X", d[:12])
	}
	r := d[escanResultHdr:]
	length := le.Uint32(r[bssOffLength:])
	ieOff := uint32(le.Uint16(r[bssOffIEOff:]))
	ieLen := le.Uint32(r[bssOffIELen:])
	if int(length) != len(r) || ieOff+ieLen > length {
		t.Fatalf("BSS record length %d, IEs %d+%d, %d bytes", length, ieOff, ieLen, len(r))
	}
	s := scanned{
		ssid:    string(r[bssOffSSID : bssOffSSID+int(r[bssOffSSIDLen])]),
		bssid:   append(net.HardwareAddr(nil), r[bssOffBSSID:bssOffBSSID+6]...),
		channel: int(le.Uint16(r[bssOffChanspec:]) & 0xFF),
		rssi:    int(int16(le.Uint16(r[bssOffRSSI:]))),
	}
	if cs := le.Uint16(r[bssOffChanspec:]); cs&0xFF00 != chanspec2G20 {
		t.Fatalf("chanspec 0x%04X", cs)
	}
	var rsn, wpa []byte
	for ies := r[ieOff : ieOff+ieLen]; len(ies) >= 2; ies = ies[2+int(ies[1]):] {
		body := ies[2 : 2+int(ies[1])]
		switch {
		case ies[0] == 48:
			rsn = body
		case ies[0] == 221 && bytes.HasPrefix(body, []byte{0x00, 0x50, 0xF2, 0x01}):
			wpa = body
		}
	}
	privacy := le.Uint16(r[bssOffCap:])&capPrivacy != 0
	switch {
	case rsn != nil:
		s.security = "wpa2"
		// version 2, group 4, pairwise count 2 + 4n, AKM count 2 + 4m.
		np := int(le.Uint16(rsn[6:]))
		akm := rsn[8+4*np:]
		na := int(le.Uint16(akm))
		var psk, sae bool
		for i := 0; i < na; i++ {
			switch akm[2+4*i+3] {
			case 2:
				psk = true
			case 8:
				sae = true
			}
		}
		switch {
		case sae && psk:
			s.security = "wpa2+sae"
		case sae:
			s.security = "sae"
		}
		if wpa != nil {
			s.security = "wpa/" + s.security
		}
	case wpa != nil:
		s.security = "wpa"
	case privacy:
		s.security = "wep"
	default:
		s.security = "open"
	}
	if s.security != "open" && !privacy {
		t.Fatalf("%s BSS without the privacy bit", s.security)
	}
	return s
}

func bssid(b byte) net.HardwareAddr { return net.HardwareAddr{0x02, 0xAA, 0, 0, 0, b} }

// world is a radio environment with a few APs, a chip in it and a LAN
// segment behind the APs.
type world struct {
	env *radio.Env
	clk *radio.Manual
	c   *Chip
	h   *host
	lan *sim.FramePort // the wired side of the APs
	aps map[string]*radio.AP
}

func newWorld(t *testing.T, cfgs ...radio.APConfig) *world {
	t.Helper()
	env, clk := newEnv(t)
	seg := sim.NewSegment(sim.SegmentOptions{})
	w := &world{env: env, clk: clk, aps: map[string]*radio.AP{}, lan: seg.Attach("lan")}
	for _, cfg := range cfgs {
		ap, err := env.AddAP(cfg, seg.Attach("ap-"+cfg.SSID))
		if err != nil {
			t.Fatal(err)
		}
		w.aps[cfg.SSID] = ap
	}
	w.c, w.h = newChip(t, env, clk)
	w.h.up()
	return w
}

var testAPs = []radio.APConfig{
	{SSID: "open-net", BSSID: bssid(1), Channel: 1, RSSI: -40, Security: radio.SecOpen},
	{SSID: "home", BSSID: bssid(2), Channel: 6, RSSI: -55, Security: radio.SecWPA2, Passphrase: "correct horse"},
	{SSID: "modern", BSSID: bssid(3), Channel: 11, RSSI: -60, Security: radio.SecWPA3, Passphrase: "sae secret"},
	{SSID: "legacy", BSSID: bssid(4), Channel: 6, RSSI: -70, Security: radio.SecWPA, Passphrase: "old school"},
	{SSID: "mixed", BSSID: bssid(5), Channel: 3, RSSI: -65, Security: radio.SecWPA2WPA3, Passphrase: "both ways"},
	{SSID: "wep", BSSID: bssid(6), Channel: 9, RSSI: -80, Security: radio.SecWEP, Passphrase: "abcde"},
	{SSID: "secret", BSSID: bssid(7), Channel: 1, RSSI: -50, Security: radio.SecWPA2, Passphrase: "hidden pass", Hidden: true},
}

// escan returns the BSSs an escan found, after checking its timing: no
// completion before channels x dwell, completion at it.
func (w *world) escan(t *testing.T, o scanOpts, total time.Duration) []scanned {
	t.Helper()
	h := w.h
	h.takeEvents()
	h.setVar("escan", escanParams(o))
	h.advance(total - time.Millisecond)
	for _, e := range h.events {
		if e.typ == evEscanResult && e.status != stPartial {
			t.Fatalf("escan completed (status %d) before %v", e.status, total)
		}
	}
	h.advance(time.Millisecond)
	var got []scanned
	done := false
	for _, e := range h.takeEvents() {
		if e.typ != evEscanResult {
			continue
		}
		if done {
			t.Fatal("ESCAN_RESULT after the final one")
		}
		if binary.LittleEndian.Uint16(e.data[8:]) != o.syncID {
			t.Fatalf("sync id %d, want %d", binary.LittleEndian.Uint16(e.data[8:]), o.syncID)
		}
		switch e.status {
		case stPartial:
			got = append(got, decodeBSS(t, e.data))
		case stSuccess:
			done = true
		default:
			t.Fatalf("ESCAN_RESULT status %d", e.status)
		}
	}
	if !done {
		t.Fatal("no final ESCAN_RESULT (status 0)")
	}
	return got
}

// An active scan of all channels with default dwell (20 ms x 14) finds
// every AP with its security as the IEs tell it; the hidden one has an
// empty SSID.
func TestEscan_All(t *testing.T) {
	w := newWorld(t, testAPs...)
	got := w.escan(t, scanOpts{syncID: 7}, 14*defaultActiveDwell*time.Millisecond)
	want := map[string]scanned{
		"open-net": {"open-net", bssid(1), 1, -40, "open"},
		"home":     {"home", bssid(2), 6, -55, "wpa2"},
		"modern":   {"modern", bssid(3), 11, -60, "sae"},
		"legacy":   {"legacy", bssid(4), 6, -70, "wpa"},
		"mixed":    {"mixed", bssid(5), 3, -65, "wpa2+sae"},
		"wep":      {"wep", bssid(6), 9, -80, "wep"},
		"":         {"", bssid(7), 1, -50, "wpa2"},
	}
	if len(got) != len(want) {
		t.Fatalf("found %d BSSs, want %d: %+v", len(got), len(want), got)
	}
	for _, s := range got {
		wt, ok := want[s.ssid]
		if !ok || !bytes.Equal(s.bssid, wt.bssid) || s.channel != wt.channel || s.rssi != wt.rssi || s.security != wt.security {
			t.Errorf("got %+v, want %+v", s, wt)
		}
	}
	checkErrors(t, w.c)
}

// A directed active scan on listed channels (chanspecs and plain numbers
// both) finds the hidden AP by name (its beacon and its probe response);
// a passive scan takes 50 ms a channel and does not.
func TestEscan_DirectedAndPassive(t *testing.T) {
	w := newWorld(t, testAPs...)
	got := w.escan(t, scanOpts{ssid: "secret", chans: []uint16{1 | chanspec2G20, 6}, syncID: 2}, 2*defaultActiveDwell*time.Millisecond)
	// The hidden AP is heard twice: its beacon without the SSID, then its
	// probe response with it, one BSSID (a driver merges them).
	if len(got) != 2 || got[0].ssid != "" || got[1].ssid != "secret" || !bytes.Equal(got[0].bssid, got[1].bssid) || got[1].channel != 1 {
		t.Fatalf("directed scan: %+v", got)
	}
	got = w.escan(t, scanOpts{passive: true, chans: []uint16{1, 6}, syncID: 3}, 2*defaultPassiveDwell*time.Millisecond)
	var names []string
	for _, s := range got {
		names = append(names, s.ssid)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"", "home", "legacy", "open-net"}) {
		t.Fatalf("passive scan of 1 and 6: %q", names)
	}
	got = w.escan(t, scanOpts{chans: []uint16{11}, dwell: 35, syncID: 4}, 35*time.Millisecond)
	if len(got) != 1 || got[0].ssid != "modern" {
		t.Fatalf("scan of 11 with 35 ms dwell: %+v", got)
	}
	checkErrors(t, w.c)
}

// join configures the security as the drivers do (fact sheet 5.3) and
// sends SET_SSID; it returns the events up to the end of the script.
func (w *world) join(t *testing.T, ssid string, sec radio.Security, key string) []rxEvent {
	t.Helper()
	h := w.h
	wsec, wpa, auth := uint32(0), uint32(0), uint32(authOpen)
	switch sec {
	case radio.SecWPA2:
		wsec, wpa = wsecAES, wpaAuth2PSK
	case radio.SecWPA:
		wsec, wpa = wsecTKIP, wpaAuthPSK
	case radio.SecWPA3, radio.SecWPA2WPA3:
		wsec, wpa, auth = wsecAES, wpaAuth3SAE, authSAE
	}
	h.setVar("ampdu_ba_wsize", le32(8))
	h.set32(wlcSetWsec, wsec)
	h.setVar("bsscfg:sup_wpa", append(le32(0), le32(map[bool]uint32{true: 1}[wpa != 0])...))
	if wpa != 0 {
		h.setVar("bsscfg:sup_wpa2_eapver", append(le32(0), le32(0xFFFFFFFF)...))
		h.setVar("bsscfg:sup_wpa_tmo", append(le32(0), le32(2500)...))
	}
	if sec == radio.SecWPA2WPA3 { // the three open drivers' station mode: both secrets
		p := make([]byte, pmkLen)
		binary.LittleEndian.PutUint16(p[0:], uint16(len(key)))
		binary.LittleEndian.PutUint16(p[2:], pmkPassphrase)
		copy(p[4:], key)
		h.mustIoctl(wlcSetWsecPMK, true, p)
	}
	switch sec {
	case radio.SecWPA, radio.SecWPA2:
		p := make([]byte, pmkLen)
		binary.LittleEndian.PutUint16(p[0:], uint16(len(key)))
		binary.LittleEndian.PutUint16(p[2:], pmkPassphrase)
		copy(p[4:], key)
		h.mustIoctl(wlcSetWsecPMK, true, p)
	case radio.SecWPA3, radio.SecWPA2WPA3:
		p := make([]byte, saePasswordLen)
		binary.LittleEndian.PutUint16(p, uint16(len(key)))
		copy(p[2:], key)
		h.setVar("sae_password", p)
	}
	h.set32(wlcSetInfra, 1)
	h.set32(wlcSetAuth, auth)
	mfp := map[radio.Security]uint32{radio.SecWPA2: 1, radio.SecWPA3: 2, radio.SecWPA2WPA3: 1}[sec]
	h.setVar("mfp", le32(mfp))
	h.set32(wlcSetWPAAuth, wpa)
	s := make([]byte, ssidStructLen)
	binary.LittleEndian.PutUint32(s, uint32(len(ssid)))
	copy(s[4:], ssid)
	h.takeEvents()
	h.mustIoctl(wlcSetSSID, true, s)
	h.advance(200 * time.Millisecond)
	return h.takeEvents()
}

// The join scripts (fact sheet 8.2.13), on the radio clock.
func TestJoin_Scripts(t *testing.T) {
	ok := "AUTH 0/0/0, ASSOC 0/0/0, LINK 0/0/1, JOIN 0/0/0, SET_SSID 0/0/0"
	for _, tc := range []struct {
		name, ssid string
		sec        radio.Security
		key        string
		events     string
		joined     bool
	}{
		{"open", "open-net", radio.SecOpen, "", ok, true},
		{"WPA2", "home", radio.SecWPA2, "correct horse", ok + ", PSK_SUP 6/0/0", true},
		{"WPA3", "modern", radio.SecWPA3, "sae secret", ok + ", PSK_SUP 6/0/0", true},
		{"WPA", "legacy", radio.SecWPA, "old school", ok + ", PSK_SUP 6/0/0", true},
		{"WPA2/WPA3 mode on WPA2", "home", radio.SecWPA2WPA3, "correct horse", ok + ", PSK_SUP 6/0/0", true},
		{"WPA2/WPA3 mode on WPA3", "modern", radio.SecWPA2WPA3, "sae secret", ok + ", PSK_SUP 6/0/0", true},
		{"hidden WPA2", "secret", radio.SecWPA2, "hidden pass", ok + ", PSK_SUP 6/0/0", true},
		{"wrong key", "home", radio.SecWPA2, "wrong horse", "AUTH 0/0/0, PSK_SUP 1/0/0, DEAUTH_IND 0/2/0", false},
		{"no AP", "nowhere", radio.SecWPA2, "whatever123", "SET_SSID 3/0/0", false},
		{"open vs WPA2", "home", radio.SecOpen, "", "SET_SSID 1/0/0", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, testAPs...)
			evs := w.join(t, tc.ssid, tc.sec, tc.key)
			if got := eventList(evs); got != tc.events {
				t.Fatalf("events:\n  %s\nwant\n  %s", got, tc.events)
			}
			for _, e := range evs {
				if e.typ != evSetSSID || e.status != stNoNetworks {
					if !bytes.Equal(e.addr, w.aps[tc.ssid].Config().BSSID) {
						t.Fatalf("%v: addr %v", e, e.addr)
					}
				}
			}
			_, joined := w.c.Station().Joined()
			if joined != tc.joined {
				t.Fatalf("station joined %v, want %v", joined, tc.joined)
			}
			if tc.joined {
				bs := w.h.mustIoctl(wlcGetBSSID, false, make([]byte, 6))
				rssi := int32(binary.LittleEndian.Uint32(w.h.mustIoctl(wlcGetRSSI, false, le32(0))))
				ss := w.h.mustIoctl(wlcGetSSID, false, make([]byte, 36))
				if !bytes.Equal(bs, w.aps[tc.ssid].Config().BSSID) || rssi != int32(w.aps[tc.ssid].Config().RSSI) ||
					string(ss[4:4+binary.LittleEndian.Uint32(ss)]) != tc.ssid {
					t.Fatalf("GET_BSSID % X, GET_RSSI %d, GET_SSID %q", bs, rssi, ss)
				}
			}
			checkErrors(t, w.c)
		})
	}
}

// The event mask is honoured: with SET_SSID and PSK_SUP masked a join
// reports only the others.
func TestJoin_EventMask(t *testing.T) {
	w := newWorld(t, testAPs...)
	mask := make([]byte, 24)
	for i := range mask {
		mask[i] = 0xFF
	}
	mask[evSetSSID/8] &^= 1 << (evSetSSID % 8)
	mask[evPSKSup/8] &^= 1 << (evPSKSup % 8)
	w.h.setVar("bsscfg:event_msgs", append(le32(0), mask...))
	evs := w.join(t, "home", radio.SecWPA2, "correct horse")
	if got, want := eventList(evs), "AUTH 0/0/0, ASSOC 0/0/0, LINK 0/0/1, JOIN 0/0/0"; got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	if w.c.Stats().EventsMasked != 2 {
		t.Fatalf("masked %d", w.c.Stats().EventsMasked)
	}
}

// Data: a frame the host sends on channel 2 reaches the LAN behind the AP;
// a frame from the LAN to the chip's MAC comes to the host as channel 2
// with BDC offset 0, and the status word gives its exact length.
func TestData_TxRx(t *testing.T) {
	w := newWorld(t, testAPs...)
	h := w.h
	// Before joining, frames from the host are dropped and counted.
	h.sendFrame(chanData, sdpcmDataHdr, append([]byte{0x20, 0, 0, 0}, ethFrame(bssid(0xFF), DefaultMAC, 60)...))
	if w.c.Stats().TxDropped != 1 {
		t.Fatalf("TxDropped %d", w.c.Stats().TxDropped)
	}
	w.join(t, "home", radio.SecWPA2, "correct horse")
	lanMAC := net.HardwareAddr{0x02, 0xBB, 0, 0, 0, 1}
	out := ethFrame(lanMAC, DefaultMAC, 1514)
	h.sendFrame(chanData, sdpcmDataHdr, append([]byte{0x20, 0, 0, 0}, out...))
	buf := make([]byte, 2000)
	var n int
	wait.For(t, "the frame on the LAN", func() bool {
		n, _ = w.lan.ReadFrame(buf)
		return n > 0
	})
	if !bytes.Equal(buf[:n], out) {
		t.Fatalf("LAN got %d bytes, want the 1514-byte frame", n)
	}
	in := ethFrame(DefaultMAC, lanMAC, 100)
	if err := w.lan.WriteFrame(in); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the frame in the RX queue", func() bool { return w.c.Stats().RxFrames == 1 })
	st := h.read32(funcBus, regStatus)
	if want := uint32(sdpcmHeaderLen + bdcHeaderLen + len(in)); st&stF2PktAvail == 0 || st>>stF2LenShift&stF2LenMax != want {
		t.Fatalf("status 0x%08X, want packet available with length %d", st, want)
	}
	if v := h.read16(funcBus, regIntStatus); v&intF2Packet == 0 {
		t.Fatalf("interrupt status 0x%04X without F2 packet available", v)
	}
	h.drain()
	if len(h.data) != 1 || !bytes.Equal(h.data[0], in) {
		t.Fatalf("host got %d data frames", len(h.data))
	}
	if s := w.c.Stats(); s.TxFrames != 1 {
		t.Fatalf("TxFrames %d", s.TxFrames)
	}
	checkErrors(t, w.c)
}

// The RX queue is bounded: frames beyond 64 are dropped and counted.
func TestData_RxQueueBound(t *testing.T) {
	w := newWorld(t, testAPs...)
	w.join(t, "open-net", radio.SecOpen, "")
	lanMAC := net.HardwareAddr{0x02, 0xBB, 0, 0, 0, 1}
	for i := 0; i < rxDataQueueMax+6; i++ {
		if err := w.lan.WriteFrame(ethFrame(DefaultMAC, lanMAC, 60)); err != nil {
			t.Fatal(err)
		}
	}
	wait.For(t, "70 frames at the chip", func() bool {
		s := w.c.Stats()
		return s.RxFrames+s.RxDropped == rxDataQueueMax+6
	})
	if s := w.c.Stats(); s.RxFrames != rxDataQueueMax || s.RxDropped != 6 {
		t.Fatalf("RxFrames %d, RxDropped %d", s.RxFrames, s.RxDropped)
	}
	w.h.drain()
	if len(w.h.data) != rxDataQueueMax {
		t.Fatalf("host read %d frames", len(w.h.data))
	}
}

// When the AP vanishes the chip reports LINK down (reason 1) and
// DEAUTH_IND after the radio's beacon loss; DISASSOC from the host reports
// DISASSOC and LINK down.
func TestJoin_LinkLossAndDisassoc(t *testing.T) {
	w := newWorld(t, testAPs...)
	w.join(t, "home", radio.SecWPA2, "correct horse")
	w.aps["home"].SetOn(false)
	w.clk.Advance(radio.BeaconLoss)
	wait.For(t, "the link-down events", func() bool { return !w.c.Linked() && w.c.Stats().RxQueued == 2 })
	w.h.drain()
	if got, want := eventList(w.h.takeEvents()), "LINK 0/1/0, DEAUTH_IND 0/2/0"; got != want {
		t.Fatalf("link loss events %s, want %s", got, want)
	}
	if st, _ := w.h.ioctl(wlcGetRSSI, false, le32(0)); st != bcmeNotAssociated {
		t.Fatalf("GET_RSSI after link loss: status %d", st)
	}
	w.aps["home"].SetOn(true)
	w.join(t, "open-net", radio.SecOpen, "")
	w.h.mustIoctl(wlcDisassoc, true, nil)
	w.h.drain()
	if got, want := eventList(w.h.takeEvents()), "DISASSOC 0/0/0, LINK 0/0/0"; got != want {
		t.Fatalf("disassoc events %s, want %s", got, want)
	}
	if _, joined := w.c.Station().Joined(); joined {
		t.Fatal("still joined after DISASSOC")
	}
	checkErrors(t, w.c)
}

// ethFrame is an Ethernet frame of n bytes.
func ethFrame(dst, src net.HardwareAddr, n int) []byte {
	b := make([]byte, n)
	copy(b, dst)
	copy(b[6:], src)
	b[12], b[13] = 0x08, 0x00
	for i := 14; i < n; i++ {
		b[i] = byte(i)
	}
	return b
}

// The "join" iovar pins the BSSID and the channel: with two APs of the same
// SSID the chip joins the one named, not the stronger.
func TestJoin_IovarBSSID(t *testing.T) {
	w := newWorld(t,
		radio.APConfig{SSID: "twin", BSSID: bssid(0x21), Channel: 1, RSSI: -30, Security: radio.SecOpen},
		radio.APConfig{SSID: "twin", BSSID: bssid(0x22), Channel: 11, RSSI: -70, Security: radio.SecOpen},
	)
	h := w.h
	h.set32(wlcSetWsec, 0)
	h.set32(wlcSetInfra, 1)
	h.set32(wlcSetAuth, authOpen)
	h.set32(wlcSetWPAAuth, 0)
	v := make([]byte, 70)
	binary.LittleEndian.PutUint32(v, 4)
	copy(v[4:], "twin")
	for _, off := range []int{40, 44, 48, 52} {
		binary.LittleEndian.PutUint32(v[off:], ^uint32(0))
	}
	copy(v[56:], bssid(0x22))
	binary.LittleEndian.PutUint32(v[64:], 1)
	binary.LittleEndian.PutUint16(v[68:], 11|chanspec2G20)
	h.setVar("join", v)
	h.advance(100 * time.Millisecond)
	b, ok := w.c.Station().Joined()
	if !ok || !bytes.Equal(b.BSSID, bssid(0x22)) || !w.c.Linked() {
		t.Fatalf("joined %v to %v, want the weaker AP pinned by BSSID", ok, b.BSSID)
	}
	checkErrors(t, w.c)
}

// Powering the chip off while joined takes its station off the AP; a new
// escan replaces a running one, which ends with ESCAN_RESULT status 4.
func TestPowerOffLeavesAndScanAbort(t *testing.T) {
	w := newWorld(t, testAPs...)
	h := w.h
	h.setVar("escan", escanParams(scanOpts{syncID: 1}))
	h.advance(30 * time.Millisecond)
	h.setVar("escan", escanParams(scanOpts{syncID: 2, chans: []uint16{6}}))
	h.advance(30 * time.Millisecond)
	var got []string
	for _, e := range h.takeEvents() {
		if e.typ == evEscanResult && e.status != stPartial {
			got = append(got, fmt.Sprintf("%d:%d", binary.LittleEndian.Uint16(e.data[8:]), e.status))
		}
	}
	if !slices.Equal(got, []string{"1:4", "2:0"}) {
		t.Fatalf("scan ends (sync:status) %q, want 1:4 then 2:0", got)
	}
	w.join(t, "open-net", radio.SecOpen, "")
	if len(w.aps["open-net"].Stations()) != 1 {
		t.Fatal("not associated")
	}
	h.power(false)
	wait.For(t, "the station to leave the AP", func() bool { return len(w.aps["open-net"].Stations()) == 0 })
	if w.c.Powered() || w.c.Booted() {
		t.Fatal("chip still on")
	}
	checkErrors(t, w.c)
}

// A MAC set with cur_etheraddr is the one the AP sees; a power cycle
// brings back the OTP MAC.
func TestJoin_SetMAC(t *testing.T) {
	w := newWorld(t, testAPs...)
	mac := net.HardwareAddr{0x02, 0x99, 0x88, 0x77, 0x66, 0x55}
	w.h.setVar("cur_etheraddr", mac)
	w.join(t, "open-net", radio.SecOpen, "")
	if st := w.aps["open-net"].Stations(); len(st) != 1 || !bytes.Equal(st[0], mac) {
		t.Fatalf("AP stations %v, want %v", st, mac)
	}
	w.h.power(false)
	w.h.bringUp(busNichost)
	if got := w.h.getVar("cur_etheraddr", 6); !bytes.Equal(got, DefaultMAC) {
		t.Fatalf("cur_etheraddr after a power cycle % X", got)
	}
	if !bytes.Equal(w.c.Station().MAC(), DefaultMAC) {
		t.Fatalf("station MAC %v", w.c.Station().MAC())
	}
	checkErrors(t, w.c)
}
