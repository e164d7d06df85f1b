package core_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/bus/sim"
)

// An access point's interface serves DHCPv4: two stations on its link
// get distinct addresses of its subnet, with it as their router, and
// reach it; its leases list them.
func TestServeDHCP4_StationsGetLeases(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{})
	ap := newNode(t, "ap")
	apNIC := ap.attach(t, seg, "ap0", mac(1))
	if err := apNIC.ServeDHCP4(core.DefaultAP4); err != nil {
		t.Fatal(err)
	}
	if got := apNIC.Addr4(); got != core.DefaultAP4 {
		t.Fatalf("the access point's address is %v, want %v", got, core.DefaultAP4)
	}
	var stas []*core.NIC
	for i := range 2 {
		nd := newNode(t, "sta")
		n := nd.attach(t, seg, "wlan0", mac(byte(10+i)))
		n.StartDHCPByDefault()
		stas = append(stas, n)
	}
	for _, n := range stas {
		eventually(t, "a lease from the access point", func() bool { return n.Addr4().IsValid() })
		if !core.DefaultAP4.Contains(n.Addr4().Addr()) || n.Addr4().Bits() != 24 || n.Addr4().Addr() == core.DefaultAP4.Addr() {
			t.Fatalf("station got %v, want an address of %v other than the access point's", n.Addr4(), core.DefaultAP4)
		}
		if gw := n.Gateway4(); gw != core.DefaultAP4.Addr() {
			t.Errorf("station's gateway is %v, want the access point %v", gw, core.DefaultAP4.Addr())
		}
	}
	if _, err := stas[0].Ping(ctxT(t), core.DefaultAP4.Addr(), 56); err != nil {
		t.Errorf("the station cannot ping the access point: %v", err)
	}
	if stas[0].Addr4() == stas[1].Addr4() {
		t.Fatalf("both stations got %v", stas[0].Addr4())
	}
	eventually(t, "two bound leases", func() bool {
		l := apNIC.Leases()
		return len(l) == 2 && l[0].Bound && l[1].Bound
	})
	if v, _ := apNIC.IPConfig("dhcp4"); v != false {
		t.Errorf("ipconfig('dhcp4') on the access point = %v, want False (it serves, it does not ask)", v)
	}
}

// ipconfig on an access point: dhcp4=True is refused, a subnet without
// room for stations is refused, and a new address moves the server.
func TestServeDHCP4_IPConfig(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{})
	ap := newNode(t, "ap")
	apNIC := ap.attach(t, seg, "ap0", mac(1))
	if err := apNIC.ServeDHCP4(core.DefaultAP4); err != nil {
		t.Fatal(err)
	}
	for kw, want := range map[string]map[string]any{
		"dhcp4=True": {"dhcp4": true},
		"a /31":      {"addr4": "10.1.1.0/31"},
	} {
		err := apNIC.SetIPConfig(want)
		if !errors.Is(err, abi.ErrValue) {
			t.Errorf("ipconfig(%s) on an access point = %v, want a ValueError", kw, err)
		}
		if got := apNIC.Addr4(); got != core.DefaultAP4 {
			t.Fatalf("after the refused ipconfig(%s) the address is %v, want %v unchanged", kw, got, core.DefaultAP4)
		}
	}
	moved := netip.MustParsePrefix("10.42.0.1/28")
	if err := apNIC.SetIPConfig(map[string]any{"addr4": moved.String()}); err != nil {
		t.Fatal(err)
	}
	sta := newNode(t, "sta").attach(t, seg, "wlan0", mac(9))
	sta.StartDHCPByDefault()
	eventually(t, "a lease from the moved server", func() bool { return sta.Addr4().IsValid() })
	if !moved.Masked().Contains(sta.Addr4().Addr()) || sta.Addr4().Bits() != 28 {
		t.Fatalf("station got %v, want an address of %v", sta.Addr4(), moved.Masked())
	}
}
