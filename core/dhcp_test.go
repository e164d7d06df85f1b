package core_test

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/internal/dhcpserver"
)

// router is a node at 10.64.0.1/24 whose link also carries a DHCP server
// (internal/dhcpserver) handing out 10.64.0.100-199.
func router(t *testing.T, seg *sim.Segment, lease time.Duration) (*node, *dhcpserver.Server) {
	t.Helper()
	r := newNode(t, "router")
	port := seg.Attach("lan")
	nic, err := r.st.AddNIC("lan", mac(0xfe), core.LinkEthernet, port.WriteFrame)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := dhcpserver.New(dhcpserver.Config{
		Addr: netip.MustParsePrefix("10.64.0.1/24"), MAC: mac(0xfe),
		First: netip.MustParseAddr("10.64.0.100"), Last: netip.MustParseAddr("10.64.0.199"),
		Router: netip.MustParseAddr("10.64.0.1"), DNS: []netip.Addr{netip.MustParseAddr("10.64.0.1")}, Lease: lease,
		Send: port.WriteFrame,
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := bus.Forward(port, func(f []byte) {
		if !srv.Handle(f) {
			nic.DeliverFrame(f)
		}
	})
	t.Cleanup(func() { stop(); port.Close() })
	nic.LinkChanged(core.LinkState{Up: true, Type: core.LinkEthernet, MTU: 1500})
	if err := nic.SetIPConfig(map[string]any{"addr4": "10.64.0.1/24"}); err != nil {
		t.Fatal(err)
	}
	return r, srv
}

func TestDHCP_LeaseRenewRelease(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	_, srv := router(t, seg, 4*time.Second)
	client := newNode(t, "board-7")
	nic := client.attach(t, seg, "eth0", mac(7))
	if err := nic.SetIPConfig(map[string]any{"dhcp4": true}); err != nil {
		t.Fatal(err)
	}
	if on, _ := nic.IPConfig("dhcp4"); on != true {
		t.Fatal("dhcp4 not on after ipconfig(dhcp4=True)")
	}
	eventually(t, "a DHCP lease", func() bool { v, _ := nic.IPConfig("has_dhcp4"); return v == true })
	if got, _ := nic.IPConfig("addr4"); !reflect.DeepEqual(got, abi.Tuple{"10.64.0.100", "255.255.255.0"}) {
		t.Fatalf("addr4 = %v", got)
	}
	if gw, _ := nic.IPConfig("gw4"); gw != "10.64.0.1" {
		t.Fatalf("gw4 = %v", gw)
	}
	if dns := client.st.DNSServers(); len(dns) != 1 || dns[0].String() != "10.64.0.1" {
		t.Fatalf("DNS from DHCP = %v", dns)
	}
	leases := srv.Leases()
	if len(leases) != 1 || leases[0].Hostname != "board-7" || !leases[0].Bound {
		t.Fatalf("server leases %+v, want one bound to hostname board-7", leases)
	}
	// T1 is 2 s: the client renews with its server before the lease runs
	// out, and keeps its address.
	first := leases[0].Expires
	eventually(t, "a renewal", func() bool { l := srv.Leases(); return len(l) == 1 && l[0].Expires.After(first) })
	if v, _ := nic.IPConfig("has_dhcp4"); v != true {
		t.Fatal("lost the lease while renewing")
	}
	// dhcp4=False releases the lease and removes the address.
	if err := nic.SetIPConfig(map[string]any{"dhcp4": false}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the release at the server", func() bool { return len(srv.Leases()) == 0 })
	if got, _ := nic.IPConfig("addr4"); !reflect.DeepEqual(got, abi.Tuple{"0.0.0.0", "0.0.0.0"}) {
		t.Fatalf("addr4 after release = %v", got)
	}
}

// A link down for longer than the flap window is a new link: the lease is
// confirmed (INIT-REBOOT) when it comes back.
func TestDHCP_LinkDownUpRebootsLease(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	_, srv := router(t, seg, time.Hour)
	client := newNodeWith(t, core.Options{FlapWindow: 20 * time.Millisecond})
	nic := client.attach(t, seg, "eth0", mac(8))
	nic.SetIPConfig(map[string]any{"dhcp4": true})
	eventually(t, "a lease", func() bool { v, _ := nic.IPConfig("has_dhcp4"); return v == true })
	before := srv.Leases()[0].Expires
	nic.LinkChanged(core.LinkState{Up: false, Type: core.LinkEthernet})
	eventually(t, "the end of the flap window", func() bool { return !nic.Flapping() })
	nic.LinkChanged(core.LinkState{Up: true, Type: core.LinkEthernet})
	eventually(t, "the lease confirmed again", func() bool { return srv.Leases()[0].Expires.After(before) })
	if got, _ := nic.IPConfig("addr4"); !reflect.DeepEqual(got, abi.Tuple{"10.64.0.100", "255.255.255.0"}) {
		t.Fatalf("addr4 after link flap = %v", got)
	}
}

func TestDHCP_LossyLink(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 3, Loss: 0.3})
	router(t, seg, time.Hour)
	client := newNode(t, "c")
	nic := client.attach(t, seg, "eth0", mac(9))
	nic.SetIPConfig(map[string]any{"dhcp4": true})
	eventually(t, "a lease despite 30% loss", func() bool { v, _ := nic.IPConfig("has_dhcp4"); return v == true })
}
