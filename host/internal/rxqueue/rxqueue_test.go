package rxqueue

import (
	"bytes"
	"sync"
	"testing"

	"github.com/nichost/nichost/internal/wait"
)

func TestQueue_DeliversInOrderAndDrainsOnClose(t *testing.T) {
	var mu sync.Mutex
	var got [][]byte
	q := New(func(f []byte) {
		mu.Lock()
		got = append(got, bytes.Clone(f))
		mu.Unlock()
	}, NewBudget(1<<20))
	buf := []byte{0}
	for i := range 100 {
		buf[0] = byte(i)
		if !q.Push(buf) { // the queue copies: buf is reused at once
			t.Fatalf("push %d refused with at most 100 of %d queued", i, Len)
		}
	}
	q.Close()
	if len(got) != 100 {
		t.Fatalf("delivered %d frames before Close returned, want 100", len(got))
	}
	for i, f := range got {
		if len(f) != 1 || f[0] != byte(i) {
			t.Fatalf("frame %d is %v: out of order or shared", i, f)
		}
	}
	if q.Push(buf) {
		t.Fatal("a closed queue accepted a frame")
	}
}

// blocker is a deliver function that holds every frame until released.
type blocker struct {
	release chan struct{}
	mu      sync.Mutex
	n       int // frames delivered or being delivered
}

func newBlocker() *blocker { return &blocker{release: make(chan struct{})} }

func (b *blocker) deliver([]byte) {
	b.mu.Lock()
	b.n++
	b.mu.Unlock()
	<-b.release
}

func (b *blocker) entered() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

func TestQueue_FullRefuses(t *testing.T) {
	b := newBlocker()
	q := New(b.deliver, nil)
	// The frame being delivered counts: Len in all, not Len plus one.
	for i := range Len {
		if !q.Push([]byte{2}) {
			t.Fatalf("push %d of %d refused", i, Len)
		}
	}
	wait.For(t, "the first frame in deliver", func() bool { return b.entered() == 1 })
	if q.Push([]byte{3}) {
		t.Fatalf("push %d accepted into a queue of %d", Len+1, Len)
	}
	close(b.release)
	q.Close()
}

func TestBudget_SharedAcrossQueues(t *testing.T) {
	const frame = 1500 // a 1536-byte buffer (the allocator's size class)
	budget := NewBudget(10 * 1536)
	b1, b2 := newBlocker(), newBlocker()
	q1, q2 := New(b1.deliver, budget), New(b2.deliver, budget)
	f := make([]byte, frame)
	pushed := 0
	for i := 0; i < 20; i++ {
		q := q1
		if i%2 == 1 {
			q = q2
		}
		if q.Push(f) {
			pushed++
		}
	}
	if pushed != 10 {
		t.Fatalf("two queues sharing a budget of 10 frames took %d", pushed)
	}
	if u := budget.Used(); u != budget.Limit() {
		t.Fatalf("Used = %d after filling the budget, want %d", u, budget.Limit())
	}
	// A small frame does not fit either: the budget is bytes, not frames.
	if q1.Push([]byte{1}) || q2.Push([]byte{1}) {
		t.Fatal("a queue accepted a frame over a full budget")
	}
	// Delivering releases the budget, for either queue.
	close(b1.release)
	wait.For(t, "q1's frames delivered and released", func() bool { return budget.Used() == 5*1536 })
	for i := range 5 {
		if !q2.Push(f) {
			t.Fatalf("push %d into q2 refused after q1 released its 5 frames", i)
		}
	}
	if q2.Push(f) {
		t.Fatal("q2 took more than the released bytes")
	}
	close(b2.release)
	q1.Close()
	q2.Close()
	if u := budget.Used(); u != 0 {
		t.Fatalf("Used = %d after both queues closed, want 0", u)
	}
}

func TestBudget_BufferSizedToFrame(t *testing.T) {
	budget := NewBudget(1 << 20)
	b := newBlocker()
	q := New(b.deliver, budget)
	q.Push(make([]byte, 60))
	if u := budget.Used(); u != 64 {
		t.Fatalf("a 60-byte frame holds %d bytes, want 64 (its size class)", u)
	}
	q.Push(make([]byte, 65535))
	if u := budget.Used(); u != 64+65536 {
		t.Fatalf("a 64 KiB frame and a 60-byte one hold %d bytes, want %d", u, 64+65536)
	}
	close(b.release)
	q.Close()
	if u := budget.Used(); u != 0 {
		t.Fatalf("Used = %d after Close, want 0", u)
	}
	// The 64 KiB buffer is not kept for reuse, and a spare is only taken
	// by a frame that fills at least half of it.
	for _, s := range q.spare {
		if cap(s) > spareMax {
			t.Fatalf("a spare of %d bytes was kept", cap(s))
		}
	}
	q2 := New(func([]byte) {}, budget)
	defer q2.Close()
	q2.spare = [][]byte{make([]byte, 0, 2048)}
	q2.mu.Lock()
	small := q2.buffer(60)
	big := q2.buffer(1500)
	q2.mu.Unlock()
	if cap(small) != 64 || cap(big) != 2048 {
		t.Fatalf("buffers of cap %d for 60 bytes and %d for 1500 bytes, want 64 (not the 2048-byte spare) and the spare", cap(small), cap(big))
	}
}

func TestBudget_CloseReleasesAll(t *testing.T) {
	// Close delivers what is queued, so the bytes come back even when the
	// queue was full when it closed.
	budget := NewBudget(64 << 10)
	b := newBlocker()
	q := New(b.deliver, budget)
	n := 0
	for q.Push(make([]byte, 1000)) {
		n++
	}
	if n == 0 || budget.Used() == 0 {
		t.Fatalf("pushed %d frames, Used %d", n, budget.Used())
	}
	close(b.release)
	q.Close()
	if u := budget.Used(); u != 0 {
		t.Fatalf("Used = %d after Close, want 0", u)
	}
	if b.entered() != n {
		t.Fatalf("delivered %d of %d frames", b.entered(), n)
	}
}
