package host

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
)

// IP configuration and sockets belong to the host's network core; a NIC
// passes them through with the interface bound. Drivers never see these
// calls.

// IPConfig is ipconfig(name), returning ABI values as MicroPython does:
// dhcp4, has_dhcp4, autoconf6, has_autoconf6, dhcp6 (bool); addr4 (an
// (ip, netmask) tuple of str, ("0.0.0.0", "0.0.0.0") when none); gw4 (str);
// addr6 (a list of (ip, state, preferred, valid) tuples). Go programs use
// Addr4, Gateway4, DNS and Addrs6.
func (n *NIC) IPConfig(ctx context.Context, name string) (any, error) {
	op := "ipconfig(" + name + ")"
	if err := n.ready(ctx, op); err != nil {
		return nil, err
	}
	v, err := n.core.IPConfig(name)
	return v, n.fail(op, err)
}

// SetIPConfig is ipconfig(k=v, ...): dhcp4, addr4 ("ip/bits", a
// netip.Prefix, or an (ip, netmask) tuple such as [2]string), gw4 (str or
// netip.Addr), autoconf6, addr6, dhcp6. Every argument is checked before
// any is applied, and a call that fails changes nothing. A static addr4
// turns dhcp4 off.
func (n *NIC) SetIPConfig(ctx context.Context, kw KW) error {
	op := "ipconfig(k=v)"
	if err := n.ready(ctx, op); err != nil {
		return err
	}
	nkw, err := abi.Normalize(map[string]any(kw))
	if err != nil {
		return n.fail(op, err)
	}
	return n.fail(op, n.core.SetIPConfig(nkw.(map[string]any)))
}

// IfConfig is the deprecated ifconfig(): (ip, netmask, gateway, dns) as
// str.
func (n *NIC) IfConfig(ctx context.Context) (abi.Tuple, error) {
	if err := n.ready(ctx, "ifconfig()"); err != nil {
		return nil, err
	}
	return n.core.IfConfig(n.p.h.core.DNSServers()), nil
}

// SetIfConfig is the deprecated ifconfig((ip, netmask, gateway, dns)), or
// ifconfig("dhcp"). Its DNS server becomes the global one, as in
// MicroPython.
func (n *NIC) SetIfConfig(ctx context.Context, cfg any) error {
	op := "ifconfig(...)"
	if err := n.ready(ctx, op); err != nil {
		return err
	}
	v, err := abi.Normalize(cfg)
	if err != nil {
		return n.fail(op, err)
	}
	dns, err := n.core.SetIfConfig(v)
	if err != nil || !dns.IsValid() {
		return n.fail(op, err)
	}
	return n.fail(op, n.p.h.setIPConfig(KW{"dns": dns.String()}))
}

// ready fails op once the plugin is closed or when ctx is done.
func (n *NIC) ready(ctx context.Context, op string) error {
	if err := n.open(op); err != nil {
		return err
	}
	return n.fail(op, ctx.Err())
}

// Addr4 is the NIC's IPv4 address with its prefix length (static, leased
// by DHCP, or negotiated by PPP); the zero Prefix when it has none.
func (n *NIC) Addr4() (netip.Prefix, error) {
	if err := n.open("addr4"); err != nil {
		return netip.Prefix{}, err
	}
	return n.core.Addr4(), nil
}

// Gateway4 is the NIC's IPv4 default gateway (static, from DHCP, or the
// PPP peer); the zero Addr when it has none.
func (n *NIC) Gateway4() (netip.Addr, error) {
	if err := n.open("gw4"); err != nil {
		return netip.Addr{}, err
	}
	return n.core.Gateway4(), nil
}

// DNS lists the DNS servers learnt on this NIC (DHCP, PPP, router
// advertisements, DHCPv6). Host.DNSServers lists every server in the order
// lookups ask them.
func (n *NIC) DNS() ([]netip.Addr, error) {
	if err := n.open("dns"); err != nil {
		return nil, err
	}
	return n.core.DNS(), nil
}

// DHCP4 reports whether the DHCPv4 client is on and whether it holds a
// lease (ipconfig("dhcp4") and ipconfig("has_dhcp4")).
func (n *NIC) DHCP4() (on, leased bool, err error) {
	if err := n.open("dhcp4"); err != nil {
		return false, false, err
	}
	a, _ := n.core.IPConfig("dhcp4")
	b, _ := n.core.IPConfig("has_dhcp4")
	return a == true, b == true, nil
}

// Addr6 is one IPv6 address of a NIC.
type Addr6 struct {
	Prefix    netip.Prefix  // the address and its prefix length
	State     Addr6State    // where it is in its life
	Preferred time.Duration // preferred lifetime left (0 once deprecated); Forever when infinite
	Valid     time.Duration // valid lifetime left; Forever when infinite
	Source    string        // "link-local", "slaac" (from router advertisements) or "static"
}

// Forever is the lifetime of an address that does not expire.
const Forever = core.Forever

// Addr6State is the state of an IPv6 address. Its values are MicroPython's
// state codes of ipconfig("addr6") (where a tentative address adds the
// number of probes sent).
type Addr6State int

// IPv6 address states.
const (
	Addr6Tentative  Addr6State = 0x08 // duplicate address detection is running
	Addr6Deprecated Addr6State = 0x10 // usable, not for new connections
	Addr6Preferred  Addr6State = 0x30 // usable
	Addr6Duplicated Addr6State = 0x40 // another host on the link has it
)

func (s Addr6State) String() string {
	switch s {
	case Addr6Tentative:
		return "tentative"
	case Addr6Deprecated:
		return "deprecated"
	case Addr6Preferred:
		return "preferred"
	case Addr6Duplicated:
		return "duplicated"
	}
	return "unknown"
}

// Addrs6 lists the NIC's IPv6 addresses (ipconfig("addr6")), the
// link-local one first.
func (n *NIC) Addrs6() ([]Addr6, error) {
	if err := n.open("addr6"); err != nil {
		return nil, err
	}
	var out []Addr6
	for _, a := range n.core.IPv6Addrs() {
		st := Addr6State(a.Code)
		if a.Code < int(Addr6Deprecated) {
			st = Addr6Tentative
		}
		out = append(out, Addr6{Prefix: a.Prefix, State: st, Preferred: a.Preferred, Valid: a.Valid, Source: a.Source})
	}
	return out, nil
}

// Dial connects from this NIC (the connection is bound to it): network is
// "tcp", "tcp4", "tcp6", "udp", "udp4" or "udp6"; address is "host:port",
// the host a name (looked up through Host.LookupHost) or an address.
func (n *NIC) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	if err := n.open("dial"); err != nil {
		return nil, err
	}
	return n.core.Dial(ctx, network, address)
}

// Ping sends one echo request of size bytes out of this NIC and returns the
// round trip.
func (n *NIC) Ping(ctx context.Context, addr netip.Addr, size int) (time.Duration, error) {
	if err := n.open("ping"); err != nil {
		return 0, err
	}
	return n.core.Ping(ctx, addr, size)
}

// Listen listens for TCP connections arriving on this NIC.
func (n *NIC) Listen(network, address string) (net.Listener, error) {
	if err := n.open("listen"); err != nil {
		return nil, err
	}
	return n.core.Listen(network, address)
}

// ListenPacket opens a UDP socket on this NIC.
func (n *NIC) ListenPacket(network, address string) (net.PacketConn, error) {
	if err := n.open("listen"); err != nil {
		return nil, err
	}
	return n.core.ListenPacket(network, address)
}
