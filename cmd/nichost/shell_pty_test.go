//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nichost/nichost/internal/testenv"
	"github.com/nichost/nichost/internal/wait"
)

// openPTY opens a pseudo-terminal pair: the master the test types into and
// the slave the shell reads as its terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	testenv.Need(t, err == nil, fmt.Sprintf("a pseudo-terminal (/dev/ptmx: %v)", err))
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlocking the pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("the pty's number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("opening the pty's slave: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// On a terminal the shell is interactive: a banner naming the NICs, Tab
// completing a NIC, a function and a method, the up arrow recalling the
// last line, and Ctrl-D leaving with exit 0.
func TestShell_Interactive(t *testing.T) {
	d := startLAN(t)
	master, slave := openPTY(t)
	var out testenv.Buffer
	cmd := newRoot()
	cmd.SetIn(slave)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{"--socket", d.sock, "shell"})
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(context.Background()) }()
	// The master must be drained, or the terminal's echo would fill it.
	go func() {
		b := make([]byte, 4096)
		for {
			if _, err := master.Read(b); err != nil {
				return
			}
		}
	}()
	wait.For(t, "the banner", func() bool { return strings.Contains(out.String(), "NICs: eth0") })

	typed := func(keys, want string) {
		t.Helper()
		mark := len(out.String())
		if _, err := master.WriteString(keys); err != nil {
			t.Fatal(err)
		}
		wait.For(t, fmt.Sprintf("%q after typing %q", want, keys), func() bool { return strings.Contains(out.String()[mark:], want) })
	}
	// "net" + Tab -> "network", ".host" + Tab -> "network.hostname(".
	typed("net\t.host\t)\r", "'board-7'")
	// "et" + Tab -> "eth0", ".isc" + Tab -> "eth0.isconnected(".
	typed("et\t.isc\t)\r", "True")
	// Up recalls eth0.isconnected(); a second Up, network.hostname().
	typed("\x1b[A\x1b[A\r", "'board-7'")
	typed("eth0.config(mac=7)\r", "TypeError: ")
	if _, err := master.Write([]byte{4}); err != nil { // Ctrl-D on an empty line
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the shell ended with %v\n%s", err, out.String())
	}
}
