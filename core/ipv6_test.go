package core_test

import (
	"net/netip"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/bus/sim"
)

// addr6Of returns the (ip, state, preferred, valid) tuples of a NIC.
func addr6Of(t testing.TB, n *core.NIC) []abi.Tuple {
	t.Helper()
	v, err := n.IPConfig("addr6")
	if err != nil {
		t.Fatal(err)
	}
	var out []abi.Tuple
	for _, e := range v.([]any) {
		out = append(out, e.(abi.Tuple))
	}
	return out
}

func TestIPv6_LinkLocalDADAndPing(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	a, b := newNode(t, "a"), newNode(t, "b")
	na, nb := a.attach(t, seg, "eth0", mac(1)), b.attach(t, seg, "eth0", mac(2))
	// EUI-64 from 02:00:00:00:00:01 flips the U/L bit: fe80::ff:fe00:1.
	got := addr6Of(t, na)
	if len(got) != 1 || got[0][0] != "fe80::ff:fe00:1" {
		t.Fatalf("addr6 = %v, want the EUI-64 link-local", got)
	}
	if st := got[0][1].(int64); st < 0x08 || st > 0x0f {
		t.Fatalf("state right after link up = %#x, want tentative (0x08-0x0f)", st)
	}
	eventually(t, "DAD to finish", func() bool { return addr6Of(t, na)[0][1] == int64(0x30) })
	if l := addr6Of(t, na)[0]; l[2] != int64(0xffffffff) || l[3] != int64(0xffffffff) {
		t.Fatalf("link-local lifetimes %v, want infinite (0xffffffff)", l)
	}
	eventually(t, "DAD on b", func() bool { return addr6Of(t, nb)[0][1] == int64(0x30) })
	for _, dst := range []string{"fe80::ff:fe00:2", "192.0.2.2"} {
		if dst == "192.0.2.2" {
			na.SetIPConfig(map[string]any{"addr4": "192.0.2.1/24"})
			nb.SetIPConfig(map[string]any{"addr4": "192.0.2.2/24"})
		}
		if _, err := na.Ping(ctxT(t), netip.MustParseAddr(dst), 56); err != nil {
			t.Fatalf("ping %s: %v", dst, err)
		}
	}
}

func TestIPv6_DuplicateAddress(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	a, b := newNode(t, "a"), newNode(t, "b")
	na := a.attach(t, seg, "eth0", mac(5))
	eventually(t, "a's DAD", func() bool { return addr6Of(t, na)[0][1] == int64(0x30) })
	nb := b.attach(t, seg, "eth0", mac(5)) // same MAC: same link-local
	eventually(t, "b to detect the duplicate", func() bool {
		l := addr6Of(t, nb)
		return len(l) == 1 && l[0][1] == int64(0x40)
	})
}

func TestIPv6_StaticAndTCP(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1, QueueLen: 4096})
	a, b := newNode(t, "a"), newNode(t, "b")
	na, nb := a.attach(t, seg, "eth0", mac(1)), b.attach(t, seg, "eth0", mac(2))
	if err := na.SetIPConfig(map[string]any{"addr6": "2001:db8::1"}); err != nil {
		t.Fatal(err)
	}
	if err := nb.SetIPConfig(map[string]any{"addr6": "2001:db8::2/64"}); err != nil {
		t.Fatal(err)
	}
	if err := nb.SetIPConfig(map[string]any{"addr6": "10.0.0.1"}); err == nil {
		t.Fatal("an IPv4 address was accepted as addr6")
	}
	eventually(t, "static addresses preferred", func() bool {
		for _, n := range []*core.NIC{na, nb} {
			for _, e := range addr6Of(t, n) {
				if e[1] != int64(0x30) {
					return false
				}
			}
		}
		return true
	})
	if l := addr6Of(t, na); len(l) != 2 || l[1][0] != "2001:db8::1" {
		t.Fatalf("addr6 = %v", l)
	}
	transfer(t, a, b, "2001:db8::2", 256<<10)
	if v, _ := na.IPConfig("has_autoconf6"); v != false {
		t.Fatal("has_autoconf6 without a router")
	}
	if v, _ := na.IPConfig("autoconf6"); v != true {
		t.Fatal("autoconf6 should default to on")
	}
	if err := na.SetIPConfig(map[string]any{"autoconf6": false}); err != nil {
		t.Fatal(err)
	}
	if v, _ := na.IPConfig("autoconf6"); v != false {
		t.Fatal("autoconf6 stayed on")
	}
}
