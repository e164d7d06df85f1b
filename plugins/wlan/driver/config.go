package driver

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/plugins/wlan/regdb"
)

// Power management presets (ABI.md 8.4: rp2's values, cyw43-driver's packed
// form: listen interval on association << 20, DTIM interval << 16, beacon
// interval << 12, PM2 sleep return in 10 ms units << 4, PM mode).
const (
	pmNone        = 0x10
	pmPerformance = 0xa11142
	pmPowerSave   = 0x111022
)

// settings are the station's config() parameters, with those the two
// interfaces share (the chip's: txpower, pm, antenna, trace).
type settings struct {
	ssid       string
	key        string
	security   int // secAuto: the network's own
	hidden     bool
	channel    int // 0: any the country allows
	reconnects int
	txpower    float64 // dBm; NaN: the country's limit
	pm         int64
	antenna    int
	trace      guest.Trace
}

var defaultSettings = settings{security: secAuto, reconnects: -1, txpower: math.NaN(), pm: pmPerformance}

// configParams lists config()'s parameters, for error messages.
const configParams = "mac, ssid (essid), key (password, write-only), security, hidden, channel, reconnects, txpower, pm, antenna, hostname, trace"

func unknownParam(name string) error {
	return abi.ValueError("unknown config parameter %q (known: %s)", name, configParams)
}

// ConfigGet implements guest.Driver.
func (d *Driver) ConfigGet(iface int, name string) (any, error) {
	if err := checkIface(iface); err != nil {
		return nil, err
	}
	if iface == ifAP {
		return d.apConfigGet(name)
	}
	s := &d.sta
	joined := d.staOn && s.phase == phaseJoined
	c := &d.cfg
	switch name {
	case "mac":
		return append([]byte(nil), d.mac...), nil
	case "ssid", "essid":
		if joined {
			return s.t.ssid, nil
		}
		return c.ssid, nil
	case "key", "password":
		return nil, abi.ValueError("config parameter %q is write-only", name)
	case "security":
		if joined {
			return int64(s.sec), nil
		}
		return int64(c.security), nil
	case "hidden":
		return c.hidden, nil
	case "channel":
		if joined && s.channel != 0 {
			return int64(s.channel), nil
		}
		return int64(c.channel), nil
	case "reconnects":
		return int64(c.reconnects), nil
	}
	if v, ok := d.sharedGet(name); ok {
		return v, nil
	}
	return nil, unknownParam(name)
}

// sharedGet reads the parameters both interfaces share.
func (d *Driver) sharedGet(name string) (any, bool) {
	c := &d.cfg
	switch name {
	case "txpower":
		p := d.txpower()
		if p == math.Trunc(p) {
			return int64(p), true
		}
		return p, true
	case "pm":
		return c.pm, true
	case "antenna":
		return int64(c.antenna), true
	case "trace":
		return int64(c.trace), true
	}
	return nil, false
}

// txpower is the transmit power in effect: the setting, at most the
// country's limit.
func (d *Driver) txpower() float64 {
	limit := float64(d.rules.MaxEIRP)
	if math.IsNaN(d.cfg.txpower) {
		return limit
	}
	return math.Min(d.cfg.txpower, limit)
}

// ConfigSet implements guest.Driver. Every key is checked before any is
// applied; what the firmware must know goes to it (queued ioctls) once it
// runs.
func (d *Driver) ConfigSet(iface int, kv map[string]any) error {
	if err := checkIface(iface); err != nil {
		return err
	}
	if iface == ifAP {
		return d.apConfigSet(kv)
	}
	c := d.cfg
	var mac []byte
	for _, k := range abi.SortedKeys(kv) {
		v := kv[k]
		switch k {
		case "mac":
			m, err := abi.MAC(k, v)
			if err != nil {
				return err
			}
			mac = m
		case "ssid", "essid":
			s, err := ssidArg(k, v)
			if err != nil {
				return err
			}
			c.ssid = s
		case "key", "password":
			s, err := abi.Str(k, v)
			if err != nil {
				return err
			}
			if len(s) > 63 {
				return abi.ValueError("%s: %d characters; a key is at most 63", k, len(s))
			}
			c.key = s
		case "security":
			n, err := abi.Int(k, v)
			if err != nil {
				return err
			}
			switch n {
			case secAuto, secOpen, secWEP, secWPA, secWPA2, secWPAWPA2, secWPA3, secWPA2WPA3:
			default:
				return abi.ValueError("security: %d is not a security value (-1 the network's own, 0 open, 1 WEP, 2 WPA, 3 WPA2, 4 WPA/WPA2, 6 WPA3, 7 WPA2/WPA3)", n)
			}
			c.security = int(n)
		case "hidden":
			b, err := abi.Bool(k, v)
			if err != nil {
				return err
			}
			c.hidden = b
		case "channel":
			n, err := abi.Int(k, v)
			if err != nil {
				return err
			}
			if n != 0 && !d.rules.Allows(int(n)) {
				return abi.ValueError("channel: %d is not allowed in %s (channels %s; 0 for any)", n, d.rules.Country, chanList(d.rules.Channels))
			}
			c.channel = int(n)
		case "reconnects":
			n, err := abi.Int(k, v)
			if err != nil {
				return err
			}
			if n < -1 || n > math.MaxInt32 {
				return abi.ValueError("reconnects: %d; want -1 (for ever), 0 (never) or a number of tries", n)
			}
			c.reconnects = int(n)
		default:
			ok, err := d.sharedSet(&c, k, v)
			if err != nil {
				return err
			}
			if !ok {
				return unknownParam(k)
			}
		}
	}
	old := d.cfg
	d.cfg = c
	if mac != nil {
		d.mac = mac
		if d.ready {
			// The firmware cannot change its address in a network: leave
			// it, and join it again with the new one.
			s := &d.sta
			again := s.phase != phaseIdle && s.phase != phaseWaitChip
			t := s.t
			if again {
				d.leave(statusConnecting)
			}
			d.enqueue(iovarSet("cur_etheraddr", append([]byte(nil), mac...)))
			if again {
				s.t, s.rejoin = t, false
				s.deadline = d.env.Now() + joinTimeout
				s.phase = phaseWaitChip
				d.startJoin()
			}
		}
	}
	d.sharedApply(old)
	d.arm()
	return nil
}

// sharedSet checks and takes into c a parameter both interfaces share;
// it reports false for another name.
func (d *Driver) sharedSet(c *settings, k string, v any) (bool, error) {
	switch k {
	case "txpower":
		p, err := dBm(k, v)
		if err != nil {
			return true, err
		}
		if p < 0 || p > float64(d.rules.MaxEIRP) {
			return true, abi.ValueError("txpower: %v dBm; %s allows 0 to %d dBm", p, d.rules.Country, d.rules.MaxEIRP)
		}
		c.txpower = math.Round(p*4) / 4
	case "pm":
		n, err := abi.Int(k, v)
		if err != nil {
			return true, err
		}
		if err := checkPM(n); err != nil {
			return true, err
		}
		c.pm = n
	case "antenna":
		n, err := abi.Int(k, v)
		if err != nil {
			return true, err
		}
		if n != 0 && n != 1 {
			return true, abi.ValueError("antenna: %d; want 0 (the chip's own) or 1 (external)", n)
		}
		c.antenna = int(n)
	case "trace":
		t, err := guest.ParseTrace(v)
		if err != nil {
			return true, err
		}
		c.trace = t
	default:
		return false, nil
	}
	return true, nil
}

// sharedApply tells the firmware, once it runs, what changed of the
// shared parameters since old.
func (d *Driver) sharedApply(old settings) {
	if !d.ready {
		return
	}
	c := &d.cfg
	if c.pm != old.pm {
		d.enqueue(d.pmIoctls()...)
	}
	if c.antenna != old.antenna {
		d.enqueue(wlc("WLC_SET_ANTDIV", wlcSetAntdiv, true, uint32(c.antenna)))
	}
	if c.txpower != old.txpower && !(math.IsNaN(c.txpower) && math.IsNaN(old.txpower)) {
		d.enqueue(d.txpowerIoctls()...)
	}
}

// dBm reads a power: an int or a float.
func dBm(name string, v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, abi.ValueError("%s: %v is not a power in dBm", name, x)
		}
		return x, nil
	case bool:
		return 0, abi.TypeError("%s: expected int or float, got bool", name)
	}
	n, err := abi.Int(name, v)
	if err != nil {
		return 0, abi.TypeError("%s: expected int or float, got %s", name, abi.TypeName(v))
	}
	return float64(n), nil
}

// checkPM checks a packed power-management value.
func checkPM(v int64) error {
	mode := v & 0xF
	ret := (v >> 4) & 0xFF
	if v < 0 || v > 0xFFFFFF || mode > 2 || (mode == 2 && ret == 0) {
		return abi.ValueError("pm: 0x%x is not a power-management setting (PM_NONE 0x10, PM_PERFORMANCE 0xa11142, PM_POWERSAVE 0x111022, or another packed value of mode 0 to 2)", v)
	}
	return nil
}

// pmIoctls apply config('pm') (fact sheet 5.6).
func (d *Driver) pmIoctls() []*ioctl {
	v := uint32(d.cfg.pm)
	mode := v & 0xF
	var ios []*ioctl
	if mode == 2 {
		ios = append(ios,
			iovarU32("pm2_sleep_ret", ((v>>4)&0xFF)*10),
			iovarU32("bcn_li_bcn", (v>>12)&0xF),
			iovarU32("bcn_li_dtim", (v>>16)&0xF),
			iovarU32("assoc_listen", (v>>20)&0xF))
	}
	return append(ios, wlc("WLC_SET_PM", wlcSetPM, true, mode))
}

// txpowerIoctls apply the transmit power: qtxpower in quarter dBm, with
// the user-override bit when config(txpower=...) set one.
func (d *Driver) txpowerIoctls() []*ioctl {
	q := uint32(math.Round(d.txpower() * 4))
	if !math.IsNaN(d.cfg.txpower) {
		q |= 1 << 31
	}
	return []*ioctl{iovarU32("qtxpower", q)}
}

// countryIoctls set the country (fact sheet 5.2 step 2); later ioctls wait
// a little.
func (d *Driver) countryIoctls() []*ioctl {
	b := make([]byte, 12)
	copy(b[0:4], d.rules.Country)
	binary.LittleEndian.PutUint32(b[4:], 0xFFFFFFFF) // revision: default
	copy(b[8:12], d.rules.Country)
	next := wlc("WLC_SET_ANTDIV", wlcSetAntdiv, true, uint32(d.cfg.antenna))
	next.delay = countryWait
	return []*ioctl{iovarSet("country", b), next}
}

// phyIoctls apply network.phy_mode(): 802.11b only, b/g, or b/g/n.
func (d *Driver) phyIoctls() []*ioctl {
	gmode, nmode := uint32(1), uint32(1) // auto: b/g/n
	switch d.phy {
	case 1:
		gmode, nmode = 0, 0 // 802.11b only
	case 2:
		nmode = 0
	}
	return []*ioctl{wlc("WLC_SET_GMODE", wlcSetGMode, true, gmode), iovarU32("nmode", nmode)}
}

// Call implements guest.Caller: call("country", code) and
// call("phy_mode", mode), the description's features.
func (d *Driver) Call(iface int, name string, a guest.Args) (any, error) {
	if err := checkIface(iface); err != nil {
		return nil, err
	}
	switch name {
	case "country":
		if err := a.Takes("country", 1); err != nil {
			return nil, err
		}
		code, err := a.At(0, "code").Str()
		if err != nil {
			return nil, err
		}
		r, err := regdb.Lookup(code)
		if err != nil {
			return nil, abi.ValueError("country: %q: no regulatory rules for it (%v)", code, err)
		}
		return nil, d.setCountry(r)
	case "phy_mode":
		if err := a.Takes("phy_mode", 1); err != nil {
			return nil, err
		}
		m, err := a.At(0, "mode").Int()
		if err != nil {
			return nil, err
		}
		if m < 1 || m > 3 {
			return nil, abi.ValueError("phy_mode: %d; the CYW43439 has 802.11b (1), g (2) and n (3), on 2.4 GHz", m)
		}
		d.phy = int(m)
		if d.ready {
			d.enqueue(d.phyIoctls()...)
			d.arm()
		}
		return nil, nil
	}
	return nil, guest.NoMethod(abi.ClassWLAN, name)
}

// setCountry applies a country's rules: a channel it does not allow is
// dropped from the settings, a network joined on one is left, and an
// access point configured on one moves to the country's first channel.
func (d *Driver) setCountry(r regdb.Rules) error {
	d.rules = r
	if d.cfg.channel != 0 && !r.Allows(d.cfg.channel) {
		d.env.Logf(abi.LogInfo, "cyw43439: config('channel') %d is not allowed in %s: any channel now", d.cfg.channel, r.Country)
		d.cfg.channel = 0
	}
	s := &d.sta
	if s.phase != phaseIdle && s.channel != 0 && !r.Allows(s.channel) {
		d.env.Logf(abi.LogInfo, "cyw43439: %s does not allow channel %d: leaving %q", r.Country, s.channel, s.t.ssid)
		d.leave(statusIdle)
	}
	if s.t.chans != nil && !s.t.pin {
		s.t.chans = slices.Clone(r.Channels)
	}
	moveAP := !r.Allows(d.apCfg.channel)
	if moveAP {
		d.env.Logf(abi.LogInfo, "cyw43439: the access point's channel %d is not allowed in %s: channel %d now", d.apCfg.channel, r.Country, r.Channels[0])
		d.apCfg.channel = r.Channels[0]
	}
	if d.ready {
		d.enqueue(d.countryIoctls()...)
		d.enqueue(d.txpowerIoctls()...)
		if moveAP && d.ap.on {
			d.apStart()
		}
		d.arm()
	}
	return nil
}

// ssidArg checks an SSID argument: a str of 1 to 32 bytes.
func ssidArg(k string, v any) (string, error) {
	s, err := abi.Str(k, v)
	if err != nil {
		return "", err
	}
	if len(s) < 1 || len(s) > 32 {
		return "", abi.ValueError("%s: %d bytes; an SSID is 1 to 32 bytes", k, len(s))
	}
	return s, nil
}
