package wait

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func TestUntil_ConditionComesTrue(t *testing.T) {
	var n atomic.Int32
	go func() {
		for range 5 {
			n.Add(1)
		}
	}()
	if !Until(context.Background(), time.Minute, func() bool { return n.Load() == 5 }) {
		t.Fatal("Until gave up on a condition that came true")
	}
}

func TestUntil_GivesUp(t *testing.T) {
	calls := 0
	if Until(context.Background(), 10*time.Millisecond, func() bool { calls++; return false }) {
		t.Fatal("Until reported a condition that never held")
	}
	if calls < 2 {
		t.Fatalf("cond polled %d times, want it polled until the limit", calls)
	}
}

func TestUntil_ContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Until(ctx, time.Hour, func() bool { return false }) {
		t.Fatal("Until reported success after its context ended")
	}
}

func TestFor_FailsWithWhat(t *testing.T) {
	old := Limit
	Limit = 5 * time.Millisecond
	defer func() { Limit = old }()
	ft := &fakeT{TB: t}
	done := make(chan struct{})
	go func() { // Fatalf ends the goroutine with runtime.Goexit
		defer close(done)
		For(ft, "the moon", func() bool { return false })
	}()
	<-done
	if ft.msg != "timed out after 5ms waiting for the moon" {
		t.Fatalf("failure message %q", ft.msg)
	}
}

func TestLimit_FromEnvironment(t *testing.T) {
	t.Setenv("NICHOST_TEST_WAIT", "3m")
	if got := limit(); got != 3*time.Minute {
		t.Fatalf("limit() = %v with NICHOST_TEST_WAIT=3m", got)
	}
	t.Setenv("NICHOST_TEST_WAIT", "soon")
	if got := limit(); got != time.Minute {
		t.Fatalf("limit() = %v with a bad NICHOST_TEST_WAIT, want the default", got)
	}
}

type fakeT struct {
	testing.TB
	msg string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(format string, a ...any) {
	f.msg = fmt.Sprintf(format, a...)
	runtime.Goexit()
}
