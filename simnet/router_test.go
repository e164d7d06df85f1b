package simnet_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/simnet"
)

// newRouter starts a router that the test closes.
func newRouter(t *testing.T, opts simnet.Options) *simnet.Router {
	t.Helper()
	r, err := simnet.NewRouter(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// client attaches a core stack with one NIC to the router's LAN, the way
// the host attaches a plugin's interface, and brings its link up.
func client(t *testing.T, r *simnet.Router, hostname string, last byte) (*core.Stack, *core.NIC) {
	t.Helper()
	st := core.New(core.Options{Hostname: func() string { return hostname }, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(st.Close)
	port := r.Attach(hostname)
	nic, err := st.AddNIC("eth0", net.HardwareAddr{2, 0, 0, 0, 0, last}, core.LinkEthernet, port.WriteFrame)
	if err != nil {
		t.Fatal(err)
	}
	stop := bus.Forward(port, func(f []byte) { nic.DeliverFrame(f) })
	t.Cleanup(func() { stop(); port.Close() })
	nic.LinkChanged(core.LinkState{Up: true, Type: core.LinkEthernet})
	return st, nic
}

// get fetches url through nic and checks it is the router's page.
func get(t *testing.T, ctx context.Context, r *simnet.Router, nic *core.NIC, url string) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DialContext: nic.Dial, DisableKeepAlives: true}}
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(body, r.Page) {
		t.Fatalf("GET %s: %d, %d bytes", url, resp.StatusCode, len(body))
	}
}

// A client core on the router's LAN gets a lease, resolves the router's
// name and fetches its page over HTTP on IPv4, whether or not the LAN also
// runs IPv6.
func TestRouter_DHCPDNSHTTP(t *testing.T) {
	for _, c := range []struct {
		name  string
		ipv6  bool
		names []string // www's addresses, prefer=4
	}{
		{"IPv4 LAN", false, []string{"10.64.0.1"}},
		{"dual-stack LAN", true, []string{"10.64.0.1", "fd64::1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRouter(t, simnet.Options{PageSize: 100 << 10, IPv6: c.ipv6})
			st, nic := client(t, r, "client", 7)
			nic.SetIPConfig(map[string]any{"dhcp4": true})
			wait.For(t, "a lease from the router", func() bool { v, _ := nic.IPConfig("has_dhcp4"); return v == true })
			if l := r.Leases(); len(l) != 1 || l[0].Hostname != "client" || !l[0].Bound || l[0].Addr != netip.MustParseAddr("10.64.0.100") {
				t.Fatalf("leases %+v", l)
			}
			ctx := wait.Context(t)
			addrs, err := st.LookupHost(ctx, "www.sim.nichost")
			if err != nil || !slices.Equal(addrs, c.names) {
				t.Fatalf("LookupHost = %v, %v; want %v", addrs, err, c.names)
			}
			if _, err := st.LookupHost(ctx, "nope.sim.nichost"); err == nil {
				t.Fatal("an unknown name resolved")
			}
			get(t, ctx, r, nic, "http://10.64.0.1/")
			get(t, ctx, r, nic, r.URL())
		})
	}
}

// With IPv6 a host on the LAN configures an address in the advertised
// prefix by SLAAC, learns the router as gateway and DNS server from the
// advertisement, and reaches the router's services over IPv6 alone.
func TestRouter_SLAAC(t *testing.T) {
	r := newRouter(t, simnet.Options{IPv6: true})
	st, nic := client(t, r, "client", 8)
	wait.For(t, "a SLAAC address", func() bool { v, _ := nic.IPConfig("has_autoconf6"); return v == true })
	// The stable address is the EUI-64 of 02:00:00:00:00:08 (the U/L bit
	// flipped); gVisor may add temporary (RFC 4941) ones in the prefix.
	want := netip.MustParseAddr("fd64::ff:fe00:8")
	wait.For(t, want.String()+" preferred", func() bool {
		for _, e := range nic.Addrs6() {
			if e := e.(abi.Tuple); e[0] == want.String() && e[1] == int64(0x30) {
				return true
			}
		}
		return false
	})
	for _, e := range nic.Addrs6() {
		a := netip.MustParseAddr(e.(abi.Tuple)[0].(string))
		if !a.IsLinkLocalUnicast() && !simnet.Prefix6.Contains(a) {
			t.Fatalf("address %s outside %s (addr6 %v)", a, simnet.Prefix6, nic.Addrs6())
		}
	}
	wait.For(t, "the router as DNS server (RDNSS)", func() bool { return slices.Contains(st.DNSServers(), simnet.RouterAddr6) })
	if len(st.DNSServers()) != 1 {
		t.Fatalf("DNS servers %v, want only the advertised one (no DHCPv4 here)", st.DNSServers())
	}
	ctx := wait.Context(t)
	st.SetPrefer(6)
	addrs, err := st.LookupHost(ctx, "www.sim.nichost")
	if err != nil || !slices.Equal(addrs, []string{"fd64::1", "10.64.0.1"}) {
		t.Fatalf("LookupHost with prefer=6 = %v, %v", addrs, err)
	}
	get(t, ctx, r, nic, "http://[fd64::1]/")
	get(t, ctx, r, nic, r.URL()) // by name: fd64::1 first
}

// The router's DNS server answers A always and AAAA with IPv6, the
// preferred family first; unknown names do not resolve.
func TestRouter_LookupHost(t *testing.T) {
	for _, c := range []struct {
		name   string
		ipv6   bool
		prefer int
		host   string
		want   []string // nil: an error
	}{
		{"IPv4 LAN: A only", false, 4, "www.sim.nichost", []string{"10.64.0.1"}},
		{"IPv4 LAN, prefer=6: A only", false, 6, "router.sim.nichost", []string{"10.64.0.1"}},
		{"IPv6 LAN: A first", true, 4, "www.sim.nichost", []string{"10.64.0.1", "fd64::1"}},
		{"IPv6 LAN, prefer=6: AAAA first", true, 6, "router.sim.nichost", []string{"fd64::1", "10.64.0.1"}},
		{"names are case-insensitive", true, 6, "WWW.Sim.Nichost", []string{"fd64::1", "10.64.0.1"}},
		{"unknown name", true, 4, "nope.sim.nichost", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRouter(t, simnet.Options{IPv6: c.ipv6})
			st, nic := client(t, r, "client", 9)
			// Static IPv4, no SLAAC and the router as DNS server: only
			// the DNS server's answers are under test.
			if err := nic.SetIPConfig(map[string]any{"addr4": "10.64.0.50/24", "autoconf6": false}); err != nil {
				t.Fatal(err)
			}
			st.SetDNS([]netip.Addr{simnet.RouterAddr})
			st.SetPrefer(c.prefer)
			addrs, err := st.LookupHost(wait.Context(t), c.host)
			switch {
			case c.want == nil && err == nil:
				t.Fatalf("LookupHost(%s) = %v, want an error", c.host, addrs)
			case c.want != nil && (err != nil || !slices.Equal(addrs, c.want)):
				t.Fatalf("LookupHost(%s) = %v, %v; want %v", c.host, addrs, err, c.want)
			}
		})
	}
}

func TestNewRouter(t *testing.T) {
	if _, err := simnet.NewRouter(simnet.Options{Segment: sim.SegmentOptions{Loss: 2}}); err == nil {
		t.Fatal("a loss of 2 was accepted")
	} else if got := err.Error(); len(got) < 8 || got[:8] != "simnet: " {
		t.Fatalf("error %q lacks the package prefix", got)
	}
	r := newRouter(t, simnet.Options{Domain: "lab.test", PageSize: 10})
	if r.URL() != "http://www.lab.test/" || len(r.Page) != 10 {
		t.Fatalf("URL %s, page %d bytes", r.URL(), len(r.Page))
	}
}
