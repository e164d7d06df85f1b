package cyw43

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"net"
	"strings"

	"github.com/nichost/nichost/plugins/wlan/radio"
)

// firmware is what the running firmware keeps: CLM, configuration, event
// mask, join and scan state.
type firmware struct {
	running bool
	mac     net.HardwareAddr

	clmLoading bool
	clmDone    bool
	clmBytes   int

	up         bool
	country    string
	countryRev int32
	countryRaw []byte
	eventMask  [evMax / 8]byte

	u32  map[uint32]uint32 // values of plain u32 SET ioctls (SET_INFRA, SET_AUTH, ...)
	vars map[string][]byte // iovars set and not otherwise modelled

	pm       uint32
	qtxpower uint32
	gpio     uint32
	mcast    []byte
	supWPA   map[uint32]uint32 // bsscfg -> sup_wpa
	mfp      uint32

	pmkFlags uint16
	pmkKey   []byte // as given (passphrase or PMK text/bytes)
	sae      string
	wepKey   string

	// Join.
	joinGen    uint64
	joining    bool
	joined     bool // the radio station is associated
	linkUp     bool // the join completed (keyed for secured networks): data flows
	assoc      bool // ASSOC event sent: GET_BSSID etc. answer
	bss        radio.BSS
	joinedSSID string

	// Scan.
	scanGen  uint64
	scanning bool
	scanSync uint16

	// The access point (bsscfg/interface 1).
	ap apConfig
}

func (f *firmware) reset(mac net.HardwareAddr) {
	*f = firmware{
		mac:      append(net.HardwareAddr(nil), mac...),
		u32:      map[uint32]uint32{},
		vars:     map[string][]byte{},
		supWPA:   map[uint32]uint32{},
		qtxpower: defaultQTxPower,
	}
	for i := range f.eventMask {
		f.eventMask[i] = 0xFF
	}
	f.ap.reset(mac)
}

// defaultQTxPower is qtxpower before the host sets it: 20 dBm in
// quarter-dBm (a guess: the part's rated 2.4 GHz output).
const defaultQTxPower = 80

// eventEnabled reports whether the event mask passes event n.
func (f *firmware) eventEnabled(n uint32) bool {
	if n >= evMax {
		return false
	}
	return f.eventMask[n/8]&(1<<(n%8)) != 0
}

// needsCLMCmd and needsCLMVar list the ioctls and iovar SETs that touch the radio's regulatory
// setup and so answer BCME_ERROR before the CLM is loaded (spec).
var needsCLMCmd = map[uint32]bool{
	wlcUp: true, wlcSetSSID: true, wlcSetChannel: true, wlcSetCountry: true, wlcSetAP: true,
}

var needsCLMVar = map[string]bool{"country": true, "escan": true, "join": true, "bss": true}

// put copies v into resp at off; false if resp is too short.
func put(resp []byte, off int, v []byte) bool {
	if off+len(v) > len(resp) {
		copy(resp[min(off, len(resp)):], v)
		return false
	}
	copy(resp[off:], v)
	return true
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// arg32 is the u32 at off of b (0 when b is shorter).
func arg32(b []byte, off int) (uint32, bool) {
	if off+4 > len(b) {
		return 0, false
	}
	return binary.LittleEndian.Uint32(b[off:]), true
}

// ioctl runs one CDC request; resp starts as a copy of req and is what the
// response carries. It returns the CDC status. Caller holds mu.
func (c *Chip) ioctl(cmd uint32, set bool, iface int, req, resp []byte) int32 {
	f := &c.fw
	name := cmdName(cmd)
	if cmd == wlcGetVar || cmd == wlcSetVar {
		return c.iovar(cmd == wlcSetVar, iface, req, resp)
	}
	if needsCLMCmd[cmd] && !f.clmDone {
		c.misuse(ruleCLMFirst, "%s before the CLM is loaded: status BCME_ERROR (-1)", name)
		return bcmeError
	}
	switch cmd {
	case wlcUp:
		if !f.up {
			c.log.Info("firmware up (WLC_UP)")
		}
		f.up = true
		return bcmeOK
	case wlcDown:
		if f.up {
			c.log.Info("firmware down (WLC_DOWN)")
		}
		f.up = false
		c.abortScan()
		c.leave(false)
		c.stopAP(true)
		return bcmeOK
	case wlcSetSSID:
		return c.setSSID(iface, req)
	case wlcDisassoc:
		c.leave(true)
		return bcmeOK
	case wlcSetWsecPMK:
		return c.setPMK(iface, req)
	case wlcSetKey:
		// wl_wsec_key: u32 index, u32 length, key data (WEP).
		n, ok := arg32(req, 4)
		if !ok || n > 32 || 8+int(n) > len(req) {
			c.misuse(ruleIoctl, "WLC_SET_KEY: u32 index, u32 length (at most 32), key bytes: status BCME_BADARG")
			return bcmeBadArg
		}
		f.wepKey = string(req[8 : 8+n])
		return bcmeOK
	case wlcGetPM:
		return c.reply32(name, resp, f.pm)
	case wlcSetPM:
		v, ok := c.need32(name, req)
		if !ok {
			return bcmeBadLen
		}
		if v > pmMax {
			c.misuse(ruleIoctl, "WLC_SET_PM %d: the modes are 0 (off), 1 (PM1) and 2 (PM2): status BCME_BADARG", v)
			return bcmeBadArg
		}
		f.pm = v
		return bcmeOK
	case wlcGetAntdiv:
		return c.reply32(name, resp, f.u32[wlcSetAntdiv])
	case wlcGetRSSI:
		if iface == ifAP {
			return c.apRSSIOf(req, resp)
		}
		if !f.assoc || c.sta == nil {
			put(resp, 0, le32(0))
			return bcmeNotAssociated
		}
		rssi, ok := c.sta.RSSI()
		if !ok {
			put(resp, 0, le32(0))
			return bcmeNotAssociated
		}
		return c.reply32(name, resp, uint32(int32(rssi)))
	case wlcGetBSSID:
		if !f.assoc {
			put(resp, 0, make([]byte, 6))
			return bcmeNotAssociated
		}
		if !put(resp, 0, f.bss.BSSID) {
			return bcmeBufTooShort
		}
		return bcmeOK
	case wlcGetSSID:
		v := make([]byte, ssidStructLen)
		if f.assoc {
			binary.LittleEndian.PutUint32(v, uint32(len(f.joinedSSID)))
			copy(v[4:], f.joinedSSID)
		}
		if !put(resp, 0, v) {
			return bcmeBufTooShort
		}
		return bcmeOK
	case wlcGetChannel:
		// channel_info_t: hw_channel, target_channel, scan_channel.
		v := make([]byte, 12)
		ch := 0
		switch {
		case iface == ifAP:
			ch = f.ap.channelNow()
			if len(resp) < len(v) {
				v = v[:4] // the AP's channel alone fits a u32
			}
		case f.assoc:
			ch = f.bss.Channel
			if b, ok := c.joinedNow(); ok {
				ch = b.Channel // the AP may have switched channels since
			}
		}
		if ch != 0 {
			binary.LittleEndian.PutUint32(v[0:], uint32(ch))
			if len(v) >= 8 {
				binary.LittleEndian.PutUint32(v[4:], uint32(ch))
			}
		}
		if !put(resp, 0, v) {
			return bcmeBufTooShort
		}
		return bcmeOK
	case wlcGetAssocList:
		if iface == ifAP {
			return c.assocList(req, resp)
		}
		// The station interface has no associated stations.
		if !put(resp, 0, le32(0)) {
			return bcmeBufTooShort
		}
		return bcmeOK
	case wlcSetChannel:
		v, ok := c.need32(name, req)
		if !ok {
			return bcmeBadLen
		}
		if iface != ifAP {
			if iface == ifSTA {
				f.u32[cmd] = v
			}
			return bcmeOK
		}
		if v < 1 || v > maxChannel {
			c.misuse(ruleIoctl, "WLC_SET_CHANNEL %d on interface 1: the AP's channel is 1..14: status BCME_BADARG", v)
			return bcmeBadArg
		}
		f.ap.channel = int(v)
		return bcmeOK
	case wlcSetInfra, wlcSetAuth, wlcSetAntdiv, wlcSetDTIMPrd, wlcSetCountry,
		wlcSetGMode, wlcSetAP, wlcSetWsec, wlcSetBand, wlcSetWPAAuth:
		v, ok := c.need32(name, req)
		if !ok {
			return bcmeBadLen
		}
		if iface == 0 {
			f.u32[cmd] = v
		}
		return bcmeOK
	}
	c.log.Info("unsupported ioctl: status BCME_UNSUPPORTED", "cmd", name, "set", set)
	return bcmeUnsupported
}

// joinedNow is the radio's view of the network the station joined (its
// channel follows a channel switch).
func (c *Chip) joinedNow() (radio.BSS, bool) {
	if c.sta == nil {
		return radio.BSS{}, false
	}
	return c.sta.Joined()
}

// need32 reads the u32 argument of a SET ioctl; a shorter payload is
// misuse.
func (c *Chip) need32(name string, req []byte) (uint32, bool) {
	v, ok := arg32(req, 0)
	if !ok {
		c.misuse(ruleIoctl, "%s with a %d-byte payload: it takes a u32 (status BCME_BADLEN)", name, len(req))
	}
	return v, ok
}

// reply32 puts a u32 result at the start of resp.
func (c *Chip) reply32(name string, resp []byte, v uint32) int32 {
	if !put(resp, 0, le32(v)) {
		c.log.Info("ioctl reply buffer too short", "cmd", name, "len", len(resp))
		return bcmeBufTooShort
	}
	return bcmeOK
}

// setPMK takes WLC_SET_WSEC_PMK: u16 key length, u16 flags, 64-byte key;
// on interface 1 the AP's key.
func (c *Chip) setPMK(iface int, req []byte) int32 {
	if len(req) < pmkLen {
		c.misuse(ruleIoctl, "WLC_SET_WSEC_PMK with a %d-byte payload (want 68: u16 length, u16 flags, 64-byte key): status BCME_BADLEN", len(req))
		return bcmeBadLen
	}
	n := int(binary.LittleEndian.Uint16(req[0:]))
	flags := binary.LittleEndian.Uint16(req[2:])
	if n > 64 {
		c.misuse(ruleIoctl, "WLC_SET_WSEC_PMK key length %d exceeds 64: status BCME_BADARG", n)
		return bcmeBadArg
	}
	key := req[4 : 4+n]
	switch {
	case flags&pmkPassphrase != 0 && (n < 8 || n > 63):
		c.misuse(ruleIoctl, "WLC_SET_WSEC_PMK passphrase of %d characters (WPA takes 8..63): status BCME_BADARG", n)
		return bcmeBadArg
	case flags&pmkPassphrase == 0 && n != 64 && n != 32:
		c.misuse(ruleIoctl, "WLC_SET_WSEC_PMK PMK of %d bytes (flags 0 takes 64 hex digits or 32 bytes): status BCME_BADARG", n)
		return bcmeBadArg
	}
	if iface == ifAP {
		c.fw.ap.pmkFlags = flags
		c.fw.ap.pmkKey = append([]byte(nil), key...)
		return bcmeOK
	}
	c.fw.pmkFlags = flags
	c.fw.pmkKey = append([]byte(nil), key...)
	return bcmeOK
}

// pmk returns the 32-byte PMK the host gave with flags 0, or nil.
func (f *firmware) pmk() []byte {
	if f.pmkFlags&pmkPassphrase != 0 || f.pmkKey == nil {
		return nil
	}
	if len(f.pmkKey) == 64 {
		b, err := hex.DecodeString(string(f.pmkKey))
		if err == nil {
			return b
		}
	}
	if len(f.pmkKey) == 32 {
		return f.pmkKey
	}
	return nil
}

// iovar runs WLC_GET_VAR / WLC_SET_VAR: a NUL-terminated name, then the
// value (SET) or the argument and room for the result (GET).
func (c *Chip) iovar(set bool, iface int, req, resp []byte) int32 {
	f := &c.fw
	nul := bytes.IndexByte(req, 0)
	if nul <= 0 {
		c.misuse(ruleIoctl, "iovar request of %d bytes without a NUL-terminated name: status BCME_BADARG", len(req))
		return bcmeBadArg
	}
	name := string(req[:nul])
	val := req[nul+1:]
	op := "GET"
	if set {
		op = "SET"
	}
	if set && needsCLMVar[name] && !f.clmDone {
		c.misuse(ruleCLMFirst, "iovar %s %q before the CLM is loaded: status BCME_ERROR (-1)", op, name)
		return bcmeError
	}
	bsscfg := strings.HasPrefix(name, "bsscfg:")
	var idx uint32
	if bsscfg {
		v, ok := arg32(val, 0)
		if !ok {
			c.misuse(ruleIoctl, "iovar %s %q without its u32 bsscfg index: status BCME_BADLEN", op, name)
			return bcmeBadLen
		}
		idx = v
		val = val[4:]
		name = strings.TrimPrefix(name, "bsscfg:")
	}
	if bsscfg && idx == ifAP {
		if st, ok := c.apVar(set, name, val, resp); ok {
			return st
		}
	}
	if !set {
		return c.getVar(name, iface, bsscfg, idx, val, resp)
	}
	switch name {
	case "bss":
		return c.bssVar(val)
	case "clmload":
		return c.clmLoad(val)
	case "cur_etheraddr":
		if len(val) < 6 {
			c.misuse(ruleIoctl, "iovar SET cur_etheraddr with %d value bytes (want 6): status BCME_BADLEN", len(val))
			return bcmeBadLen
		}
		c.setMAC(net.HardwareAddr(append([]byte(nil), val[:6]...)))
		return bcmeOK
	case "country":
		return c.setCountry(val)
	case "event_msgs":
		if bsscfg && idx != 0 {
			return bcmeOK // another bsscfg's mask: the one set for bsscfg 0 gates the events of both interfaces
		}
		var m [evMax / 8]byte
		copy(m[:], val)
		f.eventMask = m
		return bcmeOK
	case "escan":
		return c.escan(val)
	case "join":
		return c.joinVar(iface, val)
	case "sup_wpa":
		v, ok := arg32(val, 0)
		if !ok {
			c.misuse(ruleIoctl, "iovar SET bsscfg:sup_wpa without its u32 value: status BCME_BADLEN")
			return bcmeBadLen
		}
		f.supWPA[idx] = v
		return bcmeOK
	case "sae_password":
		if len(val) < 2 {
			c.misuse(ruleIoctl, "iovar SET sae_password with %d value bytes (want 130: u16 length, 128-byte password): status BCME_BADLEN", len(val))
			return bcmeBadLen
		}
		n := int(binary.LittleEndian.Uint16(val))
		if n > 128 || 2+n > len(val) {
			c.misuse(ruleIoctl, "iovar SET sae_password length %d does not fit its %d value bytes (max 128): status BCME_BADARG", n, len(val))
			return bcmeBadArg
		}
		if iface == ifAP {
			s := string(val[2 : 2+n])
			f.ap.sae = &s
			return bcmeOK
		}
		f.sae = string(val[2 : 2+n])
		return bcmeOK
	case "mfp":
		if iface == ifAP {
			return c.setAPMFP(val)
		}
		v, ok := arg32(val, 0)
		if !ok || v > 2 {
			c.misuse(ruleIoctl, "iovar SET mfp %d (0 none, 1 capable, 2 required): status BCME_BADARG", v)
			return bcmeBadArg
		}
		f.mfp = v
		return bcmeOK
	case "qtxpower":
		v, ok := arg32(val, 0)
		if !ok {
			c.misuse(ruleIoctl, "iovar SET qtxpower without its u32 value (quarter-dBm): status BCME_BADLEN")
			return bcmeBadLen
		}
		f.qtxpower = v
		return bcmeOK
	case "gpioout":
		mask, ok1 := arg32(val, 0)
		v, ok2 := arg32(val, 4)
		if !ok1 || !ok2 {
			c.misuse(ruleIoctl, "iovar SET gpioout takes (u32 mask, u32 value): status BCME_BADLEN")
			return bcmeBadLen
		}
		f.gpio = f.gpio&^mask | v&mask
		return bcmeOK
	case "mcast_list":
		n, ok := arg32(val, 0)
		if !ok || n > 10 || 4+6*int(n) > len(val) {
			c.misuse(ruleIoctl, "iovar SET mcast_list: u32 count (at most 10) then that many MACs: status BCME_BADARG")
			return bcmeBadArg
		}
		f.mcast = append([]byte(nil), val[:4+6*n]...)
		return bcmeOK
	}
	key := name
	if bsscfg {
		key = "bsscfg:" + name + "#" + string(rune('0'+idx%10))
	}
	f.vars[key] = append([]byte(nil), val...)
	return bcmeOK
}

// getVar answers WLC_GET_VAR for name; arg is what follows the name.
func (c *Chip) getVar(name string, iface int, bsscfg bool, idx uint32, arg, resp []byte) int32 {
	f := &c.fw
	var v []byte
	switch name {
	case "cur_etheraddr":
		v = f.mac
	case "clmload_status":
		st := uint32(1)
		if f.clmDone {
			st = 0
		}
		v = le32(st)
	case "clmver":
		v = []byte("API: 18.2 Data: nichost-sim Compiler: none ClmImport: none Creation: sim\x00")
	case "country":
		v = make([]byte, 12)
		copy(v[0:4], f.country)
		binary.LittleEndian.PutUint32(v[4:], uint32(f.countryRev))
		copy(v[8:12], f.country)
	case "event_msgs":
		v = f.eventMask[:]
	case "qtxpower":
		v = le32(f.qtxpower)
	case "ccgpioin":
		v = le32(f.gpio)
	case "mcast_list":
		v = f.mcast
		if v == nil {
			v = le32(0)
		}
	case "maxassoc":
		v = le32(maxAssoc)
	case "bss":
		// bss <bsscfg>: is that BSS up? The station's is while joined, the
		// AP's (bsscfg 1) while it runs.
		i, _ := arg32(arg, 0)
		up := uint32(0)
		if (i == ifSTA && f.linkUp) || (i == ifAP && f.ap.run != nil) {
			up = 1
		}
		v = le32(up)
	case "sup_wpa":
		v = le32(f.supWPA[idx])
	case "mfp":
		v = le32(f.mfp)
		if iface == ifAP {
			v = le32(f.ap.mfp)
		}
	case "apsta", "bus:txglom", "pm2_sleep_ret", "bcn_li_bcn", "bcn_li_dtim", "assoc_listen",
		"ampdu_ba_wsize", "ampdu_mpdu", "ampdu_rx_factor":
		if s, ok := f.vars[name]; ok {
			v = s
		} else {
			v = le32(iovarDefaults[name])
		}
	default:
		key := name
		if bsscfg {
			key = "bsscfg:" + name + "#" + string(rune('0'+idx%10))
		}
		s, ok := f.vars[key]
		if !ok {
			c.log.Info("unsupported iovar GET: status BCME_UNSUPPORTED", "name", name)
			return bcmeUnsupported
		}
		v = s
	}
	if !put(resp, 0, v) {
		c.log.Info("iovar GET reply buffer too short", "name", name, "len", len(resp), "want", len(v))
		return bcmeBufTooShort
	}
	return bcmeOK
}

// maxAssoc is what GET maxassoc answers (a guess; the model's AP does not
// enforce it).
const maxAssoc = 10

// iovarDefaults are what stored iovars read before the host sets them
// (guesses; [C]'s PM2 preset for the PM ones).
var iovarDefaults = map[string]uint32{
	"apsta": 1, "bus:txglom": 0, "pm2_sleep_ret": 200, "bcn_li_bcn": 1, "bcn_li_dtim": 1,
	"assoc_listen": 10, "ampdu_ba_wsize": 8, "ampdu_mpdu": 4, "ampdu_rx_factor": 3,
}

// setCountry takes the "country" iovar: 4-byte abbreviation, i32
// revision, 4-byte code.
func (c *Chip) setCountry(val []byte) int32 {
	if len(val) < 4 {
		c.misuse(ruleIoctl, "iovar SET country with %d value bytes (want 12: abbreviation, revision, code): status BCME_BADLEN", len(val))
		return bcmeBadLen
	}
	cc := cstr(val[0:4])
	if len(val) >= 12 {
		if code := cstr(val[8:12]); code != "" {
			cc = code
		}
		c.fw.countryRev = int32(binary.LittleEndian.Uint32(val[4:]))
	}
	if len(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' {
		c.misuse(ruleIoctl, "iovar SET country %q: want a two-letter code (ISO 3166 or XX): status BCME_BADARG", cc)
		return bcmeBadArg
	}
	c.fw.country = cc
	c.fw.countryRaw = append([]byte(nil), val...)
	c.log.Info("country set", "country", cc, "rev", c.fw.countryRev)
	return bcmeOK
}

// cstr is b up to its first NUL.
func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// setMAC changes cur_etheraddr. A radio station's address is fixed, so
// the chip puts a new station on the air (leaving the network first if
// joined; the drivers set the address before WLC_UP).
func (c *Chip) setMAC(mac net.HardwareAddr) {
	if bytes.Equal(mac, c.fw.mac) {
		return
	}
	c.fw.mac = mac
	c.log.Info("cur_etheraddr set", "mac", mac.String())
	if c.opts.Radio == nil {
		return
	}
	c.leave(false)
	c.replaceStation(mac)
}

// replaceStation puts a station with mac on the air in place of the
// chip's. Caller holds mu.
func (c *Chip) replaceStation(mac net.HardwareAddr) {
	old := c.sta
	c.sta = c.opts.Radio.NewStationLoss(mac, c.fromRadio, c.lostAP)
	if old != nil {
		c.later(old.Close)
	}
}

// clmLoad takes one clmload chunk: u16 flag, u16 type, u32 length, u32
// CRC, data.
func (c *Chip) clmLoad(val []byte) int32 {
	f := &c.fw
	fail := func(format string, args ...any) int32 {
		c.misuse(ruleCLMLoad, "clmload: "+format+": the load is aborted (status BCME_BADARG; clmload_status reads 1)", args...)
		f.clmLoading, f.clmDone, f.clmBytes = false, false, 0
		return bcmeBadArg
	}
	if len(val) < clmHeaderLen {
		return fail("a %d-byte chunk is shorter than the 12-byte download header", len(val))
	}
	flag := binary.LittleEndian.Uint16(val[0:])
	typ := binary.LittleEndian.Uint16(val[2:])
	n := int(binary.LittleEndian.Uint32(val[4:]))
	switch {
	case typ != dlTypeCLM:
		return fail("download type %d (the CLM is type 2)", typ)
	case flag&dlFlagHandV == 0:
		return fail("flag 0x%04X without the handler version bit 0x1000", flag)
	case n > len(val)-clmHeaderLen:
		return fail("chunk length %d but only %d data bytes follow", n, len(val)-clmHeaderLen)
	case flag&dlFlagBegin == 0 && !f.clmLoading:
		return fail("flag 0x%04X: a chunk without the first-chunk bit 0x0002 while no load is in progress", flag)
	}
	if flag&dlFlagBegin != 0 {
		if f.clmLoading {
			c.log.Info("clmload restarted")
		}
		f.clmLoading, f.clmDone, f.clmBytes = true, false, 0
	}
	f.clmBytes += n
	if flag&dlFlagEnd != 0 {
		f.clmLoading = false
		f.clmDone = true
		c.log.Info("CLM loaded", "bytes", f.clmBytes)
	}
	return bcmeOK
}
