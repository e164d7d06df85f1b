// Package queue holds the bounded FIFOs the simulated and the Linux buses
// buffer received bytes and frames in.
package queue

import (
	"fmt"
	"time"

	"github.com/nichost/nichost/host/bus"
)

// Bytes is a bounded FIFO of bytes backed by a ring buffer allocated up
// front. It is not safe for concurrent use; callers hold their own lock.
type Bytes struct {
	buf        []byte
	head, size int
}

func NewBytes(capacity int) Bytes {
	return Bytes{buf: make([]byte, max(capacity, 1))}
}

func (q *Bytes) Len() int { return q.size }

// Push appends as much of p as fits and returns how many bytes were stored.
func (q *Bytes) Push(p []byte) int {
	free := len(q.buf) - q.size
	if len(p) > free {
		p = p[:free]
	}
	tail := (q.head + q.size) % len(q.buf)
	n := copy(q.buf[tail:], p)
	copy(q.buf, p[n:])
	q.size += len(p)
	return len(p)
}

// Pop moves up to len(p) bytes from the front of the queue into p.
func (q *Bytes) Pop(p []byte) int {
	if len(p) > q.size {
		p = p[:q.size]
	}
	end := min(q.head+len(p), len(q.buf))
	n := copy(p, q.buf[q.head:end])
	n += copy(p[n:], q.buf[:len(p)-n])
	q.head = (q.head + n) % len(q.buf)
	q.size -= n
	if q.size == 0 {
		q.head = 0
	}
	return n
}

// Frame is one frame waiting in a Frames. ready is when it becomes
// readable (the zero time means at once).
type Frame struct {
	Data  []byte
	Ready time.Time
}

// Frames is a bounded FIFO of frames. It is not safe for concurrent use.
type Frames struct {
	frames []Frame // ring of capacity slots
	head   int
	size   int
}

func NewFrames(capacity int) Frames {
	return Frames{frames: make([]Frame, max(capacity, 1))}
}

func (q *Frames) Len() int   { return q.size }
func (q *Frames) Full() bool { return q.size == len(q.frames) }

func (q *Frames) At(i int) *Frame {
	return &q.frames[(q.head+i)%len(q.frames)]
}

// Push appends f; it reports false, storing nothing, when the queue is full.
func (q *Frames) Push(f Frame) bool {
	if q.Full() {
		return false
	}
	*q.At(q.size) = f
	q.size++
	return true
}

// Front returns the oldest frame; ok is false when the queue is empty.
func (q *Frames) Front() (f Frame, ok bool) {
	if q.size == 0 {
		return Frame{}, false
	}
	return *q.At(0), true
}

// Drop removes the oldest frame.
func (q *Frames) Drop() {
	if q.size == 0 {
		return
	}
	*q.At(0) = Frame{}
	q.head = (q.head + 1) % len(q.frames)
	q.size--
}

// SwapLast exchanges the payloads of the two newest frames, keeping their
// ready times in place, so the newest frame overtakes the one before it. It
// reports false when fewer than two frames are queued.
func (q *Frames) SwapLast() bool {
	if q.size < 2 {
		return false
	}
	a, b := q.At(q.size-2), q.At(q.size-1)
	a.Data, b.Data = b.Data, a.Data
	return true
}

// Clear empties the queue and releases the frames.
func (q *Frames) Clear() {
	for q.size > 0 {
		q.Drop()
	}
	q.head = 0
}

// Read takes the oldest frame (0 when none) and copies it into buf,
// counting it in st as a frame port's ReadFrame does: a frame larger than
// buf is dropped, counted as TooLong, and reported as bus.ErrFrameTooLong.
func (q *Frames) Read(buf []byte, st *bus.FrameStats) (int, error) {
	f, ok := q.Front()
	if !ok {
		return 0, nil
	}
	q.Drop()
	if len(f.Data) > len(buf) {
		st.TooLong++
		return 0, fmt.Errorf("%w: %d-byte frame dropped, buffer holds %d", bus.ErrFrameTooLong, len(f.Data), len(buf))
	}
	st.RxFrames++
	st.RxBytes += uint64(len(f.Data))
	return copy(buf, f.Data), nil
}
