package simnet_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/simnet"
)

// newDNSServer starts a DNS-only node on r's LAN that the test closes.
func newDNSServer(t *testing.T, r *simnet.Router, opts simnet.DNSServerOptions) *simnet.DNSServer {
	t.Helper()
	s, err := simnet.NewDNSServer(r, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func count(log []simnet.DNSQuery, q simnet.DNSQuery) int {
	n := 0
	for _, e := range log {
		if e == q {
			n++
		}
	}
	return n
}

var (
	wwwA    = simnet.DNSQuery{Name: "www.sim.nichost", Type: "A"}
	wwwAAAA = simnet.DNSQuery{Name: "www.sim.nichost", Type: "AAAA"}
)

// A second DNS server on the LAN, set as the static one, answers every
// lookup of a host that also learnt the router from DHCP; the router's
// log shows only a lookup made after the static server was removed.
func TestDNSServer_StaticBesideLearnt(t *testing.T) {
	r := newRouter(t, simnet.Options{IPv6: true})
	static := newDNSServer(t, r, simnet.DNSServerOptions{})
	if static.Addr != netip.MustParseAddr("10.64.0.53") {
		t.Fatalf("default address %s", static.Addr)
	}
	st, nic := client(t, r, "client", 20)
	nic.SetIPConfig(map[string]any{"dhcp4": true})
	wait.For(t, "a lease", func() bool { v, _ := nic.IPConfig("has_dhcp4"); return v == true })
	st.SetDNS([]netip.Addr{static.Addr})
	if got := st.DNSServers(); len(got) < 2 || got[0] != static.Addr || got[1] != simnet.RouterAddr {
		t.Fatalf("DNSServers = %v, want the static server, then the router", got)
	}
	ctx := wait.Context(t)
	const lookups = 20
	for i := range lookups {
		st.SetDNS([]netip.Addr{static.Addr}) // empties the cache
		got, err := st.LookupHost(ctx, "www.sim.nichost")
		if err != nil || !slices.Equal(got, []string{"10.64.0.1", "fd64::1"}) {
			t.Fatalf("lookup %d = %v, %v", i, got, err)
		}
	}
	if log := static.Queries(); count(log, wwwA) != lookups || count(log, wwwAAAA) != lookups {
		t.Fatalf("the static server's log %v, want %d A and %d AAAA queries for www", log, lookups, lookups)
	}
	// Without the static server the router is asked: every query sent to
	// it before is in its log by the time these are.
	st.SetDNS(nil)
	if _, err := st.LookupHost(ctx, "www.sim.nichost"); err != nil {
		t.Fatal(err)
	}
	if log := r.DNSQueries(); count(log, wwwA) != 1 || count(log, wwwAAAA) != 1 || len(log) != 2 {
		t.Fatalf("the router's log %v, want only the last lookup's two queries", log)
	}
}

// A dropping server logs every attempt and answers none; the host falls
// back to the router.
func TestDNSServer_Drop(t *testing.T) {
	r := newRouter(t, simnet.Options{})
	dead := newDNSServer(t, r, simnet.DNSServerOptions{Addr: netip.MustParseAddr("10.64.0.54"), Drop: true})
	st, nic := client(t, r, "client", 21)
	nic.SetIPConfig(map[string]any{"dhcp4": true})
	wait.For(t, "a lease", func() bool { v, _ := nic.IPConfig("has_dhcp4"); return v == true })
	st.SetDNS([]netip.Addr{dead.Addr})
	got, err := st.LookupHost(wait.Context(t), "www.sim.nichost")
	if err != nil || !slices.Equal(got, []string{"10.64.0.1"}) {
		t.Fatalf("LookupHost = %v, %v", got, err)
	}
	wait.For(t, "the dead server's log", func() bool { return len(dead.Queries()) >= 4 })
	if log := dead.Queries(); count(log, wwwA) != 2 || count(log, wwwAAAA) != 2 {
		t.Fatalf("the dead server's log %v, want 2 attempts per family", log)
	}
	if log := r.DNSQueries(); count(log, wwwA) != 1 || count(log, wwwAAAA) != 1 {
		t.Fatalf("the router's log %v", log)
	}
}

// A server with its own records; bad addresses are refused.
func TestNewDNSServer(t *testing.T) {
	r := newRouter(t, simnet.Options{})
	s := newDNSServer(t, r, simnet.DNSServerOptions{Addr: netip.MustParseAddr("10.64.0.60"), Records: map[string][]netip.Addr{
		"Printer.Lab": {netip.MustParseAddr("10.64.0.61"), netip.MustParseAddr("fd64::61")},
	}})
	st, nic := client(t, r, "client", 22)
	if err := nic.SetIPConfig(map[string]any{"addr4": "10.64.0.50/24", "autoconf6": false}); err != nil {
		t.Fatal(err)
	}
	st.SetDNS([]netip.Addr{s.Addr})
	ctx := wait.Context(t)
	if got, err := st.LookupHost(ctx, "printer.lab"); err != nil || !slices.Equal(got, []string{"10.64.0.61", "fd64::61"}) {
		t.Fatalf("LookupHost(printer.lab) = %v, %v", got, err)
	}
	if _, err := st.LookupHost(ctx, "www.sim.nichost"); err == nil {
		t.Fatal("a name outside the records resolved")
	}
	if log := s.Queries(); len(log) < 3 || log[0].Name != "printer.lab" {
		t.Fatalf("log %v", log)
	}
	for addr, want := range map[string]string{
		"10.64.0.1":   "the router's",
		"10.64.0.150": "in the DHCP pool",
		"10.65.0.53":  "not a host address",
		"10.64.0.255": "not a host address",
		"fd64::53":    "not a host address",
	} {
		_, err := simnet.NewDNSServer(r, simnet.DNSServerOptions{Addr: netip.MustParseAddr(addr)})
		if err == nil || !strings.HasPrefix(err.Error(), "simnet: ") || !strings.Contains(err.Error(), want) {
			t.Errorf("NewDNSServer at %s: %v, want an error with %q", addr, err, want)
		}
	}
}
