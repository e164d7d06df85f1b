package core_test

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
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
