// Package rxqueue carries the frames a driver received from the plugin's
// goroutine to the network core on a goroutine of each NIC's own.
package rxqueue

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"
)

// Budget is the memory that the frames of one plugin's queues may hold
// while they wait for the core: all its NICs share it, so a plugin with
// many interfaces cannot make the host hold more than one budget. A frame
// counts from Push until deliver has returned with it, for the size of the
// buffer holding it (the frame's length rounded up to the allocator's size
// class).
type Budget struct {
	limit int64
	used  atomic.Int64
}

// NewBudget makes a budget of bytes (the host gives a plugin
// memory_limit/8).
func NewBudget(bytes int64) *Budget { return &Budget{limit: bytes} }

// Used is how many bytes queued frames hold now.
func (b *Budget) Used() int64 { return b.used.Load() }

// Limit is the budget's size in bytes.
func (b *Budget) Limit() int64 { return b.limit }

func (b *Budget) take(n int64) bool {
	for {
		u := b.used.Load()
		if u+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (b *Budget) release(n int64) { b.used.Add(-n) }

// Queue hands frames to deliver on a goroutine of its own: the core's
// protocol processing then runs beside the driver instead of inside its
// rx_push call, and the driver's poll returns sooner. The queue is bounded
// in frames (Len, the one being delivered included) and in bytes (its
// Budget); a full queue refuses the frame (rx_push answers -ENOBUFS) as a
// NIC's receive ring would.
//
// A queue set inline (SetInline, for a deliver known not to block: the
// host's own network core) does not wake its goroutine for a frame or two:
// the pusher's Flush, once the driver's call has returned, delivers them
// on the pusher's goroutine. A reply the core makes to them (a TCP
// handshake's ACK, an ARP or ping reply) is then queued for the driver
// before the driver's goroutine looks for work again, and a request and
// its answer cross no goroutine hand-off on the receive side. A burst of
// more than inlineMax frames wakes the goroutine at once, as without
// inline.
type Queue struct {
	deliver func(frame []byte)
	budget  *Budget

	mu      sync.Mutex
	cond    *sync.Cond
	ring    [][]byte // [head, head+count) wait; ring[head] may be in deliver
	head    int
	count   int
	spare   [][]byte // delivered buffers of at most spareMax bytes, to reuse
	closed  bool
	stopped chan struct{}

	inline     bool // Flush may deliver up to inlineMax frames itself
	delivering bool // frames are being delivered, by the goroutine or Flush
	inFlush    bool // Flush is delivering: the goroutine waits
}

// inlineMax is the most frames Flush delivers itself: the one or two
// frames of a request or an answer, not a bulk transfer's, which the
// goroutine delivers beside the driver's next poll.
const inlineMax = 2

const (
	// Len is how many frames a Queue holds.
	Len = 1024
	// spareMax is the largest buffer kept for reuse, and spares the most
	// kept: a queue keeps at most 512 KiB outside its budget.
	spareMax = 2048
	spares   = 256
)

// New starts a queue whose goroutine calls deliver with each frame, in
// order; its frames count against budget, which other queues may share
// (nil: no bound in bytes). The frame passed to deliver is only valid
// during the call.
func New(deliver func(frame []byte), budget *Budget) *Queue {
	if budget == nil {
		budget = NewBudget(math.MaxInt64)
	}
	q := &Queue{deliver: deliver, budget: budget, ring: make([][]byte, Len), stopped: make(chan struct{})}
	q.cond = sync.NewCond(&q.mu)
	go q.run()
	return q
}

// Push copies frame into the queue; false if the queue is full (Len
// frames, or the budget is used up) or closed.
func (q *Queue) Push(frame []byte) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.count == len(q.ring) {
		return false
	}
	buf := q.buffer(len(frame))
	if !q.budget.take(int64(cap(buf))) {
		q.recycle(buf)
		return false
	}
	q.ring[(q.head+q.count)%len(q.ring)] = append(buf, frame...)
	q.count++
	if q.count == 1 && !q.inline || q.count == inlineMax+1 {
		q.cond.Signal()
	}
	return true
}

// SetInline says whether Flush may deliver frames on its caller's
// goroutine: only for a deliver that never blocks for long.
func (q *Queue) SetInline(on bool) {
	q.mu.Lock()
	q.inline = on
	q.mu.Unlock()
	if !on {
		q.Flush() // frames waiting for a Flush go to the goroutine
	}
}

// Flush hands on the frames pushed since the last Flush: an inline queue
// holding at most inlineMax frames, none being delivered, delivers them on
// the caller's goroutine before it returns; otherwise the goroutine is
// woken for them. The pusher calls it once its driver call has returned.
func (q *Queue) Flush() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.count == 0 {
		return
	}
	if !q.inline || q.closed || q.delivering || q.count > inlineMax {
		q.cond.Signal()
		return
	}
	q.inFlush, q.delivering = true, true
	for q.count > 0 {
		q.deliverHead()
	}
	q.inFlush, q.delivering = false, false
	if q.closed {
		q.cond.Signal() // Close came meanwhile: the goroutine may stop
	}
}

// deliverHead delivers the frame at the head of the ring, with q.mu
// unlocked meanwhile.
func (q *Queue) deliverHead() {
	f := q.ring[q.head]
	q.mu.Unlock()
	q.deliver(f)
	q.budget.release(int64(cap(f)))
	q.mu.Lock()
	q.ring[q.head] = nil
	q.head = (q.head + 1) % len(q.ring)
	q.count--
	q.recycle(f)
}

// idle says whether the goroutine has nothing to deliver: no frame, or,
// inline, frames that wait for Flush; and never while Flush delivers.
func (q *Queue) idle() bool {
	if q.inFlush {
		return true
	}
	if q.closed {
		return false
	}
	return q.count == 0 || q.inline && q.count <= inlineMax
}

// buffer returns an empty buffer for n bytes: a spare if one fits and the
// frame fills at least half of it, else one sized to the frame.
func (q *Queue) buffer(n int) []byte {
	if k := len(q.spare); k > 0 {
		if b := q.spare[k-1]; cap(b) >= n && cap(b) <= 2*n {
			q.spare = q.spare[:k-1]
			return b[:0]
		}
	}
	// Grow rounds the capacity up to the allocator's size class, which is
	// what the buffer really holds, and what the budget is charged.
	return slices.Grow([]byte(nil), n)
}

func (q *Queue) recycle(b []byte) {
	if cap(b) <= spareMax && len(q.spare) < spares {
		q.spare = append(q.spare, b[:0])
	}
}

func (q *Queue) run() {
	defer close(q.stopped)
	q.mu.Lock()
	for {
		for q.idle() {
			q.cond.Wait()
		}
		if q.count == 0 {
			q.mu.Unlock()
			return
		}
		q.delivering = true
		for q.count > 0 {
			q.deliverHead()
		}
		q.delivering = false
	}
}

// Close stops the goroutine after it delivered what is queued; the
// frames' bytes are back in the budget when it returns.
func (q *Queue) Close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Signal()
	q.mu.Unlock()
	<-q.stopped
}
