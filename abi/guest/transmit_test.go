package guest_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/abi/guest/guesttest"
)

// sender is a LAN driver that takes `room` frames and then answers with
// `then` (ErrBusy, or an error refusing the next frame), one Transmit per
// frame.
type sender struct {
	recorder
	room  int
	then  error
	sent  [][]byte
	calls int // Transmit or TransmitBatch calls
}

func (d *sender) Transmit(_ int, f []byte) error {
	d.calls++
	if len(d.sent) == d.room {
		return d.then
	}
	d.sent = append(d.sent, bytes.Clone(f))
	return nil
}

// batchSender is sender with a BatchTransmitter: one call per batch.
type batchSender struct{ sender }

func (d *batchSender) TransmitBatch(_ int, frames [][]byte) (int, error) {
	d.calls++
	n := min(len(frames), d.room-len(d.sent))
	for _, f := range frames[:n] {
		d.sent = append(d.sent, bytes.Clone(f))
	}
	if n < len(frames) {
		return n, d.then
	}
	return n, nil
}

var _ guest.BatchTransmitter = (*batchSender)(nil)

func testFrames(n int) [][]byte {
	frames := make([][]byte, n)
	for i := range frames {
		frames[i] = bytes.Repeat([]byte{byte(i + 1)}, 60+i)
	}
	return frames
}

// A batch is taken whole, in part or not at all, or its first frame is
// refused, with or without a BatchTransmitter.
func TestModule_TransmitBatch(t *testing.T) {
	refused := abi.OSError(abi.EAGAIN, "link down")
	tests := []struct {
		name    string
		room    int
		then    error
		want    int
		wantErr error
	}{
		{"all taken", 4, nil, 4, nil},
		{"busy at the first", 0, guest.ErrBusy, 0, guest.ErrBusy},
		{"busy after two", 2, guest.ErrBusy, 2, nil},
		{"the first refused", 0, refused, 0, refused},
		{"the third refused", 2, refused, 2, nil},
	}
	for _, batch := range []bool{false, true} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/batch=%v", tt.name, batch), func(t *testing.T) {
				s := &sender{room: tt.room, then: tt.then}
				var d guest.Driver = s
				if batch {
					b := &batchSender{sender: *s}
					s, d = &b.sender, b
				}
				h := guesttest.New(t, d, guesttest.Options{})
				frames := testFrames(4)
				n, err := h.TransmitBatch(frames...)
				if n != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
					t.Fatalf("TransmitBatch = %d, %v; want %d, %v", n, err, tt.want, tt.wantErr)
				}
				if len(s.sent) != tt.want {
					t.Fatalf("the driver sent %d frames, want %d", len(s.sent), tt.want)
				}
				for i, f := range s.sent {
					if !bytes.Equal(f, frames[i]) {
						t.Fatalf("frame %d sent is %x, want %x", i, f, frames[i])
					}
				}
				wantCalls := min(tt.want+1, len(frames)) // one Transmit per frame, up to the one that fails
				if batch {
					wantCalls = 1
				}
				if s.calls != wantCalls {
					t.Fatalf("the driver was called %d times, want %d", s.calls, wantCalls)
				}
			})
		}
	}
}

// A batch that is not what the host announced is refused with a
// ValueError, and the driver sees none of it.
func TestModule_TransmitBatchMalformed(t *testing.T) {
	two := abi.AppendFrame(abi.AppendFrame(nil, make([]byte, 60)), make([]byte, 60))
	tests := []struct {
		name    string
		count   int32
		records []byte
		want    string
	}{
		{"count above the records", 3, two, "2 frame records for a count of 3"},
		{"count below the records", 1, two, "more than 1 frames"},
		{"count 0", 0, nil, "0 frames, want 1 to 64"},
		{"count 65", 65, two, "65 frames, want 1 to 64"},
		{"record past the end", 2, two[:len(two)-1], "run past the batch's end"},
		{"empty record", 1, []byte{0, 0, 0, 0}, "length 0 is outside 1..65535"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &rawHost{}
			d := &batchSender{sender: sender{room: 10}}
			m := guest.NewModule(d, h)
			rc := m.TransmitBatch(0, tt.count, tt.records)
			if rc != abi.StatusError || h.raised == nil || h.raised.Kind != abi.KindValueError || !strings.Contains(h.raised.Msg, tt.want) {
				t.Fatalf("rc %d, raised %v; want -1 and a ValueError containing %q", rc, h.raised, tt.want)
			}
			if d.calls != 0 {
				t.Fatalf("the driver was called with a malformed batch")
			}
		})
	}
}

// The SDK's transmit buffer holds a batch of the largest Ethernet frames.
func TestModule_TxBuffer(t *testing.T) {
	d := &sender{room: 100}
	h := guesttest.New(t, d, guesttest.Options{})
	fit := guest.TxBufferSize / (1514 + abi.FrameRecordHeader)
	frames := make([][]byte, fit)
	for i := range frames {
		frames[i] = make([]byte, 1514)
	}
	if n, err := h.TransmitBatch(frames...); n != fit || err != nil {
		t.Fatalf("a batch of %d 1514-byte frames: %d, %v", fit, n, err)
	}
	if err := h.Transmit(make([]byte, abi.MaxFrame)); err != nil {
		t.Fatalf("a %d-byte frame: %v", abi.MaxFrame, err)
	}
}
