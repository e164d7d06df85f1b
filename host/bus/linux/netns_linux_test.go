package linux

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/internal/testenv"
	"github.com/nichost/nichost/internal/wait"
	"golang.org/x/sys/unix"
)

// randHex returns n random bytes in hex.
func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// needTAP needs what the TAP and AF_PACKET tests need: root, /dev/net/tun
// and ip from iproute2.
func needTAP(t *testing.T) {
	t.Helper()
	testenv.NeedRoot(t)
	_, err := os.Stat(tunPath)
	testenv.Need(t, err == nil, tunPath+" is missing (load the tun kernel module)")
	testenv.NeedTool(t, "ip", "iproute2")
}

// testNetns creates a network namespace with IPv6 off (so that the kernel
// sends no frames of its own, such as router solicitations) and deletes it,
// with every interface in it, when the test ends.
func testNetns(t *testing.T) string {
	t.Helper()
	needTAP(t)
	ns := "nhtest-" + randHex(4)
	out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput()
	testenv.Need(t, err == nil, fmt.Sprintf("ip netns add fails: %v: %s", err, bytes.TrimSpace(out)))
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v: %s", ns, err, out)
		}
	})
	err = inNetns(ns, func() error {
		for _, f := range []string{"all", "default"} {
			err := os.WriteFile("/proc/sys/net/ipv6/conf/"+f+"/disable_ipv6", []byte("1"), 0)
			if err != nil && !errors.Is(err, os.ErrNotExist) { // no IPv6 at all is fine
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// inNetns runs fn on a thread that has entered network namespace ns, so
// that the interfaces fn creates and the sockets it opens live there. The
// thread is discarded unless it gets back to its own namespace.
func inNetns(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- func() error {
			self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			defer unix.Close(self)
			target, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			err = unix.Setns(target, unix.CLONE_NEWNET)
			_ = unix.Close(target)
			if err != nil {
				return fmt.Errorf("setns %s: %w", ns, err)
			}
			ferr := fn()
			if err := unix.Setns(self, unix.CLONE_NEWNET); err == nil {
				runtime.UnlockOSThread()
			}
			return ferr
		}()
	}()
	return <-errc
}

// ip runs ip with args and fails the test on error.
func ip(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out)
}

// testSubnet returns a random 10.213.x.0/24 and a locally administered MAC
// address for the test's own end.
func testSubnet() (prefix netip.Prefix, mac net.HardwareAddr) {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	prefix = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 213, b[0], 0}), 24)
	return prefix, net.HardwareAddr{0x02, 0x6e, b[1], b[2], b[3], b[4]}
}

// hostAddr returns address .n of a /24.
func hostAddr(p netip.Prefix, n byte) netip.Addr {
	a := p.Addr().As4()
	a[3] = n
	return netip.AddrFrom4(a)
}

// arpRequest builds a broadcast ARP request asking for target, from
// sender at mac, with an 802.1Q tag when vid is not 0, padded to 60 bytes.
func arpRequest(mac net.HardwareAddr, sender, target netip.Addr, vid uint16) []byte {
	f := append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, mac...)
	if vid != 0 {
		f = binary.BigEndian.AppendUint16(f, 0x8100)
		f = binary.BigEndian.AppendUint16(f, vid)
	}
	f = append(f, 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1) // ARP, Ethernet/IPv4, request
	f = append(f, mac...)
	f = append(f, sender.AsSlice()...)
	f = append(f, 0, 0, 0, 0, 0, 0)
	f = append(f, target.AsSlice()...)
	for len(f) < 60 {
		f = append(f, 0)
	}
	return f
}

// arpReply is what parseARPReply finds in a frame.
type arpReply struct {
	dst, senderMAC, targetMAC net.HardwareAddr
	sender, target            netip.Addr
	vid                       uint16 // 0 when untagged
}

// parseARPReply parses an Ethernet/IPv4 ARP reply, tagged or not.
func parseARPReply(f []byte) (r arpReply, ok bool) {
	if len(f) < bus.EthernetHeaderLen {
		return r, false
	}
	r.dst = net.HardwareAddr(f[0:6])
	body := f[12:]
	if binary.BigEndian.Uint16(body) == 0x8100 && len(body) >= 4 {
		r.vid = binary.BigEndian.Uint16(body[2:]) & 0xfff
		body = body[4:]
	}
	if len(body) < 2+28 || !bytes.Equal(body[:10], []byte{0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 2}) {
		return r, false
	}
	a := body[2:]
	r.senderMAC = net.HardwareAddr(a[8:14])
	r.sender = netip.AddrFrom4([4]byte(a[14:18]))
	r.targetMAC = net.HardwareAddr(a[18:24])
	r.target = netip.AddrFrom4([4]byte(a[24:28]))
	return r, true
}

// readARPReply reads frames from port until an ARP reply from sender to
// target arrives, and returns it with the frames read before it.
func readARPReply(t *testing.T, port bus.FramePort, ready <-chan struct{}, sender, target netip.Addr) (arpReply, [][]byte) {
	t.Helper()
	var others [][]byte
	buf := make([]byte, port.MTU()+bus.EthernetHeaderLen+vlanTagLen)
	timeout := time.After(wait.Limit)
	for {
		n, err := port.ReadFrame(buf)
		if err != nil {
			t.Fatalf("ReadFrame: %v", err)
		}
		if n == 0 {
			select {
			case <-ready:
			case <-timeout:
				t.Fatalf("no ARP reply from %v to %v within %v; %d other frames read", sender, target, wait.Limit, len(others))
			}
			continue
		}
		if r, ok := parseARPReply(buf[:n]); ok && r.sender == sender && r.target == target {
			return r, others
		}
		others = append(others, bytes.Clone(buf[:n]))
	}
}
