package tests

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
)

func TestLAN_DHCPAndPing(t *testing.T) {
	r := newLANRig(t, "nichost-e2e")
	addr := r.up(t)
	if !strings.HasPrefix(addr, "10.213.7.") {
		t.Fatalf("DHCP address %s is not from dnsmasq's range", addr)
	}
	if l := r.leases(); !strings.Contains(l, "nichost-e2e") || !strings.Contains(l, addr) {
		t.Fatalf("dnsmasq's lease file does not show our hostname and address:\n%s", l)
	}
	gw, _ := r.nic.IPConfig(ctxT(t), "gw4")
	if gw != kernelAddr4 {
		t.Fatalf("gw4 = %v", gw)
	}
	// The kernel pings nichost, v4.
	if out, err := r.ns.exec("ping", "-c", "2", "-W", "2", addr); err != nil {
		t.Fatalf("kernel ping %s: %v\n%s", addr, err, out)
	}
	// nichost pings the kernel, v4 and v6.
	for _, dst := range []string{kernelAddr4, kernelAddr6} {
		if _, err := r.h.Ping(ctxT(t), netip.MustParseAddr(dst), 56); err != nil {
			t.Fatalf("nichost ping %s: %v", dst, err)
		}
	}
}

func TestLAN_SLAACAndPing6(t *testing.T) {
	r := newLANRig(t, "slaac")
	r.up(t)
	var global string
	eventually(t, "a SLAAC address from dnsmasq's router advertisements", func() bool {
		v, _ := r.nic.IPConfig(ctxT(t), "addr6")
		for _, e := range v.([]any) {
			tu := e.(abi.Tuple)
			if strings.HasPrefix(tu[0].(string), "fd00:213:") && tu[1] == int64(0x30) {
				global = tu[0].(string)
			}
		}
		return global != ""
	})
	v, _ := r.nic.IPConfig(ctxT(t), "addr6")
	var linkLocal bool
	for _, e := range v.([]any) {
		tu := e.(abi.Tuple)
		if strings.HasPrefix(tu[0].(string), "fe80::") && tu[1] == int64(0x30) {
			linkLocal = true
		}
		if tu[0] == global && (tu[2].(int64) <= 0 || tu[3].(int64) <= 0 || tu[3].(int64) > 3600) {
			t.Fatalf("SLAAC lifetimes %v, want the RA's (at most 3600 s)", tu)
		}
	}
	if !linkLocal {
		t.Fatalf("addr6 %v lacks a preferred link-local address", v)
	}
	if ok, _ := r.nic.IPConfig(ctxT(t), "has_autoconf6"); ok != true {
		t.Fatal("has_autoconf6 is false with a SLAAC address")
	}
	if out, err := r.ns.exec("ping", "-6", "-c", "2", "-W", "2", global); err != nil {
		t.Fatalf("kernel ping6 %s: %v\n%s", global, err, out)
	}
}

// Stateless DHCPv6 gives a DNS server, and names resolve over IPv6 with no
// IPv4 at all.
func TestLAN_DHCPv6DNS(t *testing.T) {
	r := newLANRig(t, "dhcp6")
	ctx := ctxT(t)
	if err := r.nic.SetIPConfig(ctx, host.KW{"dhcp6": true}); err != nil {
		t.Fatal(err)
	}
	if err := r.nic.SetActive(ctx, true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a DNS server from DHCPv6", func() bool {
		for _, a := range r.h.DNSServers() {
			if a.String() == kernelAddr6 {
				return true
			}
		}
		return false
	})
	if on, _ := r.nic.IPConfig(ctx, "dhcp6"); on != true {
		t.Fatal("ipconfig('dhcp6') is false")
	}
	eventually(t, "a SLAAC address to reach the server from", func() bool {
		ok, _ := r.nic.IPConfig(ctx, "has_autoconf6")
		return ok == true
	})
	r.h.SetIPConfig(host.KW{"prefer": 6})
	addrs, err := r.h.LookupHost(ctx, testName)
	if err != nil || len(addrs) == 0 || addrs[0] != kernelAddr6 {
		t.Fatalf("LookupHost over IPv6 DNS = %v, %v", addrs, err)
	}
}
