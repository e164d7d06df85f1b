package core_test

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/nichost/nichost/host/bus/sim"
)

// FuzzInbound: any frame a hostile peer or a broken driver hands the core
// (Ethernet, ARP, IPv4 and IPv6 with their options, ICMP, UDP, TCP with
// its options, fragments, DHCP) is taken or dropped without a panic, and
// the stack still answers on the same NIC afterwards: a ping to a
// neighbour succeeds once the fuzzed frames are in. The first input byte
// picks what the rest is made into, so that the mutations reach past the
// checks a random frame fails first: 0 a raw frame, 1 an ARP payload, 2
// an IPv4 packet with its header length, total length and checksums
// fixed, 3 an IPv6 packet with its payload length and checksums fixed.
func FuzzInbound(f *testing.F) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	a, b := newNode(f, "a"), newNode(f, "b")
	na, nb := a.attach(f, seg, "eth0", mac(1)), b.attach(f, seg, "eth0", mac(2))
	if err := na.SetIPConfig(map[string]any{"addr4": "192.0.2.1/24"}); err != nil {
		f.Fatal(err)
	}
	if err := nb.SetIPConfig(map[string]any{"addr4": "192.0.2.2/24"}); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 9, 0x08, 0x06})
	f.Add([]byte{1, 0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 9, 192, 0, 2, 9, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1})
	f.Add(append([]byte{2, 0x45, 0, 0, 0, 0, 1, 0x20, 0, 64, 1, 0, 0, 192, 0, 2, 9, 192, 0, 2, 1}, 8, 0, 0, 0, 0, 1, 0, 1, 'x'))  // ICMP echo, more fragments
	f.Add(append([]byte{2, 0x46, 0, 0, 0, 0, 2, 0, 0, 64, 6, 0, 0, 192, 0, 2, 9, 192, 0, 2, 1, 1, 1, 1, 0}, make([]byte, 20)...)) // TCP, an IP option
	f.Add(append([]byte{2, 0x45, 0, 0, 0, 0, 3, 0, 0, 64, 17, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255}, 0, 67, 0, 68, 0, 0, 0, 0, 2, 1, 6, 0))
	f.Add(append([]byte{3, 0x60, 0, 0, 0, 0, 0, 58, 255, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 134, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 64, 0xc0))
	ping := func(t *testing.T) {
		t.Helper()
		if _, err := na.Ping(ctxT(t), netip.MustParseAddr("192.0.2.2"), 16); err != nil {
			t.Fatalf("ping after the fuzzed frames: %v", err)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		frame := inboundFrame(in[0]%4, in[1:])
		na.DeliverFrame(frame)
		ping(t)
	})
}

// inboundFrame makes a frame to 02:00:00:00:00:01 from 02:00:00:00:00:09
// of kind (see FuzzInbound) from b.
func inboundFrame(kind byte, b []byte) []byte {
	eth := func(etherType uint16, payload []byte) []byte {
		f := append([]byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 9}, byte(etherType>>8), byte(etherType))
		return append(f, payload...)
	}
	switch kind {
	case 1:
		return eth(0x0806, b)
	case 2:
		p := append(make([]byte, 0, 20+len(b)), b...)
		for len(p) < 20 {
			p = append(p, 0)
		}
		p[0] = 0x40 | max(p[0]&0x0f, 5)
		ihl := int(p[0]&0x0f) * 4
		for len(p) < ihl {
			p = append(p, 0)
		}
		binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
		p[10], p[11] = 0, 0
		binary.BigEndian.PutUint16(p[10:], ^fold(sum(p[:ihl], 0)))
		frag := binary.BigEndian.Uint16(p[6:])&0x1fff != 0
		fixL4(p[9], p[ihl:], sum(p[12:20], uint32(p[9])+uint32(len(p)-ihl)), frag)
		return eth(0x0800, p)
	case 3:
		p := append(make([]byte, 0, 40+len(b)), b...)
		for len(p) < 40 {
			p = append(p, 0)
		}
		p[0] = 0x60 | p[0]&0x0f
		binary.BigEndian.PutUint16(p[4:], uint16(len(p)-40))
		fixL4(p[6], p[40:], sum(p[8:40], uint32(p[6])+uint32(len(p)-40)), false)
		return eth(0x86dd, p)
	}
	return b
}

// fixL4 writes the checksum of an ICMP(v6), UDP or TCP segment (not of a
// fragment's, which covers the whole datagram).
func fixL4(proto byte, seg []byte, pseudo uint32, frag bool) {
	off := map[byte]int{1: 2, 58: 2, 17: 6, 6: 16}[proto]
	if frag || off == 0 || len(seg) < off+2 {
		return
	}
	if proto == 1 {
		pseudo = 0 // ICMPv4 has no pseudo-header
	}
	seg[off], seg[off+1] = 0, 0
	binary.BigEndian.PutUint16(seg[off:], ^fold(sum(seg, pseudo)))
}

func sum(b []byte, acc uint32) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		acc += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		acc += uint32(b[len(b)-1]) << 8
	}
	return acc
}

func fold(acc uint32) uint16 {
	for acc>>16 != 0 {
		acc = acc&0xffff + acc>>16
	}
	return uint16(acc)
}
