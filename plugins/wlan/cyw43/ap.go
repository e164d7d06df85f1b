package cyw43

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"slices"

	"github.com/nichost/nichost/plugins/wlan/radio"
	"github.com/nichost/nichost/plugins/wlan/regdb"
)

// DefaultAPRSSI is the level (dBm) at which stations hear the chip's
// access point when Options.APRSSI is 0.
const DefaultAPRSSI = -45

// apConfig is the access point's configuration on bsscfg/interface 1, as
// the host set it (the shared spec's wire contract; fact sheet 5.5 [C]).
// A running BSS keeps what it started with; changes apply at the next
// bss (1, 1).
type apConfig struct {
	mac      net.HardwareAddr // bsscfg:cur_etheraddr (1): the BSSID
	ssid     string           // bsscfg:ssid (1, ...); "" not set
	channel  int              // SET_CHANNEL on interface 1
	hidden   bool             // bsscfg:closednet (1, 1)
	wsec     uint32           // bsscfg:wsec (1, v)
	wpaAuth  uint32           // bsscfg:wpa_auth (1, v)
	mfp      uint32           // mfp on interface 1
	pmkFlags uint16           // SET_WSEC_PMK on interface 1
	pmkKey   []byte           // nil: not set
	sae      *string          // sae_password on interface 1; nil: not set

	run *apRun // the running BSS; nil while it is down
}

// apRun is a running BSS. Its identity tells the radio hooks of this run
// from those of an earlier one.
type apRun struct {
	radio    *radio.AP // nil without Options.Radio
	bssid    net.HardwareAddr
	channel  int                // in use (it follows the station's)
	stations []net.HardwareAddr // associated, in join order (from the hooks)
}

// apDefaultChannel is the AP's channel before SET_CHANNEL on interface 1
// (a choice of the model: the driver's default).
const apDefaultChannel = 1

func (a *apConfig) reset(otp net.HardwareAddr) {
	mac := append(net.HardwareAddr(nil), otp...)
	mac[0] |= 0x02 // locally administered (spec)
	*a = apConfig{mac: mac, channel: apDefaultChannel}
}

// AP returns the radio AP of the chip's running BSS (bsscfg 1), nil while
// it is down or without Options.Radio. Tests use it to look at it.
func (c *Chip) AP() *radio.AP {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.fw.ap.run; r != nil {
		return r.radio
	}
	return nil
}

// APUp reports whether the access point's BSS runs (bss 1 reads 1).
func (c *Chip) APUp() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fw.ap.run != nil
}

// afterReply queues f to run (with mu held) right after the response of
// the ioctl being answered: the events an ioctl causes follow its
// response. Caller holds mu, inside an ioctl.
func (c *Chip) afterReply(f func()) { c.post = append(c.post, f) }

// emitAP emits an event of the AP interface (ifidx and bsscfg 1).
func (c *Chip) emitAP(e event) {
	e.ifidx = ifAP
	c.emit(e)
}

// apVar handles the bsscfg iovars of index 1 that configure the AP;
// handled is false for the others. Caller holds mu.
func (c *Chip) apVar(set bool, name string, val, resp []byte) (status int32, handled bool) {
	a := &c.fw.ap
	u32 := func() (uint32, bool) {
		v, ok := arg32(val, 0)
		if !ok {
			c.misuse(ruleIoctl, "iovar SET bsscfg:%s (1, ...) without its u32 value: status BCME_BADLEN", name)
		}
		return v, ok
	}
	reply := func(v []byte) int32 {
		if !put(resp, 0, v) {
			c.log.Info("iovar GET reply buffer too short", "name", "bsscfg:"+name, "len", len(resp), "want", len(v))
			return bcmeBufTooShort
		}
		return bcmeOK
	}
	switch name {
	case "cur_etheraddr":
		if !set {
			return reply(a.mac), true
		}
		if len(val) < 6 {
			c.misuse(ruleIoctl, "iovar SET bsscfg:cur_etheraddr (1, MAC) with %d MAC bytes (want 6): status BCME_BADLEN", len(val))
			return bcmeBadLen, true
		}
		mac := net.HardwareAddr(append([]byte(nil), val[:6]...))
		if mac[0]&1 != 0 || bytes.Equal(mac, make([]byte, 6)) {
			c.misuse(ruleIoctl, "iovar SET bsscfg:cur_etheraddr (1, %v): the AP's address (its BSSID) must be a unicast, non-zero MAC: status BCME_BADARG", mac)
			return bcmeBadArg, true
		}
		a.mac = mac
		c.log.Info("AP address set", "mac", mac.String())
		return bcmeOK, true
	case "ssid":
		if !set {
			v := make([]byte, ssidStructLen)
			binary.LittleEndian.PutUint32(v, uint32(len(a.ssid)))
			copy(v[4:], a.ssid)
			return reply(v), true
		}
		n, ok := arg32(val, 0)
		switch {
		case !ok:
			c.misuse(ruleIoctl, "iovar SET bsscfg:ssid (1, ...) without the u32 SSID length: status BCME_BADLEN")
			return bcmeBadLen, true
		case n < 1 || n > 32:
			c.misuse(ruleIoctl, "iovar SET bsscfg:ssid (1, %d, ...): an AP's SSID has 1..32 bytes: status BCME_BADARG", n)
			return bcmeBadArg, true
		case 4+int(n) > len(val):
			c.misuse(ruleIoctl, "iovar SET bsscfg:ssid (1, %d, ...) with only %d SSID bytes: status BCME_BADLEN", n, len(val)-4)
			return bcmeBadLen, true
		}
		a.ssid = string(val[4 : 4+n])
		return bcmeOK, true
	case "closednet":
		if !set {
			return reply(le32(b2u(a.hidden))), true
		}
		v, ok := u32()
		if !ok {
			return bcmeBadLen, true
		}
		a.hidden = v != 0
		return bcmeOK, true
	case "wsec":
		if !set {
			return reply(le32(a.wsec)), true
		}
		v, ok := u32()
		if !ok {
			return bcmeBadLen, true
		}
		if v != 0 && v != wsecTKIP && v != wsecAES && v != wsecTKIP|wsecAES {
			c.misuse(ruleAP, "iovar SET bsscfg:wsec (1, 0x%X): the AP takes 0 (open), 2 (TKIP), 4 (AES) or 6 (both); WEP is not offered: status BCME_BADARG", v)
			return bcmeBadArg, true
		}
		a.wsec = v
		return bcmeOK, true
	case "wpa_auth":
		if !set {
			return reply(le32(a.wpaAuth)), true
		}
		v, ok := u32()
		if !ok {
			return bcmeBadLen, true
		}
		switch v {
		case wpaAuthDisable, wpaAuthPSK, wpaAuth2PSK, wpaAuthPSK | wpaAuth2PSK, wpaAuth3SAE, wpaAuth3SAE | wpaAuth2PSK:
		default:
			c.misuse(ruleAP, "iovar SET bsscfg:wpa_auth (1, 0x%X): the AP takes 0, 0x4 (WPA-PSK), 0x80 (WPA2-PSK), 0x84, 0x40000 (SAE) or 0x40080: status BCME_BADARG", v)
			return bcmeBadArg, true
		}
		a.wpaAuth = v
		return bcmeOK, true
	}
	return 0, false
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// setAPMFP takes mfp on interface 1. Caller holds mu.
func (c *Chip) setAPMFP(val []byte) int32 {
	v, ok := arg32(val, 0)
	if !ok || v > 2 {
		c.misuse(ruleIoctl, "iovar SET mfp %d on interface 1 (0 none, 1 capable, 2 required): status BCME_BADARG", v)
		return bcmeBadArg
	}
	c.fw.ap.mfp = v
	return bcmeOK
}

// security derives the radio security from wsec, wpa_auth and mfp, and
// the secret; a refusal is the status and what is wrong.
func (a *apConfig) security() (sec radio.Security, pass string, status int32, why string) {
	psk := a.wpaAuth&(wpaAuthPSK|wpaAuth2PSK) != 0
	sae := a.wpaAuth&wpaAuth3SAE != 0
	switch {
	case a.wpaAuth == wpaAuthDisable:
		if a.wsec != 0 {
			return 0, "", bcmeBadArg, fmt.Sprintf("bsscfg:wsec 0x%X with wpa_auth 0: an open AP has wsec 0 (WEP is not offered)", a.wsec)
		}
		return radio.SecOpen, "", bcmeOK, ""
	case a.wsec == 0:
		return 0, "", bcmeBadArg, fmt.Sprintf("bsscfg:wpa_auth 0x%X with wsec 0: a secured AP needs its ciphers (wsec 2, 4 or 6)", a.wpaAuth)
	case sae && a.wsec&wsecAES == 0:
		return 0, "", bcmeBadArg, fmt.Sprintf("SAE with wsec 0x%X: SAE needs AES (wsec 4)", a.wsec)
	case sae && !psk && a.mfp != mfpRequired:
		return 0, "", bcmeBadArg, fmt.Sprintf("SAE alone (WPA3) with mfp %d: WPA3 requires management frame protection (mfp 2)", a.mfp)
	case sae && psk && a.mfp == 0:
		return 0, "", bcmeBadArg, "WPA2/WPA3 transition with mfp 0: it needs mfp 1 (capable)"
	}
	switch {
	case sae && psk:
		sec = radio.SecWPA2WPA3
	case sae:
		sec = radio.SecWPA3
	case a.wpaAuth == wpaAuthPSK|wpaAuth2PSK:
		sec = radio.SecWPAWPA2
	case a.wpaAuth == wpaAuth2PSK:
		sec = radio.SecWPA2
	default:
		sec = radio.SecWPA
	}
	if psk {
		switch {
		case a.pmkKey == nil:
			return 0, "", bcmeError, fmt.Sprintf("a %v AP without its passphrase (SET_WSEC_PMK on interface 1 first)", sec)
		case a.pmkFlags&pmkPassphrase == 0:
			return 0, "", bcmeBadArg, "SET_WSEC_PMK on interface 1 with flags 0 (a PMK): the simulated AP takes the passphrase (flags 1)"
		}
		pass = string(a.pmkKey)
	}
	if sae {
		switch {
		case a.sae == nil:
			return 0, "", bcmeError, fmt.Sprintf("a %v AP without its SAE password (sae_password on interface 1 first)", sec)
		case psk && *a.sae != pass:
			return 0, "", bcmeBadArg, "WPA2/WPA3 transition with a passphrase and an SAE password that differ: the simulated AP has one secret"
		}
		pass = *a.sae
	}
	return sec, pass, bcmeOK, ""
}

// countryRules are the regulatory rules of the chip's country (worldwide
// before the host sets one, or for a code the table does not know).
func (f *firmware) countryRules() regdb.Rules {
	r, err := regdb.Lookup(f.country)
	if err != nil {
		r, _ = regdb.Lookup(regdb.Worldwide)
	}
	return r
}

// bssVar takes the bss iovar SET: (u32 bsscfg, u32 up). Bsscfg 1 starts
// or stops the AP; others are stored. Caller holds mu.
func (c *Chip) bssVar(val []byte) int32 {
	idx, ok1 := arg32(val, 0)
	up, ok2 := arg32(val, 4)
	if !ok1 || !ok2 {
		c.misuse(ruleIoctl, "iovar SET bss takes (u32 bsscfg, u32 up), %d value bytes given: status BCME_BADLEN", len(val))
		return bcmeBadLen
	}
	if idx != ifAP {
		c.log.Info("bss on a bsscfg other than the AP's (1): stored only", "bsscfg", idx, "up", up)
		c.fw.vars["bss"] = append([]byte(nil), val...)
		return bcmeOK
	}
	if up == 0 {
		c.stopAP(true)
		return bcmeOK
	}
	return c.startAP()
}

// startAP is bss (1, 1): the checks, then the BSS on the air and LINK up
// on interface 1. Caller holds mu.
func (c *Chip) startAP() int32 {
	f := &c.fw
	a := &f.ap
	if a.run != nil {
		c.log.Info("bss (1, 1) while the AP is up: nothing to do")
		return bcmeOK
	}
	refuse := func(st int32, format string, args ...any) int32 {
		name := "BCME_ERROR (-1)"
		if st == bcmeBadArg {
			name = "BCME_BADARG (-2)"
		}
		c.misuse(ruleAP, "bss (1, 1): "+format+": status "+name, args...)
		return st
	}
	if !f.up {
		return refuse(bcmeError, "the firmware is down (WLC_UP first)")
	}
	if a.ssid == "" {
		return refuse(bcmeError, "the AP has no SSID (bsscfg:ssid (1, length, SSID) first)")
	}
	sec, pass, st, why := a.security()
	if st != bcmeOK {
		return refuse(st, "%s", why)
	}
	rules := f.countryRules()
	if !rules.Allows(a.channel) {
		return refuse(bcmeBadArg, "channel %d is not allowed in country %s (channels %v)", a.channel, rules.Country, rules.Channels)
	}
	ch := a.channel
	if f.joined && f.bss.Channel != 0 && f.bss.Channel != ch {
		c.log.Info("AP starts on the station's channel (one radio)", "configured", ch, "station", f.bss.Channel)
		ch = f.bss.Channel
	}
	run := &apRun{bssid: append(net.HardwareAddr(nil), a.mac...), channel: ch}
	if env := c.opts.Radio; env != nil {
		cfg := radio.APConfig{SSID: a.ssid, BSSID: run.bssid, Channel: ch, RSSI: c.apRSSI(),
			Security: sec, Hidden: a.hidden, Passphrase: pass}
		r, err := env.AddHostedAP(cfg, radio.APHooks{
			Rx:    func(frame []byte) { c.apRx(run, frame) },
			Join:  func(mac net.HardwareAddr) { c.apJoin(run, mac) },
			Leave: func(mac net.HardwareAddr) { c.apLeave(run, mac) },
		})
		if err != nil {
			return refuse(bcmeBadArg, "the radio refuses the AP: %v", err)
		}
		run.radio = r
	}
	a.run = run
	c.log.Info("AP up", "ssid", a.ssid, "bssid", run.bssid.String(), "channel", ch, "security", sec, "hidden", a.hidden)
	bssid := run.bssid
	c.afterReply(func() {
		c.emitAP(event{typ: evLink, status: stSuccess, flags: linkFlagUp, addr: bssid})
	})
	return bcmeOK
}

// apRSSI is the level stations hear the AP at.
func (c *Chip) apRSSI() int {
	if c.opts.APRSSI != 0 {
		return min(max(c.opts.APRSSI, -100), 0)
	}
	return DefaultAPRSSI
}

// stopAP takes the BSS down: the radio AP deauthenticates its stations at
// once and leaves the air. With events (bss (1, 0), WLC_DOWN) the host
// gets DEAUTH_IND for each station, then LINK down on interface 1, after
// the ioctl's response; without (power-off) nothing. Caller holds mu.
func (c *Chip) stopAP(events bool) {
	a := &c.fw.ap
	run := a.run
	if run == nil {
		return
	}
	a.run = nil
	if run.radio != nil {
		c.later(run.radio.Stop)
	}
	c.log.Info("AP down", "stations", len(run.stations))
	if !events {
		return
	}
	c.afterReply(func() {
		for _, mac := range run.stations {
			c.emitAP(event{typ: evDeauthInd, status: stSuccess, reason: reasonDeauthLeaving, addr: mac})
		}
		c.emitAP(event{typ: evLink, status: stSuccess, addr: run.bssid})
	})
}

// apJoin is the radio AP's Join hook: ASSOC_IND on interface 1.
func (c *Chip) apJoin(run *apRun, mac net.HardwareAddr) {
	c.mu.Lock()
	defer c.unlock()
	if !c.powered || c.fw.ap.run != run || slices.ContainsFunc(run.stations, func(m net.HardwareAddr) bool { return bytes.Equal(m, mac) }) {
		return
	}
	run.stations = append(run.stations, mac)
	c.log.Info("AP: station associated", "mac", mac.String())
	c.emitAP(event{typ: evAssocInd, status: stSuccess, addr: mac})
}

// apLeave is the radio AP's Leave hook: DISASSOC_IND (reason 8, leaving)
// on interface 1. The stations a stopped BSS deauthenticated were
// reported by stopAP.
func (c *Chip) apLeave(run *apRun, mac net.HardwareAddr) {
	c.mu.Lock()
	defer c.unlock()
	if !c.powered || c.fw.ap.run != run {
		return
	}
	i := slices.IndexFunc(run.stations, func(m net.HardwareAddr) bool { return bytes.Equal(m, mac) })
	if i < 0 {
		return
	}
	run.stations = slices.Delete(run.stations, i, i+1)
	c.log.Info("AP: station left", "mac", mac.String())
	c.emitAP(event{typ: evDisassocInd, status: stSuccess, reason: reasonDisassocLeaving, addr: mac})
}

// apRx is the radio AP's Rx hook: a frame for the host's AP interface
// (BDC flags2 1).
func (c *Chip) apRx(run *apRun, frame []byte) {
	c.mu.Lock()
	defer c.unlock()
	if !c.powered || c.fw.ap.run != run {
		c.stats.RxDropped++
		return
	}
	c.dataToHost(frame, ifAP)
}

// apTransmit hands a host frame for interface 1 to the radio AP (once mu
// is released). Caller holds mu.
func (c *Chip) apTransmit(eth []byte) {
	run := c.fw.ap.run
	if run == nil || run.radio == nil {
		c.stats.TxDropped++
		c.log.Debug("frame for the AP interface while the AP is down: dropped", "len", len(eth))
		return
	}
	r := run.radio
	c.later(func() {
		err := r.Transmit(eth)
		c.mu.Lock()
		if err != nil {
			c.stats.TxDropped++
			c.log.Debug("radio AP refused a frame", "err", err)
		} else {
			c.stats.TxFrames++
		}
		c.mu.Unlock()
	})
}

// apFollow moves a running AP to the channel the station joined on (one
// radio: the firmware follows the station). Caller holds mu.
func (c *Chip) apFollow(ch int) {
	run := c.fw.ap.run
	if run == nil || ch == 0 || run.channel == ch {
		return
	}
	c.log.Info("AP follows the station to its channel", "from", run.channel, "to", ch)
	run.channel = ch
	if r := run.radio; r != nil {
		c.later(func() {
			if err := r.SetChannel(ch); err != nil {
				c.log.Debug("radio AP channel switch", "err", err)
			}
		})
	}
}

// channelNow is what GET_CHANNEL on interface 1 reads: the channel in use,
// the configured one while the AP is down.
func (a *apConfig) channelNow() int {
	if a.run != nil {
		return a.run.channel
	}
	return a.channel
}

// assocList answers GET_ASSOCLIST on interface 1: request u32 max count
// and room for max MACs; reply u32 count (all), then min(count, max) MACs
// in join order. Caller holds mu.
func (c *Chip) assocList(req, resp []byte) int32 {
	max, ok := arg32(req, 0)
	if !ok || 4+6*uint64(max) > uint64(len(req)) {
		c.misuse(ruleIoctl, "WLC_GET_ASSOCLIST on interface 1 with a %d-byte buffer: it takes u32 max count, then room for that many 6-byte MACs: status BCME_BADLEN", len(req))
		return bcmeBadLen
	}
	var l []net.HardwareAddr
	if run := c.fw.ap.run; run != nil {
		l = run.stations
	}
	binary.LittleEndian.PutUint32(resp, uint32(len(l)))
	for i := 0; i < len(l) && i < int(max); i++ {
		copy(resp[4+6*i:], l[i])
	}
	return bcmeOK
}

// apRSSIOf answers GET_RSSI on interface 1: scb_val (i32, station MAC);
// the reply i32 is that station's level as the AP hears it. Caller holds
// mu.
func (c *Chip) apRSSIOf(req, resp []byte) int32 {
	if len(req) < 10 {
		c.misuse(ruleIoctl, "WLC_GET_RSSI on interface 1 with a %d-byte request: the AP has no RSSI of its own, it takes (i32 0, station MAC): status BCME_BADARG", len(req))
		return bcmeBadArg
	}
	mac := net.HardwareAddr(req[4:10])
	run := c.fw.ap.run
	if run == nil || run.radio == nil || !slices.ContainsFunc(run.stations, func(m net.HardwareAddr) bool { return bytes.Equal(m, mac) }) {
		return bcmeNotFound
	}
	v, ok := run.radio.StationRSSI(mac)
	if !ok {
		return bcmeNotFound
	}
	return c.reply32("WLC_GET_RSSI", resp, uint32(int32(v)))
}
