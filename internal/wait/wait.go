// Package wait is the one way tests in this module wait for something to
// happen: poll a condition until it holds, with a bound that only stops a
// test from hanging. The bound is generous on purpose (Limit, one minute,
// or $NICHOST_TEST_WAIT as a Go duration): a test must never pass or fail
// on how fast the machine is, only on whether the condition comes true.
//
// It depends on nothing of this module but its core, package poll (the
// same wait without package testing, for code that tests share with
// commands), so any test may use it without building the host.
package wait

import (
	"context"
	"testing"
	"time"

	"github.com/nichost/nichost/internal/wait/poll"
)

// Limit is how long For waits before it fails the test.
var Limit = limit()

func limit() time.Duration { return poll.DefaultLimit() }

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
	return poll.Until(ctx, limit, cond)
}

// Context returns a context that ends after Limit or when the test ends,
// for calls that take a context and must not hang a test.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Limit)
	t.Cleanup(cancel)
	return ctx
}
