package linux

import (
	"errors"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/internal/wait"
)

// newTestTAP opens a TAP in a new network namespace; cfg.Name defaults to a
// unique name. The TAP is closed, and the namespace deleted, when the test
// ends.
func newTestTAP(t *testing.T, cfg TAPConfig) (tap *TAP, ns string) {
	t.Helper()
	ns = testNetns(t)
	if cfg.Name == "" {
		cfg.Name = "nhtest" + randHex(4)
	}
	err := inNetns(ns, func() (err error) {
		tap, err = OpenTAP(cfg)
		return err
	})
	if err != nil {
		t.Fatalf("OpenTAP(%+v): %v", cfg, err)
	}
	t.Cleanup(func() { _ = tap.Close() })
	return tap, ns
}

var linkEther = regexp.MustCompile(`link/ether ([0-9a-f:]{17})`)

func TestOpenTAP_arp(t *testing.T) {
	tap, ns := newTestTAP(t, TAPConfig{Up: true, MTU: 1400})
	name := tap.Name()
	if !strings.HasPrefix(name, "nhtest") || tap.String() != "tap:"+name || tap.MTU() != 1400 {
		t.Fatalf("Name %q, String %q, MTU %d; want nhtest…, tap:%[1]s, 1400", name, tap.String(), tap.MTU())
	}
	link := ip(t, "-n", ns, "-o", "link", "show", "dev", name)
	if !strings.Contains(link, ",UP") || !strings.Contains(link, "mtu 1400") {
		t.Fatalf("the link is not up with MTU 1400: %s", link)
	}
	m := linkEther.FindStringSubmatch(link)
	if m == nil {
		t.Fatalf("no MAC address in %s", link)
	}
	subnet, mac := testSubnet()
	ip(t, "-n", ns, "addr", "add", hostAddr(subnet, 1).String()+"/24", "dev", name)
	ready := notifyChan(tap.Notify)

	// The frame written enters the namespace's stack, which answers; the
	// answer leaves through the TAP and is read back.
	req := arpRequest(mac, hostAddr(subnet, 2), hostAddr(subnet, 1), 0)
	if err := tap.WriteFrame(req); err != nil {
		t.Fatal(err)
	}
	r, others := readARPReply(t, tap, ready, hostAddr(subnet, 1), hostAddr(subnet, 2))
	if r.dst.String() != mac.String() || r.targetMAC.String() != mac.String() || r.senderMAC.String() != m[1] {
		t.Errorf("reply to %v from %v, target %v; want to %v from %v", r.dst, r.senderMAC, r.targetMAC, mac, m[1])
	}
	s := tap.Stats()
	if s.TxFrames != 1 || s.TxBytes != uint64(len(req)) || s.RxFrames != uint64(1+len(others)) || s.Dropped != 0 {
		t.Errorf("stats %+v after 1 frame out and %d in", s, 1+len(others))
	}
}

func TestTAP_readTooLong(t *testing.T) {
	tap, ns := newTestTAP(t, TAPConfig{Up: true})
	subnet, mac := testSubnet()
	ip(t, "-n", ns, "addr", "add", hostAddr(subnet, 1).String()+"/24", "dev", tap.Name())
	ready := notifyChan(tap.Notify)

	if err := tap.WriteFrame(arpRequest(mac, hostAddr(subnet, 3), hostAddr(subnet, 1), 0)); err != nil {
		t.Fatal(err)
	}
	small := make([]byte, bus.EthernetHeaderLen)
	wait.For(t, "the first reply", func() bool {
		select {
		case <-ready:
		case <-time.After(10 * time.Millisecond):
		}
		n, err := tap.ReadFrame(small)
		if n != 0 || (err != nil && !errors.Is(err, bus.ErrFrameTooLong)) {
			t.Fatalf("ReadFrame into %d bytes = %d, %v; want bus.ErrFrameTooLong", len(small), n, err)
		}
		return err != nil
	})
	if s := tap.Stats(); s.TooLong != 1 || s.RxFrames != 0 {
		t.Fatalf("stats %+v, want 1 frame too long and none read", s)
	}
	// The frame is gone: the next reply read answers the next request.
	if err := tap.WriteFrame(arpRequest(mac, hostAddr(subnet, 4), hostAddr(subnet, 1), 0)); err != nil {
		t.Fatal(err)
	}
	_, others := readARPReply(t, tap, ready, hostAddr(subnet, 1), hostAddr(subnet, 4))
	for _, f := range others {
		if r, ok := parseARPReply(f); ok && r.target == hostAddr(subnet, 3) {
			t.Fatal("the frame too long for the buffer was read again")
		}
	}
}

func TestTAP_queueOverflow(t *testing.T) {
	tap, ns := newTestTAP(t, TAPConfig{Up: true, QueueLen: 2})
	subnet, mac := testSubnet()
	ip(t, "-n", ns, "addr", "add", hostAddr(subnet, 1).String()+"/24", "dev", tap.Name())
	for i := range byte(5) {
		if err := tap.WriteFrame(arpRequest(mac, hostAddr(subnet, 10+i), hostAddr(subnet, 1), 0)); err != nil {
			t.Fatal(err)
		}
	}
	wait.For(t, "3 replies dropped", func() bool { return tap.Stats().Dropped >= 3 })
	buf := make([]byte, 1600)
	for i := range byte(2) {
		n, err := tap.ReadFrame(buf)
		r, ok := parseARPReply(buf[:n])
		if err != nil || !ok || r.target != hostAddr(subnet, 10+i) {
			t.Fatalf("ReadFrame #%d = %d, %v; want the reply to %v", i, n, err, hostAddr(subnet, 10+i))
		}
	}
	if n, err := tap.ReadFrame(buf); n != 0 || err != nil {
		t.Fatalf("ReadFrame = %d, %v; want an empty queue", n, err)
	}
	if s := tap.Stats(); s.Dropped != 3 || s.RxFrames != 2 || s.TxFrames != 5 {
		t.Errorf("stats %+v, want 5 frames out, 2 in, 3 dropped", s)
	}
}

func TestTAP_Close(t *testing.T) {
	tap, ns := newTestTAP(t, TAPConfig{MTU: 1280})
	name := tap.Name()
	for i := range 2 {
		if err := tap.Close(); err != nil {
			t.Fatalf("Close #%d = %v", i+1, err)
		}
	}
	if err := tap.WriteFrame(make([]byte, 60)); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("WriteFrame after Close = %v, want bus.ErrClosed", err)
	}
	if _, err := tap.ReadFrame(make([]byte, 1500)); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("ReadFrame after Close = %v, want bus.ErrClosed", err)
	}
	tap.Notify(func() {})
	if tap.MTU() != 1280 || tap.Name() != name {
		t.Errorf("after Close: MTU %d, Name %q; want 1280, %q", tap.MTU(), tap.Name(), name)
	}
	// The device was not persistent, so closing its descriptor deleted it.
	if out, err := exec.Command("ip", "-n", ns, "link", "show", "dev", name).CombinedOutput(); err == nil {
		t.Errorf("%s still exists after Close: %s", name, out)
	}
}

func TestOpenTAP_names(t *testing.T) {
	tests := []struct {
		name string
		cfg  TAPConfig
		want *regexp.Regexp
	}{
		{"kernel picks", TAPConfig{}, regexp.MustCompile(`^tap\d+$`)},
		{"pattern", TAPConfig{Name: "nh%d"}, regexp.MustCompile(`^nh0$`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := testNetns(t)
			var tap *TAP
			err := inNetns(ns, func() (err error) {
				tap, err = OpenTAP(tt.cfg)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			defer tap.Close()
			if !tt.want.MatchString(tap.Name()) {
				t.Fatalf("Name() = %q, want %v", tap.Name(), tt.want)
			}
			ip(t, "-n", ns, "link", "show", "dev", tap.Name())
		})
	}
}

func TestOpenTAP_errors(t *testing.T) {
	ns := testNetns(t)
	tests := []struct {
		name string
		cfg  TAPConfig
		want string
	}{
		{"not a TAP", TAPConfig{Name: "lo"}, "bus: tap: lo: TUNSETIFF: invalid argument"},
		{"invalid name", TAPConfig{Name: "tap 0"}, `bus: tap config: name: "tap 0" contains ' '`},
		{"mtu out of range", TAPConfig{Name: "nhtest" + randHex(4), MTU: 65521 + 1}, "bus: tap config: mtu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tap *TAP
			err := inNetns(ns, func() (err error) {
				tap, err = OpenTAP(tt.cfg)
				return err
			})
			if err == nil {
				tap.Close()
				t.Fatalf("OpenTAP(%+v) succeeded, want an error", tt.cfg)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestOpenTAP_persistent(t *testing.T) {
	ns := testNetns(t)
	name := "nhtest" + randHex(4)
	ip(t, "-n", ns, "tuntap", "add", "mode", "tap", "name", name)
	var tap *TAP
	if err := inNetns(ns, func() (err error) { tap, err = OpenTAP(TAPConfig{Name: name}); return err }); err != nil {
		t.Fatal(err)
	}
	if tap.Name() != name || tap.MTU() != bus.DefaultMTU {
		t.Errorf("Name %q, MTU %d; want %q, 1500", tap.Name(), tap.MTU(), name)
	}
	if err := tap.Close(); err != nil {
		t.Fatal(err)
	}
	// Attaching did not make the device ours: it outlives Close.
	ip(t, "-n", ns, "link", "show", "dev", name)
}
