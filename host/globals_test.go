package host_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/linux"
	"github.com/nichost/nichost/host/config"
)

var busUART = linux.UARTConfig{Device: "/dev/ttyNICHOST9", Baud: 115200}

func TestHost_Hostname(t *testing.T) {
	r := newRig(t, config.Limits{})
	if got := r.h.Hostname(); got != "testboard" {
		t.Fatalf("Hostname() = %q", got)
	}
	tests := []struct {
		name string
		ok   bool
	}{
		{strings.Repeat("a", 32), true},
		{strings.Repeat("a", 33), false},
		{"", false},
		{"board-7.lan", true},
		{"bad_name", false},
		{"-lead", false},
	}
	for _, tt := range tests {
		err := r.h.SetHostname(tt.name)
		if tt.ok != (err == nil) || (!tt.ok && !errors.Is(err, abi.ErrValue)) {
			t.Errorf("SetHostname(%q) = %v, want ok=%v (ValueError otherwise)", tt.name, err, tt.ok)
		}
	}
	if got := r.h.Hostname(); got != "board-7.lan" {
		t.Fatalf("Hostname() = %q after the refused ones, want the last accepted", got)
	}
}

func TestHost_Country(t *testing.T) {
	r := newRig(t, config.Limits{})
	nic := r.load(t, "full", plugin("full")).NICs()[0]
	ctx := ctxT(t)
	if got := r.h.Country(); got != "XX" {
		t.Fatalf("default country %q, want XX", got)
	}
	if err := r.h.SetCountry(ctx, "de"); err != nil {
		t.Fatal(err)
	}
	if got := r.h.Country(); got != "DE" {
		t.Fatalf("Country() = %q", got)
	}
	info, _ := nic.Call(ctx, "info")
	if info.(map[string]any)["country"] != "DE" {
		t.Fatalf("the plugin declaring \"country\" was not told: %v", info)
	}
	for _, bad := range []string{"QQ", "D", "DEU", "1A"} {
		if err := r.h.SetCountry(ctx, bad); !errors.Is(err, abi.ErrValue) {
			t.Errorf("SetCountry(%q) = %v, want ValueError", bad, err)
		}
	}
	if got := r.h.Country(); got != "DE" {
		t.Fatalf("Country() = %q after refused codes", got)
	}
}

func TestHost_IPConfig(t *testing.T) {
	r := newRig(t, config.Limits{})
	if v, _ := r.h.IPConfig("prefer"); v != int64(4) {
		t.Fatalf("default prefer %v", v)
	}
	if err := r.h.SetIPConfig(host.KW{"dns": "2001:db8::53", "prefer": 6}); err != nil {
		t.Fatal(err)
	}
	if v, _ := r.h.IPConfig("dns"); v != "2001:db8::53" {
		t.Fatalf("dns = %v", v)
	}
	tests := []struct {
		kw   host.KW
		want error
		msg  string
	}{
		{host.KW{"prefer": 5}, abi.ErrValue, "must be 4 or 6"},
		{host.KW{"prefer": "6"}, abi.ErrType, "expected int"},
		{host.KW{"dns": "resolver.example"}, abi.ErrValue, "not an IPv4 or IPv6 address"},
		{host.KW{"dns": "192.0.2.53", "prefer": 9}, abi.ErrValue, "prefer"},
		{host.KW{"mtu": 1500}, abi.ErrValue, `unknown parameter "mtu"`},
	}
	for _, tt := range tests {
		if err := r.h.SetIPConfig(tt.kw); !errors.Is(err, tt.want) || !contains(err.Error(), tt.msg) {
			t.Errorf("SetIPConfig(%v) = %v, want %v containing %q", tt.kw, err, tt.want, tt.msg)
		}
	}
	if v, _ := r.h.IPConfig("dns"); v != "2001:db8::53" {
		t.Fatalf("dns = %v after refused calls: a partly bad call changed state", v)
	}
	if _, err := r.h.IPConfig("gateway"); !errors.Is(err, abi.ErrValue) {
		t.Fatalf("unknown global parameter: %v", err)
	}
}

func TestHost_PhyMode(t *testing.T) {
	r := newRig(t, config.Limits{})
	ctx := ctxT(t)
	if err := r.h.SetPhyMode(ctx, host.Mode11G); !errors.Is(err, abi.ErrUnsupported) || !contains(err.Error(), "no NIC is loaded") {
		t.Fatalf("without NICs: %v", err)
	}
	r.load(t, "needy", plugin("needy"), func(c *config.PluginConfig) {
		c.Buses = map[string]config.BusGrant{"spi": {Kind: "spi", Sim: "spi0"}, "reset": {Kind: "gpio", Sim: "pin0"}}
	})
	// needy is the test driver, which declares phy_mode: it is forwarded.
	if err := r.h.SetPhyMode(ctx, host.Mode11G); err != nil {
		t.Fatal(err)
	}
	nic, _ := r.h.NIC("needy.eth0")
	info, _ := nic.Call(ctx, "info")
	if info.(map[string]any)["phy_mode"] != int64(host.Mode11G) || r.h.PhyMode() != host.Mode11G {
		t.Fatalf("phy_mode not forwarded: %v", info)
	}
	if err := r.h.SetPhyMode(ctx, 7); !errors.Is(err, abi.ErrValue) {
		t.Fatalf("SetPhyMode(7) = %v", err)
	}
}

func TestHost_PhyModeUnsupported(t *testing.T) {
	r := newRig(t, config.Limits{})
	r.load(t, "lan0", plugin("hostile/garbage"), func(c *config.PluginConfig) { c.Buses = nil })
	err := r.h.SetPhyMode(ctxT(t), host.Mode11N)
	if !errors.Is(err, abi.ErrUnsupported) || !contains(err.Error(), "no NIC supports it: lan0 (LAN)") {
		t.Fatalf("SetPhyMode = %v, want an error naming the NIC", err)
	}
}
