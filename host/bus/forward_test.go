package bus_test

import (
	"sync"
	"testing"

	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/internal/wait"
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
	wait.For(t, "5 frames forwarded", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 5
	})
	// stop waits for the reader: a frame that arrives afterwards stays on
	// the port for whoever reads it next.
	stop()
	a.WriteFrame(make([]byte, 14))
	buf := make([]byte, 64)
	if n, err := b.ReadFrame(buf); n != 14 || err != nil {
		t.Fatalf("after stop, the port held a %d-byte frame (%v); want the 14-byte one written after stop", n, err)
	}
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
