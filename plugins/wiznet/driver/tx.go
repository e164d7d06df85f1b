package driver

import (
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// txState follows socket 0's TX buffer.
//
// In MACRAW mode SEND transmits everything between TX_RD and TX_WR as one
// frame, and Sn_CR reads 0 as soon as the chip has accepted a command, not
// when the frame is on the wire: so one SEND is outstanding at a time, and
// the driver must see it complete before it issues the next. Frames need
// not wait for it, though: the driver writes them into the buffer behind
// TX_WR ("staged") while there is room, many in one SPI frame, and hands
// the next one to SEND once the outstanding one is seen complete.
// Completion needs no SEND_OK interrupt: the chip then sets TX_RD to TX_WR,
// so with one SEND outstanding TX_RD reads either the start of that frame
// or TX_WR, and the driver reads it in the pointer burst of the same host
// call as the SEND. TX_FSR is not needed either: the free space is 16 KiB
// less what lies between the outstanding frame's start and the end of the
// staged data.
type txState struct {
	wr    uint16        // TX_WR as written: the end of the frame last handed to SEND
	start uint16        // where that frame starts (TX_RD while it is outstanding)
	busy  bool          // that SEND has not been seen complete at the last look
	since time.Duration // when it was issued; unknownTime until a poll reads the clock
	stage uint16        // end of the frames written behind TX_WR
	ends  []uint16      // the staged frames' ends, oldest first, from ends[next]
	next  int
}

// unknownTime marks a SEND issued by a call that did not read the clock
// (reading it is a host call): the next poll stamps it.
const unknownTime time.Duration = -1

// maxBurst bounds the frames whose data one SPI frame carries: its records
// (a header and one per frame) and the rest of the call's (an RX commit,
// TX_WR, SEND and the pointer read) must fit in abi.SPIMaxOps.
const maxBurst = abi.SPIMaxOps - 8

// free is the room left in the TX buffer.
func (t *txState) free() int {
	base := t.wr
	if t.busy {
		base = t.start
	}
	return bufSize - int(t.stage-base)
}

// staged is how many frames wait in the buffer for their SEND.
func (t *txState) staged() int { return len(t.ends) - t.next }

// push notes a frame of n bytes written at the end of the staged data.
func (t *txState) push(n int) {
	t.stage += uint16(n)
	t.ends = append(t.ends, t.stage)
}

// pop returns the end of the oldest staged frame and forgets it. The list
// is compacted once half of it is spent, so that under traffic that never
// lets it empty it stays as long as what is staged.
func (t *txState) pop() uint16 {
	end := t.ends[t.next]
	t.next++
	switch {
	case t.next == len(t.ends):
		t.ends, t.next = t.ends[:0], 0
	case t.next > len(t.ends)/2:
		t.ends = append(t.ends[:0], t.ends[t.next:]...)
		t.next = 0
	}
	return end
}

// dropStaged forgets the frames written but not yet sent.
func (t *txState) dropStaged() {
	t.stage, t.ends, t.next = t.wr, t.ends[:0], 0
}

// noteTX takes a status read: has the outstanding SEND completed?
func (d *Driver) noteTX(s sockStatus) {
	if d.tx.busy && s.txRD == d.tx.wr {
		d.tx.busy = false
	}
}

// emitSend adds to the batch the TX_WR write and SEND of the oldest
// staged frame. now may be unknownTime.
func (d *Driver) emitSend(now time.Duration) {
	end := d.tx.pop()
	d.b.write16(bsbS0Reg, snTXWR, end)
	d.b.write(bsbS0Reg, snCR, cmdSEND)
	d.tx.sent(end, now)
}

// sent notes the SEND of the staged frame that ends at end.
func (t *txState) sent(end uint16, now time.Duration) {
	t.start, t.wr = t.wr, end
	t.busy, t.since = true, now
}

// sendLook is the host call a busy transmitter makes for every frame:
// [S0_TX_WR ← end] [S0_CR ← SEND] [read S0_TX_RD..S0_RX_RSR]. Its records
// are built once, so that the hot path only sets TX_WR's two bytes: less
// guest code per frame, which counts in a sandbox that checks for its
// deadline as the code runs.
type sendLook struct {
	wr   [5]byte
	send [4]byte
	w, r [3 + txLookLen]byte
	ops  [3]abi.SPIOp
}

func (s *sendLook) init() {
	header(s.wr[:], bsbS0Reg, snTXWR, true)
	header(s.send[:], bsbS0Reg, snCR, true)
	s.send[3] = cmdSEND
	header(s.w[:], bsbS0Reg, snTXRD, false)
	s.ops = [3]abi.SPIOp{{W: s.wr[:]}, {W: s.send[:]}, {W: s.w[:], R: s.r[:]}}
}

// Transmit implements guest.Driver: a batch of one frame.
func (d *Driver) Transmit(iface int, frame []byte) error {
	d.one[0] = frame
	_, err := d.TransmitBatch(iface, d.one[:])
	d.one[0] = nil
	return err
}

// TransmitBatch implements guest.BatchTransmitter. The frames that fit in
// the TX buffer are written with one SPI frame (they lie one after the
// other in the ring, and a burst wraps at its end); if no SEND is
// outstanding the oldest staged frame's TX_WR and SEND ride in the same
// host call, followed by the pointer burst that shows whether it is done.
// Each further frame then costs one host call, [TX_WR] [SEND] [pointer
// burst], for as long as the look shows the previous SEND complete; when
// the buffer has room again for what is left of frames, the next burst is
// written the same way. When a SEND is still outstanding (a real chip on
// the wire), the frames written stay staged and go out from a later call
// or a poll 500 µs later; the count returned includes them. When nothing
// fits the answer is busy (the host keeps the frames for the next poll).
//
// Right after the link came back with a SEND outstanding the answer is
// busy until the next poll has reopened socket 0. While the interface is
// inactive, the link is down or the chip is being reset, frames[0] is
// refused with an OSError EAGAIN, which the host
// counts (a busy answer would make the host hold frames for a cable that
// may stay out for hours); a frame outside 14..1514 bytes with EMSGSIZE.
func (d *Driver) TransmitBatch(iface int, frames [][]byte) (int, error) {
	if err := checkIface(iface); err != nil {
		return 0, err
	}
	switch {
	case !d.active:
		return 0, abi.OSError(abi.EAGAIN, "w5500: the interface is inactive; frame dropped")
	case !d.link:
		return 0, abi.OSError(abi.EAGAIN, "w5500: the link is down; frame dropped")
	case d.broken:
		return 0, abi.OSError(abi.EAGAIN, "w5500: the chip is being reset; frame dropped")
	case d.stuck:
		// The link came back behind a SEND that will never complete: the
		// next poll reopens socket 0, which empties the TX buffer. A frame
		// staged now would be lost there; the host keeps it and offers it
		// again after that poll.
		d.rearm()
		return 0, guest.ErrBusy
	}
	taken := 0
	for taken < len(frames) {
		k, err := d.fit(frames[taken:])
		if err != nil {
			if taken == 0 {
				return 0, err
			}
			break // the next call refuses it
		}
		if k == 0 && taken == 0 {
			// The buffer is full: behind an outstanding SEND (has it
			// completed?), or of frames no SEND has taken yet.
			if d.tx.busy {
				if err := d.lookTX(unknownTime, false); err != nil {
					return 0, err
				}
			}
			if err := d.sendStaged(); err != nil { // what waited behind it
				return 0, err
			}
			k, _ = d.fit(frames)
		}
		if k == 0 {
			break
		}
		if err := d.stageFrames(frames[taken : taken+k]); err != nil {
			return taken, err
		}
		taken += k
		if err := d.sendStaged(); err != nil {
			return taken, err
		}
		if d.tx.busy {
			break // a real chip is still sending: the rest waits
		}
	}
	d.blocked = taken == 0
	if d.blocked || (d.tx.busy && d.tx.staged() > 0) {
		d.rearm()
	}
	if taken == 0 {
		return 0, guest.ErrBusy
	}
	return taken, nil
}

// fit returns how many of frames, from the first, fit in the TX buffer and
// in one burst. A first frame outside 14..1514 bytes is an OSError
// EMSGSIZE; a later one ends the run.
func (d *Driver) fit(frames [][]byte) (int, error) {
	room := d.tx.free()
	for k, f := range frames {
		if len(f) < minFrame || len(f) > maxTxFrame {
			if k == 0 {
				return 0, abi.OSError(abi.EMSGSIZE, "w5500: a %d-byte frame is outside %d..%d bytes; dropped", len(f), minFrame, maxTxFrame)
			}
			return k, nil
		}
		if len(f) > room || k == maxBurst {
			return k, nil
		}
		room -= len(f)
	}
	return len(frames), nil
}

// stageFrames writes frames behind the staged data with one SPI frame and,
// if no SEND is outstanding, issues the oldest staged frame's SEND and
// reads the pointer burst in the same host call. The caller made sure they
// fit.
func (d *Driver) stageFrames(frames [][]byte) error {
	d.begin()
	d.b.writeFrames(bsbS0TX, d.tx.stage&bufMask, frames)
	for _, f := range frames {
		d.tx.push(len(f))
	}
	if !d.tx.busy {
		d.emitSend(unknownTime) // the oldest staged frame: the first of these, unless others wait
		if d.blindSend {        // deliberate misuse: see NewMisusing
			if d.tx.staged() == 0 {
				// One frame: SEND it again at once, so that every frame
				// misuses the chip, however the host batches them.
				d.b.write(bsbS0Reg, snCR, cmdSEND)
			}
			for d.tx.staged() > 0 {
				d.emitSend(unknownTime)
			}
		}
	}
	st := d.b.read(bsbS0Reg, snTXRD, txLookLen)
	if err := d.run(); err != nil {
		return d.fail(err)
	}
	if d.trace.Has(guest.TraceTx) {
		for _, f := range frames {
			d.env.LogFrame(d.trace, "w5500", "tx", f)
		}
	}
	d.afterLook(parseStatus(st))
	return nil
}

// sendStaged hands staged frames to SEND one host call at a time, for as
// long as the look in each call shows the SEND complete.
func (d *Driver) sendStaged() error {
	for !d.tx.busy && d.tx.staged() > 0 {
		if err := d.lookTX(unknownTime, true); err != nil {
			return err
		}
	}
	return nil
}

// lookTX makes one host call that, if send, issues the next staged
// frame's SEND, and reads the pointer burst.
func (d *Driver) lookTX(now time.Duration, send bool) error {
	if send && !d.commit { // the common case: no RX commit rides along
		end := d.tx.pop()
		d.look.wr[3], d.look.wr[4] = byte(end>>8), byte(end)
		d.tx.sent(end, now)
		if err := d.b.transact(d.look.ops[:]); err != nil {
			return d.fail(err)
		}
		d.afterLook(parseStatus(d.look.r[3:]))
		return nil
	}
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
	if s.rsr > 0 && !d.hasIRQ && !d.more {
		d.more = true
		d.rearm()
	}
}

// serviceTX runs at the end of a poll: it sends the staged frames while
// the SENDs complete, and reopens socket 0 if a SEND never completes.
func (d *Driver) serviceTX(at *instant) error {
	if d.stuck {
		d.stuck = false
		if d.tx.busy {
			return d.reopen("a SEND issued while the link was down is still outstanding")
		}
	}
	if d.tx.busy && d.tx.since == unknownTime {
		d.tx.since = at.now()
	}
	for i := 0; !d.tx.busy && d.tx.staged() > 0 && i < maxBurst; i++ {
		if err := d.lookTX(unknownTime, true); err != nil {
			return err
		}
	}
	if !d.tx.busy && d.tx.staged() > 0 {
		// The rounds ran out with frames staged and nothing outstanding:
		// no SEND_OK will come to wake us, so poll again at once.
		d.more = true
		d.rearm()
	}
	if d.tx.busy && d.tx.since == unknownTime {
		d.tx.since = at.now()
	}
	if d.tx.busy && at.now()-d.tx.since > txTimeout {
		return d.reopen("a SEND did not complete in " + txTimeout.String())
	}
	return nil
}
