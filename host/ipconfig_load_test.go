package host_test

import (
	"context"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/native"
	"github.com/nichost/nichost/internal/testdriver"
	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/plugins/lan/driver"
	"github.com/nichost/nichost/simnet"
)

// The ipconfig: sections of a plugin's interfaces are applied when it is
// loaded: each NIC's keys before anything brings it up, the dns: servers
// added to the host's static ones. The test driver runs natively (nothing
// is built); it declares eth0 and eth1 (NICs lan0.eth0 and lan0.eth1).

func newIPHost(t *testing.T, sims map[string]any) *host.Host {
	t.Helper()
	h, err := host.New(host.Options{Logger: slog.New(slog.DiscardHandler), Buses: sims})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func loadTestDriver(ctx context.Context, h *host.Host, name string, ifaces map[string]config.InterfaceConfig) (*host.Plugin, error) {
	return native.Load(ctx, h, config.PluginConfig{Name: name, Interfaces: ifaces}, testdriver.New)
}

func ipconfigOf(t *testing.T, n *host.NIC, key string) any {
	t.Helper()
	v, err := n.IPConfig(t.Context(), key)
	if err != nil {
		t.Fatalf("%s.ipconfig(%q): %v", n.Name(), key, err)
	}
	return v
}

func TestLoad_IPConfigStatic(t *testing.T) {
	h := newIPHost(t, nil)
	no := false
	p, err := loadTestDriver(t.Context(), h, "lan0", map[string]config.InterfaceConfig{
		"eth0": {IPConfig: &config.IPConfig{Addr4: "192.168.7.2/24", GW4: "192.168.7.1", Autoconf6: &no, Addr6: "2001:db8::5"}},
		"eth1": {IPConfig: &config.IPConfig{DHCP4: &no}},
	})
	if err != nil {
		t.Fatal(err)
	}
	eth0, eth1 := p.NICs()[0], p.NICs()[1]
	// Applied by the time Load returns, with no active(True) yet.
	if a := ipconfigOf(t, eth0, "addr4"); !slices.Equal(a.(abi.Tuple), abi.Tuple{"192.168.7.2", "255.255.255.0"}) {
		t.Errorf("lan0.eth0 addr4 = %v", a)
	}
	if gw := ipconfigOf(t, eth0, "gw4"); gw != "192.168.7.1" {
		t.Errorf("lan0.eth0 gw4 = %v", gw)
	}
	for _, n := range p.NICs() {
		if d := ipconfigOf(t, n, "dhcp4"); d != false {
			t.Errorf("%s dhcp4 = %v: a static addr4 and dhcp4: false turn the client off", n.Name(), d)
		}
		if l := ipconfigOf(t, n, "has_dhcp4"); l != false {
			t.Errorf("%s has_dhcp4 = %v", n.Name(), l)
		}
	}
	if a := ipconfigOf(t, eth0, "autoconf6"); a != false {
		t.Errorf("lan0.eth0 autoconf6 = %v", a)
	}
	if !slices.ContainsFunc(ipconfigOf(t, eth0, "addr6").([]any), func(e any) bool { return e.(abi.Tuple)[0] == "2001:db8::5" }) {
		t.Errorf("lan0.eth0 addr6 = %v, want 2001:db8::5 among them", ipconfigOf(t, eth0, "addr6"))
	}
	if a := ipconfigOf(t, eth1, "addr4"); a.(abi.Tuple)[0] != "0.0.0.0" {
		t.Errorf("lan0.eth1 addr4 = %v; only eth0 has one", a)
	}
	if s := h.DNSServers(); len(s) != 0 {
		t.Errorf("DNS servers %v; no section has dns:", s)
	}

	// dhcp4: true turns the client on (whatever the default).
	yes := true
	p2, err := loadTestDriver(t.Context(), h, "lan1", map[string]config.InterfaceConfig{"eth1": {IPConfig: &config.IPConfig{DHCP4: &yes}}})
	if err != nil {
		t.Fatal(err)
	}
	if d := ipconfigOf(t, p2.NICs()[1], "dhcp4"); d != true {
		t.Errorf("lan1.eth1 dhcp4 = %v after dhcp4: true", d)
	}
}

// TestLoad_IPConfigDNS checks that the dns: servers of every interface of
// every plugin are added, in config order and without repeats, after the
// host's static ones.
func TestLoad_IPConfigDNS(t *testing.T) {
	h := newIPHost(t, nil)
	if err := h.SetIPConfig(host.KW{"dns": "9.9.9.9"}); err != nil {
		t.Fatal(err)
	}
	loads := []struct {
		name   string
		ifaces map[string]config.InterfaceConfig
	}{
		{"a", map[string]config.InterfaceConfig{
			"eth1": {IPConfig: &config.IPConfig{DNS: config.AddrList{"10.0.0.54", "2001:db8::53", "10.0.0.53"}}},
			"eth0": {IPConfig: &config.IPConfig{DNS: config.AddrList{"10.0.0.53", "9.9.9.9", "10.0.0.54"}}},
		}},
		{"b", map[string]config.InterfaceConfig{"eth0": {MAC: "02:00:00:00:00:0b"}}},
		{"c", map[string]config.InterfaceConfig{"eth0": {IPConfig: &config.IPConfig{DNS: config.AddrList{"10.0.0.1", "2001:DB8::53"}}}}},
	}
	for _, l := range loads {
		if _, err := loadTestDriver(t.Context(), h, l.name, l.ifaces); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, a := range h.DNSServers() {
		got = append(got, a.String())
	}
	want := []string{"9.9.9.9", "10.0.0.53", "10.0.0.54", "2001:db8::53", "10.0.0.1"}
	if !slices.Equal(got, want) {
		t.Fatalf("DNS servers %v, want %v (the static one, then a's eth0, a's eth1, c's eth0)", got, want)
	}
	if d, _ := h.IPConfig("dns"); d != "9.9.9.9" {
		t.Errorf("network.ipconfig('dns') = %v, want the first server", d)
	}
}

// TestLoad_IPConfigFails checks that a section that cannot be applied fails
// the load, naming the plugin, the interface and the key, and leaves the
// host as it was.
func TestLoad_IPConfigFails(t *testing.T) {
	h := newIPHost(t, nil)
	no := false
	ifaces := map[string]config.InterfaceConfig{
		"eth0": {IPConfig: &config.IPConfig{Addr4: "10.1.0.2/24", DNS: config.AddrList{"10.1.0.53"}}},
		"wlan": {IPConfig: &config.IPConfig{DHCP4: &no}},
	}
	_, err := loadTestDriver(t.Context(), h, "lan0", ifaces)
	if err == nil || !strings.Contains(err.Error(), `plugin "lan0": load: interfaces.wlan.ipconfig: the plugin has no interface "wlan" (it declares eth0, eth1)`) {
		t.Fatalf("load = %v", err)
	}
	if len(h.Plugins()) != 0 || len(h.NICs()) != 0 || len(h.DNSServers()) != 0 {
		t.Fatalf("a failed load left plugins %v, NICs %v, DNS servers %v", h.Plugins(), h.NICs(), h.DNSServers())
	}
	// Nothing of it stays claimed: the same plugin loads once the section is fixed.
	delete(ifaces, "wlan")
	p, err := loadTestDriver(t.Context(), h, "lan0", ifaces)
	if err != nil {
		t.Fatalf("load after the failed one: %v", err)
	}
	if a := ipconfigOf(t, p.NICs()[0], "addr4"); a.(abi.Tuple)[0] != "10.1.0.2" {
		t.Errorf("lan0.eth0 addr4 = %v", a)
	}

	// A configuration built in Go is checked as a file's is, before
	// anything is started.
	if _, err := loadTestDriver(t.Context(), h, "bad", map[string]config.InterfaceConfig{"eth0": {IPConfig: &config.IPConfig{Addr4: "nonsense"}}}); err == nil ||
		!strings.Contains(err.Error(), `plugin "bad": load: `) || !strings.Contains(err.Error(), "interfaces.eth0.ipconfig") || !strings.Contains(err.Error(), "addr4") {
		t.Fatalf("load with a bad addr4 = %v", err)
	}
}

// TestLoad_IPConfigOnSimulatedLAN runs the LAN driver on a simulated LAN:
// dhcp4: true leases an address from the router, a static addr4 reaches
// the router without DHCP.
func TestLoad_IPConfigOnSimulatedLAN(t *testing.T) {
	_, sims, grants := simLAN(t, "dyn", "fix")
	h := newIPHost(t, sims)
	yes, no := true, false
	dyn, err := native.Load(t.Context(), h, config.PluginConfig{Name: "dyn", Class: abi.ClassLAN, Buses: grants[0],
		Interfaces: map[string]config.InterfaceConfig{"eth": {IPConfig: &config.IPConfig{DHCP4: &yes, DNS: config.AddrList{"192.0.2.53"}}}}}, driver.New)
	if err != nil {
		t.Fatal(err)
	}
	fix, err := native.Load(t.Context(), h, config.PluginConfig{Name: "fix", Class: abi.ClassLAN, Buses: grants[1],
		Interfaces: map[string]config.InterfaceConfig{"eth": {IPConfig: &config.IPConfig{Addr4: "10.64.0.50/24", GW4: "10.64.0.1", Autoconf6: &no}}}}, driver.New)
	if err != nil {
		t.Fatal(err)
	}
	ctx := wait.Context(t)
	for _, p := range []*host.Plugin{dyn, fix} {
		if err := p.NICs()[0].SetActive(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	d := dyn.NICs()[0]
	wait.For(t, "a DHCP lease on dyn", func() bool { v, _ := d.IPConfig(ctx, "has_dhcp4"); return v == true })
	a := netip.MustParseAddr(ipconfigOf(t, d, "addr4").(abi.Tuple)[0].(string))
	if !simnet.Subnet.Contains(a) || a == simnet.RouterAddr {
		t.Fatalf("dyn leased %s, not an address of the router's pool in %s", a, simnet.Subnet)
	}
	if s := h.DNSServers(); len(s) == 0 || s[0] != netip.MustParseAddr("192.0.2.53") {
		t.Errorf("DNS servers %v: the configured one comes first, ahead of the lease's", s)
	}
	f := fix.NICs()[0]
	wait.For(t, "fix reaching the router from its static address", func() bool {
		pctx, cancel := context.WithTimeout(ctx, wait.Limit/20)
		defer cancel()
		_, err := f.Ping(pctx, simnet.RouterAddr, 32)
		return err == nil
	})
	if l := ipconfigOf(t, f, "has_dhcp4"); l != false {
		t.Errorf("fix has_dhcp4 = %v with a static addr4", l)
	}
	if a := ipconfigOf(t, f, "addr4"); a.(abi.Tuple)[0] != "10.64.0.50" {
		t.Errorf("fix addr4 = %v", a)
	}
}
