package bus_test

import (
	"sync"
	"testing"
	"time"

	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/sim"
)

func TestForward(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	a, b := seg.Attach("a"), seg.Attach("b")
	var mu sync.Mutex
	var got [][]byte
	stop := bus.Forward(b, func(f []byte) {
		mu.Lock()
		got = append(got, append([]byte(nil), f...))
		mu.Unlock()
	})
	for i := range 5 {
		a.WriteFrame(append(make([]byte, 13), byte(i)))
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("forwarded %d of 5 frames", n)
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	a.WriteFrame(make([]byte, 14))
	time.Sleep(20 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for i, f := range got {
		if f[13] != byte(i) {
			t.Fatalf("frame %d out of order: % x", i, f)
		}
	}
	if len(got) != 5 {
		t.Fatalf("a frame was forwarded after stop")
	}
}
