package tests

import (
	"os/exec"
	"strings"
	"testing"

	nsx "github.com/nichost/nichost/internal/netns"
	"github.com/nichost/nichost/internal/testenv"
)

// netns is a network namespace the test made (internal/netns); it is
// deleted at cleanup.
type netns struct {
	*nsx.NS
	name string
}

// newNetns creates a namespace with its loopback up.
func newNetns(t testing.TB) *netns {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.NeedTool(t, "ip", "iproute2")
	ns, err := nsx.New("nhe2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	return &netns{NS: ns, name: ns.Name}
}

// ip runs `ip ARGS` inside the namespace.
func (ns *netns) ip(t testing.TB, args ...string) string {
	t.Helper()
	out, err := ns.IP(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// exec runs a program inside the namespace and returns its output.
func (ns *netns) exec(name string, args ...string) (string, error) { return ns.Exec(name, args...) }

// do runs fn on an OS thread switched into the namespace: sockets fn
// creates belong to it and keep working after the thread switches back.
func (ns *netns) do(t testing.TB, fn func()) {
	t.Helper()
	if err := ns.Do(fn); err != nil {
		t.Fatal(err)
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
