package core_test

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/internal/wait"
)

// What a PPP driver reports (the far end's IPCP proposal) is applied, and
// held to the rules of a DHCP lease: an address that is no host's is
// refused and counted, and at most three usable DNS servers are kept.
func TestNIC_ReportedIsChecked(t *testing.T) {
	st := newNode(t, "ppp").st
	nic, err := st.AddNIC("ppp0", nil, core.LinkIP, func([]byte) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	nic.LinkChanged(core.LinkState{Up: true, Type: core.LinkIP, MTU: 1500})
	nic.Reported(map[string]any{"addr4": "10.8.0.2", "peer4": "10.8.0.1",
		"dns": []any{"10.8.0.53", "0.0.0.0", "10.8.0.54", "10.8.0.53", "224.0.0.251", "10.8.0.55", "10.8.0.56"}})
	good := func() {
		t.Helper()
		if a, _ := nic.IPConfig("addr4"); !reflect.DeepEqual(a, abi.Tuple{"10.8.0.2", "255.255.255.255"}) {
			t.Errorf("addr4 = %v", a)
		}
		if gw, _ := nic.IPConfig("gw4"); gw != "10.8.0.1" {
			t.Errorf("gw4 = %v", gw)
		}
		want := []netip.Addr{netip.MustParseAddr("10.8.0.53"), netip.MustParseAddr("10.8.0.54"), netip.MustParseAddr("10.8.0.55")}
		if dns := nic.DNS(); !reflect.DeepEqual(dns, want) {
			t.Errorf("DNS = %v, want the first three usable, once each: %v", dns, want)
		}
	}
	good()
	for _, bad := range []map[string]any{
		{"addr4": "0.0.0.0"}, {"addr4": "127.0.0.1"}, {"addr4": "224.0.0.1"}, {"addr4": "255.255.255.255"},
		{"addr4": "fd00::1"}, {"addr4": "nonsense"}, {"peer4": "0.0.0.0"}, {"peer4": "239.1.1.1"},
	} {
		nic.Reported(bad)
		good()
	}
	refused := 0
	for reason, n := range nic.Stats().Drops {
		if strings.HasPrefix(reason, "report: refused ") {
			refused += int(n)
		}
	}
	if refused != 2+8 { // two DNS servers of the first report, then each bad one
		t.Errorf("refused reports counted %d times, want 10: %v", refused, nic.Stats().Drops)
	}
}

// An IP-only link carries no IPv6 the driver did not negotiate: what the
// stack would send of its own (router solicitations, MLD reports) is
// dropped before the driver and counted, while IPv4 goes through.
func TestNIC_IPOnlyLinkSendsNoIPv6(t *testing.T) {
	st := newNode(t, "ppp").st
	var mu sync.Mutex
	var sent [][]byte
	nic, err := st.AddNIC("ppp0", nil, core.LinkIP, func(p []byte) error {
		mu.Lock()
		sent = append(sent, append([]byte(nil), p...))
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	nic.LinkChanged(core.LinkState{Up: true, Type: core.LinkIP, MTU: 1500})
	nic.Reported(map[string]any{"addr4": "10.8.0.2", "peer4": "10.8.0.1"})
	wait.For(t, "the stack's own IPv6 to be dropped", func() bool { return nic.Stats().Drops[core.DropNoIPv6] > 0 })
	c, err := nic.Dial(t.Context(), "udp", "10.8.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("v4"))
	c.Close()
	wait.For(t, "the IPv4 datagram", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.ContainsFunc(sent, func(p []byte) bool { return p[0]>>4 == 4 && p[9] == 17 })
	})
	mu.Lock()
	defer mu.Unlock()
	for _, p := range sent {
		if p[0]>>4 != 4 {
			t.Errorf("the driver was given a packet of IP version %d: % x", p[0]>>4, p[:min(len(p), 40)])
		}
	}
}
