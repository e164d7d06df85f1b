// Package poll is the core of package wait without package testing: poll a
// condition until it holds, with a bound. Code that is not a test but runs
// under tests too (the measurements of internal/benchkit, which `nichost
// bench` and the go test benchmarks share) waits with it, so that every
// wait in the module is the same bounded poll.
package poll

import (
	"context"
	"os"
	"time"
)

// DefaultLimit is the bound of a wait when nothing else sets one: one
// minute, or $NICHOST_TEST_WAIT as a Go duration. It only stops a broken
// wait from hanging: a wait must never pass or fail on how fast the
// machine is.
func DefaultLimit() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("NICHOST_TEST_WAIT")); err == nil && d > 0 {
		return d
	}
	return time.Minute
}

// Until polls cond every few milliseconds until it holds (true), ctx ends
// or limit passes (false).
func Until(ctx context.Context, limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return cond()
		case <-tick.C:
		}
	}
	return true
}
