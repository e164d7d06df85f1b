package wlandev

import (
	"container/heap"
	"sync"
	"time"

	"github.com/nichost/nichost/plugins/wlan/radio"
)

// OrderedClock is the wall clock with its timers run in order: one
// goroutine runs every function given to AfterFunc, in the order of the
// due times (functions due at the same time in the order they were
// scheduled), as radio.Manual does on its manual time and as one
// firmware CPU would. With radio.Wall, functions due together run on
// goroutines of their own in an order the Go scheduler picks (often the
// reverse of the order they were scheduled in): a simulated chip that
// schedules a scan's last result and its completion for the same moment
// would then report the completion first.
//
// A function may call the clock (AfterFunc, stop functions); one that
// blocks delays the functions due after it. Stop ends the goroutine;
// functions due later never run.
type OrderedClock struct {
	mu      sync.Mutex
	q       timerHeap
	seq     uint64
	wake    chan struct{}
	stop    chan struct{}
	stopped bool
	done    chan struct{}
}

var _ radio.Clock = (*OrderedClock)(nil)

// NewOrderedClock starts an OrderedClock.
func NewOrderedClock() *OrderedClock {
	c := &OrderedClock{wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

type timer struct {
	when time.Time
	seq  uint64
	f    func()
	dead bool // stopped or run
	idx  int
}

type timerHeap []*timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].when.Equal(h[j].when) {
		return h[i].when.Before(h[j].when)
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].idx = i; h[j].idx = j }
func (h *timerHeap) Push(x any)        { t := x.(*timer); t.idx = len(*h); *h = append(*h, t) }
func (h *timerHeap) Pop() any          { old := *h; t := old[len(old)-1]; *h = old[:len(old)-1]; return t }
func (c *OrderedClock) Now() time.Time { return time.Now() }

// AfterFunc implements radio.Clock.
func (c *OrderedClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	c.seq++
	t := &timer{when: time.Now().Add(d), seq: c.seq, f: f}
	if c.stopped {
		t.dead = true
	} else {
		heap.Push(&c.q, t)
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if t.dead {
			return false
		}
		t.dead = true
		heap.Remove(&c.q, t.idx)
		return true
	}
}

// Stop ends the clock's goroutine and waits for a function it runs.
func (c *OrderedClock) Stop() {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		<-c.done
		return
	}
	c.stopped = true
	c.mu.Unlock()
	close(c.stop)
	<-c.done
}

func (c *OrderedClock) run() {
	defer close(c.done)
	tm := time.NewTimer(time.Hour)
	defer tm.Stop()
	for {
		c.mu.Lock()
		var next *timer
		if len(c.q) > 0 {
			next = c.q[0]
		}
		if next != nil && !time.Now().Before(next.when) {
			heap.Pop(&c.q)
			next.dead = true
			c.mu.Unlock()
			next.f()
			continue
		}
		c.mu.Unlock()
		wait := time.Hour
		if next != nil {
			wait = time.Until(next.when)
		}
		tm.Reset(wait)
		select {
		case <-c.stop:
			return
		case <-c.wake:
		case <-tm.C:
		}
	}
}
