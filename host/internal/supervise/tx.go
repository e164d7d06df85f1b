package supervise

import (
	"errors"
	"fmt"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/internal/engine"
)

type txFrame struct {
	iface int
	frame []byte
}

// maxTxQueue is how many frames may wait for a plugin's transmitter. A
// TCP sender's burst must fit: at 256 the queue overflowed under bulk
// transfers, the dropped segments cost retransmission timeouts, and
// throughput over a TAP swung between 19 and 144 MB/s; at 1024 (at most
// about 1.5 MiB of full-size Ethernet frames) it stays at 135-167 MB/s.
// maxTxBytes bounds the bytes they hold, so that a plugin reporting a
// large MTU cannot make the host hold 1024 jumbo frames.
const (
	maxTxQueue = 1024
	maxTxBytes = 4 << 20
)

// TxOutcome is what became of a frame offered to the driver.
type TxOutcome int

// Outcomes of a frame offered to nic_transmit.
const (
	TxSent    TxOutcome = iota // the driver took it
	TxTooLong                  // it did not fit the driver's transmit buffer
	TxRefused                  // the driver raised an error (passed with it)
)

// Enqueue adds a frame (copied) for the driver to send on iface; it
// returns ErrTxQueueFull when the driver falls behind. Any goroutine.
func (s *Supervisor) Enqueue(iface int, frame []byte) error {
	s.txMu.Lock()
	if len(s.txq) >= maxTxQueue || s.txBytes+len(frame) > maxTxBytes {
		s.txMu.Unlock()
		return ErrTxQueueFull
	}
	s.txq = append(s.txq, txFrame{iface: iface, frame: append([]byte(nil), frame...)})
	s.txBytes += len(frame)
	s.txMu.Unlock()
	s.Notify(abi.EventTx)
	return nil
}

// dequeue removes the first n queued frames.
func (s *Supervisor) dequeue(n int) {
	s.txMu.Lock()
	for _, f := range s.txq[:n] {
		s.txBytes -= len(f.frame)
	}
	clear(s.txq[:n])
	s.txq = s.txq[n:]
	s.txMu.Unlock()
}

// flushTx offers queued frames to the driver until it is busy, the queue is
// empty, or the plugin used up its CPU share.
func (s *Supervisor) flushTx() {
	if s.holding() {
		return // the frames wait for the instance that takes the links over
	}
	for s.inst != nil && !s.txBusy && !s.throttling() {
		var more bool
		if s.batch {
			more = s.offerBatch()
		} else {
			more = s.offerOne()
		}
		if !more {
			return
		}
	}
}

// tooLong is the error of a frame of n bytes the transmit buffer of
// capacity bytes cannot take. A plugin that registered no buffer is told
// once in the log: every frame it is offered is dropped.
func (s *Supervisor) tooLong(n, capacity int) error {
	if capacity == 0 {
		if !s.txWarned {
			s.txWarned = true
			s.log.Warn("the plugin registered no transmit buffer (tx_buffer in nic_start): every frame to send is dropped")
		}
		return engine.ErrNoTxBuffer
	}
	return fmt.Errorf("%w: %d bytes (and a %d-byte record header in a batch) > %d bytes", engine.ErrFrameTooLong, n, abi.FrameRecordHeader, capacity)
}

// offerOne offers the first queued frame to nic_transmit; false when there
// is nothing more to do now.
func (s *Supervisor) offerOne() bool {
	s.txMu.Lock()
	if len(s.txq) == 0 {
		s.txMu.Unlock()
		return false
	}
	f := s.txq[0]
	s.txMu.Unlock()

	ctx, cancel := s.callCtx()
	s.sess.Begin(ctx, nil)
	t0 := time.Now()
	rc, err := s.inst.Transmit(ctx, int32(f.iface), f.frame)
	s.account(abi.ExportTransmit, t0)
	cancel()
	switch {
	case err != nil && engine.IsFault(err):
		s.fault(err)
		return false
	case err == nil && s.sess.Violation() != nil:
		s.violation(abi.ExportTransmit, s.sess.Violation().Error())
		return false
	case err == nil && rc == abi.TransmitBusy:
		s.txBusy = true
		return false
	}
	s.dequeue(1)
	switch {
	case err != nil:
		if errors.Is(err, engine.ErrNoTxBuffer) {
			err = s.tooLong(len(f.frame), 0)
		}
		s.hooks.Sent(f.iface, f.frame, TxTooLong, err)
	case rc == abi.StatusOK:
		s.hooks.Sent(f.iface, f.frame, TxSent, nil)
	default:
		if _, rerr := s.result(abi.ExportTransmit, rc); rerr != nil && !engine.IsFault(rerr) {
			s.hooks.Sent(f.iface, f.frame, TxRefused, rerr)
		}
	}
	return s.inst != nil
}

// offerBatch offers the frames at the head of the queue that are for the
// same interface and fit the transmit buffer to nic_transmit_batch; false
// when there is nothing more to do now.
func (s *Supervisor) offerBatch() bool {
	capacity := s.sess.TxCap()
	s.txMu.Lock()
	if len(s.txq) == 0 {
		s.txMu.Unlock()
		return false
	}
	first := s.txq[0]
	if n := len(first.frame); n > abi.MaxFrame || n+abi.FrameRecordHeader > capacity {
		s.txMu.Unlock()
		if n <= abi.MaxFrame && n <= capacity {
			// It fits the buffer, not as a record (a buffer of 1514 to
			// 1517 bytes): nic_transmit, which every plugin has, takes it.
			return s.offerOne()
		}
		s.dequeue(1)
		s.hooks.Sent(first.iface, first.frame, TxTooLong, s.tooLong(len(first.frame), capacity))
		return true
	}
	iface := first.iface
	recs := s.txRecs[:0]
	batch := s.txBatch[:0]
	for _, f := range s.txq {
		if f.iface != iface || len(batch) == abi.MaxTxBatch || len(f.frame) > abi.MaxFrame || len(recs)+abi.FrameRecordHeader+len(f.frame) > capacity {
			break
		}
		recs = abi.AppendFrame(recs, f.frame)
		batch = append(batch, f)
	}
	s.txMu.Unlock()
	s.txRecs, s.txBatch = recs, batch

	ctx, cancel := s.callCtx()
	s.sess.Begin(ctx, nil)
	t0 := time.Now()
	rc, err := s.inst.TransmitBatch(ctx, int32(iface), int32(len(batch)), recs)
	s.account(abi.ExportTransmitBatch, t0)
	cancel()
	switch {
	case err != nil:
		s.fault(err) // the buffer was sized by the host: any error is the instance's
		return false
	case s.sess.Violation() != nil:
		s.violation(abi.ExportTransmitBatch, s.sess.Violation().Error())
		return false
	case rc == 0:
		s.txBusy = true
		return false
	case rc > 0 && int(rc) <= len(batch):
		s.dequeue(int(rc))
		for _, f := range batch[:rc] {
			s.hooks.Sent(f.iface, f.frame, TxSent, nil)
		}
		return true
	case rc == abi.StatusError:
		_, rerr := s.result(abi.ExportTransmitBatch, rc)
		if s.inst == nil || engine.IsFault(rerr) {
			return false
		}
		s.dequeue(1)
		s.hooks.Sent(iface, batch[0].frame, TxRefused, rerr)
		return true
	}
	s.violation(abi.ExportTransmitBatch, fmt.Sprintf("it returned %d for %d frames; it returns 0..%d or -1", rc, len(batch), len(batch)))
	return false
}
