package driver

import (
	"strconv"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// configParams lists config()'s parameters, for error messages.
const configParams = "mac, low_power, trace, phy_addr, phy_type"

// ConfigGet implements guest.Driver: config('mac'), config('low_power'),
// config('trace'), config('phy_addr') (None while no PHY was found) and
// config('phy_type').
func (d *Driver) ConfigGet(iface int, name string) (any, error) {
	if err := checkIface(iface); err != nil {
		return nil, err
	}
	switch name {
	case "mac":
		return append([]byte(nil), d.mac...), nil
	case "low_power":
		return d.lowPower, nil
	case "trace":
		return int64(d.trace), nil
	case "phy_addr":
		if d.addr < 0 && d.findPHY() != nil {
			return nil, nil
		}
		return int64(d.addr), nil
	case "phy_type":
		return d.phyType, nil
	}
	return nil, abi.ValueError("unknown config parameter %q (known: %s)", name, configParams)
}

// ConfigSet implements guest.Driver: config(mac=..., low_power=...,
// trace=...). Every key is checked before any is applied; phy_addr and
// phy_type are read-only (they are plugin options).
func (d *Driver) ConfigSet(iface int, kv map[string]any) error {
	if err := checkIface(iface); err != nil {
		return err
	}
	var (
		mac      []byte
		lowPower *bool
		trace    *guest.Trace
	)
	for _, k := range abi.SortedKeys(kv) {
		v := kv[k]
		switch k {
		case "mac":
			m, err := abi.MAC(k, v)
			if err != nil {
				return err
			}
			mac = m
		case "low_power":
			b, err := abi.Bool(k, v)
			if err != nil {
				return err
			}
			lowPower = &b
		case "trace":
			t, err := guest.ParseTrace(v)
			if err != nil {
				return err
			}
			trace = &t
		case "phy_addr", "phy_type":
			return abi.ValueError("config parameter %q is read-only (set it as a plugin option)", k)
		default:
			return abi.ValueError("unknown config parameter %q (known: %s)", k, configParams)
		}
	}
	// The only step that can fail (an MDIO write) goes first.
	if lowPower != nil {
		if err := d.setLowPower(*lowPower); err != nil {
			return err
		}
	}
	if mac != nil {
		d.mac = mac
	}
	if trace != nil {
		d.trace = *trace
	}
	return nil
}

// regNames name the registers regs() returns; the others are keyed by
// number.
var regNames = map[int]string{
	0: "bmcr", 1: "bmsr", 2: "phyid1", 3: "phyid2", 4: "anar", 5: "anlpar", 6: "aner",
	17: "mcsr", 18: "smr", 26: "secr", 27: "csir", 29: "isr", 30: "imr", 31: "pscsr",
}

// Call implements guest.Caller: regs() returns the PHY's registers 0-6 and
// 17-31 as a dict. Reading them has the PHY's read side effects: the
// interrupt source register (29) is cleared, and a latched link failure
// BMSR shows is kept for the link watch to report.
func (d *Driver) Call(iface int, name string, a guest.Args) (any, error) {
	if err := checkIface(iface); err != nil {
		return nil, err
	}
	if name != "regs" {
		return nil, guest.NoMethod(abi.ClassLAN, name)
	}
	if err := a.Takes("regs", 0); err != nil {
		return nil, err
	}
	if err := d.findPHY(); err != nil {
		return nil, err
	}
	out := make(map[string]any, 22)
	for r := 0; r < 32; r++ {
		if r > 6 && r < 17 {
			continue
		}
		var v uint16
		var err error
		if r == regBMSR {
			v, err = d.readBMSR()
		} else {
			v, err = d.read(r)
		}
		if err != nil {
			return nil, err
		}
		key, ok := regNames[r]
		if !ok {
			key = strconv.Itoa(r)
		}
		out[key] = int64(v)
	}
	return out, nil
}
