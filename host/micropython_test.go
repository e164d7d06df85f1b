package host_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/native"
	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/plugins/lan/driver"
	"github.com/nichost/nichost/simnet"
	"github.com/nichost/nichost/simnet/devices"
)

// lanHost is a host with LAN drivers (run natively) on simulated PHYs, all
// cabled to one simulated router that serves DHCP, DNS and HTTP.
type lanHost struct {
	h      *host.Host
	router *simnet.Router
	nics   []*host.NIC
}

func newLANHost(t *testing.T, names ...string) *lanHost {
	t.Helper()
	router, sims, grants := simLAN(t, names...)
	h, err := host.New(host.Options{Logger: slog.New(slog.DiscardHandler), Buses: sims})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	lh := &lanHost{h: h, router: router}
	for i, name := range names {
		p, err := native.Load(t.Context(), h, config.PluginConfig{Name: name, Class: abi.ClassLAN, Buses: grants[i]}, driver.New)
		if err != nil {
			t.Fatal(err)
		}
		lh.nics = append(lh.nics, p.NICs()[0])
	}
	return lh
}

// simLAN is a simulated router and one LAN8720-style device per name
// cabled to it: the simulated buses (host.Options.Buses) and each
// device's grants (PluginConfig.Buses), in the order of names.
func simLAN(t *testing.T, names ...string) (*simnet.Router, map[string]any, []map[string]config.BusGrant) {
	t.Helper()
	router, err := simnet.NewRouter(simnet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(router.Close)
	model, _ := devices.Lookup("lan8720")
	sims := map[string]any{}
	var grants []map[string]config.BusGrant
	for _, name := range names {
		dev, err := model.New(router, devices.Options{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if dev.Close != nil {
			t.Cleanup(dev.Close)
		}
		for k, v := range dev.Sims {
			sims[k] = v
		}
		grants = append(grants, dev.Buses)
	}
	return router, sims, grants
}

// leaseOf is the address the simulated router acknowledged for mac.
func (l *lanHost) leaseOf(mac net.HardwareAddr) (netip.Addr, bool) {
	for _, le := range l.router.Leases() {
		if le.Bound && bytes.Equal(le.MAC, mac) {
			return le.Addr, true
		}
	}
	return netip.Addr{}, false
}

// The seed's first example, through the Go API: bring the interface up,
// wait for isconnected(), print ipconfig("addr4"). With no dhcp4=True the
// address printed is the one the router leased.
func TestSeed_FirstExampleGetsALease(t *testing.T) {
	l := newLANHost(t, "lan0")
	nic, ctx := l.nics[0], wait.Context(t)
	if on, _ := nic.IPConfig(ctx, "dhcp4"); on != true {
		t.Fatalf("ipconfig('dhcp4') = %v before active(True); LAN interfaces run DHCP by default", on)
	}
	if err := nic.SetActive(ctx, true); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "isconnected()", func() bool { up, err := nic.IsConnected(ctx); return up && err == nil })
	addr4, err := nic.IPConfig(ctx, "addr4")
	if err != nil {
		t.Fatal(err)
	}
	leased, ok := l.leaseOf(nic.MAC())
	if !ok {
		t.Fatalf("isconnected() is true but the router has acknowledged no lease for %s", nic.MAC())
	}
	if want := (abi.Tuple{leased.String(), "255.255.255.0"}); !reflect.DeepEqual(addr4, want) {
		t.Fatalf("ipconfig('addr4') = %v right after isconnected(); want the lease %v", addr4, want)
	}
	// The typed face says the same.
	p, err := nic.Addr4()
	if err != nil || p != netip.PrefixFrom(leased, 24) {
		t.Errorf("Addr4() = %v, %v; want %v/24", p, err, leased)
	}
	if gw, err := nic.Gateway4(); err != nil || gw != simnet.RouterAddr {
		t.Errorf("Gateway4() = %v, %v; want the router %v", gw, err, simnet.RouterAddr)
	}
	if dns, err := nic.DNS(); err != nil || !slices.Contains(dns, simnet.RouterAddr) {
		t.Errorf("DNS() = %v, %v; want the router's DNS server %v", dns, err, simnet.RouterAddr)
	}
	if on, leased, err := nic.DHCP4(); !on || !leased || err != nil {
		t.Errorf("DHCP4() = %v, %v, %v; want on and leased", on, leased, err)
	}
	st, err := nic.StatusCode(ctx)
	if err != nil || st != host.StatLinkActive {
		t.Errorf("StatusCode() = %d, %v; want StatLinkActive (%d)", st, err, host.StatLinkActive)
	}
	wait.For(t, "a preferred link-local IPv6 address", func() bool {
		a6, err := nic.Addrs6()
		return err == nil && len(a6) > 0 && a6[0].Source == "link-local" && a6[0].State == host.Addr6Preferred &&
			a6[0].Prefix.Addr().IsLinkLocalUnicast() && a6[0].Valid == host.Forever
	})
}

// A static addr4 turns the default DHCP client off; dhcp4=False too.
func TestIPConfig_StaticTurnsDefaultDHCPOff(t *testing.T) {
	l := newLANHost(t, "lan0", "lan1")
	ctx := wait.Context(t)
	static, off := l.nics[0], l.nics[1]
	if err := static.SetIPConfig(ctx, host.KW{"addr4": netip.MustParsePrefix("10.64.0.60/24")}); err != nil {
		t.Fatal(err)
	}
	if err := off.SetIPConfig(ctx, host.KW{"dhcp4": false}); err != nil {
		t.Fatal(err)
	}
	for _, n := range l.nics {
		if on, _ := n.IPConfig(ctx, "dhcp4"); on != false {
			t.Errorf("%s: dhcp4 = %v, want False", n.Name(), on)
		}
		if err := n.SetActive(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	wait.For(t, "the static NIC reaching the router", func() bool {
		pctx, cancel := context.WithTimeout(ctx, wait.Limit/20)
		defer cancel()
		_, err := static.Ping(pctx, simnet.RouterAddr, 32)
		return err == nil
	})
	if a, _ := off.Addr4(); a.IsValid() {
		t.Errorf("%s has %v with DHCP off", off.Name(), a)
	}
	for _, le := range l.router.Leases() {
		t.Errorf("the router leased %v to %v, but no NIC runs DHCP", le.Addr, le.MAC)
	}
}

// Keyword values take the Go types a Go program has in hand.
func TestNIC_KeywordsTakeGoTypes(t *testing.T) {
	l := newLANHost(t, "lan0")
	nic, ctx := l.nics[0], wait.Context(t)
	if err := nic.SetConfig(ctx, host.KW{"mac": nic.MAC()}); err != nil {
		t.Errorf("config(mac=nic.MAC()) = %v", err)
	}
	newMAC := net.HardwareAddr{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}
	if err := nic.SetConfig(ctx, host.KW{"mac": newMAC}); err != nil || !bytes.Equal(nic.MAC(), newMAC) {
		t.Errorf("config(mac=%v) = %v, MAC() now %v", newMAC, err, nic.MAC())
	}
	if v, err := nic.Config(ctx, "mac"); err != nil || !bytes.Equal(v.([]byte), newMAC) {
		t.Errorf("config('mac') = %v, %v", v, err)
	}
	for _, kw := range []host.KW{
		{"addr4": netip.MustParsePrefix("10.64.0.61/24")},
		{"addr4": [2]string{"10.64.0.62", "255.255.255.0"}},
		{"gw4": netip.MustParseAddr("10.64.0.1")},
		{"addr6": netip.MustParsePrefix("fd64::61/64")},
	} {
		if err := nic.SetIPConfig(ctx, kw); err != nil {
			t.Errorf("ipconfig(%v) = %v", kw, err)
		}
	}
	if a, _ := nic.Addr4(); a != netip.MustParsePrefix("10.64.0.62/24") {
		t.Errorf("addr4 = %v after the [2]string tuple", a)
	}
	if err := l.h.SetIPConfig(host.KW{"prefer": int32(6), "dns": []netip.Addr{netip.MustParseAddr("10.64.0.1")}}); err != nil {
		t.Errorf("network.ipconfig(prefer=int32(6), dns=[]netip.Addr) = %v", err)
	}
	if v, _ := l.h.IPConfig("prefer"); v != int64(6) {
		t.Errorf("prefer = %v", v)
	}
	for _, v := range []any{uint8(4), int16(4), uint64(4)} {
		if err := l.h.SetIPConfig(host.KW{"prefer": v}); err != nil {
			t.Errorf("prefer=%T(4): %v", v, err)
		}
	}
	// A Go value the ABI cannot carry is a TypeError naming its type.
	err := nic.SetConfig(ctx, host.KW{"mac": struct{}{}})
	if !errors.Is(err, abi.ErrType) || !strings.Contains(err.Error(), "struct {}") {
		t.Errorf("config(mac=struct{}{}) = %v, want a TypeError naming the type", err)
	}
}

// A MAC address an interface cannot own is a ValueError naming why; the
// host's refusals and the driver's match the same way.
func TestNIC_SetConfigRefusesBadMAC(t *testing.T) {
	l := newLANHost(t, "lan0", "lan1")
	nic, other, ctx := l.nics[0], l.nics[1], wait.Context(t)
	before := nic.MAC()
	for _, c := range []struct {
		mac  any
		want string
	}{
		{net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "broadcast"},
		{net.HardwareAddr{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}, "multicast"},
		{net.HardwareAddr{0x33, 0x33, 0x00, 0x00, 0x00, 0x01}, "multicast"},
		{[]byte{0, 0, 0, 0, 0, 0}, "00:00:00:00:00:00"},
		{other.MAC(), "MAC address of NIC " + other.Name()},
		{[]byte{2, 0, 0, 0, 1}, "6 bytes, got 5"},
	} {
		err := nic.SetConfig(ctx, host.KW{"mac": c.mac})
		var ae *abi.Error
		var pe *host.PluginError
		if !errors.Is(err, abi.ErrValue) || !errors.As(err, &ae) || !errors.As(err, &pe) || !strings.Contains(ae.Msg, c.want) {
			t.Errorf("config(mac=%v) = %v; want a ValueError containing %q, as *abi.Error in a *host.PluginError", c.mac, err, c.want)
		}
		if pe != nil && pe.Plugin != "lan0" {
			t.Errorf("error names plugin %q", pe.Plugin)
		}
	}
	if !bytes.Equal(nic.MAC(), before) {
		t.Errorf("MAC changed to %v by refused calls", nic.MAC())
	}
	// The driver's own refusal is matched the same way.
	err := nic.SetConfig(ctx, host.KW{"no_such_param": 1})
	var ae *abi.Error
	var pe *host.PluginError
	if !errors.Is(err, abi.ErrValue) || !errors.As(err, &ae) || !errors.As(err, &pe) {
		t.Errorf("config(no_such_param=1) = %v; want a driver ValueError in a *host.PluginError", err)
	}
}

// A failing ipconfig(k=v, ...) changes nothing: not the keys before the
// bad one, and not the IPv6 address list.
func TestIPConfig_FailureChangesNothing(t *testing.T) {
	l := newLANHost(t, "lan0")
	nic, ctx := l.nics[0], wait.Context(t)
	if err := nic.SetIPConfig(ctx, host.KW{"addr4": "10.64.0.70/24", "gw4": "10.64.0.1", "addr6": "fd64::70/64"}); err != nil {
		t.Fatal(err)
	}
	if err := l.h.SetIPConfig(host.KW{"dns": "10.64.0.1"}); err != nil {
		t.Fatal(err)
	}
	keys := []string{"addr4", "gw4", "addr6", "dhcp4", "autoconf6"}
	snapshot := func() map[string]any {
		m := map[string]any{}
		for _, k := range keys {
			v, err := nic.IPConfig(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			if k == "addr6" { // lifetimes count down; compare addresses and sources
				a6, _ := nic.Addrs6()
				var as []string
				for _, a := range a6 {
					as = append(as, a.Prefix.String()+" "+a.Source)
				}
				v = as
			}
			m[k] = v
		}
		m["dns"], _ = l.h.IPConfig("dns")
		return m
	}
	before := snapshot()
	a6, _ := nic.Addrs6()
	linkLocal := a6[0].Prefix.Addr().String()
	for _, kw := range []host.KW{
		{"gw4": "10.64.0.254", "addr6": linkLocal},                     // the address is already present
		{"gw4": "10.64.0.254", "addr4": "10.64.0.0/24"},                // the network address
		{"gw4": "10.9.9.9"},                                            // off the subnet
		{"gw4": "10.64.0.254", "dhcp4": true, "addr4": "10.64.0.9/24"}, // exclusive
		{"addr4": "10.64.0.71/24", "autoconf6": "yes"},                 // wrong type
		{"addr4": "10.64.0.71/0"},                                      // no /0
		{"addr4": "255.255.255.255/32"},
		{"addr4": "127.0.0.1/8"},
		{"addr4": "224.0.0.1/24"},
		{"addr6": "fd64::72/64", "has_dhcp4": true},
		{"addr6": "ff02::1"}, {"addr6": "::"}, {"addr6": "::1"}, {"addr6": "fd64::73/0"},
		{"addr6": "fd64::73%eth0"},
	} {
		if err := nic.SetIPConfig(ctx, kw); !errors.Is(err, abi.ErrValue) && !errors.Is(err, abi.ErrType) {
			t.Errorf("ipconfig(%v) = %v, want a ValueError or TypeError", kw, err)
		}
		if after := snapshot(); !reflect.DeepEqual(after, before) {
			t.Errorf("ipconfig(%v) failed but changed the configuration:\n got %v\nwant %v", kw, after, before)
			before = after
		}
	}
}

// After Host.Close every method of Host, NIC and Plugin that can fail
// returns ErrClosed; those without an error result are the accessors of
// last-known values listed here, and must not panic.
func TestClose_EveryMethodReturnsErrClosed(t *testing.T) {
	l := newLANHost(t, "lan0")
	nic := l.nics[0]
	p := nic.Plugin()
	if err := l.h.Close(); err != nil {
		t.Fatal(err)
	}
	accessors := map[string]bool{
		"Host.Hostname": true, "Host.Country": true, "Host.PhyMode": true, "Host.DNSServers": true,
		"Host.Builder": true, "Host.Engine": true, "Host.Plugin": true, "Host.Plugins": true, "Host.NICs": true, "Host.NIC": true,
		"NIC.Name": true, "NIC.Class": true, "NIC.Plugin": true, "NIC.Index": true, "NIC.MAC": true,
		"NIC.LinkState": true, "NIC.Reported": true, "NIC.Stats": true, "NIC.DHCPLeases": true, "NIC.Profile": true, "NIC.Interface": true,
		"Plugin.Name": true, "Plugin.Config": true, "Plugin.Description": true, "Plugin.NICs": true, "Plugin.Digest": true, "Plugin.Engine": true,
		"Plugin.State": true, "Plugin.Stats": true, "Plugin.Generation": true, "Plugin.Origin": true, "Plugin.SignedBy": true,
		// SetSignatures sets the policy of later loads, which fail with
		// ErrClosed.
		"Host.SetSignatures": true,
		// Subscribe returns a closed channel after Close; Publish does
		// nothing.
		"Host.Subscribe": true, "Host.Publish": true,
	}
	errType := reflect.TypeFor[error]()
	walked := 0
	for _, obj := range []any{l.h, nic, p} {
		v := reflect.ValueOf(obj)
		typeName := v.Type().Elem().Name()
		for i := range v.NumMethod() {
			m, name := v.Method(i), typeName+"."+v.Type().Method(i).Name
			mt := m.Type()
			var args []reflect.Value
			for j := range mt.NumIn() {
				in := mt.In(j)
				if mt.IsVariadic() && j == mt.NumIn()-1 {
					break
				}
				args = append(args, argFor(in))
			}
			out := m.Call(args)
			walked++
			if mt.NumOut() == 0 || mt.Out(mt.NumOut()-1) != errType {
				if !accessors[name] {
					t.Errorf("%s has no error result and is not a listed accessor: after Close it cannot report ErrClosed", name)
				}
				continue
			}
			if err, _ := out[len(out)-1].Interface().(error); !errors.Is(err, host.ErrClosed) {
				t.Errorf("%s after Close = %v, want ErrClosed", name, err)
			}
		}
	}
	if walked < 50 {
		t.Errorf("walked only %d methods", walked)
	}
}

// argFor makes an argument of type in for a call that must fail early.
func argFor(in reflect.Type) reflect.Value {
	switch in {
	case reflect.TypeFor[context.Context]():
		return reflect.ValueOf(context.Background())
	case reflect.TypeFor[host.KW]():
		return reflect.ValueOf(host.KW{"mac": net.HardwareAddr{2, 0, 0, 0, 0, 9}})
	case reflect.TypeFor[netip.Addr]():
		return reflect.ValueOf(simnet.RouterAddr)
	}
	switch in.Kind() {
	case reflect.String:
		return reflect.ValueOf("x").Convert(in)
	case reflect.Int:
		return reflect.ValueOf(1).Convert(in)
	case reflect.Bool:
		return reflect.ValueOf(true)
	}
	return reflect.Zero(in)
}

// A ctx that is done before a call starts never starts it: the call fails
// with the ctx's error and changes nothing (select alone would pick at
// random between the ready plugin and the done ctx).
func TestNIC_DoneContextStartsNothing(t *testing.T) {
	l := newLANHost(t, "lan0")
	nic, ctx := l.nics[0], wait.Context(t)
	if err := nic.SetActive(ctx, true); err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	for range 100 {
		if err := nic.SetActive(done, false); !errors.Is(err, context.Canceled) {
			t.Fatalf("SetActive(cancelled ctx) = %v, want context.Canceled", err)
		}
		if _, err := nic.Status(done); !errors.Is(err, context.Canceled) {
			t.Fatalf("Status(cancelled ctx) = %v, want context.Canceled", err)
		}
	}
	if up, err := nic.Active(ctx); !up || err != nil {
		t.Fatalf("Active() = %v, %v: a call with a cancelled ctx took effect", up, err)
	}
	if _, err := native.Load(done, l.h, config.PluginConfig{Name: "late", Class: abi.ClassLAN}, driver.New); !errors.Is(err, context.Canceled) {
		t.Errorf("native.Load(cancelled ctx) = %v, want context.Canceled", err)
	}
}

// Two NICs asked for one MAC at the same time: one gets it, the other a
// ValueError; they never share it.
func TestNIC_ConcurrentMACsStayDistinct(t *testing.T) {
	l := newLANHost(t, "lan0", "lan1")
	ctx := wait.Context(t)
	for _, n := range l.nics { // DHCP runs meanwhile, reading the MAC
		if err := n.SetActive(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		mac := net.HardwareAddr{0x02, 0x42, 0, 0, 0, byte(i)}
		errs := make(chan error, 2)
		for _, n := range l.nics {
			go func() { errs <- n.SetConfig(ctx, host.KW{"mac": mac}) }()
		}
		e1, e2 := <-errs, <-errs
		if (e1 == nil) == (e2 == nil) {
			t.Fatalf("both or neither got %v: %v, %v", mac, e1, e2)
		}
		if bytes.Equal(l.nics[0].MAC(), l.nics[1].MAC()) {
			t.Fatalf("both NICs have %v", l.nics[0].MAC())
		}
	}
}

// Concurrent network.ipconfig(...) calls each keep their change.
func TestHost_ConcurrentIPConfigKeepsEach(t *testing.T) {
	l := newLANHost(t)
	for i := range 100 {
		server := netip.AddrFrom4([4]byte{10, 64, 0, byte(10 + i%100)})
		prefer := 4 + 2*(i%2)
		errs := make(chan error, 2)
		go func() { errs <- l.h.SetIPConfig(host.KW{"dns": server}) }()
		go func() { errs <- l.h.SetIPConfig(host.KW{"prefer": prefer}) }()
		if err := errors.Join(<-errs, <-errs); err != nil {
			t.Fatal(err)
		}
		dns, _ := l.h.IPConfig("dns")
		p, _ := l.h.IPConfig("prefer")
		if dns != server.String() || p != int64(prefer) {
			t.Fatalf("after dns=%v and prefer=%d at once: dns=%v prefer=%v", server, prefer, dns, p)
		}
	}
}

// Static DNS servers must be usable, and few.
func TestHost_IPConfigRefusesBadDNS(t *testing.T) {
	l := newLANHost(t)
	var many []string
	for i := range host.MaxStaticDNS + 1 {
		many = append(many, netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}).String())
	}
	for _, v := range []any{"0.0.0.0", "255.255.255.255", "224.0.0.1", "::", "::1", many} {
		if err := l.h.SetIPConfig(host.KW{"dns": v}); !errors.Is(err, abi.ErrValue) {
			t.Errorf("network.ipconfig(dns=%v) = %v, want a ValueError", v, err)
		}
	}
	if s := l.h.DNSServers(); len(s) != 0 {
		t.Errorf("refused calls left DNS servers %v", s)
	}
}

// A static addr4 set while a lease is held gives the lease back and keeps
// the gateway that is still on the subnet, as MicroPython's ipconfig does.
func TestIPConfig_StaticAfterLeaseReleasesIt(t *testing.T) {
	l := newLANHost(t, "lan0")
	nic, ctx := l.nics[0], wait.Context(t)
	if err := nic.SetActive(ctx, true); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "a lease", func() bool { _, leased, _ := nic.DHCP4(); return leased })
	if err := nic.SetIPConfig(ctx, host.KW{"addr4": "10.64.0.80/24"}); err != nil {
		t.Fatal(err)
	}
	if gw, _ := nic.Gateway4(); gw != simnet.RouterAddr {
		t.Errorf("gw4 = %v after a static addr4 on the lease's subnet, want %v kept", gw, simnet.RouterAddr)
	}
	wait.For(t, "the router to see the lease released", func() bool {
		_, held := l.leaseOf(nic.MAC())
		return !held
	})
	if err := nic.SetIPConfig(ctx, host.KW{"addr4": "192.168.9.2/24"}); err != nil {
		t.Fatal(err)
	}
	if gw, _ := nic.Gateway4(); gw.IsValid() {
		t.Errorf("gw4 = %v kept off the new subnet 192.168.9.0/24", gw)
	}
}

// Two plugins configured with one MAC: the second load fails naming the
// NIC that has it, and the first keeps working.
func TestLoad_ConfiguredMACTaken(t *testing.T) {
	_, sims, grants := simLAN(t, "lan0", "lan1")
	h, err := host.New(host.Options{Logger: slog.New(slog.DiscardHandler), Buses: sims})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	ifaces := map[string]config.InterfaceConfig{"eth": {MAC: "02:00:00:00:00:33"}}
	p0, err := native.Load(t.Context(), h, config.PluginConfig{Name: "lan0", Class: abi.ClassLAN, Buses: grants[0], Interfaces: ifaces}, driver.New)
	if err != nil {
		t.Fatal(err)
	}
	_, err = native.Load(t.Context(), h, config.PluginConfig{Name: "lan1", Class: abi.ClassLAN, Buses: grants[1], Interfaces: ifaces}, driver.New)
	if err == nil || !strings.Contains(err.Error(), "interfaces.eth.mac: 02:00:00:00:00:33 is the MAC address of NIC lan0") {
		t.Fatalf("second load with lan0's MAC = %v", err)
	}
	if len(h.NICs()) != 1 {
		t.Errorf("NICs after the refused load: %v", h.NICs())
	}
	if _, err := p0.NICs()[0].Active(wait.Context(t)); err != nil {
		t.Errorf("lan0 after the refused load: %v", err)
	}
}

// interfaces.IFACE.name names the NIC; a name another NIC has fails the
// second load, naming it, and the first keeps working.
func TestLoad_InterfaceName(t *testing.T) {
	_, sims, grants := simLAN(t, "lan0", "lan1")
	h, err := host.New(host.Options{Logger: slog.New(slog.DiscardHandler), Buses: sims})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	ifaces := map[string]config.InterfaceConfig{"eth": {Name: "uplink"}}
	p0, err := native.Load(t.Context(), h, config.PluginConfig{Name: "lan0", Class: abi.ClassLAN, Buses: grants[0], Interfaces: ifaces}, driver.New)
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := h.NIC("uplink"); !ok || n != p0.NICs()[0] || n.Name() != "uplink" {
		t.Fatalf("NIC(\"uplink\") = %v, %v; the plugin's NICs %v", n, ok, p0.NICs())
	}
	if _, ok := h.NIC("lan0"); ok {
		t.Error("the NIC is still found by the plugin's name")
	}
	_, err = native.Load(t.Context(), h, config.PluginConfig{Name: "lan1", Class: abi.ClassLAN, Buses: grants[1], Interfaces: ifaces}, driver.New)
	if err == nil || !strings.Contains(err.Error(), `interfaces.eth.name: "uplink" is the name of another NIC (of plugin lan0)`) {
		t.Fatalf("second load naming its NIC uplink = %v", err)
	}
	if len(h.NICs()) != 1 {
		t.Errorf("NICs after the refused load: %v", h.NICs())
	}
	if _, err := p0.NICs()[0].Active(wait.Context(t)); err != nil {
		t.Errorf("uplink after the refused load: %v", err)
	}
}

// Replacing the static addr6 takes the old one's on-link route with it; a
// new prefix length of the same address is applied.
func TestIPConfig_Addr6Replaced(t *testing.T) {
	l := newLANHost(t, "lan0")
	nic, ctx := l.nics[0], wait.Context(t)
	for _, p := range []string{"2001:db8:1::5/64", "2001:db8:2::5/64", "2001:db8:2::5/48"} {
		if err := nic.SetIPConfig(ctx, host.KW{"addr6": p}); err != nil {
			t.Fatal(err)
		}
		var static []string
		a6, _ := nic.Addrs6()
		for _, a := range a6 {
			if a.Source == "static" {
				static = append(static, a.Prefix.String())
			}
		}
		if !slices.Equal(static, []string{p}) {
			t.Errorf("after addr6=%s the static addresses are %v", p, static)
		}
	}
}
