package abi

import (
	"encoding/binary"
	"fmt"
)

// A batch of frames (nic_transmit_batch, rx_push_batch) is a run of
// records, each a little-endian uint32 length N followed by N frame bytes,
// with no padding between records.

// AppendFrame appends frame as one record to dst.
func AppendFrame(dst, frame []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(frame)))
	return append(dst, frame...)
}

// ForEachFrame checks that b is a run of at most max well-formed records
// (each 1..MaxFrame bytes, none running past b) and then calls fn with each
// frame, in order; fn's slice is a view of b. It returns the number of
// records. A malformed batch calls fn for none of them.
func ForEachFrame(b []byte, max int, fn func(frame []byte)) (int, error) {
	n := 0
	for off := 0; off < len(b); n++ {
		if n == max {
			return 0, fmt.Errorf("more than %d frames in one batch", max)
		}
		if len(b)-off < FrameRecordHeader {
			return 0, fmt.Errorf("frame record %d: %d bytes left, a record header takes %d", n, len(b)-off, FrameRecordHeader)
		}
		l := binary.LittleEndian.Uint32(b[off:])
		if l == 0 || l > MaxFrame {
			return 0, fmt.Errorf("frame record %d: length %d is outside 1..%d", n, l, MaxFrame)
		}
		off += FrameRecordHeader
		if uint64(l) > uint64(len(b)-off) {
			return 0, fmt.Errorf("frame record %d: %d bytes run past the batch's end (%d left)", n, l, len(b)-off)
		}
		off += int(l)
	}
	if fn != nil {
		for off := 0; off < len(b); {
			l := int(binary.LittleEndian.Uint32(b[off:]))
			off += FrameRecordHeader
			fn(b[off : off+l : off+l])
			off += l
		}
	}
	return n, nil
}
