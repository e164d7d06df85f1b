package driver

import (
	"time"

	"example.com/abi10/abi"
	"example.com/abi10/abi/guest"
)

// txState follows socket 0's TX buffer.
//
// In MACRAW mode SEND transmits everything between TX_RD and TX_WR as one
// frame, so one SEND is outstanding at a time (a second SEND before the
// first completes is not allowed). Frames need not wait for it, though:
// the driver writes them into the buffer behind TX_WR ("staged") while
// there is room, and hands the next one to SEND as soon as the outstanding
// one completes. Completion needs no SEND_OK interrupt: the chip then sets
// TX_RD to TX_WR, so with one SEND outstanding TX_RD reads either the
// start of that frame or TX_WR, and the driver reads it in the pointer
// burst of the same host call as the SEND. TX_FSR is not needed either:
// the free space is 16 KiB less what lies between the outstanding frame's
// start and the end of the staged data.
type txState struct {
	wr    uint16        // TX_WR as written: the end of the frame last handed to SEND
	start uint16        // where that frame starts (TX_RD while it is outstanding)
	busy  bool          // that SEND has not completed at the last look
	since time.Duration // when it was issued
	stage uint16        // end of the frames written behind TX_WR
	ends  []uint16      // the staged frames' ends, oldest first
}

// free is the room left in the TX buffer.
func (t *txState) free() int {
	base := t.wr
	if t.busy {
		base = t.start
	}
	return bufSize - int(t.stage-base)
}

// dropStaged forgets the frames written but not yet sent.
func (t *txState) dropStaged() {
	t.stage, t.ends = t.wr, t.ends[:0]
}

// noteTX takes a status read: has the outstanding SEND completed?
func (d *Driver) noteTX(s sockStatus) {
	if d.tx.busy && s.txRD == d.tx.wr {
		d.tx.busy = false
	}
}

// emitSend adds to the batch the TX_WR write and SEND of the oldest
// staged frame.
func (d *Driver) emitSend(now time.Duration) {
	end := d.tx.ends[0]
	d.tx.ends = d.tx.ends[1:]
	d.b.write16(bsbS0Reg, snTXWR, end)
	d.b.write(bsbS0Reg, snCR, cmdSEND)
	d.tx.start, d.tx.wr = d.tx.wr, end
	d.tx.busy, d.tx.since = true, now
}

// Transmit implements guest.Driver. The frame is written into the TX
// buffer; if no SEND is outstanding it is sent in the same host call
// (data, TX_WR, SEND, then the pointer burst to see the SEND complete).
// Otherwise it waits in the buffer for the outstanding SEND, which the
// pointer burst of this call or of a later poll sees complete. When the
// buffer is full the answer is busy: the host keeps the frame. While the
// interface is inactive or the link is down, frames are dropped with an
// OSError EAGAIN, which the host counts (a busy answer would make the host
// hold frames for a cable that may stay out for hours).
func (d *Driver) Transmit(iface int, frame []byte) error {
	if err := checkIface(iface); err != nil {
		return err
	}
	switch {
	case !d.active:
		return abi.OSError(abi.EAGAIN, "w5500: the interface is inactive; frame dropped")
	case !d.link:
		return abi.OSError(abi.EAGAIN, "w5500: the link is down; frame dropped")
	case d.broken:
		return abi.OSError(abi.EAGAIN, "w5500: the chip is being reset; frame dropped")
	case len(frame) < minFrame || len(frame) > maxTxFrame:
		return abi.OSError(abi.EMSGSIZE, "w5500: a %d-byte frame is outside %d..%d bytes; dropped", len(frame), minFrame, maxTxFrame)
	}
	now := d.env.Now()
	if d.tx.free() < len(frame) && d.tx.busy {
		if err := d.lookTX(now, false); err != nil {
			return err
		}
	}
	if d.tx.free() < len(frame) {
		d.blocked = true
		d.arm(now)
		return guest.ErrBusy
	}
	d.blocked = false
	d.begin()
	d.b.writeFrom(bsbS0TX, d.tx.stage&bufMask, frame)
	d.tx.stage += uint16(len(frame))
	d.tx.ends = append(d.tx.ends, d.tx.stage)
	if !d.tx.busy {
		d.emitSend(now) // the oldest staged frame: this one, unless others wait
	}
	st := d.b.read(bsbS0Reg, snTXRD, txLookLen)
	if err := d.run(); err != nil {
		return d.fail(err)
	}
	if d.trace.Has(guest.TraceTx) {
		d.env.LogFrame(d.trace, "w5500", "tx", frame)
	}
	d.afterLook(parseStatus(st))
	if !d.tx.busy && len(d.tx.ends) > 0 {
		if err := d.lookTX(now, true); err != nil {
			return err
		}
	}
	if d.tx.busy && len(d.tx.ends) > 0 {
		d.arm(now)
	}
	return nil
}

// lookTX makes one host call that, if send, issues the next staged
// frame's SEND, and reads the pointer burst.
func (d *Driver) lookTX(now time.Duration, send bool) error {
	d.begin()
	if send {
		d.emitSend(now)
	}
	st := d.b.read(bsbS0Reg, snTXRD, txLookLen)
	if err := d.run(); err != nil {
		return d.fail(err)
	}
	d.afterLook(parseStatus(st))
	return nil
}

// afterLook takes a pointer burst read outside a poll: the TX side, and
// without INTn a hint that frames wait to be read.
func (d *Driver) afterLook(s sockStatus) {
	if s.txWR != d.tx.wr {
		return // not what the driver wrote: a poll looks again
	}
	d.noteTX(s)
	if s.rsr > 0 && !d.hasIRQ {
		d.more = true
		d.arm(d.env.Now())
	}
}

// serviceTX runs at the end of a poll: it sends the next staged frame if
// the outstanding SEND completed, and reopens socket 0 if a SEND never
// completes.
func (d *Driver) serviceTX(now time.Duration) error {
	if d.stuck {
		d.stuck = false
		if d.tx.busy {
			return d.reopen("a SEND issued while the link was down is still outstanding")
		}
	}
	for i := 0; !d.tx.busy && len(d.tx.ends) > 0 && i < maxRounds; i++ {
		if err := d.lookTX(now, true); err != nil {
			return err
		}
	}
	if d.tx.busy && now-d.tx.since > txTimeout {
		return d.reopen("a SEND did not complete in " + txTimeout.String())
	}
	return nil
}
