package tests

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nichost/nichost/internal/testenv"
)

// netns is a network namespace the test made; it is deleted at cleanup.
type netns struct {
	name string
}

// newNetns creates a namespace with its loopback up.
func newNetns(t testing.TB) *netns {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.NeedTool(t, "ip", "iproute2")
	b := make([]byte, 4)
	rand.Read(b)
	ns := &netns{name: "nhe2e-" + hex.EncodeToString(b)}
	run(t, "ip", "netns", "add", ns.name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns.name).Run() })
	ns.ip(t, "link", "set", "lo", "up")
	return ns
}

// ip runs `ip ARGS` inside the namespace.
func (ns *netns) ip(t testing.TB, args ...string) string {
	t.Helper()
	return run(t, "ip", append([]string{"-n", ns.name}, args...)...)
}

// exec runs a program inside the namespace and returns its output.
func (ns *netns) exec(name string, args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns.name, name}, args...)...).CombinedOutput()
	return string(out), err
}

// do runs fn on an OS thread switched into the namespace: sockets fn
// creates belong to it and keep working after the thread switches back.
func (ns *netns) do(t testing.TB, fn func()) {
	t.Helper()
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		orig, e := os.Open("/proc/thread-self/ns/net")
		if e != nil {
			err = e
			return
		}
		defer orig.Close()
		target, e := os.Open("/var/run/netns/" + ns.name)
		if e != nil {
			err = e
			return
		}
		defer target.Close()
		if e := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); e != nil {
			err = e
			return
		}
		fn()
		if e := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); e != nil {
			// A thread stuck in the wrong namespace must not be reused.
			panic(fmt.Sprintf("tests: cannot switch back to the original netns: %v", e))
		}
	}()
	<-done
	if err != nil {
		t.Fatalf("entering netns %s: %v", ns.name, err)
	}
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
