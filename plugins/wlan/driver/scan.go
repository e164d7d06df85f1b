package driver

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// Scanning: the escan iovar and its ESCAN_RESULT events (fact sheet 5.4).

// Scan limits (ABI.md 8.4).
const (
	minDwell    = 10   // ms per channel
	maxDwell    = 200  // ms per channel
	maxScanTime = 1500 // ms: channels × duration
	// scanBudget bounds a scan() call's time in itself (the call's deadline
	// is 2 s); bringUpBudget the part of it a scan() of an inactive
	// station may spend bringing the chip up.
	scanBudget    = 1850 * time.Millisecond
	bringUpBudget = 1000 * time.Millisecond
)

// scanReq is what to scan for.
type scanReq struct {
	ssid     string
	bssid    []byte
	channels []int
	passive  bool
	dwell    int // ms per channel; 0: the firmware's default
}

// bss is a network a scan found.
type bss struct {
	ssid    string
	bssid   [6]byte
	channel int
	rssi    int
	sec     int
	hidden  bool
}

// scanRun is a scan in progress or done.
type scanRun struct {
	id       uint16
	req      scanReq
	found    []bss
	done     bool
	err      error
	deadline time.Duration
	probe    bool // a join's directed scan
	onDone   func(*scanRun)
}

// startScan sends the escan iovar; ESCAN_RESULT events fill the run.
func (d *Driver) startScan(req scanReq, probe bool, onDone func(*scanRun)) *scanRun {
	d.scans++
	r := &scanRun{id: d.scans, req: req, probe: probe, onDone: onDone}
	dwell := req.dwell
	if dwell == 0 {
		dwell = 110
	}
	r.deadline = d.env.Now() + time.Duration(len(req.channels)*dwell)*time.Millisecond + probeWait
	d.scan = r
	io := iovarSet("escan", escanParams(r.id, req))
	io.done = func(_ []byte, err error) {
		if err != nil {
			r.err = err
			d.finishScan(r)
		}
	}
	d.enqueue(io)
	d.event("scan %d: %+v", r.id, req)
	return r
}

// escanParams is the escan iovar's value (fact sheet 5.4).
func escanParams(id uint16, r scanReq) []byte {
	b := make([]byte, 72, 72+2*len(r.channels))
	binary.LittleEndian.PutUint32(b[0:], 1) // version
	binary.LittleEndian.PutUint16(b[4:], 1) // action: start
	binary.LittleEndian.PutUint16(b[6:], id)
	binary.LittleEndian.PutUint32(b[8:], uint32(len(r.ssid)))
	copy(b[12:44], r.ssid)
	bssid := []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
	if r.bssid != nil {
		bssid = r.bssid
	}
	copy(b[44:50], bssid)
	b[50] = 2 // any BSS type
	active, passive := int32(-1), int32(-1)
	if r.passive {
		b[51] = 1
		if r.dwell != 0 {
			passive = int32(r.dwell)
		}
	} else if r.dwell != 0 {
		active = int32(r.dwell)
	}
	binary.LittleEndian.PutUint32(b[52:], 0xFFFFFFFF) // nprobes: default
	binary.LittleEndian.PutUint32(b[56:], uint32(active))
	binary.LittleEndian.PutUint32(b[60:], uint32(passive))
	binary.LittleEndian.PutUint32(b[64:], 0xFFFFFFFF) // home time: default
	binary.LittleEndian.PutUint32(b[68:], uint32(len(r.channels)))
	for _, ch := range r.channels {
		b = binary.LittleEndian.AppendUint16(b, uint16(ch)|0x1000)
	}
	return b
}

// finishScan ends a run.
func (d *Driver) finishScan(r *scanRun) {
	if r.done {
		return
	}
	r.done = true
	if d.scan == r {
		d.scan = nil
	}
	d.event("scan %d done: %d networks, %v", r.id, len(r.found), r.err)
	if r.onDone != nil {
		r.onDone(r)
	}
}

// scanTimers ends a scan whose completion never came.
func (d *Driver) scanTimers(now time.Duration) {
	if r := d.scan; r != nil && now >= r.deadline {
		r.err = abi.OSError(abi.ETIMEDOUT, "cyw43439: the scan did not complete")
		d.finishScan(r)
	}
}

// scanEvent takes an ESCAN_RESULT event: a BSS (status 8) or the end.
func (d *Driver) scanEvent(status uint32, data []byte) {
	r := d.scan
	if r == nil || len(data) < 12 || le16(data[8:]) != r.id {
		return
	}
	switch status {
	case evStatusPartial:
		count := int(le16(data[10:]))
		rec := data[12:]
		for range count {
			b, n, ok := parseBSS(rec)
			if !ok {
				break
			}
			r.merge(b)
			rec = rec[n:]
		}
	case evStatusSuccess:
		d.finishScan(r)
	default:
		r.err = abi.OSError(abi.EIO, "cyw43439: the scan ended with status %d", status)
		d.finishScan(r)
	}
}

// merge adds b, merging a BSSID seen before: the strongest reading, the
// SSID a probe response gave, hidden if any beacon hid it.
func (r *scanRun) merge(b bss) {
	for i := range r.found {
		o := &r.found[i]
		if o.bssid != b.bssid {
			continue
		}
		if o.ssid == "" {
			o.ssid = b.ssid
		}
		o.hidden = o.hidden || b.hidden
		if b.rssi > o.rssi {
			o.rssi, o.channel = b.rssi, b.channel
		}
		if o.sec == secOpen {
			o.sec = b.sec
		}
		return
	}
	r.found = append(r.found, b)
}

// BSS record offsets (fact sheet 5.4).
const (
	bssLength   = 4
	bssBSSID    = 8
	bssCap      = 16
	bssSSIDLen  = 18
	bssSSID     = 19
	bssChanspec = 72
	bssRSSI     = 78
	bssIEOff    = 116
	bssIELen    = 120
	bssFixed    = 128

	capPrivacy = 0x0010
)

// parseBSS reads one BSS record; n is its length.
func parseBSS(b []byte) (bss, int, bool) {
	if len(b) < bssFixed {
		return bss{}, 0, false
	}
	n := int(le32(b[bssLength:]))
	if n < bssFixed || n > len(b) {
		return bss{}, 0, false
	}
	ieOff, ieLen := int(le16(b[bssIEOff:])), int(le32(b[bssIELen:]))
	if ieOff+ieLen > n || ieOff < 0 || ieLen < 0 {
		return bss{}, 0, false
	}
	var x bss
	copy(x.bssid[:], b[bssBSSID:bssBSSID+6])
	sl := min(int(b[bssSSIDLen]), 32)
	ssid := b[bssSSID : bssSSID+sl]
	if len(bytes.Trim(ssid, "\x00")) == 0 {
		x.hidden = true
	} else {
		x.ssid = strings.ToValidUTF8(string(ssid), "\uFFFD")
	}
	x.channel = int(le16(b[bssChanspec:]) & 0xFF)
	x.rssi = int(int16(le16(b[bssRSSI:])))
	x.sec = security(le16(b[bssCap:]), b[ieOff:ieOff+ieLen])
	return x, n, true
}

// security infers a network's security from its capability and IEs: RSN
// (48) with PSK, SAE or both AKMs, the WPA vendor IE (221, 00:50:F2:01),
// or the privacy bit alone (WEP).
func security(capability uint16, ies []byte) int {
	var wpa, psk, sae, rsn bool
	for len(ies) >= 2 {
		id, n := ies[0], int(ies[1])
		if 2+n > len(ies) {
			break
		}
		body := ies[2 : 2+n]
		ies = ies[2+n:]
		switch {
		case id == 48:
			rsn = true
			p, s := rsnAKMs(body)
			psk, sae = psk || p, sae || s
		case id == 221 && n >= 4 && bytes.Equal(body[:4], []byte{0x00, 0x50, 0xF2, 0x01}):
			wpa = true
		}
	}
	switch {
	case rsn && wpa:
		return secWPAWPA2
	case rsn && sae && psk:
		return secWPA2WPA3
	case rsn && sae:
		return secWPA3
	case rsn:
		return secWPA2
	case wpa:
		return secWPA
	case capability&capPrivacy != 0:
		return secWEP
	}
	return secOpen
}

// rsnAKMs reads an RSN IE's AKM suites: PSK (00-0F-AC:2, :6 with SHA-256)
// and SAE (:8).
func rsnAKMs(b []byte) (psk, sae bool) {
	// version (2), group cipher (4), pairwise count (2) and suites
	if len(b) < 8 {
		return true, false // no suites: the defaults, CCMP and PSK
	}
	off := 6
	np := int(le16(b[off:]))
	off += 2 + 4*np
	if off+2 > len(b) {
		return true, false
	}
	na := int(le16(b[off:]))
	off += 2
	for i := 0; i < na && off+4 <= len(b); i++ {
		s := b[off : off+4]
		off += 4
		if s[0] != 0x00 || s[1] != 0x0F || s[2] != 0xAC {
			continue
		}
		switch s[3] {
		case 2, 6:
			psk = true
		case 8:
			sae = true
		}
	}
	return psk, sae
}

// Scan implements guest.Scanner: scan(ssid=None, channel=None,
// passive=False, duration=None). It waits within the call for the scan to
// complete (about 13 channels × the dwell time; at most 1.5 s by the
// rules).
func (d *Driver) Scan(iface int, a guest.Args) ([]any, error) {
	start := d.env.Now()
	if err := checkIface(iface); err != nil {
		return nil, err
	}
	if iface == ifAP {
		return nil, errStation("scan()")
	}
	if err := a.Takes("scan", 0, "ssid", "channel", "passive", "duration"); err != nil {
		return nil, err
	}
	req, err := d.scanArgs(a)
	if err != nil {
		return nil, err
	}
	if !d.staOn {
		if err := d.activate(); err != nil {
			return nil, err
		}
	}
	if !d.ready {
		d.runUntil(func() bool { return d.ready || !d.powered() }, start+bringUpBudget)
		if !d.ready {
			return nil, d.notReady("scan()")
		}
	}
	if d.scan != nil { // a join's directed scan: let it finish
		d.runUntil(func() bool { return d.scan == nil }, start+bringUpBudget)
		if d.scan != nil {
			return nil, abi.OSError(abi.EAGAIN, "scan(): the chip is busy with a join's scan; try again")
		}
	}
	r := d.startScan(req, false, nil)
	if !d.runUntil(func() bool { return r.done }, start+scanBudget) {
		d.event("scan %d: out of time, %d networks so far", r.id, len(r.found))
		d.finishScan(r)
	} else if r.err != nil && len(r.found) == 0 {
		return nil, r.err
	}
	found := r.found
	if req.ssid != "" {
		found = slices.DeleteFunc(found, func(b bss) bool { return b.ssid != req.ssid })
	}
	slices.SortStableFunc(found, func(x, y bss) int {
		if x.rssi != y.rssi {
			return y.rssi - x.rssi
		}
		return bytes.Compare(x.bssid[:], y.bssid[:])
	})
	out := make([]any, len(found))
	for i, b := range found {
		out[i] = abi.Tuple{b.ssid, append([]byte(nil), b.bssid[:]...), int64(b.channel), int64(b.rssi), int64(b.sec), b.hidden}
	}
	return out, nil
}

// scanArgs checks scan()'s keywords.
func (d *Driver) scanArgs(a guest.Args) (scanReq, error) {
	var r scanReq
	if v := a.Key("ssid"); v.Given && v.Value != nil {
		s, err := v.Str()
		if err != nil {
			return r, err
		}
		if len(s) < 1 || len(s) > 32 {
			return r, abi.ValueError("ssid: %d bytes; an SSID is 1 to 32 bytes", len(s))
		}
		r.ssid = s
	}
	if v := a.Key("channel"); v.Given && v.Value != nil {
		chans, err := d.channelList(v.Value)
		if err != nil {
			return r, err
		}
		r.channels = chans
	} else if d.cfg.channel != 0 {
		r.channels = []int{d.cfg.channel}
	} else {
		r.channels = slices.Clone(d.rules.Channels)
	}
	if v := a.Key("passive"); v.Given && v.Value != nil {
		p, err := v.Bool()
		if err != nil {
			return r, err
		}
		r.passive = p
	}
	if v := a.Key("duration"); v.Given && v.Value != nil {
		n, err := v.Int()
		if err != nil {
			return r, err
		}
		if n < minDwell || n > maxDwell {
			return r, abi.ValueError("duration: %d ms per channel; want %d to %d", n, minDwell, maxDwell)
		}
		r.dwell = int(n)
		if t := len(r.channels) * r.dwell; t > maxScanTime {
			return r, abi.ValueError("duration: %d channels × %d ms = %d ms; a scan must fit in 1.5 s (give fewer channels or a shorter duration)", len(r.channels), r.dwell, t)
		}
	}
	return r, nil
}

// channelList checks scan(channel=...): an int or a list of ints, each
// allowed by the country.
func (d *Driver) channelList(v any) ([]int, error) {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
		if len(x) == 0 {
			return nil, abi.ValueError("channel: an empty list; give channels %s allows: %v", d.rules.Country, d.rules.Channels)
		}
	case abi.Tuple:
		items = x
	default:
		items = []any{v}
	}
	var chans []int
	for _, it := range items {
		n, err := abi.Int("channel", it)
		if err != nil {
			if _, isList := v.([]any); !isList {
				return nil, abi.TypeError("channel: expected int or list of int, got %s", abi.TypeName(v))
			}
			return nil, err
		}
		if !d.rules.Allows(int(n)) {
			return nil, abi.ValueError("channel: %d is not allowed in %s (channels %s)", n, d.rules.Country, chanList(d.rules.Channels))
		}
		if !slices.Contains(chans, int(n)) {
			chans = append(chans, int(n))
		}
	}
	return chans, nil
}

// chanList formats channels as "1 to 11" or "1, 6, 11".
func chanList(c []int) string {
	if len(c) == 0 {
		return "none"
	}
	contiguous := true
	for i := 1; i < len(c); i++ {
		if c[i] != c[i-1]+1 {
			contiguous = false
		}
	}
	if contiguous && len(c) > 2 {
		return fmt.Sprintf("%d to %d", c[0], c[len(c)-1])
	}
	s := make([]string, len(c))
	for i, ch := range c {
		s[i] = fmt.Sprint(ch)
	}
	return strings.Join(s, ", ")
}
