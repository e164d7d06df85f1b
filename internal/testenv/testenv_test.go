package testenv

import (
	"testing"
)

// fakeTB records what Need does instead of ending the test.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper()                        {}
func (f *fakeTB) Skipf(format string, a ...any)  { f.skipped = format }
func (f *fakeTB) Fatalf(format string, a ...any) { f.failed = format }

func TestNeed(t *testing.T) {
	t.Setenv("NICHOST_E2E", "")
	f := &fakeTB{}
	Need(f, false, "no pty")
	if f.skipped == "" || f.failed != "" {
		t.Fatalf("without NICHOST_E2E a missing need should skip: %+v", f)
	}
	t.Setenv("NICHOST_E2E", "require")
	f = &fakeTB{}
	Need(f, false, "no pty")
	if f.failed == "" || f.skipped != "" {
		t.Fatalf("with NICHOST_E2E=require a missing need should fail: %+v", f)
	}
	f = &fakeTB{}
	Need(f, true, "")
	if f.failed != "" || f.skipped != "" {
		t.Fatalf("a met need did something: %+v", f)
	}
}
