package driver

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// The warm handover (ABI.md "Warm handover"): on a reload the old instance
// hands over socket 0's pointers as it knows them, the frames it staged in
// the TX buffer and not yet sent, and its settings; the new one reads the
// chip, checks that it is configured as the state says, and goes on
// without a reset, so the link never goes down and no frame in the chip's
// buffers is lost. After a fault there is no state: the new instance takes
// over a chip it finds configured, reading the pointers from the chip, and
// the replayed active(True) then goes on from there.

var _ guest.Resumer = (*Driver)(nil)

// stateMagic starts the handed-over state: the driver and the version of
// its layout.
var stateMagic = []byte("nichost-w5500\x01")

// Suspend implements guest.Resumer. A pending RX commit (RX_RD and RECV for
// records already delivered) is written first, so that the chip's pointers
// are the state's; frames staged behind TX_WR go in the state, for the
// next instance to SEND. A chip whose state the driver lost (an SPI
// failure it has not recovered from) is not handed over: the next
// instance resets it.
func (d *Driver) Suspend() ([]byte, error) {
	if d.broken {
		return nil, errors.New("w5500: the chip's state is unknown after an SPI failure; the next instance resets it")
	}
	if d.active && d.commit {
		d.begin()
		if err := d.run(); err != nil {
			return nil, wrap("committing the RX pointer before the handover", err)
		}
	}
	b := slices.Clone(stateMagic)
	b = append(b, flag(d.active), flag(d.link), flag(d.full), flag(d.stuck), flag(d.tx.busy), byte(d.speed))
	b = binary.BigEndian.AppendUint16(b, d.rxRD)
	b = binary.BigEndian.AppendUint16(b, d.tx.wr)
	b = binary.BigEndian.AppendUint16(b, d.tx.start)
	b = binary.BigEndian.AppendUint16(b, d.tx.stage)
	b = binary.BigEndian.AppendUint32(b, uint32(d.trace))
	b = append(b, d.mac...)
	ends := d.tx.ends[d.tx.next:]
	b = binary.BigEndian.AppendUint16(b, uint16(len(ends)))
	for _, e := range ends {
		b = binary.BigEndian.AppendUint16(b, e)
	}
	return b, nil
}

func flag(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// handover is what Suspend wrote.
type handover struct {
	active, link, full, stuck, busy bool
	speed                           int
	rxRD, wr, start, stage          uint16
	trace                           guest.Trace
	mac                             []byte
	ends                            []uint16
}

const handoverFixed = 6 + 4*2 + 4 + 6 + 2 // flags and speed, pointers, trace, MAC, count

func decodeHandover(b []byte) (handover, error) {
	var h handover
	r, ok := bytes.CutPrefix(b, stateMagic)
	if !ok {
		return h, errors.New("the state is not this driver's (another driver or another version of it)")
	}
	if len(r) < handoverFixed {
		return h, fmt.Errorf("the state has %d bytes, which is not the layout this driver writes", len(b))
	}
	h.active, h.link, h.full, h.stuck, h.busy = r[0] == 1, r[1] == 1, r[2] == 1, r[3] == 1, r[4] == 1
	h.speed = int(r[5])
	be := binary.BigEndian
	h.rxRD, h.wr, h.start, h.stage = be.Uint16(r[6:]), be.Uint16(r[8:]), be.Uint16(r[10:]), be.Uint16(r[12:])
	h.trace = guest.Trace(be.Uint32(r[14:]))
	h.mac = slices.Clone(r[18:24])
	n := int(be.Uint16(r[24:]))
	if len(r) != handoverFixed+2*n {
		return h, fmt.Errorf("the state has %d bytes, which is not the layout this driver writes", len(b))
	}
	for i := range n {
		h.ends = append(h.ends, be.Uint16(r[handoverFixed+2*i:]))
	}
	return h, nil
}

// chipView is what the new instance reads of the chip to check it.
type chipView struct {
	version, mr, sr, phy byte
	shar                 []byte
	st                   sockStatus
}

// readChip reads the registers the takeover checks, in one host call.
func (d *Driver) readChip() (chipView, error) {
	d.begin()
	ver := d.b.read(bsbCommon, regVERSIONR, 1)
	shar := d.b.read(bsbCommon, regSHAR, 6)
	mr := d.b.read(bsbS0Reg, snMR, 1)
	sr := d.b.read(bsbS0Reg, snSR, 1)
	st := d.b.read(bsbS0Reg, snTXRD, statusLen)
	phy := d.b.read(bsbCommon, regPHYCFGR, 1)
	if err := d.run(); err != nil {
		return chipView{}, err
	}
	return chipView{version: ver[0], mr: mr[0], sr: sr[0], phy: phy[0], shar: slices.Clone(shar), st: parseStatus(st)}, nil
}

// configured checks that the chip runs socket 0 as configure left it,
// for the MAC address mac.
func (v chipView) configured(mac []byte) error {
	switch {
	case v.version != versionW5500:
		return fmt.Errorf("VERSIONR reads 0x%02x: no W5500 answers", v.version)
	case !bytes.Equal(v.shar, mac):
		return fmt.Errorf("SHAR holds %x, not the MAC address %x", v.shar, mac)
	case v.mr != modeMACRAW|modeMFEN || v.sr != srMACRAW:
		return fmt.Errorf("socket 0 is not open in MACRAW mode (S0_MR 0x%02x, S0_SR 0x%02x)", v.mr, v.sr)
	case v.st.rxWR-v.st.rxRD != v.st.rsr || v.st.rsr > bufSize:
		return fmt.Errorf("socket 0's RX pointers do not add up (RX_RD 0x%04x, RX_WR 0x%04x, RX_RSR 0x%04x)", v.st.rxRD, v.st.rxWR, v.st.rsr)
	}
	return nil
}

// Resume implements guest.Resumer: it takes over the chip the previous
// instance ran, if the chip is as the state says.
func (d *Driver) Resume(r abi.Resume) error {
	if r.State == nil {
		return d.adoptChip()
	}
	h, err := decodeHandover(r.State)
	if err != nil {
		return err
	}
	if !h.active {
		// Socket 0 is closed: nothing runs to take over but the settings;
		// active(True) resets the chip as usual.
		d.trace, d.mac = h.trace, h.mac
		return nil
	}
	v, err := d.readChip()
	if err != nil {
		return err
	}
	if err := v.configured(h.mac); err != nil {
		return err
	}
	switch {
	case v.st.rxRD != h.rxRD:
		return fmt.Errorf("S0_RX_RD reads 0x%04x, the state says 0x%04x", v.st.rxRD, h.rxRD)
	case v.st.txWR != h.wr:
		return fmt.Errorf("S0_TX_WR reads 0x%04x, the state says 0x%04x", v.st.txWR, h.wr)
	case h.busy && v.st.txRD != h.start && v.st.txRD != h.wr:
		return fmt.Errorf("S0_TX_RD reads 0x%04x, neither the start (0x%04x) nor the end (0x%04x) of the SEND under way", v.st.txRD, h.start, h.wr)
	}
	d.trace, d.mac = h.trace, h.mac
	d.rxRD, d.commit = h.rxRD, false
	d.tx = txState{wr: h.wr, start: h.start, busy: h.busy, since: unknownTime, stage: h.stage, ends: h.ends}
	d.stuck = h.stuck
	d.take(h.link, h.speed, h.full, v.phy)
	return nil
}

// take makes the driver active on the chip taken over: the link as the
// core has it (link, speed, full), then what PHYCFGR says now, reported if
// it changed; the first poll looks at socket 0 at once.
func (d *Driver) take(link bool, speed int, full bool, phy byte) {
	d.active = true
	d.link, d.speed, d.full = link, speed, full
	d.setLink(phy)
	now := d.env.Now()
	d.linkDue = now + d.linkEvery
	d.wakeReq, d.more = -1, true
	d.arm(now)
}

// adoptChip takes over, after a fault, a chip the failed instance left
// configured. The driver stays inactive; the replayed active(True) goes on
// from the pointers the chip holds then, without a reset.
func (d *Driver) adoptChip() error {
	v, err := d.readChip()
	if err != nil {
		return err
	}
	if err := v.configured(d.mac); err != nil {
		return err
	}
	d.warm = true
	return nil
}

// activateWarm is active(True) on a chip taken over after a fault: its
// pointers are the chip's (records the failed instance read but did not
// release are read again; frames it staged and did not SEND are lost), and
// its link is reported as PHYCFGR has it.
func (d *Driver) activateWarm() error {
	d.warm = false
	v, err := d.readChip()
	if err == nil {
		err = v.configured(d.mac)
	}
	if err != nil {
		d.env.Logf(abi.LogInfo, "w5500: the chip taken over changed (%v); resetting it", err)
		return d.activateCold()
	}
	d.rxRD, d.commit = v.st.rxRD, false
	d.tx = txState{wr: v.st.txWR, start: v.st.txRD, busy: v.st.txRD != v.st.txWR, since: unknownTime, stage: v.st.txWR}
	d.blocked = false
	d.take(false, 0, false, v.phy)
	return nil
}
