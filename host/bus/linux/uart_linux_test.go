package linux

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nichost/nichost/internal/testenv"
	"github.com/nichost/nichost/internal/wait"
)

// openPTY returns the master side of a new pseudo-terminal and the path of
// its slave, which OpenUART can open like a serial port.
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	testenv.Need(t, err == nil, fmt.Sprintf("no pseudo-terminals here: %v", err))
	t.Cleanup(func() { _ = master.Close() })
	fd := int(master.Fd())
	err = unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0)
	testenv.Need(t, err == nil, fmt.Sprintf("unlockpt: %v", err))
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	testenv.Need(t, err == nil, fmt.Sprintf("ptsname: %v", err))
	return master, "/dev/pts/" + strconv.Itoa(n)
}

func TestOpenUART_pty(t *testing.T) {
	master, slave := openPTY(t)
	u, err := OpenUART(UARTConfig{Device: slave, Baud: 115200})
	testenv.Need(t, err == nil, fmt.Sprintf("cannot open the pty as a serial port here: %v", err))
	defer u.Close()
	notified := make(chan struct{}, 10)
	u.Notify(func() { notified <- struct{}{} })

	if _, err := master.Write([]byte("RING\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := readWithin(t, u, 6, notified); string(got) != "RING\r\n" {
		t.Fatalf("uart read %q", got)
	}

	if n, err := u.Write([]byte("ATA\r")); n != 4 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	_ = master.SetReadDeadline(time.Now().Add(wait.Limit))
	buf := make([]byte, 16)
	n, err := master.Read(buf)
	if err != nil || string(buf[:n]) != "ATA\r" {
		t.Fatalf("device side read %q, %v", buf[:n], err)
	}

	done := make(chan error)
	go func() { done <- u.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(wait.Limit):
		t.Fatal("Close did not stop the reader goroutine")
	}
}
