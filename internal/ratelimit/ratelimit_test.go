package ratelimit

import (
	"testing"
	"time"
)

func TestLines_BurstThenRate(t *testing.T) {
	var l Lines
	t0 := time.Unix(1000, 0)
	n := 0
	for range 2 * Burst {
		if l.Allow(t0) {
			n++
		}
	}
	if n != Burst {
		t.Fatalf("%d lines allowed at once, want the burst of %d", n, Burst)
	}
	// A second later, a second's worth more.
	n = 0
	for range 2 * Rate {
		if l.Allow(t0.Add(time.Second)) {
			n++
		}
	}
	if n != Rate {
		t.Fatalf("%d lines allowed a second later, want %d", n, Rate)
	}
}
