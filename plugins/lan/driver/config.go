package driver

import (
	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// configParams lists config()'s parameters, for error messages.
const configParams = "mac, low_power, trace, phy_addr, phy_type"

// ConfigGet implements guest.Driver: config('mac'), config('low_power'),
// config('trace'), config('phy_addr') (None while no PHY was found) and
// config('phy_type') (options.phy_type or, auto-detecting, the type of the
// PHY found: LAN8720 or KSZ8081, AUTO while none was found). Both look for
// the PHY first if none was found yet.
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
		if d.want != nil {
			return d.phyType, nil
		}
		// Auto-detecting: the type of the PHY found, found now if need be.
		if d.part == nil {
			_ = d.findPHY()
		}
		if d.part == nil {
			return "AUTO", nil
		}
		return d.part.name, nil
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

// Call implements guest.Caller: regs() returns the PHY's registers as a
// dict: 0-6 and 17-31 of a LAN8720, 0-8 and 16-31 of a KSZ8081 (parts.go
// names them). Reading them has the PHY's read side effects: the interrupt
// register (29 of a LAN8720, 0x1B of a KSZ8081) and a KSZ8081's RXER
// counter (0x15) are cleared, and a latched link failure BMSR shows is kept
// for the link watch to report.
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
	out := make(map[string]any, len(d.part.regs))
	for _, r := range d.part.regs {
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
		out[d.part.key(r)] = int64(v)
	}
	return out, nil
}
