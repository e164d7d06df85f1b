package host

import "sync"

// rxQueue carries the frames a driver received from the plugin goroutine to
// the NIC's Link on a goroutine of its own: the core's protocol processing
// then runs beside the driver instead of inside its rx_push call, and the
// driver's poll returns sooner. The queue is bounded; a full queue drops
// the frame (rx_push answers -ENOBUFS) as a NIC's receive ring would.
type rxQueue struct {
	n *NIC

	mu      sync.Mutex
	cond    *sync.Cond
	ring    [][]byte
	head    int
	count   int
	spare   [][]byte // buffers to reuse
	closed  bool
	stopped chan struct{}
}

const rxQueueLen = 1024

func newRxQueue(n *NIC) *rxQueue {
	q := &rxQueue{n: n, ring: make([][]byte, rxQueueLen), stopped: make(chan struct{})}
	q.cond = sync.NewCond(&q.mu)
	go q.run()
	return q
}

// push copies frame into the queue; false if the queue is full.
func (q *rxQueue) push(frame []byte) bool {
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

func (q *rxQueue) run() {
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
			q.n.toLink(f)
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

// close stops the goroutine after it delivered what is queued.
func (q *rxQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Signal()
	q.mu.Unlock()
	<-q.stopped
}
