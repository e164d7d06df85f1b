package rxqueue

import (
	"bytes"
	"sync"
	"testing"
)

func TestQueue_DeliversInOrderAndDrainsOnClose(t *testing.T) {
	var mu sync.Mutex
	var got [][]byte
	q := New(func(f []byte) {
		mu.Lock()
		got = append(got, bytes.Clone(f))
		mu.Unlock()
	})
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

func TestQueue_FullRefuses(t *testing.T) {
	block := make(chan struct{})
	started := make(chan struct{}, 1)
	q := New(func([]byte) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-block
	})
	q.Push([]byte{1}) // taken by the goroutine, which then blocks in deliver
	<-started
	for i := range Len {
		if !q.Push([]byte{2}) {
			t.Fatalf("push %d of %d refused", i, Len)
		}
	}
	if q.Push([]byte{3}) {
		t.Fatalf("push %d accepted into a queue of %d", Len+1, Len)
	}
	close(block)
	q.Close()
}
