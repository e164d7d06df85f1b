package sim

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nichost/nichost/host/bus"
)

// testFrame returns a minimal frame carrying seq in its payload.
func testFrame(seq uint32) []byte {
	f := make([]byte, bus.EthernetHeaderLen+4)
	copy(f, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5})
	binary.BigEndian.PutUint32(f[bus.EthernetHeaderLen:], seq)
	return f
}

// readAll drains p and returns the sequence numbers of the frames read.
func readAll(t *testing.T, p *FramePort) []uint32 {
	t.Helper()
	var seqs []uint32
	buf := make([]byte, 1514)
	for {
		n, err := p.ReadFrame(buf)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return seqs
		}
		seqs = append(seqs, binary.BigEndian.Uint32(buf[bus.EthernetHeaderLen:n]))
	}
}

func TestSegment_Attach(t *testing.T) {
	seg := NewSegment(SegmentOptions{})
	a, b, c := seg.Attach("a"), seg.Attach("b"), seg.Attach("c")
	if err := a.WriteFrame(testFrame(7)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*FramePort{b, c} {
		if got := readAll(t, p); !slices.Equal(got, []uint32{7}) {
			t.Errorf("%s received %v, want [7]", p, got)
		}
	}
	if got := readAll(t, a); len(got) != 0 {
		t.Errorf("the sender received its own frame: %v", got)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.WriteFrame(testFrame(8)); err != nil {
		t.Fatal(err)
	}
	if got := seg.Stats(); got.Frames != 2 || got.Delivered != 3 {
		t.Errorf("Stats() = %+v, want 2 frames and 3 deliveries", got)
	}
}

func TestSegment_Stats(t *testing.T) {
	const frames = 20000
	tests := []struct {
		name                       string
		opts                       SegmentOptions
		lost, duplicated, reorderd float64 // expected fractions of frames
	}{
		{"perfect", SegmentOptions{}, 0, 0, 0},
		{"loss", SegmentOptions{Loss: 0.1, Seed: 1}, 0.1, 0, 0},
		{"duplicate", SegmentOptions{Duplicate: 0.05, Seed: 2}, 0, 0.05, 0},
		{"reorder", SegmentOptions{Reorder: 0.2, Seed: 3}, 0, 0, 0.2},
		{"all", SegmentOptions{Loss: 0.3, Duplicate: 0.1, Reorder: 0.1, Seed: 4}, 0.3, 0.07, 0.07},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.QueueLen = 2 * frames
			seg := NewSegment(tt.opts)
			tx, rx := seg.Attach("tx"), seg.Attach("rx")
			for i := range uint32(frames) {
				if err := tx.WriteFrame(testFrame(i)); err != nil {
					t.Fatal(err)
				}
			}
			st := seg.Stats()
			check := func(what string, got uint64, want float64) {
				t.Helper()
				// Within 10% of the rate, plus a little for rates of 0.
				if math.Abs(float64(got)-want*frames) > 0.1*want*frames+1 {
					t.Errorf("%s = %d of %d frames, want about %.0f", what, got, frames, want*frames)
				}
			}
			check("Lost", st.Lost, tt.lost)
			check("Duplicated", st.Duplicated, tt.duplicated)
			check("Reordered", st.Reordered, tt.reorderd)
			seqs := readAll(t, rx)
			if uint64(len(seqs)) != st.Delivered || st.Delivered != frames-st.Lost+st.Duplicated {
				t.Errorf("read %d frames; Stats() = %+v", len(seqs), st)
			}
			if sorted := slices.IsSorted(seqs); sorted != (st.Reordered == 0) {
				t.Errorf("frames in order = %t with %d reordered", sorted, st.Reordered)
			}
			// Same seed, same impairments.
			seg2 := NewSegment(tt.opts)
			tx2, rx2 := seg2.Attach("tx"), seg2.Attach("rx")
			for i := range uint32(frames) {
				_ = tx2.WriteFrame(testFrame(i))
			}
			if seg2.Stats() != st || !slices.Equal(readAll(t, rx2), seqs) {
				t.Error("a second run with the same seed differs")
			}
		})
	}
}

func TestFramePort_overflow(t *testing.T) {
	seg := NewSegment(SegmentOptions{QueueLen: 4})
	tx, rx := seg.Attach("tx"), seg.Attach("rx")
	for i := range uint32(10) {
		if err := tx.WriteFrame(testFrame(i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := rx.Stats().Dropped; got != 6 {
		t.Errorf("port Dropped = %d, want 6", got)
	}
	if got := seg.Stats().Dropped; got != 6 {
		t.Errorf("segment Dropped = %d, want 6", got)
	}
	if got := readAll(t, rx); !slices.Equal(got, []uint32{0, 1, 2, 3}) {
		t.Errorf("received %v, want the first 4 frames", got)
	}
}

func TestFramePort_ReadFrame(t *testing.T) {
	seg := NewSegment(SegmentOptions{})
	tx, rx := seg.Attach("tx"), seg.Attach("rx")
	_ = tx.WriteFrame(testFrame(1))
	_ = tx.WriteFrame(testFrame(2))
	n, err := rx.ReadFrame(make([]byte, 10))
	if n != 0 || !errors.Is(err, bus.ErrFrameTooLong) {
		t.Fatalf("ReadFrame(short buffer) = %d, %v; want 0, bus.ErrFrameTooLong", n, err)
	}
	if got := readAll(t, rx); !slices.Equal(got, []uint32{2}) {
		t.Errorf("after a too-long frame, received %v, want [2]", got)
	}
	st := rx.Stats()
	if st.TooLong != 1 || st.RxFrames != 1 || st.RxBytes != 18 {
		t.Errorf("Stats() = %+v", st)
	}
}

func TestFramePort_WriteFrame(t *testing.T) {
	seg := NewSegment(SegmentOptions{MTU: 100})
	p := seg.Attach("p")
	closed := seg.Attach("closed")
	_ = closed.Close()
	tests := []struct {
		name  string
		port  *FramePort
		frame []byte
		is    error // nil: success expected
		msg   string
	}{
		{"largest frame", p, make([]byte, 114), nil, ""},
		{"header only", p, make([]byte, 14), nil, ""},
		{"too long", p, make([]byte, 115), bus.ErrFrameTooLong, "115-byte frame exceeds MTU 100"},
		{"too short", p, make([]byte, 13), nil, "13 bytes is shorter than the 14-byte Ethernet header"},
		{"closed", closed, make([]byte, 60), bus.ErrClosed, "bus: closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.port.WriteFrame(tt.frame)
			switch {
			case tt.msg == "" && err != nil:
				t.Fatalf("WriteFrame: %v", err)
			case tt.msg != "" && (err == nil || !strings.Contains(err.Error(), tt.msg)):
				t.Fatalf("WriteFrame: %v, want an error containing %q", err, tt.msg)
			case tt.is != nil && !errors.Is(err, tt.is):
				t.Fatalf("WriteFrame: %v, want errors.Is %v", err, tt.is)
			}
		})
	}
	if _, err := closed.ReadFrame(make([]byte, 1514)); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("ReadFrame after Close: %v, want bus.ErrClosed", err)
	}
}

func TestFramePort_Notify(t *testing.T) {
	const delay = 30 * time.Millisecond
	seg := NewSegment(SegmentOptions{Delay: delay})
	tx, rx := seg.Attach("tx"), seg.Attach("rx")
	ready := make(chan time.Time, 1)
	var calls atomic.Int32
	rx.Notify(func() {
		calls.Add(1)
		ready <- time.Now()
	})
	start := time.Now()
	if err := tx.WriteFrame(testFrame(5)); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, rx); len(got) != 0 || rx.Queued() != 1 {
		t.Fatalf("a delayed frame was readable at once: %v", got)
	}
	select {
	case at := <-ready:
		if d := at.Sub(start); d < delay {
			t.Errorf("Notify after %v, before the %v delay", d, delay)
		}
	case <-time.After(time.Second):
		t.Fatal("Notify never ran")
	}
	if got := readAll(t, rx); !slices.Equal(got, []uint32{5}) {
		t.Fatalf("received %v after the delay, want [5]", got)
	}
	if calls.Load() != 1 {
		t.Fatalf("Notify ran %d times, want 1", calls.Load())
	}
}

func TestSegmentOptions_Validate(t *testing.T) {
	tests := []struct {
		opts SegmentOptions
		want string
	}{
		{SegmentOptions{Loss: 1, Duplicate: 0.5, Delay: time.Millisecond, MTU: 9000}, ""},
		{SegmentOptions{Loss: 1.5}, "loss: probability 1.5 out of range"},
		{SegmentOptions{Duplicate: -0.1}, "duplicate: probability -0.1"},
		{SegmentOptions{Reorder: math.NaN()}, "reorder: probability NaN"},
		{SegmentOptions{Delay: -1}, "delay: -1ns is negative"},
		{SegmentOptions{QueueLen: -1}, "queue_len: -1"},
		{SegmentOptions{MTU: 70000}, "mtu: 70000 out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			err := tt.opts.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
