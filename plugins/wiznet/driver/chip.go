package driver

import (
	"time"

	"github.com/nichost/nichost/abi"
)

// bringUp resets the chip, checks it is a W5500 and configures socket 0.
func (d *Driver) bringUp() error {
	if err := d.reset(); err != nil {
		return err
	}
	return d.configure()
}

// reset resets the chip: through RSTn when the operator granted it (low
// for resetLow, then resetSettle for the PLL to lock), otherwise with
// MR.RST, waiting for the bit to clear. Either way it then checks VERSIONR
// and RTR.
func (d *Driver) reset() error {
	d.commit = false
	if d.hasRst {
		if err := d.rst.Write(false); err != nil {
			return wrap("driving RSTn low", err)
		}
		if err := d.env.Sleep(resetLow); err != nil {
			return wrap("holding RSTn low", err)
		}
		if err := d.rst.Write(true); err != nil {
			return wrap("releasing RSTn", err)
		}
		if err := d.env.Sleep(resetSettle); err != nil {
			return wrap("waiting for the PLL after reset", err)
		}
		d.event("hardware reset through RSTn")
		return d.probe(true)
	}
	// No reset line: make sure something answers before writing to it.
	if err := d.probe(false); err != nil {
		return err
	}
	d.begin()
	d.b.write(bsbCommon, regMR, mrRST)
	if err := d.run(); err != nil {
		return err
	}
	for i := 0; ; i++ {
		if err := d.env.Sleep(softResetChk); err != nil {
			return wrap("waiting for the soft reset", err)
		}
		d.begin()
		mr := d.b.read(bsbCommon, regMR, 1)
		if err := d.run(); err != nil {
			return err
		}
		if mr[0]&mrRST == 0 {
			break
		}
		if i == softResetMax {
			return abi.OSError(abi.ETIMEDOUT, "w5500: MR.RST still reads 1 %v after a soft reset (MR 0x%02x)", time.Duration(softResetMax)*softResetChk, mr[0])
		}
	}
	d.event("soft reset through MR.RST")
	return d.probe(true)
}

// probe reads VERSIONR (and, right after a reset, RTR): an OSError
// ETIMEDOUT when nothing answers (the bus reads all zeros or all ones),
// ENODEV when another chip does.
func (d *Driver) probe(afterReset bool) error {
	d.begin()
	miso, ver := d.b.readMISO(bsbCommon, regVERSIONR, 1)
	rtr := d.b.read(bsbCommon, regRTR, 2)
	if err := d.run(); err != nil {
		return err
	}
	switch v := ver[0]; {
	case v == versionW5500:
	case v == 0x00 || v == 0xFF:
		return abi.OSError(abi.ETIMEDOUT, "w5500: no W5500 answers on the SPI bus (VERSIONR read 0x%02x, want 0x04; MISO during the header: %s, a W5500 sends 01 02 03): check wiring, chip select, power and the reset line", v, hexBytes(miso))
	default:
		return abi.OSError(abi.ENODEV, "w5500: the chip on the SPI bus is not a W5500 (VERSIONR read 0x%02x, want 0x04)", v)
	}
	if r := be16(rtr); afterReset && r != rtrReset {
		return abi.OSError(abi.ENODEV, "w5500: RTR reads 0x%04x after reset, want 0x07d0: the chip did not reset or is not a W5500", r)
	}
	return nil
}

// configure sets the MAC address, gives socket 0 all 16 KiB of TX and RX
// memory (sockets 1-7 none), opens socket 0 in MACRAW mode with the MAC
// filter, enables its RECV interrupt, and reads the pointers and the link
// back: one host call.
func (d *Driver) configure() error {
	d.begin()
	d.b.write(bsbCommon, regSHAR, d.mac...)
	for n := 1; n < 8; n++ {
		d.b.write(sockBlock(n), snRXBUF, 0, 0)
	}
	d.b.write(bsbS0Reg, snRXBUF, bufKiB, bufKiB)
	d.b.write(bsbS0Reg, snMR, modeMACRAW|modeMFEN)
	d.b.write(bsbS0Reg, snIMR, irRECV)
	if d.hasIRQ {
		d.b.write(bsbCommon, regSIMR, 0x01)
	}
	d.b.write(bsbS0Reg, snCR, cmdOPEN)
	sr := d.b.read(bsbS0Reg, snSR, 1)
	st := d.b.read(bsbS0Reg, snTXRD, statusLen)
	phy := d.b.read(bsbCommon, regPHYCFGR, 1)
	if err := d.run(); err != nil {
		return err
	}
	if sr[0] != srMACRAW {
		return abi.OSError(abi.EIO, "w5500: socket 0 did not open in MACRAW mode (S0_SR reads 0x%02x, want 0x42)", sr[0])
	}
	d.resetPointers(parseStatus(st))
	d.bad, d.broken = 0, false
	d.setLink(phy[0])
	return nil
}

// reopen closes and reopens socket 0, which resets its buffer pointers:
// the way out of a lost RX record boundary or a SEND that never
// completes. What the buffers held is lost.
func (d *Driver) reopen(why string) error {
	d.env.Logf(abi.LogWarn, "w5500: reopening socket 0: %s", why)
	d.commit = false
	d.begin()
	d.b.write(bsbS0Reg, snCR, cmdCLOSE)
	d.b.write(bsbS0Reg, snIR, irAll)
	d.b.write(bsbS0Reg, snCR, cmdOPEN)
	sr := d.b.read(bsbS0Reg, snSR, 1)
	st := d.b.read(bsbS0Reg, snTXRD, statusLen)
	if err := d.run(); err != nil {
		d.broken = true
		return err
	}
	if sr[0] != srMACRAW {
		d.broken = true
		return abi.OSError(abi.EIO, "w5500: socket 0 did not reopen in MACRAW mode (S0_SR reads 0x%02x)", sr[0])
	}
	d.resetPointers(parseStatus(st))
	return nil
}

// recover resets and reconfigures the chip after a failure left its
// state unknown; the core sees the link go down and come back.
func (d *Driver) recover(now time.Duration) error {
	d.env.Logf(abi.LogWarn, "w5500: resetting the chip to recover")
	if d.link {
		d.link = false
		d.reportLink()
	}
	d.tx.dropStaged()
	if err := d.bringUp(); err != nil {
		d.broken = true
		d.retryAt = now + recoverAfter
		return err
	}
	d.linkDue = now + d.linkEvery
	return nil
}

// fail marks the chip's state unknown after a failed SPI call in the data
// path; the next poll resets it.
func (d *Driver) fail(err error) error {
	d.broken = true
	d.more = true
	d.rearm()
	return err
}

// resetPointers takes socket 0's pointers as the chip reports them after
// OPEN.
func (d *Driver) resetPointers(s sockStatus) {
	d.rxRD = s.rxRD
	d.commit = false
	d.tx = txState{wr: s.txWR, start: s.txWR, stage: s.txWR}
	d.blocked = false
}

// sockStatus is socket 0's burst of pointer registers, Sn_TX_RD to
// Sn_RX_WR (or to Sn_RX_RSR: rxRD and rxWR are then 0).
type sockStatus struct {
	txRD, txWR, rsr, rxRD, rxWR uint16
}

func parseStatus(p []byte) sockStatus {
	s := sockStatus{txRD: be16(p[0:]), txWR: be16(p[2:]), rsr: be16(p[4:])}
	if len(p) >= statusLen {
		s.rxRD, s.rxWR = be16(p[6:]), be16(p[8:])
	}
	return s
}

// consistent checks a status read against itself and the driver's
// pointers. The 16-bit counters can change between the reads of their two
// bytes (a frame arriving mid-read); the datasheet's remedy is to read
// them twice until the values agree. The burst already holds a second
// reading of the same fact: RX_RSR must equal RX_WR - RX_RD, with RX_RD
// the value the driver wrote. A torn RX_RSR fails the check, and the
// status is read again. TX_FSR is not read at all (see txState).
func (d *Driver) consistent(s sockStatus) bool {
	return s.rsr == s.rxWR-s.rxRD && s.rxRD == d.rxRD && s.txWR == d.tx.wr && s.rsr <= bufSize
}
