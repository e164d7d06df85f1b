// Package testenv decides what a test does when the machine lacks what it
// needs (root, network namespaces, a system tool, a pseudo-terminal): skip,
// saying why, on a developer's machine; fail in CI, where NICHOST_E2E=require
// promises that everything is installed, so a test cannot pass by skipping.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Required reports whether NICHOST_E2E=require is set.
func Required() bool { return os.Getenv("NICHOST_E2E") == "require" }

// Need skips (or, with NICHOST_E2E=require, fails) the test when ok is
// false; why says what is missing and how to get it.
func Need(t testing.TB, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if Required() {
		t.Fatalf("NICHOST_E2E=require, but %s", why)
		return
	}
	t.Skipf("skipped: %s (set NICHOST_E2E=require to make this a failure)", why)
}

// NeedTool needs a program on PATH.
func NeedTool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	Need(t, err == nil, name+" is not installed (Debian package "+pkg+")")
	return p
}

// NeedRoot needs root, for network namespaces and TAP devices.
func NeedRoot(t testing.TB) {
	t.Helper()
	Need(t, os.Geteuid() == 0, "the test needs root for network namespaces and TAP devices")
}
