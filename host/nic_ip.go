package host

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/nichost/nichost/abi"
)

// IP configuration and sockets belong to the host's network core; a NIC
// passes them through with the interface bound.

// IPConfig is ipconfig(name): dhcp4, has_dhcp4, addr4, gw4, autoconf6,
// has_autoconf6, addr6, dhcp6. IP configuration belongs to the host's
// network core; drivers never see these calls.
func (n *NIC) IPConfig(ctx context.Context, name string) (any, error) {
	return n.core.IPConfig(name)
}

// SetIPConfig is ipconfig(k=v, ...); every argument is checked before any
// is applied.
func (n *NIC) SetIPConfig(ctx context.Context, kw KW) error {
	return n.core.SetIPConfig(kw)
}

// IfConfig is the deprecated ifconfig(): (ip, netmask, gateway, dns).
func (n *NIC) IfConfig(ctx context.Context) (abi.Tuple, error) {
	return n.core.IfConfig(n.p.h.core.DNSServers()), nil
}

// SetIfConfig is the deprecated ifconfig((ip, netmask, gateway, dns)), or
// ifconfig("dhcp"). Its DNS server becomes the global one, as in
// MicroPython.
func (n *NIC) SetIfConfig(ctx context.Context, cfg any) error {
	dns, err := n.core.SetIfConfig(cfg)
	if err != nil || !dns.IsValid() {
		return err
	}
	return n.p.h.SetIPConfig(KW{"dns": dns.String()})
}

// Dial connects from this NIC (the connection is bound to it): network is
// "tcp", "tcp4", "tcp6", "udp", "udp4" or "udp6"; address is "host:port".
func (n *NIC) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	return n.core.Dial(ctx, network, address)
}

// Ping sends one echo request out of this NIC and returns the round trip.
func (n *NIC) Ping(ctx context.Context, addr netip.Addr, size int) (time.Duration, error) {
	return n.core.Ping(ctx, addr, size)
}

// Listen listens for TCP connections arriving on this NIC.
func (n *NIC) Listen(network, address string) (net.Listener, error) {
	return n.core.Listen(network, address)
}

// ListenPacket opens a UDP socket on this NIC.
func (n *NIC) ListenPacket(network, address string) (net.PacketConn, error) {
	return n.core.ListenPacket(network, address)
}
