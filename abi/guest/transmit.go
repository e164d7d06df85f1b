package guest

import (
	"errors"
	"fmt"

	"github.com/nichost/nichost/abi"
)

// TxBufferSize is the size of the transmit buffer the SDK registers: the
// most bytes the host writes for one nic_transmit (a frame) or
// nic_transmit_batch (frame records, each with its 4-byte header: 43
// frames of 1514 bytes).
const TxBufferSize = 64 << 10

// TxBuffer is the buffer registered with the host; the wasip1 exports read
// the frames the host wrote there.
func (m *Module) TxBuffer() []byte { return m.txBuf }

// Transmit is nic_transmit with the frame as a slice.
func (m *Module) Transmit(iface int32, frame []byte) int32 {
	err := m.d.Transmit(int(iface), frame)
	if errors.Is(err, ErrBusy) {
		return m.done(abi.TransmitBusy)
	}
	if err != nil {
		return m.done(m.raise(err))
	}
	return m.done(abi.StatusOK)
}

// TransmitBatch is nic_transmit_batch with the transmit buffer's records
// as a slice (abi.TransmitBatcher): count frames for iface, each a record
// of abi.AppendFrame. It returns how many frames the driver took (count:
// all; 0: busy, the host offers them again after the next poll), or
// abi.StatusError with the driver's error raised when it refused the
// first frame. A driver with a BatchTransmitter gets the frames in one
// call; another gets one Transmit per frame, up to the first that fails.
// A batch that is not count well-formed records raises a ValueError.
func (m *Module) TransmitBatch(iface, count int32, records []byte) int32 {
	if count < 1 || count > abi.MaxTxBatch {
		return m.done(m.raise(abi.ValueError("nic_transmit_batch: %d frames, want 1 to %d", count, abi.MaxTxBatch)))
	}
	frames := m.txFrames[:0]
	n, err := abi.ForEachFrame(records, int(count), func(f []byte) { frames = append(frames, f) })
	if err == nil && n != int(count) {
		err = fmt.Errorf("%d frame records for a count of %d", n, count)
	}
	if err != nil {
		return m.done(m.raise(abi.ValueError("nic_transmit_batch: %v", err)))
	}
	k, err := m.transmitBatch(int(iface), frames)
	clear(frames) // drop the views of the transmit buffer
	switch {
	case k < 0 || k > len(frames):
		return m.done(m.raise(fmt.Errorf("guest: TransmitBatch returned %d, %v for %d frames", k, err, len(frames))))
	case k == 0 && err != nil && !errors.Is(err, ErrBusy):
		return m.done(m.raise(err))
	}
	return m.done(int32(k))
}

// transmitBatch offers frames to the driver: k frames were taken; err
// (other than ErrBusy) refuses frames[k].
func (m *Module) transmitBatch(iface int, frames [][]byte) (int, error) {
	if m.batch != nil {
		return m.batch.TransmitBatch(iface, frames)
	}
	for i, f := range frames {
		if err := m.d.Transmit(iface, f); err != nil {
			return i, err
		}
	}
	return len(frames), nil
}
