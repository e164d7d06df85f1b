package guest

import (
	"github.com/nichost/nichost/abi"
)

// rxBatchBytes is the size of one interface's receive batch: a batch is
// pushed before a frame would take it past this (a larger frame goes alone).
const rxBatchBytes = 64 << 10

// rxBatch holds the frames delivered on one interface and not yet pushed:
// records of abi.AppendFrame.
type rxBatch struct {
	buf []byte
	n   int
}

// Deliver hands a received frame on iface to the network core. The frame is
// copied; the driver keeps its buffer.
//
// When the host offers abi.FeatureRxBatch (every 1.1 host does), the frame
// is copied into a batch and reaches the core with the others of the same
// export in one rx_push_batch call: at the end of the export the SDK is
// serving (Poll, Transmit, a control call), when the batch is full
// (abi.MaxRxBatch frames or 64 KiB), or at Flush. Frames the core's queue
// has no room for are then dropped and counted by the host, not reported
// here. Without the feature, each frame is one rx_push call and a full
// queue is an OSError ENOBUFS.
//
// Either way a frame of 0 or more than abi.MaxFrame bytes, or an interface
// the description does not declare, is an error at once.
func (e *Env) Deliver(iface int, frame []byte) error {
	switch {
	case len(frame) == 0:
		return abi.OSError(abi.EINVAL, "rx_push: an empty frame")
	case len(frame) > abi.MaxFrame:
		return errnoError("rx_push", -abi.EMSGSIZE)
	case e.rx == nil:
		return check("rx_push", e.imp.RxPush(int32(iface), frame))
	case iface < 0 || iface >= len(e.rx):
		return errnoError("rx_push_batch", -abi.ENODEV)
	}
	q := &e.rx[iface]
	if q.n == abi.MaxRxBatch || (q.n > 0 && len(q.buf)+abi.FrameRecordHeader+len(frame) > rxBatchBytes) {
		if err := e.push(iface); err != nil {
			return err
		}
	}
	if q.buf == nil {
		q.buf = make([]byte, 0, rxBatchBytes)
	}
	q.buf = abi.AppendFrame(q.buf, frame)
	q.n++
	return nil
}

// Flush pushes the frames Deliver batched to the core now, instead of at
// the end of the export. It returns the first error of an rx_push_batch
// call (none for frames dropped on a full queue, which the host counts).
func (e *Env) Flush() error {
	var first error
	for i := range e.rx {
		if err := e.push(i); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// flushAll is Flush at the end of an export, where no driver code can see
// an error: it is logged.
func (e *Env) flushAll() {
	if err := e.Flush(); err != nil {
		e.Logf(abi.LogWarn, "guest: frames lost: %v", err)
	}
}

// push hands interface iface's batch to the host.
func (e *Env) push(iface int) error {
	q := &e.rx[iface]
	if q.n == 0 {
		return nil
	}
	rc := e.imp.RxPushBatch(int32(iface), q.buf)
	q.buf, q.n = q.buf[:0], 0
	return check("rx_push_batch", rc)
}
