package supervise

import (
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
// about 1.5 MiB of frames) it stays at 135-167 MB/s.
const maxTxQueue = 1024

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
	if len(s.txq) >= maxTxQueue {
		s.txMu.Unlock()
		return ErrTxQueueFull
	}
	s.txq = append(s.txq, txFrame{iface: iface, frame: append([]byte(nil), frame...)})
	s.txMu.Unlock()
	s.Notify(abi.EventTx)
	return nil
}

// flushTx offers queued frames to the driver until it is busy.
func (s *Supervisor) flushTx() {
	for s.inst != nil && !s.txBusy {
		s.txMu.Lock()
		if len(s.txq) == 0 {
			s.txMu.Unlock()
			return
		}
		f := s.txq[0]
		s.txMu.Unlock()

		ctx, cancel := s.callCtx()
		s.sess.Begin(ctx, nil)
		rc, err := s.inst.Transmit(ctx, int32(f.iface), f.frame)
		cancel()
		switch {
		case err != nil && engine.IsFault(err):
			s.fault(err)
			return
		case err == nil && s.sess.Violation() != nil:
			s.violation(abi.ExportTransmit, s.sess.Violation().Error())
			return
		case err == nil && rc == abi.TransmitBusy:
			s.txBusy = true
			return
		}
		s.txMu.Lock()
		s.txq = s.txq[1:]
		s.txMu.Unlock()
		switch {
		case err != nil:
			s.hooks.Sent(f.iface, f.frame, TxTooLong, err)
		case rc == abi.StatusOK:
			s.hooks.Sent(f.iface, f.frame, TxSent, nil)
		default:
			if _, rerr := s.result(abi.ExportTransmit, rc); rerr != nil && !engine.IsFault(rerr) {
				s.hooks.Sent(f.iface, f.frame, TxRefused, rerr)
			}
		}
	}
}
