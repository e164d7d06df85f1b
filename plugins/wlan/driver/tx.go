package driver

import (
	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// errDown refuses a frame while the station is not joined: the host drops
// and counts it (ABI.md section 9).
func errDown() error {
	return abi.OSError(abi.EAGAIN, "cyw43439: the station is not joined: the frame is dropped")
}

// errAPDown refuses a frame while the access point's BSS is not up.
func errAPDown() error {
	return abi.OSError(abi.EAGAIN, "cyw43439: the access point is not up: the frame is dropped")
}

// Transmit implements guest.Driver: one frame, one F2 write.
func (d *Driver) Transmit(iface int, frame []byte) error {
	n, err := d.TransmitBatch(iface, [][]byte{frame})
	if n == 1 {
		return nil
	}
	if err == nil {
		err = guest.ErrBusy
	}
	return err
}

// TransmitBatch implements guest.BatchTransmitter: as many frames as the
// chip has credit for, each an F2 write (SDPCM channel 2, header length 14,
// the 2-byte pad, BDC 0x20 0 iface 0: flags2 0 for the station, 1 for the
// access point), all in one spi_transact call.
func (d *Driver) TransmitBatch(iface int, frames [][]byte) (int, error) {
	if err := checkIface(iface); err != nil {
		return 0, err
	}
	switch {
	case iface == ifSTA && (!d.staOn || !d.sta.linkUp):
		return 0, errDown()
	case iface == ifAP && (!d.ap.on || !d.ap.linkUp):
		return 0, errAPDown()
	}
	taken := 0
	g := d.g
	g.begin()
	for _, f := range frames {
		if len(f) < 14 || len(f) > maxTxFrame {
			if taken == 0 {
				return 0, abi.OSError(abi.EMSGSIZE, "cyw43439: a %d-byte frame (an Ethernet frame is 14 to %d bytes)", len(f), maxTxFrame)
			}
			break
		}
		if !d.ctl.dataCredit() || (taken == 0 && !d.f2Ready()) {
			break
		}
		if taken == 0 {
			g.begin() // f2Ready may have run a batch
		}
		df := dataFrame(d.txBuf, f, iface)
		df[4] = d.ctl.seq
		d.ctl.seq++
		g.write(fnWLAN, 0, d.txBuf[:unitLen(len(df))])
		if d.cfg.trace.Has(guest.TraceTx) {
			d.env.LogFrame(d.cfg.trace, ifName(iface), "tx", f)
		}
		taken++
	}
	if taken > 0 {
		if err := g.run(); err != nil {
			return 0, err
		}
	}
	if taken < len(frames) {
		if !d.ctl.dataCredit() {
			d.pokeCredit()
		}
		d.blocked = true
		d.arm()
		if taken == 0 {
			return 0, guest.ErrBusy
		}
		return taken, nil
	}
	d.blocked = false
	if g.status&stF2PktAvail != 0 {
		d.more = true
		d.arm()
	}
	return taken, nil
}
