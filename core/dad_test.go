package core_test

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/bus/sim"
)

// A neighbour that claims every SLAAC address in DAD, round after round
// of new prefixes: the address table stays within its bound and keeps no
// failed SLAAC address.
func TestIPv6_DADChurnBounded(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1, QueueLen: 4096})
	a := newNode(t, "a")
	na := a.attach(t, seg, "eth0", mac(1))
	peer := newNDPPeer(t, seg, mac(0xfe), true)
	allPreferred(t, na)
	ll := linkLocal(mac(1)).String()
	const rounds, perRound = 60, 10
	most := 0
	for r := range rounds {
		var pis []raPrefix
		for i := range perRound {
			pis = append(pis, raPrefix{netip.MustParsePrefix(fmt.Sprintf("2001:db8:%x:%x::/64", r, i)), false, true})
		}
		peer.sendRA(t, mac(1), linkLocal(mac(1)), ra{prefixes: pis})
		want := int64((r + 1) * perRound)
		eventually(t, fmt.Sprintf("round %d's addresses claimed and settled", r), func() bool {
			l := addr6Of(t, na)
			most = max(most, len(l))
			if peer.claimed.Load() < want {
				return false
			}
			for _, e := range l {
				if st := e[1].(int64); st < 0x10 || (st == 0x40 && e[0] != ll) {
					return false // tentative, or a SLAAC address not yet dropped
				}
			}
			return true
		})
		if l := addr6Of(t, na); len(l) > core.MaxAddrs6 {
			t.Fatalf("round %d: %d addresses, bound %d: %v", r, len(l), core.MaxAddrs6, l)
		}
	}
	l := addr6Of(t, na)
	t.Logf("%d rounds of %d prefixes, %d addresses claimed: %d addresses at most, %d now: %v", rounds, perRound, peer.claimed.Load(), most, len(l), l)
	for _, e := range l {
		if e[0] != ll && e[1] == int64(0x40) {
			t.Errorf("failed SLAAC address %v kept", e)
		}
	}
	if len(l) > core.MaxAddrs6 {
		t.Fatalf("%d addresses, bound %d", len(l), core.MaxAddrs6)
	}
}

// With the address table full, a SLAAC address gVisor makes is neither
// listed nor left in the stack, and a static one is refused.
func TestIPv6_SLAACRefusedWhenFull(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1, QueueLen: 4096})
	a := newNode(t, "a")
	na := a.attach(t, seg, "eth0", mac(1))
	peer := newNDPPeer(t, seg, mac(0xfe), false)
	for i := 1; i < core.MaxAddrs6; i++ { // and the link-local one
		if err := na.AddAddr6(netip.MustParsePrefix(fmt.Sprintf("2001:db8:f::%x/128", i)), "static"); err != nil {
			t.Fatal(err)
		}
	}
	err := na.AddAddr6(netip.MustParsePrefix("2001:db8:f::ff/128"), "static")
	if !errors.Is(err, abi.ErrOS) || !strings.Contains(err.Error(), "full") {
		t.Fatalf("adding a 17th address: %v", err)
	}
	allPreferred(t, na)
	slaac := netip.MustParsePrefix("2001:db8:5::/64")
	peer.sendRA(t, mac(1), linkLocal(mac(1)), ra{prefixes: []raPrefix{{slaac, true, true}}})
	eventually(t, "the SLAAC address refused", func() bool { return na.Stats().Drops["ndp: address table full"] > 0 })
	eventually(t, "the refused address gone from the stack", func() bool {
		return !slices.ContainsFunc(na.StackAddrs6(), slaac.Contains)
	})
	if l := addr6Of(t, na); len(l) != core.MaxAddrs6 || slices.ContainsFunc(l, func(e abi.Tuple) bool {
		return slaac.Contains(netip.MustParseAddr(e[0].(string)))
	}) {
		t.Fatalf("addr6 = %v", l)
	}
	if got, want := len(na.StackAddrs6()), core.MaxAddrs6; got != want {
		t.Fatalf("the stack holds %d addresses, the table %d", got, want)
	}
}

// Adding an address already present fails and changes nothing; adding
// one that fails in the stack leaves the table as it was.
func TestNIC_AddAddr6Present(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	a := newNode(t, "a")
	na := a.attach(t, seg, "eth0", mac(1))
	allPreferred(t, na)
	ll := linkLocal(mac(1))
	before := addr6Of(t, na)
	for _, src := range []string{"static", "link-local"} {
		err := na.AddAddr6(netip.PrefixFrom(ll, 64), src)
		if !errors.Is(err, abi.ErrOS) || !strings.Contains(err.Error(), "already present") {
			t.Fatalf("adding the link-local address again as %s: %v", src, err)
		}
	}
	if got := addr6Of(t, na); !reflect.DeepEqual(got, before) {
		t.Fatalf("addr6 = %v after a refused add, was %v", got, before)
	}
	if !na.HasAddr6(ll) || !slices.Contains(na.StackAddrs6(), ll) {
		t.Fatalf("the link-local address is gone (table %v, stack %v)", addr6Of(t, na), na.StackAddrs6())
	}
	if na.HasAddr6(netip.MustParseAddr("2001:db8::1")) {
		t.Fatal("hasAddr6 of an address never added")
	}

	// A NIC gone from the stack: AddProtocolAddress fails.
	nb := a.attach(t, seg, "eth1", mac(2))
	nb.Remove()
	before = addr6Of(t, nb)
	if err := nb.AddAddr6(netip.MustParsePrefix("2001:db8::2/64"), "static"); err == nil {
		t.Fatal("adding an address to a removed NIC succeeded")
	}
	if got := addr6Of(t, nb); !reflect.DeepEqual(got, before) {
		t.Fatalf("addr6 = %v after a failed add, was %v", got, before)
	}
}

// An address that failed DAD (listed with state 0x40, no longer in the
// stack) may be added again: DAD runs again.
func TestNIC_AddAddr6AfterDuplicate(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	a, b := newNode(t, "a"), newNode(t, "b")
	na := a.attach(t, seg, "eth0", mac(5))
	allPreferred(t, na)
	nb := b.attach(t, seg, "eth0", mac(5)) // same MAC: same link-local
	dup := func() bool { l := addr6Of(t, nb); return len(l) == 1 && l[0][1] == int64(0x40) }
	eventually(t, "b to detect the duplicate", dup)
	ll := linkLocal(mac(5))
	if nb.HasAddr6(ll) {
		t.Fatal("hasAddr6 of a duplicated address")
	}
	if err := nb.AddAddr6(netip.PrefixFrom(ll, 64), "link-local"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b to detect the duplicate again", dup)
}
