// Package netns makes Linux network namespaces for nichost's end-to-end
// tests and for `nichost bench` (the TCP figures over a TAP device): a
// namespace with its loopback up, commands and Go code run inside it, and
// a TAP device whose other side is the namespace's kernel stack. It needs
// root and iproute2's ip; Available says whether this machine has them.
// Nothing here touches the machine's own namespace beyond creating and
// deleting the namespaces it names.
package netns

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nichost/nichost/host/bus/linux"
)

// NS is a network namespace this process made.
type NS struct {
	Name string
}

// Available returns nil if namespaces and TAP devices can be made here, or
// an error saying what is missing (root, ip, /dev/net/tun).
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("not root: network namespaces and TAP devices need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("no ip command (apt-get install iproute2)")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return errors.New("no /dev/net/tun (TUN/TAP support)")
	}
	return nil
}

// New creates a namespace named prefix and random hex digits, with its
// loopback up. Close deletes it.
func New(prefix string) (*NS, error) {
	b := make([]byte, 4)
	rand.Read(b)
	ns := &NS{Name: prefix + hex.EncodeToString(b)}
	if _, err := Run("ip", "netns", "add", ns.Name); err != nil {
		return nil, err
	}
	if _, err := ns.IP("link", "set", "lo", "up"); err != nil {
		ns.Close()
		return nil, err
	}
	return ns, nil
}

// Close deletes the namespace (and the devices in it).
func (ns *NS) Close() error {
	_, err := Run("ip", "netns", "del", ns.Name)
	return err
}

// IP runs `ip ARGS` inside the namespace.
func (ns *NS) IP(args ...string) (string, error) {
	return Run("ip", append([]string{"-n", ns.Name}, args...)...)
}

// Exec runs a program inside the namespace and returns its output.
func (ns *NS) Exec(name string, args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns.Name, name}, args...)...).CombinedOutput()
	return string(out), err
}

// Do runs fn on an OS thread switched into the namespace: sockets fn
// creates belong to it and keep working after the thread switches back.
func (ns *NS) Do(fn func()) error {
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
		target, e := os.Open("/var/run/netns/" + ns.Name)
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
			panic(fmt.Sprintf("netns: cannot switch back to the original netns: %v", e))
		}
	}()
	<-done
	if err != nil {
		return fmt.Errorf("entering netns %s: %w", ns.Name, err)
	}
	return nil
}

// KernelTAP opens a TAP device named prefix and random hex digits inside
// the namespace, up, with the kernel's addresses addr4 and addr6 (prefixes,
// "10.0.0.1/24"; addr6 without duplicate address detection; either may be
// empty) on it. The TAP's file descriptor stays with this process: its
// frames are the wire between the caller and the namespace's kernel.
func (ns *NS) KernelTAP(prefix, addr4, addr6 string) (*linux.TAP, error) {
	b := make([]byte, 3)
	rand.Read(b)
	dev := prefix + hex.EncodeToString(b)
	var tap *linux.TAP
	var err error
	if e := ns.Do(func() { tap, err = linux.OpenTAP(linux.TAPConfig{Name: dev, Up: true}) }); e != nil {
		return nil, e
	}
	if err != nil {
		return nil, fmt.Errorf("TAP: %w", err)
	}
	if addr4 != "" {
		if _, err := ns.IP("addr", "add", addr4, "dev", dev); err != nil {
			tap.Close()
			return nil, err
		}
	}
	if addr6 != "" {
		if _, err := ns.IP("-6", "addr", "add", addr6, "dev", dev, "nodad"); err != nil {
			tap.Close()
			return nil, err
		}
	}
	return tap, nil
}

// Run runs a command and returns its output; its error carries the
// command line and the output.
func Run(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}
