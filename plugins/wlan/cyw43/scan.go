package cyw43

import (
	"bytes"
	"encoding/binary"
	"net"
	"time"

	"github.com/nichost/nichost/plugins/wlan/radio"
)

// scanReq is a parsed escan request (fact sheet 5.4).
type scanReq struct {
	sync     uint16
	ssid     string
	bssid    net.HardwareAddr // nil: any
	passive  bool
	dwell    time.Duration
	channels []int
}

// escan parses and starts an escan. Caller holds mu.
func (c *Chip) escan(v []byte) int32 {
	f := &c.fw
	if !f.up {
		c.misuse(ruleUp, "escan while the firmware is down (before WLC_UP): status BCME_NOTUP")
		return bcmeNotUp
	}
	if len(v) < escanFixedLen {
		c.misuse(ruleIoctl, "escan with %d value bytes (the parameters up to channel_num take %d): status BCME_BADLEN", len(v), escanFixedLen)
		return bcmeBadLen
	}
	le := binary.LittleEndian
	ver := le.Uint32(v[0:])
	action := le.Uint16(v[4:])
	if ver != escanVersion || action != escanActionStart {
		c.misuse(ruleIoctl, "escan version %d action %d (want version 1, action 1 start): status BCME_BADARG", ver, action)
		return bcmeBadArg
	}
	r := scanReq{sync: le.Uint16(v[6:])}
	n := le.Uint32(v[8:])
	if n > 32 {
		c.misuse(ruleIoctl, "escan SSID length %d (max 32): status BCME_BADARG", n)
		return bcmeBadArg
	}
	r.ssid = string(v[12 : 12+n])
	if b := v[44:50]; !bytes.Equal(b, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}) && !bytes.Equal(b, make([]byte, 6)) {
		r.bssid = append(net.HardwareAddr(nil), b...)
	}
	switch v[51] {
	case scanActive:
	case scanPassive:
		r.passive = true
	default:
		c.misuse(ruleIoctl, "escan scan_type %d (0 active, 1 passive): status BCME_BADARG", v[51])
		return bcmeBadArg
	}
	active := int32(le.Uint32(v[56:]))
	passive := int32(le.Uint32(v[60:]))
	ms := active
	def := int32(defaultActiveDwell)
	if r.passive {
		ms, def = passive, defaultPassiveDwell
	}
	if ms <= 0 {
		ms = def
	}
	r.dwell = time.Duration(ms) * time.Millisecond
	num := int(le.Uint32(v[68:]) & 0xFFFF) // high 16 bits: number of SSIDs
	if escanFixedLen+2*num > len(v) {
		c.misuse(ruleIoctl, "escan lists %d channels but only %d bytes follow channel_num: status BCME_BADLEN", num, len(v)-escanFixedLen)
		return bcmeBadLen
	}
	for i := 0; i < num; i++ {
		ch := int(le.Uint16(v[escanFixedLen+2*i:]) & 0xFF) // chanspec or plain channel
		if ch < 1 || ch > maxChannel {
			c.misuse(ruleIoctl, "escan channel %d (chanspec 0x%04X) outside 1..14: status BCME_BADARG", ch, le.Uint16(v[escanFixedLen+2*i:]))
			return bcmeBadArg
		}
		if !containsInt(r.channels, ch) {
			r.channels = append(r.channels, ch)
		}
	}
	if len(r.channels) == 0 {
		for ch := 1; ch <= maxChannel; ch++ {
			r.channels = append(r.channels, ch)
		}
	}
	c.abortScan()
	f.scanGen++
	f.scanning = true
	f.scanSync = r.sync
	gen, cg := f.scanGen, c.gen
	sta := c.sta
	c.log.Info("escan", "ssid", r.ssid, "passive", r.passive, "dwell", r.dwell, "channels", r.channels)
	// The radio answers at once; the results come out as the chip would
	// finish each channel.
	c.later(func() {
		var found []radio.BSS
		if sta != nil {
			found = sta.Scan(radio.ScanRequest{SSID: r.ssid, BSSID: r.bssid, Channels: r.channels, Passive: r.passive})
		}
		c.mu.Lock()
		defer c.unlock()
		if c.gen != cg || f.scanGen != gen || !f.scanning {
			return
		}
		// What each channel's dwell heard. A hidden network that
		// answered a directed probe was heard twice: its beacon (no
		// SSID) and its probe response (with it), as two results for
		// one BSSID.
		heard := make([][]radio.BSS, len(r.channels))
		for _, b := range found {
			idx := indexInt(r.channels, b.Channel)
			if idx < 0 {
				continue
			}
			if b.Hidden && b.SSID != "" {
				beacon := b
				beacon.SSID = ""
				heard[idx] = append(heard[idx], beacon)
			}
			heard[idx] = append(heard[idx], b)
		}
		// One callback per channel, at the end of its dwell, the last
		// one ending the scan too: the results come before the end
		// whatever order a clock runs callbacks due at one instant in.
		for idx := range r.channels {
			last := idx == len(r.channels)-1
			c.afterScan(gen, time.Duration(idx+1)*r.dwell, func() {
				for _, b := range heard[idx] {
					c.emit(event{typ: evEscanResult, status: stPartial, addr: b.BSSID, data: escanResult(r.sync, bssRecord(b))})
				}
				if last {
					f.scanning = false
					c.emit(event{typ: evEscanResult, status: stSuccess, data: escanResult(r.sync, nil)})
					c.log.Info("escan complete", "found", len(found))
				}
			})
		}
	})
	return bcmeOK
}

// afterScan runs fn after d unless the scan was aborted or replaced.
func (c *Chip) afterScan(gen uint64, d time.Duration, fn func()) {
	c.after(d, func() {
		if c.fw.scanGen == gen && c.fw.scanning {
			fn()
		}
	})
}

// abortScan ends a scan in progress with ESCAN_RESULT status 4 (ABORT).
func (c *Chip) abortScan() {
	f := &c.fw
	if !f.scanning {
		return
	}
	f.scanning = false
	f.scanGen++
	c.emit(event{typ: evEscanResult, status: 4, data: escanResult(f.scanSync, nil)})
}

func containsInt(l []int, v int) bool { return indexInt(l, v) >= 0 }

func indexInt(l []int, v int) int {
	for i, x := range l {
		if x == v {
			return i
		}
	}
	return -1
}

// escanResult is an ESCAN_RESULT's data: u32 buflen, u32 version, u16
// sync_id, u16 bss_count, then the BSS record (none in the final event).
func escanResult(sync uint16, bss []byte) []byte {
	d := make([]byte, escanResultHdr+len(bss))
	binary.LittleEndian.PutUint32(d[0:], uint32(len(d)))
	binary.LittleEndian.PutUint32(d[4:], bssInfoVersion)
	binary.LittleEndian.PutUint16(d[8:], sync)
	if bss != nil {
		binary.LittleEndian.PutUint16(d[10:], 1)
	}
	copy(d[escanResultHdr:], bss)
	return d
}

// noiseFloor is the noise the BSS records report, in dBm (a guess).
const noiseFloor = -92

// bssRecord builds the little-endian BSS record (wl_bss_info) of b, with
// the IEs that carry its SSID, rates, channel and security (fact sheet
// 5.4).
func bssRecord(b radio.BSS) []byte {
	ies := bssIEs(b)
	r := make([]byte, bssFixedLen+len(ies))
	le := binary.LittleEndian
	le.PutUint32(r[0:], bssInfoVersion)
	le.PutUint32(r[bssOffLength:], uint32(len(r)))
	copy(r[bssOffBSSID:], b.BSSID)
	le.PutUint16(r[bssOffBeacon:], 100)
	capab := uint16(capESS)
	if b.Security != radio.SecOpen {
		capab |= capPrivacy
	}
	le.PutUint16(r[bssOffCap:], capab)
	r[bssOffSSIDLen] = byte(len(b.SSID))
	copy(r[bssOffSSID:bssOffSSID+32], b.SSID)
	rates := []byte{0x82, 0x84, 0x8B, 0x96, 0x0C, 0x12, 0x18, 0x24}
	le.PutUint32(r[bssOffRateCnt:], uint32(len(rates)))
	copy(r[bssOffRates:], rates)
	le.PutUint16(r[bssOffChanspec:], uint16(b.Channel)|chanspec2G20)
	r[bssOffDTIM] = 1
	le.PutUint16(r[bssOffRSSI:], uint16(int16(b.RSSI)))
	r[bssOffNoise] = byte(noiseFloor & 0xFF)
	r[bssOffCtlCh] = byte(b.Channel)
	le.PutUint16(r[bssOffIEOff:], bssFixedLen)
	le.PutUint32(r[bssOffIELen:], uint32(len(ies)))
	le.PutUint16(r[bssOffSNR:], uint16(int16(b.RSSI-noiseFloor)))
	copy(r[bssFixedLen:], ies)
	return r
}

// Cipher and AKM suites (IEEE 802.11 RSN, Wi-Fi Alliance WPA).
var (
	ouiRSN  = []byte{0x00, 0x0F, 0xAC}
	ouiWPA  = []byte{0x00, 0x50, 0xF2}
	suiteTK = byte(2) // TKIP
	suiteCC = byte(4) // CCMP
	akmPSK  = byte(2)
	akmSAE  = byte(8)
)

// bssIEs returns the beacon IEs of b: SSID (0), supported rates (1), DS
// parameter set (3) and, by security, RSN (48) and/or the WPA vendor IE
// (221, 00:50:F2 type 1).
func bssIEs(b radio.BSS) []byte {
	var ies []byte
	ie := func(id byte, body ...[]byte) {
		n := 0
		for _, p := range body {
			n += len(p)
		}
		ies = append(ies, id, byte(n))
		for _, p := range body {
			ies = append(ies, p...)
		}
	}
	ie(0, []byte(b.SSID))
	ie(1, []byte{0x82, 0x84, 0x8B, 0x96, 0x0C, 0x12, 0x18, 0x24})
	ie(3, []byte{byte(b.Channel)})
	suite := func(oui []byte, t byte) []byte { return append(append([]byte(nil), oui...), t) }
	u16 := func(v uint16) []byte { return []byte{byte(v), byte(v >> 8)} }
	rsn := func(group byte, pairwise []byte, akms []byte, caps uint16) {
		body := [][]byte{u16(1), suite(ouiRSN, group), u16(uint16(len(pairwise)))}
		for _, p := range pairwise {
			body = append(body, suite(ouiRSN, p))
		}
		body = append(body, u16(uint16(len(akms))))
		for _, a := range akms {
			body = append(body, suite(ouiRSN, a))
		}
		body = append(body, u16(caps))
		ie(48, body...)
	}
	wpa := func() {
		ie(221, ouiWPA, []byte{1}, u16(1), suite(ouiWPA, suiteTK), u16(1), suite(ouiWPA, suiteTK), u16(1), suite(ouiWPA, akmPSK))
	}
	const mfpc, mfpr = 0x0080, 0x0040
	switch b.Security {
	case radio.SecWPA:
		wpa()
	case radio.SecWPA2:
		rsn(suiteCC, []byte{suiteCC}, []byte{akmPSK}, 0)
	case radio.SecWPAWPA2:
		wpa()
		rsn(suiteTK, []byte{suiteTK, suiteCC}, []byte{akmPSK}, 0)
	case radio.SecWPA3:
		rsn(suiteCC, []byte{suiteCC}, []byte{akmSAE}, mfpc|mfpr)
	case radio.SecWPA2WPA3:
		rsn(suiteCC, []byte{suiteCC}, []byte{akmPSK, akmSAE}, mfpc)
	}
	return ies
}
