package rxqueue

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/nichost/nichost/internal/wait"
)

// recorder is a deliver function that records each frame's first byte and
// whether the test's Flush was running when it came.
type recorder struct {
	mu       sync.Mutex
	flushing bool // set by the test around its Flush calls
	got      []byte
	inline   int // frames delivered while flushing
}

func (r *recorder) deliver(f []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, f[0])
	if r.flushing {
		r.inline++
	}
}

func (r *recorder) flush(q *Queue) {
	r.mu.Lock()
	r.flushing = true
	r.mu.Unlock()
	q.Flush()
	r.mu.Lock()
	r.flushing = false
	r.mu.Unlock()
}

func (r *recorder) count() (n, inline int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got), r.inline
}

// An inline queue's frame or two are delivered by Flush on its caller's
// goroutine, before it returns; a larger burst by the queue's goroutine.
func TestQueue_InlineFlushDeliversSmallBatches(t *testing.T) {
	r := &recorder{}
	q := New(r.deliver, nil)
	defer q.Close()
	q.SetInline(true)
	q.Push([]byte{0})
	q.Push([]byte{1})
	r.flush(q)
	if n, inline := r.count(); n != 2 || inline != 2 {
		t.Fatalf("after Flush of 2 frames: %d delivered, %d of them by Flush; want 2 and 2", n, inline)
	}
	for i := range inlineMax + 1 {
		q.Push([]byte{byte(2 + i)})
	}
	wait.For(t, "the goroutine to deliver a burst of inlineMax+1 frames without a Flush", func() bool {
		n, _ := r.count()
		return n == 2+inlineMax+1
	})
	if _, inline := r.count(); inline != 2 {
		t.Fatalf("%d frames delivered by Flush, want only the first 2", inline)
	}
}

// Frames that wait for a Flush are not lost when the queue stops being
// inline, nor when it closes.
func TestQueue_InlineFramesSurviveSetInlineAndClose(t *testing.T) {
	r := &recorder{}
	q := New(r.deliver, nil)
	q.SetInline(true)
	q.Push([]byte{0})
	q.SetInline(false)
	wait.For(t, "the frame that waited for a Flush to be delivered once the queue is no longer inline", func() bool {
		n, _ := r.count()
		return n == 1
	})
	q.SetInline(true)
	q.Push([]byte{1})
	q.Close()
	if n, _ := r.count(); n != 2 {
		t.Fatalf("%d frames delivered when Close returned, want 2", n)
	}
}

// Whichever goroutine delivers, frames come in the order pushed, once
// each, and never two at a time.
func TestQueue_InlineKeepsOrder(t *testing.T) {
	var mu sync.Mutex
	var got []int
	busy := false
	q := New(func(f []byte) {
		mu.Lock()
		if busy {
			mu.Unlock()
			panic("two frames in deliver at once")
		}
		busy = true
		got = append(got, int(f[0])|int(f[1])<<8)
		mu.Unlock()
		runtime.Gosched() // a window for another deliver to overlap
		mu.Lock()
		busy = false
		mu.Unlock()
	}, nil)
	q.SetInline(true)
	rng := rand.New(rand.NewPCG(1, 2))
	const frames = 5000
	for i := 0; i < frames; {
		for k := 1 + rng.IntN(5); k > 0 && i < frames; k-- {
			if !q.Push([]byte{byte(i), byte(i >> 8)}) {
				continue // full: push it again
			}
			i++
		}
		q.Flush()
	}
	q.Close()
	if len(got) != frames {
		t.Fatalf("%d frames delivered, want %d", len(got), frames)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("frame %d is frame %d: out of order", i, v)
		}
	}
}
