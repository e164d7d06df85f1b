// Package rxqueue carries the frames a driver received from the plugin's
// goroutine to the network core on a goroutine of each NIC's own.
package rxqueue

import "sync"

// Queue hands frames to deliver on a goroutine of its own: the core's
// protocol processing then runs beside the driver instead of inside its
// rx_push call, and the driver's poll returns sooner. The queue is bounded;
// a full queue refuses the frame (rx_push answers -ENOBUFS) as a NIC's
// receive ring would.
type Queue struct {
	deliver func(frame []byte)

	mu      sync.Mutex
	cond    *sync.Cond
	ring    [][]byte
	head    int
	count   int
	spare   [][]byte // buffers to reuse
	closed  bool
	stopped chan struct{}
}

// Len is how many frames a Queue holds.
const Len = 1024

// New starts a queue whose goroutine calls deliver with each frame, in
// order. The frame passed to deliver is only valid during the call.
func New(deliver func(frame []byte)) *Queue {
	q := &Queue{deliver: deliver, ring: make([][]byte, Len), stopped: make(chan struct{})}
	q.cond = sync.NewCond(&q.mu)
	go q.run()
	return q
}

// Push copies frame into the queue; false if the queue is full or closed.
func (q *Queue) Push(frame []byte) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.count == len(q.ring) {
		return false
	}
	var buf []byte
	if k := len(q.spare); k > 0 {
		buf, q.spare = q.spare[k-1], q.spare[:k-1]
	}
	q.ring[(q.head+q.count)%len(q.ring)] = append(buf[:0], frame...)
	q.count++
	if q.count == 1 {
		q.cond.Signal()
	}
	return true
}

func (q *Queue) run() {
	defer close(q.stopped)
	var batch [][]byte
	for {
		q.mu.Lock()
		for q.count == 0 && !q.closed {
			q.cond.Wait()
		}
		if q.count == 0 && q.closed {
			q.mu.Unlock()
			return
		}
		batch = batch[:0]
		for q.count > 0 {
			batch = append(batch, q.ring[q.head])
			q.ring[q.head] = nil
			q.head = (q.head + 1) % len(q.ring)
			q.count--
		}
		q.mu.Unlock()
		for _, f := range batch {
			q.deliver(f)
		}
		q.mu.Lock()
		for _, f := range batch {
			if cap(f) <= 2048 && len(q.spare) < 256 {
				q.spare = append(q.spare, f)
			}
		}
		q.mu.Unlock()
	}
}

// Close stops the goroutine after it delivered what is queued.
func (q *Queue) Close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Signal()
	q.mu.Unlock()
	<-q.stopped
}
