package driver

import (
	"example.com/abi10/abi"
	"example.com/abi10/abi/guest"
)

// configParams lists config()'s parameters, for error messages.
const configParams = "mac, trace"

// ConfigGet implements guest.Driver: config('mac') and config('trace')
// (the trace flags; a pcapng trace file is the host's business).
func (d *Driver) ConfigGet(iface int, name string) (any, error) {
	if err := checkIface(iface); err != nil {
		return nil, err
	}
	switch name {
	case "mac":
		return append([]byte(nil), d.mac...), nil
	case "trace":
		return int64(d.trace), nil
	}
	return nil, abi.ValueError("unknown config parameter %q (known: %s)", name, configParams)
}

// ConfigSet implements guest.Driver: config(mac=b'...', trace=flags).
// Every key is checked before any is applied. A new MAC address goes into
// SHAR at once while the interface is active (the MAC filter uses it), and
// at the next active(True) otherwise.
func (d *Driver) ConfigSet(iface int, kv map[string]any) error {
	if err := checkIface(iface); err != nil {
		return err
	}
	var (
		mac   []byte
		trace *guest.Trace
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
		case "trace":
			t, err := guest.ParseTrace(v)
			if err != nil {
				return err
			}
			trace = &t
		default:
			return abi.ValueError("unknown config parameter %q (known: %s)", k, configParams)
		}
	}
	// The only step that can fail (an SPI write) goes first.
	if mac != nil && d.active {
		d.begin()
		d.b.write(bsbCommon, regSHAR, mac...)
		if err := d.run(); err != nil {
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

// Call implements guest.Caller: regs() returns the chip's common registers
// and socket 0's as a dict (names in lower case, addresses as bytes, the
// rest as ints), read in one host call. Reading has no side effects on a
// W5500.
func (d *Driver) Call(iface int, name string, a guest.Args) (any, error) {
	if err := checkIface(iface); err != nil {
		return nil, err
	}
	if name != "regs" {
		return nil, guest.NoMethod(abi.ClassWIZNET5K, name)
	}
	if err := a.Takes("regs", 0); err != nil {
		return nil, err
	}
	d.begin()
	c := d.b.read(bsbCommon, 0, regPHYCFGR+1)
	ver := d.b.read(bsbCommon, regVERSIONR, 1)
	s := d.b.read(bsbS0Reg, 0, snIMR+1)
	if err := d.run(); err != nil {
		return nil, err
	}
	if ver[0] != versionW5500 {
		return nil, abi.OSError(abi.ETIMEDOUT, "w5500: no W5500 answers on the SPI bus (VERSIONR read 0x%02x, want 0x04)", ver[0])
	}
	u8 := func(p []byte, off int) any { return int64(p[off]) }
	u16 := func(p []byte, off int) any { return int64(be16(p[off:])) }
	addr := func(p []byte, off, n int) any { return append([]byte(nil), p[off:off+n]...) }
	return map[string]any{
		"mr": u8(c, regMR), "gar": addr(c, regGAR, 4), "subr": addr(c, regSUBR, 4),
		"shar": addr(c, regSHAR, 6), "sipr": addr(c, regSIPR, 4), "intlevel": u16(c, regINTLEVEL),
		"ir": u8(c, regIR), "imr": u8(c, regIMR), "sir": u8(c, regSIR), "simr": u8(c, regSIMR),
		"rtr": u16(c, regRTR), "rcr": u8(c, regRCR), "ptimer": u8(c, regPTIMER),
		"phycfgr": u8(c, regPHYCFGR), "versionr": int64(ver[0]),

		"s0_mr": u8(s, snMR), "s0_cr": u8(s, snCR), "s0_ir": u8(s, snIR), "s0_sr": u8(s, snSR),
		"s0_rxbuf_size": u8(s, snRXBUF), "s0_txbuf_size": u8(s, snRXBUF+1),
		"s0_tx_fsr": u16(s, snTXFSR), "s0_tx_rd": u16(s, snTXRD), "s0_tx_wr": u16(s, snTXWR),
		"s0_rx_rsr": u16(s, snRXRSR), "s0_rx_rd": u16(s, snRXRD), "s0_rx_wr": u16(s, snRXWR),
		"s0_imr": u8(s, snIMR),
	}, nil
}
