// Package wait is the one way tests in this module wait for something to
// happen: poll a condition until it holds, with a bound that only stops a
// test from hanging. The bound is generous on purpose (Limit, one minute,
// or $NICHOST_TEST_WAIT as a Go duration): a test must never pass or fail
// on how fast the machine is, only on whether the condition comes true.
//
// It depends on nothing of this module, so any test may use it without
// building the host.
package wait

import (
	"context"
	"os"
	"testing"
	"time"
)

// Limit is how long For waits before it fails the test.
var Limit = limit()

func limit() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("NICHOST_TEST_WAIT")); err == nil && d > 0 {
		return d
	}
	return time.Minute
}

// For polls cond every few milliseconds until it holds, failing t if Limit
// passes first. what says what was awaited, for the failure message.
func For(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !Until(context.Background(), Limit, cond) {
		t.Fatalf("timed out after %v waiting for %s", Limit, what)
	}
}

// Until polls cond until it holds (true), ctx ends or limit passes (false).
// It is For without a test, for helpers that report failure themselves.
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

// Context returns a context that ends after Limit or when the test ends,
// for calls that take a context and must not hang a test.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Limit)
	t.Cleanup(cancel)
	return ctx
}
