package driver

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// status() codes of a WLAN station (ABI.md 8.4).
const (
	statusIdle       = 0
	statusConnecting = 1
	statusJoined     = 2 // the host says 3 while it holds an address
	statusFail       = -1
	statusNoAP       = -2
	statusWrongKey   = -3
)

// Security values (ABI.md 8.4).
const (
	secAuto     = -1
	secOpen     = 0
	secWEP      = 1
	secWPA      = 2
	secWPA2     = 3
	secWPAWPA2  = 4
	secWPA3     = 6
	secWPA2WPA3 = 7
)

func secName(s int) string {
	switch s {
	case secOpen:
		return "open"
	case secWEP:
		return "WEP"
	case secWPA:
		return "WPA"
	case secWPA2:
		return "WPA2"
	case secWPAWPA2:
		return "WPA/WPA2"
	case secWPA3:
		return "WPA3"
	case secWPA2WPA3:
		return "WPA2/WPA3"
	}
	return fmt.Sprintf("security %d", s)
}

// needsKey reports whether security s takes a WPA-kind key.
func needsKey(s int) bool { return s != secOpen && s != secWEP && s != secAuto }

// Join timing (ABI.md 8.4).
const (
	joinTimeout = 10 * time.Second
	retryEvery  = time.Second
	probeWait   = 3 * time.Second // a directed scan that never completes
)

// Events (fact sheet 6.2).
const (
	evSetSSID     = 0
	evJoin        = 1
	evAuth        = 3
	evDeauth      = 5
	evDeauthInd   = 6
	evAssoc       = 7
	evAssocInd    = 8
	evReassocInd  = 10
	evDisassoc    = 11
	evDisassocInd = 12
	evLink        = 16
	evPSKSup      = 46
	evEscanResult = 69

	evStatusSuccess = 0
	evStatusNoNet   = 3
	evStatusPartial = 8
	evStatusUnsol   = 6
	pskKeyed        = 6
)

// phase is where the station stands.
type phase int

const (
	phaseIdle     phase = iota // not joining: never asked, disconnected, or failed
	phaseWaitChip              // connect() while the chip comes up
	phaseProbe                 // a directed scan for the network
	phaseJoining               // the join ioctls sent, the outcome awaited
	phaseJoined
	phaseRetry // the access point was lost: the next try at retryAt
)

// target is what connect() asked for.
type target struct {
	ssid  string
	key   string
	bssid []byte // nil: any access point of the SSID
	sec   int    // config('security'): secAuto to find it by probing
	chans []int  // the channels to look on
	pin   bool   // config('channel') chose one: the join is held to it
}

// station is the station's join state.
type station struct {
	phase    phase
	result   int // status() while idle: 0 or the last failure
	t        target
	sec      int    // the security joining or joined with
	channel  int    // of the network joined (0 unknown)
	bssid    []byte // of the network joined
	deadline time.Duration
	retryAt  time.Duration
	tries    int  // reconnect tries left, -1 for ever
	rejoin   bool // this join is a try after link loss
	auth     bool
	link     bool
	keyed    bool
	// confirming: joined, the channel asked for (WLC_GET_CHANNEL)
	confirming bool
	gen        int  // bumped by every join and leave: stale callbacks do nothing
	linkUp     bool // reported up to the core
}

func (s *station) busy() bool {
	return s.phase == phaseWaitChip || s.phase == phaseProbe || s.phase == phaseJoining
}

// nextTimer is when the station's next timer falls due.
func (s *station) nextTimer() (time.Duration, bool) {
	switch s.phase {
	case phaseWaitChip, phaseProbe, phaseJoining:
		return s.deadline, true
	case phaseRetry:
		return s.retryAt, true
	}
	return 0, false
}

// Connect implements guest.Connector: connect(ssid=None, key=None, *,
// bssid=None).
func (d *Driver) Connect(iface int, a guest.Args) error {
	if err := checkIface(iface); err != nil {
		return err
	}
	if iface == ifAP {
		return errStation("connect()")
	}
	if err := a.Takes("connect", 2, "ssid", "key", "bssid"); err != nil {
		return err
	}
	ssid, err := optStr(arg(a, 0, "ssid"), d.cfg.ssid)
	if err != nil {
		return err
	}
	if n := len(ssid); n < 1 || n > 32 {
		return abi.ValueError("ssid: %d bytes; an SSID is 1 to 32 bytes (set one with connect(ssid, ...) or config(ssid=...))", n)
	}
	key, err := optStr(arg(a, 1, "key"), d.cfg.key)
	if err != nil {
		return err
	}
	var bssid []byte
	if v := a.Key("bssid"); v.Given && v.Value != nil {
		if bssid, err = abi.MAC("bssid", v.Value); err != nil {
			return err
		}
	}
	sec := d.cfg.security
	switch {
	case sec == secWEP && len(key) != 5 && len(key) != 13:
		return abi.ValueError("key: %d characters; a WEP key is 5 or 13 characters", len(key))
	case needsKey(sec) && (len(key) < 8 || len(key) > 63):
		return abi.ValueError("key: %d characters; a %s key is 8 to 63 characters", len(key), secName(sec))
	case sec == secAuto && key != "" && (len(key) < 8 || len(key) > 63):
		return abi.ValueError("key: %d characters; a WPA key is 8 to 63 characters (an open network takes none)", len(key))
	}
	if !d.staOn {
		if err := d.activate(); err != nil {
			return err
		}
	}
	d.leave(statusConnecting)
	chans := d.rules.Channels
	if d.cfg.channel != 0 {
		chans = []int{d.cfg.channel}
	}
	s := &d.sta
	s.t = target{ssid: ssid, key: key, bssid: bssid, sec: sec, chans: chans, pin: d.cfg.channel != 0}
	s.rejoin = false
	s.deadline = d.env.Now() + joinTimeout
	s.phase = phaseWaitChip
	d.event("connect(%q): joining", ssid)
	if d.ready {
		d.startJoin()
	}
	d.arm()
	return nil
}

// arg is an argument given by position or by keyword.
func arg(a guest.Args, i int, name string) guest.Arg {
	if v := a.Key(name); v.Given {
		return v
	}
	return a.At(i, name)
}

// optStr reads a str argument that may be None or missing (def).
func optStr(v guest.Arg, def string) (string, error) {
	if x, _ := v.Any(); x == nil {
		return def, nil
	}
	return v.Str()
}

// Disconnect implements guest.Connector.
func (d *Driver) Disconnect(iface int) error {
	if err := checkIface(iface); err != nil {
		return err
	}
	if iface == ifAP {
		return errStation("disconnect()")
	}
	d.leave(statusIdle)
	d.arm()
	return nil
}

// leave ends any join: the firmware is told to disassociate, the link is
// down, status() reads result.
func (d *Driver) leave(result int) {
	s := &d.sta
	if (s.phase == phaseJoining || s.phase == phaseJoined) && d.ready {
		d.enqueue(wlc("WLC_DISASSOC", wlcDisassoc, true))
	}
	if d.scan != nil && d.scan.probe {
		d.scan = nil
	}
	s.gen++
	s.phase, s.result = phaseIdle, result
	s.bssid, s.channel = nil, 0
	d.setLink(false)
}

// startJoin starts the join of the target, once the firmware is ready: a
// directed scan first (for the security and the channel), unless this is a
// try after link loss, which knows them.
func (d *Driver) startJoin() {
	s := &d.sta
	s.gen++
	if s.rejoin {
		d.joinIoctls()
		return
	}
	if s.t.sec != secAuto {
		// config('security') says what to offer: no need to look first.
		s.sec, s.channel = s.t.sec, 0
		d.joinIoctls()
		return
	}
	s.phase = phaseProbe
	gen := s.gen
	d.startScan(scanReq{ssid: s.t.ssid, bssid: s.t.bssid, channels: s.t.chans}, true, func(r *scanRun) {
		if s.gen == gen && s.phase == phaseProbe {
			d.probed(r)
		}
	})
}

// probed picks the network the directed scan found and joins it.
func (d *Driver) probed(r *scanRun) {
	s := &d.sta
	var best *bss
	for i := range r.found {
		b := &r.found[i]
		if b.ssid != s.t.ssid || (s.t.bssid != nil && !bytes.Equal(b.bssid[:], s.t.bssid)) {
			continue
		}
		if best == nil || b.rssi > best.rssi {
			best = b
		}
	}
	if best == nil {
		where := ""
		if s.t.bssid != nil {
			where = fmt.Sprintf(" at %v", net.HardwareAddr(s.t.bssid))
		}
		d.joinFailed(statusNoAP, fmt.Sprintf("no access point of %q%s answered on channels %v", s.t.ssid, where, s.t.chans))
		return
	}
	s.sec = best.sec
	if s.t.sec != secAuto {
		s.sec = s.t.sec
	}
	s.channel = best.channel
	switch {
	case s.sec == secWEP && len(s.t.key) != 5 && len(s.t.key) != 13:
		d.joinFailed(statusWrongKey, fmt.Sprintf("%q uses WEP, whose key is 5 or 13 characters; connect() was given %d", s.t.ssid, len(s.t.key)))
		return
	case needsKey(s.sec) && s.t.key == "":
		d.joinFailed(statusWrongKey, fmt.Sprintf("%q is secured (%s) and connect() was given no key", s.t.ssid, secName(s.sec)))
		return
	}
	d.event("found %q at %v, channel %d, %s, %d dBm", best.ssid, net.HardwareAddr(best.bssid[:]), best.channel, secName(best.sec), best.rssi)
	d.joinIoctls()
}

// secParams are the firmware settings of a security (fact sheet 5.3).
type secParams struct {
	wsec, wpaAuth, auth, mfp uint32
	pmk, sae, wep            bool
}

func paramsFor(sec int) secParams {
	switch sec {
	case secWEP:
		// Shared-key authentication: a wrong key fails at once.
		return secParams{wsec: 0x1, auth: 1, wep: true}
	case secWPA:
		return secParams{wsec: 0x2, wpaAuth: 0x4, pmk: true}
	case secWPA2:
		return secParams{wsec: 0x4, wpaAuth: 0x80, pmk: true}
	case secWPAWPA2:
		return secParams{wsec: 0x6, wpaAuth: 0x84, pmk: true}
	case secWPA3:
		return secParams{wsec: 0x4, wpaAuth: 0x40000, auth: 3, mfp: 2, sae: true}
	case secWPA2WPA3:
		// Transition mode: joined with WPA2-PSK, management frames
		// protected when the AP can.
		return secParams{wsec: 0x4, wpaAuth: 0x80, mfp: 1, pmk: true}
	}
	return secParams{}
}

// joinIoctls sends the join (fact sheet 5.3): security, key, infra, auth,
// then SET_SSID (or the join iovar, pinned to the BSSID and channels).
func (d *Driver) joinIoctls() {
	s := &d.sta
	s.phase = phaseJoining
	s.auth, s.link, s.keyed = false, false, s.sec == secOpen
	s.confirming = false
	p := paramsFor(s.sec)
	secured := uint32(0)
	if s.sec != secOpen && s.sec != secWEP {
		secured = 1
	}
	d.enqueue(iovarU32("ampdu_ba_wsize", 8),
		wlc("WLC_SET_WSEC", wlcSetWsec, true, p.wsec),
		iovarU32("bsscfg:sup_wpa", 0, secured))
	if secured != 0 {
		d.enqueue(iovarU32("bsscfg:sup_wpa2_eapver", 0, 0xFFFFFFFF),
			iovarU32("bsscfg:sup_wpa_tmo", 0, 2500))
	}
	if p.pmk {
		b := make([]byte, 68)
		binary.LittleEndian.PutUint16(b[0:], uint16(len(s.t.key)))
		binary.LittleEndian.PutUint16(b[2:], 1) // a passphrase
		copy(b[4:], s.t.key)
		io := &ioctl{name: "WLC_SET_WSEC_PMK", cmd: wlcSetWsecPMK, set: true, payload: b, delay: 3 * time.Millisecond}
		d.enqueue(io)
	}
	if p.wep {
		// wl_wsec_key: index, length, 32 bytes of key, algorithm (1
		// WEP-40, 3 WEP-104), flags (2: the primary key).
		b := make([]byte, 48)
		binary.LittleEndian.PutUint32(b[4:], uint32(len(s.t.key)))
		copy(b[8:40], s.t.key)
		algo := uint32(1)
		if len(s.t.key) == 13 {
			algo = 3
		}
		binary.LittleEndian.PutUint32(b[40:], algo)
		binary.LittleEndian.PutUint32(b[44:], 2)
		d.enqueue(&ioctl{name: "WLC_SET_KEY", cmd: wlcSetKey, set: true, payload: b})
	}
	if p.sae {
		b := make([]byte, 130)
		binary.LittleEndian.PutUint16(b[0:], uint16(len(s.t.key)))
		copy(b[2:], s.t.key)
		d.enqueue(iovarSet("sae_password", b))
	}
	d.enqueue(wlc("WLC_SET_INFRA", wlcSetInfra, true, 1),
		wlc("WLC_SET_AUTH", wlcSetAuth, true, p.auth),
		iovarU32("mfp", p.mfp),
		wlc("WLC_SET_WPA_AUTH", wlcSetWPAAuth, true, p.wpaAuth))
	ssid := make([]byte, 36)
	binary.LittleEndian.PutUint32(ssid, uint32(len(s.t.ssid)))
	copy(ssid[4:], s.t.ssid)
	var io *ioctl
	if s.t.bssid != nil || s.t.pin {
		// The join iovar: SSID, scan parameters (defaults), assoc
		// parameters (BSSID, channels).
		b := append([]byte(nil), ssid...)
		b = append(b, 0, 0, 0, 0) // scan type 0 and padding
		for range 4 {
			b = binary.LittleEndian.AppendUint32(b, 0xFFFFFFFF) // nprobes, active, passive, home: defaults
		}
		bssid := []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
		if s.t.bssid != nil {
			bssid = s.t.bssid
		}
		b = append(b, bssid...)
		b = append(b, 0, 0) // padding
		var chans []int
		switch {
		case s.t.pin:
			chans = s.t.chans
		case s.channel != 0:
			chans = []int{s.channel}
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(len(chans)))
		for _, ch := range chans {
			b = binary.LittleEndian.AppendUint16(b, uint16(ch)|0x1000)
		}
		io = iovarSet("join", b)
	} else {
		io = &ioctl{name: "WLC_SET_SSID", cmd: wlcSetSSID, set: true, payload: ssid}
	}
	gen := s.gen
	io.done = func(_ []byte, err error) {
		if err != nil && s.gen == gen && s.phase == phaseJoining {
			d.joinFailed(statusFail, err.Error())
		}
	}
	d.enqueue(io)
}

// joinFailed ends a join that did not work. A try after link loss goes on
// trying while it has tries left.
func (d *Driver) joinFailed(code int, why string) {
	s := &d.sta
	if s.phase == phaseIdle || s.phase == phaseJoined {
		return
	}
	if s.phase == phaseJoining && code != statusNoAP && d.ready {
		d.enqueue(wlc("WLC_DISASSOC", wlcDisassoc, true))
	}
	s.gen++
	if s.rejoin {
		if s.tries != 0 {
			d.event("reconnect to %q failed (%s); next try in %v", s.t.ssid, why, retryEvery)
			s.phase = phaseRetry
			s.retryAt = d.env.Now() + retryEvery
			return
		}
		code = statusFail
		why = "no reconnect tries left: " + why
	}
	d.env.Logf(abi.LogInfo, "cyw43439: joining %q failed: %s (status %d)", s.t.ssid, why, code)
	s.phase, s.result = phaseIdle, code
	d.setLink(false)
}

// confirm asks the firmware for the channel joined, then reports the
// station joined.
func (d *Driver) confirm() {
	s := &d.sta
	if s.confirming {
		return
	}
	s.confirming = true
	gen := s.gen
	io := wlc("WLC_GET_CHANNEL", wlcGetChannel, false, 0, 0, 0)
	io.done = func(data []byte, err error) {
		if s.gen != gen || s.phase != phaseJoining {
			return
		}
		if err == nil && len(data) >= 4 {
			if ch := int(le32(data)); ch >= 1 && ch <= 14 {
				s.channel = ch
			}
		}
		d.joined()
	}
	d.enqueue(io)
}

// joined: associated and keyed.
func (d *Driver) joined() {
	s := &d.sta
	s.phase, s.result = phaseJoined, statusJoined
	s.rejoin = false
	s.tries = d.cfg.reconnects
	d.env.Logf(abi.LogInfo, "cyw43439: joined %q (%v, channel %d, %s)", s.t.ssid, net.HardwareAddr(s.bssid), s.channel, secName(s.sec))
	d.setLink(true)
	d.apReadChannel() // the access point follows the station's channel
}

// lost: the joined access point went away.
func (d *Driver) lost(why string) {
	s := &d.sta
	d.env.Logf(abi.LogInfo, "cyw43439: lost %q: %s", s.t.ssid, why)
	d.setLink(false)
	s.gen++
	s.tries = d.cfg.reconnects
	if s.tries == 0 {
		s.phase, s.result = phaseIdle, statusFail
		return
	}
	s.rejoin = true
	s.phase = phaseRetry
	s.retryAt = d.env.Now() + retryEvery
}

// stationTimers runs the join timeout and the reconnect tries.
func (d *Driver) stationTimers(now time.Duration) {
	s := &d.sta
	switch s.phase {
	case phaseWaitChip, phaseProbe, phaseJoining:
		if now >= s.deadline {
			d.joinFailed(statusFail, fmt.Sprintf("no outcome %v after connect()", joinTimeout))
		}
	case phaseRetry:
		if now >= s.retryAt && d.ready {
			if s.tries > 0 {
				s.tries--
			}
			s.deadline = now + joinTimeout
			d.event("reconnecting to %q (%d tries left)", s.t.ssid, s.tries)
			d.startJoin()
		}
	}
}

// setLink reports the link to the core when it changes.
func (d *Driver) setLink(up bool) {
	if up == d.sta.linkUp {
		return
	}
	d.sta.linkUp = up
	if err := d.env.SetLink(ifSTA, up, abi.LinkEthernet, mtu); err != nil {
		d.env.Logf(abi.LogWarn, "cyw43439: reporting the link: %v", err)
	}
}

// rxEvent takes an async event apart (fact sheet 6.1).
func (d *Driver) rxEvent(b []byte) {
	if len(b) < 72 || be16(b[12:]) != 0x886C || !bytes.Equal(b[19:22], []byte{0x00, 0x10, 0x18}) {
		return
	}
	ev := be32(b[28:])
	status := be32(b[32:])
	reason := be32(b[36:])
	flags := be16(b[26:])
	n := int(be32(b[44:]))
	data := b[72:]
	if n < len(data) {
		data = data[:n]
	}
	var addr [6]byte
	copy(addr[:], b[48:54])
	ifidx := b[70]
	if ev == evEscanResult {
		d.scanEvent(status, data)
		return
	}
	d.event("event %d status %d reason %d flags 0x%x from %v (if %d)", ev, status, reason, flags, net.HardwareAddr(addr[:]), ifidx)
	switch ifidx {
	case ifSTA:
		d.joinEvent(ev, status, reason, flags, addr)
	case ifAP:
		d.apEvent(ev, status, reason, flags, addr)
	}
}

// joinEvent follows the join's events (fact sheet 6.3: associated,
// linked and keyed makes joined).
func (d *Driver) joinEvent(ev, status, reason uint32, flags uint16, addr [6]byte) {
	s := &d.sta
	switch s.phase {
	case phaseJoining:
		switch ev {
		case evAuth:
			switch status {
			case evStatusSuccess:
				s.auth = true
			case evStatusUnsol:
			default:
				d.joinFailed(statusWrongKey, fmt.Sprintf("authentication refused (status %d, reason %d)", status, reason))
				return
			}
		case evLink:
			if status == evStatusSuccess && flags&1 != 0 {
				s.link = true
				s.bssid = append([]byte(nil), addr[:]...)
			}
		case evPSKSup:
			switch {
			case status == pskKeyed:
				s.keyed = true
			case status == 4 || status == 8 || status == 10 || reason == 14:
				// waiting for the handshake's next message
			default:
				d.joinFailed(statusWrongKey, fmt.Sprintf("the key exchange failed (status %d, reason %d): wrong key?", status, reason))
				return
			}
		case evSetSSID:
			switch status {
			case evStatusSuccess:
			case evStatusNoNet:
				d.joinFailed(statusNoAP, "no access point answered (SET_SSID: no networks)")
				return
			default:
				d.joinFailed(statusFail, fmt.Sprintf("the join failed (SET_SSID status %d)", status))
				return
			}
		}
		if s.auth && s.link && s.keyed {
			d.confirm()
		}
	case phaseJoined:
		switch {
		case ev == evLink && flags&1 == 0:
			d.lost(fmt.Sprintf("link down (reason %d)", reason))
		case ev == evDeauthInd || ev == evDisassocInd:
			d.lost(fmt.Sprintf("the access point left (event %d, reason %d)", ev, reason))
		case (ev == evDeauth || ev == evDisassoc) && status == evStatusSuccess:
			d.lost(fmt.Sprintf("deauthenticated (event %d, reason %d)", ev, reason))
		}
	}
}

// rxData hands a received Ethernet frame to the core: for the station
// (BDC flags2 0) while joined, for the access point (flags2 1) while its
// BSS is up.
func (d *Driver) rxData(iface byte, f []byte) {
	if len(f) < 14 {
		return
	}
	switch {
	case iface == ifSTA && d.sta.linkUp:
	case iface == ifAP && d.ap.linkUp:
	default:
		return
	}
	if d.cfg.trace.Has(guest.TraceRx) {
		d.env.LogFrame(d.cfg.trace, ifName(int(iface)), "rx", f)
	}
	if err := d.env.Deliver(int(iface), f); err != nil {
		d.event("rx: %v", err)
	}
}

// ifName tags an interface's frames in the trace.
func ifName(iface int) string {
	if iface == ifAP {
		return "cyw43439 ap"
	}
	return "cyw43439"
}

// Status implements guest.Driver.
func (d *Driver) Status(iface int, param string) (any, error) {
	if err := checkIface(iface); err != nil {
		return nil, err
	}
	if iface == ifAP {
		return d.apStatus(param)
	}
	s := &d.sta
	switch param {
	case "":
		if !d.staOn {
			return int64(s.result), nil
		}
		switch s.phase {
		case phaseWaitChip, phaseProbe, phaseJoining, phaseRetry:
			return int64(statusConnecting), nil
		case phaseJoined:
			return int64(statusJoined), nil
		}
		return int64(s.result), nil
	case "rssi":
		if !d.staOn || s.phase != phaseJoined {
			return nil, abi.OSError(eNOTCONN, "status('rssi'): the station is not joined to a network")
		}
		io := wlc("WLC_GET_RSSI", wlcGetRSSI, false, 0)
		io.done = func([]byte, error) {}
		d.enqueue(io)
		if !d.runUntil(func() bool { return io.finished }, d.env.Now()+500*time.Millisecond) {
			return nil, abi.OSError(abi.ETIMEDOUT, "status('rssi'): the firmware did not answer")
		}
		if io.err != nil {
			return nil, io.err
		}
		if len(io.reply) < 4 {
			return nil, abi.OSError(abi.EIO, "status('rssi'): a %d-byte reply", len(io.reply))
		}
		return int64(int32(le32(io.reply))), nil
	}
	return nil, abi.ValueError("unknown status parameter %q (known: rssi)", param)
}
