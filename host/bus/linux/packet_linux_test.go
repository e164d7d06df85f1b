package linux

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/internal/wait"
)

// newTestVeth creates, in a new network namespace, a veth pair with both
// ends up: a for the test's Packet and b for the namespace's stack. The
// namespace and the pair are deleted when the test ends.
func newTestVeth(t *testing.T) (ns, a, b string) {
	t.Helper()
	ns = testNetns(t)
	id := randHex(4)
	a, b = "nhta"+id, "nhtb"+id
	ip(t, "-n", ns, "link", "add", a, "type", "veth", "peer", "name", b)
	ip(t, "-n", ns, "link", "set", a, "up")
	ip(t, "-n", ns, "link", "set", b, "up")
	// A veth end passes frames once both ends have carrier: a frame sent
	// before that is dropped by the kernel, uncounted by the port.
	for _, dev := range []string{a, b} {
		wait.For(t, dev+" up with carrier", func() bool {
			out := ip(t, "-n", ns, "-o", "link", "show", dev)
			return strings.Contains(out, "LOWER_UP") && strings.Contains(out, "state UP")
		})
	}
	return ns, a, b
}

// openTestPacket opens cfg in namespace ns and closes it when the test ends.
func openTestPacket(t *testing.T, ns string, cfg PacketConfig) *Packet {
	t.Helper()
	var p *Packet
	if err := inNetns(ns, func() (err error) { p, err = OpenPacket(cfg); return err }); err != nil {
		t.Fatalf("OpenPacket(%+v): %v", cfg, err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func TestOpenPacket_arp(t *testing.T) {
	for _, promisc := range []bool{false, true} {
		name := map[bool]string{false: "own MAC", true: "promiscuous"}[promisc]
		t.Run(name, func(t *testing.T) {
			ns, a, b := newTestVeth(t)
			subnet, mac := testSubnet()
			ip(t, "-n", ns, "addr", "add", hostAddr(subnet, 1).String()+"/24", "dev", b)
			p := openTestPacket(t, ns, PacketConfig{Interface: a, Promiscuous: promisc})
			if p.Name() != a || p.String() != "packet:"+a || p.MTU() != bus.DefaultMTU {
				t.Fatalf("Name %q, String %q, MTU %d; want %s, packet:%[4]s, 1500", p.Name(), p.String(), p.MTU(), a)
			}
			// A packet socket's promiscuous mode counts in promiscuity
			// without setting the PROMISC flag.
			link := ip(t, "-n", ns, "-d", "-o", "link", "show", "dev", a)
			if got := strings.Contains(link, "promiscuity 1 "); got != promisc {
				t.Fatalf("promiscuous %v, want %v: %s", got, promisc, link)
			}
			if !promisc {
				// Without promiscuous mode, speak with the interface's own
				// address.
				m := linkEther.FindStringSubmatch(link)
				if m == nil {
					t.Fatalf("no MAC address in %s", link)
				}
				mac, _ = net.ParseMAC(m[1])
			}
			ready := notifyChan(p.Notify)

			req := arpRequest(mac, hostAddr(subnet, 2), hostAddr(subnet, 1), 0)
			if err := p.WriteFrame(req); err != nil {
				t.Fatal(err)
			}
			r, others := readARPReply(t, p, ready, hostAddr(subnet, 1), hostAddr(subnet, 2))
			if r.dst.String() != mac.String() || r.targetMAC.String() != mac.String() {
				t.Errorf("reply to %v, target %v; want %v", r.dst, r.targetMAC, mac)
			}
			// Frames from mac are outgoing: the port's own, or with the
			// interface's address, the host's.
			for _, f := range others {
				if bytes.Equal(f[6:12], mac) {
					t.Fatalf("the port read an outgoing frame: % x", f)
				}
			}
			if s := p.Stats(); s.TxFrames != 1 || s.TxBytes != uint64(len(req)) || s.RxFrames != uint64(1+len(others)) {
				t.Errorf("stats %+v after 1 frame out and %d in", s, 1+len(others))
			}

			for i := range 2 {
				if err := p.Close(); err != nil {
					t.Fatalf("Close #%d = %v", i+1, err)
				}
			}
			if err := p.WriteFrame(req); !errors.Is(err, bus.ErrClosed) {
				t.Errorf("WriteFrame after Close = %v, want bus.ErrClosed", err)
			}
			if _, err := p.ReadFrame(make([]byte, 1514)); !errors.Is(err, bus.ErrClosed) {
				t.Errorf("ReadFrame after Close = %v, want bus.ErrClosed", err)
			}
			if link := ip(t, "-n", ns, "-d", "-o", "link", "show", "dev", a); !strings.Contains(link, "promiscuity 0 ") {
				t.Errorf("still promiscuous after Close: %s", link)
			}
		})
	}
}

func TestPacket_veth(t *testing.T) {
	ns, a, b := newTestVeth(t)
	pa := openTestPacket(t, ns, PacketConfig{Interface: a})
	pb := openTestPacket(t, ns, PacketConfig{Interface: b, QueueLen: 8})
	readyA, readyB := notifyChan(pa.Notify), notifyChan(pb.Notify)
	_, mac := testSubnet()
	frame := func(tag []byte, payload string) []byte {
		f := append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, mac...)
		f = append(f, tag...)
		return append(append(f, 0x88, 0xb5), payload...) // local experimental EtherType
	}
	// The receiving kernel moves an 802.1Q tag out of the frame before a
	// packet socket sees it; the port puts it back, so frames arrive as sent.
	tests := []struct {
		name     string
		from, to *Packet
		ready    <-chan struct{}
		frame    []byte
	}{
		{"a to b", pa, pb, readyB, frame(nil, "hello from a, padded to sixty bytes........")},
		{"b to a", pb, pa, readyA, frame(nil, "hello from b, padded to sixty bytes........")},
		{"tagged", pa, pb, readyB, frame([]byte{0x81, 0x00, 0x20, 0x07}, "priority 1, VLAN 7, padded to sixty bytes")},
		{"802.1ad", pb, pa, readyA, frame([]byte{0x88, 0xa8, 0x00, 0x09}, "S-tag, VLAN 9, padded to sixty bytes.....")},
		{"full size", pa, pb, readyB, frame(nil, strings.Repeat("x", bus.DefaultMTU))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.from.WriteFrame(tt.frame); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, bus.DefaultMTU+bus.EthernetHeaderLen+vlanTagLen)
			var n int
			wait.For(t, "the frame", func() bool {
				var err error
				if n, err = tt.to.ReadFrame(buf); err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					select {
					case <-tt.ready:
					case <-time.After(10 * time.Millisecond):
					}
				}
				return n > 0
			})
			if !bytes.Equal(buf[:n], tt.frame) {
				t.Fatalf("read  % x\nwant % x", buf[:n], tt.frame)
			}
			if n, err := tt.from.ReadFrame(buf); n != 0 || err != nil {
				t.Fatalf("the writer read %d bytes, %v; want nothing (its own frame is outgoing)", n, err)
			}
		})
	}
	if sa, sb := pa.Stats(), pb.Stats(); sa.TxFrames != 3 || sa.RxFrames != 2 || sb.TxFrames != 2 || sb.RxFrames != 3 {
		t.Errorf("stats a %+v, b %+v; want 3 out and 2 in at a, the reverse at b", sa, sb)
	}
}

func TestOpenPacket_errors(t *testing.T) {
	tests := []struct {
		name string
		cfg  PacketConfig
		want string
	}{
		{"absent interface", PacketConfig{Interface: "nhtestnone0"}, "bus: packet: nhtestnone0: SIOCGIFINDEX: no such device"},
		{"invalid config", PacketConfig{Interface: "eth0", QueueLen: -1}, "bus: packet config: queue_len"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := OpenPacket(tt.cfg)
			if err == nil {
				p.Close()
				t.Fatalf("OpenPacket(%+v) succeeded, want an error", tt.cfg)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}
