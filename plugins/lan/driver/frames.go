package driver

import (
	"bytes"
	"errors"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// maxRxPerPoll bounds the frames one poll moves; more wait for an immediate
// next poll, so a flood cannot hold the plugin past its call deadline.
const maxRxPerPoll = 256

// receive reads every queued frame from the port. While the link is up and
// the interface active, frames for this MAC address, broadcasts and
// multicasts go to the core (the MAC's address filter); the rest, and
// everything while the link is down or the interface inactive, is
// discarded, as a MAC whose receiver is off would: on real hardware no
// frame arrives without a link, while the simulated port delivers them
// regardless. A warm handover never takes the link down, so a reload
// discards nothing here.
func (d *Driver) receive() error {
	d.more = false
	for i := 0; i < maxRxPerPoll; i++ {
		n, err := d.port.Read(d.buf)
		var e *abi.Error
		switch {
		case err != nil && errors.As(err, &e) && e.Errno == abi.EMSGSIZE:
			continue // longer than rxBufSize: the host dropped it
		case err != nil:
			return wrap("reading the frame port", err)
		case n == 0:
			return nil
		}
		frame := d.buf[:n]
		if !d.active || d.state != stateUp || !d.accept(frame) {
			continue
		}
		if d.trace.Has(guest.TraceRx) {
			d.env.LogFrame(d.trace, "lan", "rx", frame)
		}
		// An error here (-ENOBUFS) means the core dropped the frame; the
		// host counts it.
		_ = d.env.Deliver(0, frame)
	}
	d.more = d.active
	return nil
}

// accept is the MAC address filter: our unicast address, and every group
// (multicast or broadcast) address.
func (d *Driver) accept(frame []byte) bool {
	if len(frame) < 14 {
		return false
	}
	return frame[0]&1 != 0 || bytes.Equal(frame[:6], d.mac)
}

// Transmit implements guest.Driver: the frame goes to the port while the
// interface is active and the link up. Otherwise it is dropped with an
// OSError EAGAIN, which the host counts (a busy answer would make the host
// hold frames for a link that may stay down for hours).
func (d *Driver) Transmit(iface int, frame []byte) error {
	if err := checkIface(iface); err != nil {
		return err
	}
	if !d.active || d.state != stateUp {
		return abi.OSError(abi.EAGAIN, "lan: the link is down; frame dropped")
	}
	if d.trace.Has(guest.TraceTx) {
		d.env.LogFrame(d.trace, "lan", "tx", frame)
	}
	return wrap("writing to the frame port", d.port.Write(frame))
}

// TransmitBatch implements guest.BatchTransmitter: the frames go to the
// port in order, one frame_write each, in the one export call the host
// makes for the batch (the MAC has no queue of its own to fill, so the
// batch saves the export calls, not the writes). A frame the port or the
// link refuses is refused as Transmit would refuse it; the frames before
// it were sent.
func (d *Driver) TransmitBatch(iface int, frames [][]byte) (int, error) {
	for i, f := range frames {
		if err := d.Transmit(iface, f); err != nil {
			return i, err
		}
	}
	return len(frames), nil
}
