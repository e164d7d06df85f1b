package cyw43

import (
	"bytes"
	"encoding/binary"
	"net"
	"time"

	"github.com/nichost/nichost/plugins/wlan/radio"
)

// Join timing on the radio clock (the model's choice: a few ms per step,
// fact sheet 8.2.13 gives the order, not the delays).
const (
	joinStep   = 5 * time.Millisecond   // between the events of a join script
	noNetDelay = 100 * time.Millisecond // the firmware's search before "no networks"
)

// setSSID takes WLC_SET_SSID: u32 length + 32-byte SSID. It starts a join
// (an empty SSID leaves). Caller holds mu.
func (c *Chip) setSSID(iface int, req []byte) int32 {
	if len(req) < ssidStructLen {
		c.misuse(ruleIoctl, "WLC_SET_SSID with a %d-byte payload (want 36: u32 length, 32-byte SSID): status BCME_BADLEN", len(req))
		return bcmeBadLen
	}
	n := binary.LittleEndian.Uint32(req)
	if n > 32 {
		c.misuse(ruleIoctl, "WLC_SET_SSID length %d (max 32): status BCME_BADARG", n)
		return bcmeBadArg
	}
	if iface != 0 {
		c.log.Info("WLC_SET_SSID on the AP interface: not simulated (the AP takes bsscfg:ssid (1, ...) and bss (1, 1))")
		return bcmeOK
	}
	if n == 0 {
		c.leave(true)
		return bcmeOK
	}
	if !c.fw.up {
		c.misuse(ruleUp, "WLC_SET_SSID %q while the firmware is down (before WLC_UP): status BCME_NOTUP", req[4:4+n])
		return bcmeNotUp
	}
	c.startJoin(string(req[4:4+n]), nil, nil)
	return bcmeOK
}

// joinVar takes the "join" iovar: SSID struct (36), scan parameters (20),
// then assoc parameters: BSSID (6, 2 pad), u32 chanspec count, u16
// chanspecs ([C]'s layout, fact sheet 5.3).
func (c *Chip) joinVar(iface int, v []byte) int32 {
	const bssidOff, numOff, listOff = 56, 64, 68
	if len(v) < bssidOff+6 {
		c.misuse(ruleIoctl, "iovar join with %d value bytes (SSID 36, scan parameters 20, BSSID 6 at least): status BCME_BADLEN", len(v))
		return bcmeBadLen
	}
	le := binary.LittleEndian
	n := le.Uint32(v)
	if n == 0 || n > 32 {
		c.misuse(ruleIoctl, "iovar join SSID length %d (1..32): status BCME_BADARG", n)
		return bcmeBadArg
	}
	if iface != 0 {
		c.log.Info("join on the AP interface: not simulated (the AP takes bsscfg:ssid (1, ...) and bss (1, 1))")
		return bcmeOK
	}
	if !c.fw.up {
		c.misuse(ruleUp, "iovar join %q while the firmware is down (before WLC_UP): status BCME_NOTUP", v[4:4+n])
		return bcmeNotUp
	}
	var bssid net.HardwareAddr
	if b := v[bssidOff : bssidOff+6]; !bytes.Equal(b, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}) && !bytes.Equal(b, make([]byte, 6)) {
		bssid = append(net.HardwareAddr(nil), b...)
	}
	var chans []int
	if len(v) >= numOff+4 {
		num := int(le.Uint32(v[numOff:]))
		if listOff+2*num > len(v) {
			c.misuse(ruleIoctl, "iovar join lists %d chanspecs but only %d bytes follow: status BCME_BADLEN", num, len(v)-listOff)
			return bcmeBadLen
		}
		for i := 0; i < num; i++ {
			ch := int(le.Uint16(v[listOff+2*i:]) & 0xFF)
			if ch < 1 || ch > maxChannel {
				c.misuse(ruleIoctl, "iovar join chanspec 0x%04X: channel %d outside 1..14: status BCME_BADARG", le.Uint16(v[listOff+2*i:]), ch)
				return bcmeBadArg
			}
			chans = append(chans, ch)
		}
	}
	c.startJoin(string(v[4:4+n]), bssid, chans)
	return bcmeOK
}

// offer is the security the host configured, as the radio takes it, and
// whether the join runs the supplicant (a PSK_SUP event ends it).
func (c *Chip) offer() (radio.JoinRequest, bool) {
	f := &c.fw
	wpa := f.u32[wlcSetWPAAuth]
	wsec := f.u32[wlcSetWsec]
	pass := ""
	if f.pmkFlags&pmkPassphrase != 0 {
		pass = string(f.pmkKey)
	}
	var r radio.JoinRequest
	secured := true
	switch {
	// SAE alone is WPA3 only with management frame protection required:
	// with it merely capable it is the station's WPA2/WPA3 mode, which all
	// three open drivers configure so (embassy's default JoinOptions,
	// cyw43-driver's WPA3_WPA2_AES_PSK, soypat's JoinAuthWPA2WPA3): a
	// WPA2-only network joins by PSK.
	case wpa&wpaAuth3SAE != 0 && (wpa&wpaAuth2PSK != 0 || f.mfp != mfpRequired):
		r.Security = radio.SecWPA2WPA3
		if f.sae != "" {
			pass = f.sae
		}
	case wpa&wpaAuth3SAE != 0:
		r.Security = radio.SecWPA3
		if f.sae != "" {
			pass = f.sae
		}
	case wpa&wpaAuth2PSK != 0:
		r.Security = radio.SecWPA2
		if wpa&wpaAuthPSK != 0 {
			r.Security = radio.SecWPAWPA2
		}
	case wpa&wpaAuthPSK != 0:
		r.Security = radio.SecWPA
	case wsec&wsecWEP != 0:
		r.Security = radio.SecWEP
		pass = f.wepKey
		secured = false
	default:
		r.Security = radio.SecOpen
		secured = false
	}
	r.Passphrase = pass
	if pass == "" {
		r.PMK = f.pmk()
	}
	if secured && f.supWPA[0] == 0 {
		c.log.Info("join with WPA security but bsscfg:sup_wpa 0: the model runs the supplicant anyway")
	}
	return r, secured
}

// startJoin asks the radio (once mu is released) and scripts the outcome.
// Caller holds mu.
func (c *Chip) startJoin(ssid string, bssid net.HardwareAddr, chans []int) {
	f := &c.fw
	c.leave(false)
	req, secured := c.offer()
	req.SSID, req.BSSID, req.Channels = ssid, bssid, chans
	f.joinGen++
	f.joining = true
	gen, cg, sta := f.joinGen, c.gen, c.sta
	c.log.Info("join", "ssid", ssid, "bssid", bssid, "security", req.Security, "channels", chans)
	c.later(func() {
		res, bss := radio.JoinNoNetwork, radio.BSS{}
		if sta != nil {
			res, bss = sta.Join(req)
		}
		c.mu.Lock()
		defer c.unlock()
		if c.gen != cg || f.joinGen != gen || c.sta != sta {
			if res == radio.JoinOK && sta != nil {
				// Superseded. Once mu is released: Leave may run a
				// hosted AP's hook, which may lock another chip.
				c.later(sta.Leave)
			}
			return
		}
		c.joinOutcome(gen, res, bss, ssid, secured)
	})
}

// joinOutcome schedules the events of a join (fact sheet 8.2.13).
// Caller holds mu.
func (c *Chip) joinOutcome(gen uint64, res radio.JoinResult, bss radio.BSS, ssid string, secured bool) {
	f := &c.fw
	step := func(k int, fn func()) { c.afterJoin(gen, time.Duration(k)*joinStep, fn) }
	ev := func(typ, status, reason uint32, flags uint16) func() {
		return func() {
			e := event{typ: typ, status: status, reason: reason, flags: flags, addr: bss.BSSID, auth: f.u32[wlcSetAuth]}
			if typ == evSetSSID {
				e.data = []byte(ssid)
			}
			c.emit(e)
		}
	}
	c.log.Info("join outcome", "ssid", ssid, "result", res, "bssid", bss.BSSID)
	switch res {
	case radio.JoinOK:
		f.joined, f.bss, f.joinedSSID = true, bss, ssid
		c.apFollow(bss.Channel)
		step(1, ev(evAuth, stSuccess, 0, 0))
		step(2, func() { f.assoc = true; ev(evAssoc, stSuccess, 0, 0)() })
		step(3, ev(evLink, stSuccess, 0, linkFlagUp))
		step(4, ev(evJoin, stSuccess, 0, 0))
		step(5, func() {
			ev(evSetSSID, stSuccess, 0, 0)()
			if !secured {
				f.joining, f.linkUp = false, true
			}
		})
		if secured {
			step(7, func() {
				ev(evPSKSup, pskKeyed, 0, 0)()
				f.joining, f.linkUp = false, true
			})
		}
	case radio.JoinNoNetwork:
		c.afterJoin(gen, noNetDelay, func() {
			f.joining = false
			ev(evSetSSID, stNoNetworks, 0, 0)()
		})
	case radio.JoinWrongKey:
		if secured {
			step(1, ev(evAuth, stSuccess, 0, 0))
			step(6, ev(evPSKSup, stFail, 0, 0))
			step(7, func() { f.joining = false; ev(evDeauthInd, stSuccess, reasonDeauthPrev, 0)() })
			return
		}
		// WEP with the wrong key: shared-key authentication fails.
		step(1, ev(evAuth, stFail, 0, 0))
		step(2, func() { f.joining = false; ev(evSetSSID, stFail, 0, 0)() })
	case radio.JoinMismatch:
		step(1, func() { f.joining = false; ev(evSetSSID, stFail, 0, 0)() })
	}
}

// afterJoin runs fn after d unless a newer join or a leave came first.
func (c *Chip) afterJoin(gen uint64, d time.Duration, fn func()) {
	c.after(d, func() {
		if c.fw.joinGen == gen {
			fn()
		}
	})
}

// leave ends a join in progress or done. With events (WLC_DISASSOC, an
// empty SET_SSID) an associated station reports DISASSOC and LINK down.
// Caller holds mu.
func (c *Chip) leave(events bool) {
	f := &c.fw
	f.joinGen++
	if f.joined && c.sta != nil {
		c.later(c.sta.Leave)
	}
	if events && f.assoc {
		c.emit(event{typ: evDisassoc, status: stSuccess, addr: f.bss.BSSID})
		c.emit(event{typ: evLink, status: stSuccess, addr: f.bss.BSSID})
	}
	if f.joined || f.joining {
		c.log.Info("left the network", "ssid", f.joinedSSID)
	}
	f.joined, f.joining, f.linkUp, f.assoc = false, false, false, false
	f.bss, f.joinedSSID = radio.BSS{}, ""
}

// lostAP is the radio's lost callback: the AP vanished (beacon loss:
// LINK down, reason 1, then DEAUTH_IND reason 2) or deauthenticated the
// station (DEAUTH_IND reason 3, then LINK down reason 2).
func (c *Chip) lostAP(bssid net.HardwareAddr, why radio.Loss) {
	c.mu.Lock()
	defer c.unlock()
	f := &c.fw
	if !c.powered || !f.joined || !bytes.Equal(bssid, f.bss.BSSID) {
		return
	}
	c.log.Info("link lost", "bssid", bssid.String())
	f.joinGen++
	f.joined, f.joining, f.linkUp, f.assoc = false, false, false, false
	f.bss, f.joinedSSID = radio.BSS{}, ""
	if why == radio.LossDeauth {
		c.emit(event{typ: evDeauthInd, status: stSuccess, reason: reasonDeauthLeaving, addr: bssid})
		c.emit(event{typ: evLink, status: stSuccess, reason: reasonLinkDisassoc, addr: bssid})
		return
	}
	c.emit(event{typ: evLink, status: stSuccess, reason: reasonLinkLost, addr: bssid})
	c.emit(event{typ: evDeauthInd, status: stSuccess, reason: reasonDeauthPrev, addr: bssid})
}

// fromRadio is the radio's rx callback: a frame the AP delivers.
func (c *Chip) fromRadio(frame []byte) {
	c.mu.Lock()
	defer c.unlock()
	if !c.powered || !c.fw.linkUp {
		c.stats.RxDropped++
		return
	}
	c.dataToHost(frame, ifSTA)
}

// sendToRadio hands a frame from the host to the station (once mu is
// released). Caller holds mu.
func (c *Chip) sendToRadio(eth []byte) {
	if !c.fw.linkUp || c.sta == nil {
		c.stats.TxDropped++
		c.log.Debug("frame from the host while not joined: dropped", "len", len(eth))
		return
	}
	sta := c.sta
	c.later(func() {
		err := sta.Send(eth)
		c.mu.Lock()
		if err != nil {
			c.stats.TxDropped++
			c.log.Debug("radio refused a frame", "err", err)
		} else {
			c.stats.TxFrames++
		}
		c.mu.Unlock()
	})
}
