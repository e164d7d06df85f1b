package driver

import (
	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// maxRounds bounds the status reads of one poll, so that a flood cannot
// hold the plugin past its call deadline; what is left waits for an
// immediate next poll.
const maxRounds = 8

// badStatusLimit is how many status reads in a row may fail the
// consistency check before the driver takes the chip for reset behind its
// back and starts again.
const badStatusLimit = 4

// service looks at socket 0 and moves what it finds.
//
// Each round is one host call that (with INTn) clears Sn_IR, reads the
// pointer burst Sn_TX_RD..Sn_RX_WR and the 2-byte length header at our
// RX_RD (a guess: it is only meaningful when RX_RSR > 0), and, on timer
// polls every linkEvery, PHYCFGR. If RX_RSR holds exactly that one record,
// a second host call reads it, writes RX_RD past it and issues RECV: two
// host calls for the frame. If it holds more, the second call reads all of
// RX_RSR at once, the complete records go to the core, and the RX_RD write
// and RECV ride at the head of the next round, which looks again.
func (d *Driver) service(at *instant, checkLink bool) error {
	for round := 0; ; round++ {
		if round == maxRounds {
			d.more = true
			break
		}
		d.begin()
		if d.hasIRQ {
			// Clear before looking: a frame stored after this raises
			// RECV (and INTn) again, one stored before is in RX_RSR.
			d.b.write(bsbS0Reg, snIR, irAll)
		}
		st := d.b.read(bsbS0Reg, snTXRD, statusLen)
		hdr := d.b.read(bsbS0RX, d.rxRD&bufMask, 2)
		var phy []byte
		if checkLink {
			phy = d.b.read(bsbCommon, regPHYCFGR, 1)
		}
		if err := d.run(); err != nil {
			return d.fail(err)
		}
		s := parseStatus(st)
		ok := d.consistent(s)
		if ok {
			d.noteTX(s)
		}
		if checkLink {
			checkLink = false
			d.linkDue = at.now() + d.linkEvery
			d.setLink(phy[0])
		}
		if !ok {
			d.bad++
			d.event("status read does not add up (RX_RSR 0x%04x, RX_RD 0x%04x, RX_WR 0x%04x, ours 0x%04x): reading again", s.rsr, s.rxRD, s.rxWR, d.rxRD)
			if d.bad >= badStatusLimit {
				return d.fail(abi.OSError(abi.EIO, "w5500: socket 0's pointers do not add up %d times in a row (RX_RSR 0x%04x, RX_RD 0x%04x, RX_WR 0x%04x, TX_WR 0x%04x; expected RX_RD 0x%04x, TX_WR 0x%04x): was the chip reset?",
					d.bad, s.rsr, s.rxRD, s.rxWR, s.txWR, d.rxRD, d.tx.wr))
			}
			continue
		}
		d.bad = 0
		rsr := s.rsr
		if rsr == 0 {
			break
		}
		h := be16(hdr)
		if !validRecord(h) {
			return d.reopen(badRecord(h, d.rxRD))
		}
		if h > rsr {
			// The chip shows part of a record (seen under load on real
			// parts): wait for the rest.
			d.retryAt = at.now() + partialRetry
			break
		}
		d.begin()
		if h == rsr {
			frame := d.rxBuf[:h-2]
			d.b.readInto(bsbS0RX, (d.rxRD+2)&bufMask, frame)
			d.rxRD += h
			d.b.write16(bsbS0Reg, snRXRD, d.rxRD)
			d.b.write(bsbS0Reg, snCR, cmdRECV)
			if err := d.run(); err != nil {
				return d.fail(err)
			}
			d.deliver(frame)
			break
		}
		buf := d.rxBuf[:rsr]
		copy(buf, hdr)
		d.b.readInto(bsbS0RX, (d.rxRD+2)&bufMask, buf[2:])
		if err := d.run(); err != nil {
			return d.fail(err)
		}
		used, bad := d.deliverRecords(buf)
		d.rxRD += used
		d.commit = true
		if bad {
			return d.reopen(badRecord(be16(buf[used:]), d.rxRD))
		}
	}
	if d.commit { // rounds ran out: free the space now
		d.begin()
		if err := d.run(); err != nil {
			return d.fail(err)
		}
	}
	return d.serviceTX(at)
}

// validRecord reports whether h can be a MACRAW record header: 2 length
// bytes (counted in h) and an Ethernet frame.
func validRecord(h uint16) bool { return h >= 2+minFrame && h <= 2+rxMaxFrame }

func badRecord(h, at uint16) string {
	return "RX record header 0x" + hex4(h) + " at RX_RD 0x" + hex4(at) + " is not a frame length: lost the record boundary"
}

// deliverRecords hands every complete record in p (which starts with a
// record) to the core. It returns the bytes they took; bad reports a
// header that cannot be a record at p[used:].
func (d *Driver) deliverRecords(p []byte) (used uint16, bad bool) {
	off := 0
	for off+2 <= len(p) {
		h := int(be16(p[off:]))
		if !validRecord(uint16(h)) {
			return uint16(off), true
		}
		if off+h > len(p) {
			break // its tail has not arrived: the next round waits for it
		}
		d.deliver(p[off+2 : off+h])
		off += h
	}
	return uint16(off), false
}

// deliver hands one frame to the core. An error (-ENOBUFS: the core's
// queue is full) means the host dropped and counted it.
func (d *Driver) deliver(frame []byte) {
	if d.trace.Has(guest.TraceRx) {
		d.env.LogFrame(d.trace, "w5500", "rx", frame)
	}
	_ = d.env.Deliver(0, frame)
}

func hex4(v uint16) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[v>>12], digits[v>>8&15], digits[v>>4&15], digits[v&15]})
}
