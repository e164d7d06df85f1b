package core

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
)

// Sockets for Go code, as the standard net types, through gVisor's gonet
// adapters: they honour deadlines and contexts. On a Stack they route by
// destination; on a NIC they are bound to that interface.

// Dial connects to address ("ip:port"; names go through LookupHost) over
// "tcp", "tcp4", "tcp6", "udp", "udp4" or "udp6".
func (st *Stack) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	return st.dial(ctx, 0, network, address)
}

// Dial is Stack.Dial with the connection bound to this NIC.
func (n *NIC) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	return n.st.dial(ctx, n.id, network, address)
}

// Listen listens for TCP connections on address (":port" or "ip:port").
func (st *Stack) Listen(network, address string) (net.Listener, error) {
	return st.listen(0, network, address)
}

// Listen is Stack.Listen on this NIC only.
func (n *NIC) Listen(network, address string) (net.Listener, error) {
	return n.st.listen(n.id, network, address)
}

// ListenPacket opens a UDP socket on address.
func (st *Stack) ListenPacket(network, address string) (net.PacketConn, error) {
	return st.listenPacket(0, network, address)
}

// ListenPacket is Stack.ListenPacket on this NIC only.
func (n *NIC) ListenPacket(network, address string) (net.PacketConn, error) {
	return n.st.listenPacket(n.id, network, address)
}

func (st *Stack) dial(ctx context.Context, nic tcpip.NICID, network, address string) (net.Conn, error) {
	host, port, err := splitHostPort(address)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	addrs, err := st.resolve(ctx, network, host)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	var firstErr error
	for _, a := range addrs {
		fa := tcpip.FullAddress{NIC: nic, Addr: addrOf(a), Port: port}
		var c net.Conn
		switch network {
		case "tcp", "tcp4", "tcp6":
			c, err = gonet.DialContextTCP(ctx, st.s, fa, proto(a))
		case "udp", "udp4", "udp6":
			var laddr *tcpip.FullAddress
			if nic != 0 {
				laddr = &tcpip.FullAddress{NIC: nic}
			}
			c, err = gonet.DialUDP(st.s, laddr, &fa, proto(a))
		default:
			return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError(network)}
		}
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

func (st *Stack) listen(nic tcpip.NICID, network, address string) (net.Listener, error) {
	fa, p, err := st.localAddr(nic, network, address, "tcp")
	if err != nil {
		return nil, err
	}
	return gonet.ListenTCP(st.s, fa, p)
}

func (st *Stack) listenPacket(nic tcpip.NICID, network, address string) (net.PacketConn, error) {
	fa, p, err := st.localAddr(nic, network, address, "udp")
	if err != nil {
		return nil, err
	}
	return gonet.DialUDP(st.s, &fa, nil, p)
}

// localAddr parses a listening address; an empty host means any address:
// both families for "tcp"/"udp" (a dual-stack IPv6 socket), one for the
// "4" and "6" networks.
func (st *Stack) localAddr(nic tcpip.NICID, network, address, kind string) (tcpip.FullAddress, tcpip.NetworkProtocolNumber, error) {
	if network != kind && network != kind+"4" && network != kind+"6" {
		return tcpip.FullAddress{}, 0, &net.OpError{Op: "listen", Net: network, Err: net.UnknownNetworkError(network)}
	}
	host, port, err := splitHostPort(address)
	if err != nil {
		return tcpip.FullAddress{}, 0, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	fa := tcpip.FullAddress{NIC: nic, Port: port}
	p := ipv6.ProtocolNumber
	if network == kind+"4" {
		p = ipv4.ProtocolNumber
	}
	if host != "" {
		a, err := netip.ParseAddr(host)
		if err != nil {
			return tcpip.FullAddress{}, 0, &net.OpError{Op: "listen", Net: network, Err: fmt.Errorf("core: listening address %q is not an IP address", host)}
		}
		fa.Addr, p = addrOf(a.Unmap()), proto(a.Unmap())
	}
	return fa, p, nil
}

func splitHostPort(address string) (string, uint16, error) {
	host, ps, err := net.SplitHostPort(address)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.ParseUint(ps, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("core: bad port %q", ps)
	}
	return host, uint16(port), nil
}

func proto(a netip.Addr) tcpip.NetworkProtocolNumber {
	if a.Is4() {
		return ipv4.ProtocolNumber
	}
	return ipv6.ProtocolNumber
}

// resolve turns a host into addresses: an IP literal as is, a name through
// LookupHost, filtered by the network's family.
func (st *Stack) resolve(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	names, err := st.LookupHost(ctx, host)
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, s := range names {
		a, err := netip.ParseAddr(s)
		if err != nil {
			continue
		}
		switch network[len(network)-1] {
		case '4':
			if !a.Is4() {
				continue
			}
		case '6':
			if !a.Is6() {
				continue
			}
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("core: %s has no address for %s", host, network)
	}
	return out, nil
}
