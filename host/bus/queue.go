package bus

import "time"

// byteQueue is a bounded FIFO of bytes backed by a ring buffer allocated up
// front. It is not safe for concurrent use; callers hold their own lock.
type byteQueue struct {
	buf        []byte
	head, size int
}

func newByteQueue(capacity int) byteQueue {
	return byteQueue{buf: make([]byte, max(capacity, 1))}
}

func (q *byteQueue) len() int { return q.size }

// push appends as much of p as fits and returns how many bytes were stored.
func (q *byteQueue) push(p []byte) int {
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

// pop moves up to len(p) bytes from the front of the queue into p.
func (q *byteQueue) pop(p []byte) int {
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

// queuedFrame is one frame waiting in a frameQueue. ready is when it becomes
// readable (the zero time means at once).
type queuedFrame struct {
	data  []byte
	ready time.Time
}

// frameQueue is a bounded FIFO of frames. It is not safe for concurrent use.
type frameQueue struct {
	frames []queuedFrame // ring of capacity slots
	head   int
	size   int
}

func newFrameQueue(capacity int) frameQueue {
	return frameQueue{frames: make([]queuedFrame, max(capacity, 1))}
}

func (q *frameQueue) len() int   { return q.size }
func (q *frameQueue) full() bool { return q.size == len(q.frames) }

func (q *frameQueue) at(i int) *queuedFrame {
	return &q.frames[(q.head+i)%len(q.frames)]
}

// push appends f; it reports false, storing nothing, when the queue is full.
func (q *frameQueue) push(f queuedFrame) bool {
	if q.full() {
		return false
	}
	*q.at(q.size) = f
	q.size++
	return true
}

// front returns the oldest frame; ok is false when the queue is empty.
func (q *frameQueue) front() (f queuedFrame, ok bool) {
	if q.size == 0 {
		return queuedFrame{}, false
	}
	return *q.at(0), true
}

// drop removes the oldest frame.
func (q *frameQueue) drop() {
	if q.size == 0 {
		return
	}
	*q.at(0) = queuedFrame{}
	q.head = (q.head + 1) % len(q.frames)
	q.size--
}

// swapLast exchanges the payloads of the two newest frames, keeping their
// ready times in place, so the newest frame overtakes the one before it. It
// reports false when fewer than two frames are queued.
func (q *frameQueue) swapLast() bool {
	if q.size < 2 {
		return false
	}
	a, b := q.at(q.size-2), q.at(q.size-1)
	a.data, b.data = b.data, a.data
	return true
}

// clear empties the queue and releases the frames.
func (q *frameQueue) clear() {
	for q.size > 0 {
		q.drop()
	}
	q.head = 0
}
