package core

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
)

// Internals for the package's external tests.

const (
	MaxLearntRoutes6 = maxLearntRoutes6
	MaxAddrs6        = maxAddrs6
)

// Flapping reports whether the NIC's link is down within the flap window.
func (n *NIC) Flapping() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.flap != nil
}

// ARPRequestsReceived counts the ARP requests the stack received.
func (st *Stack) ARPRequestsReceived() uint64 { return st.s.Stats().ARP.RequestsReceived.Value() }

// TCPTimeouts counts the retransmission timeouts of the stack's
// connections.
func (st *Stack) TCPTimeouts() uint64 { return st.s.Stats().TCP.Timeouts.Value() }

// RouteCount is the number of routes in gVisor's route table.
func (st *Stack) RouteCount() int { return len(st.s.GetRouteTable()) }

// RouteRebuilds counts route table rebuilds since New.
func (st *Stack) RouteRebuilds() uint64 { return st.rebuilds.Load() }

// RouteWorkerIdle reports whether the route worker has done all that was
// asked of it.
func (st *Stack) RouteWorkerIdle() bool {
	return st.served.Load() == st.requested.Load() && !st.routesDue.Load()
}

// RAsReceived counts the router advertisements gVisor has taken in.
func (st *Stack) RAsReceived() uint64 {
	return st.s.Stats().ICMP.V6.PacketsReceived.RouterAdvert.Value()
}

// LearntRoutes6 is the number of routes the NIC learnt from NDP.
func (n *NIC) LearntRoutes6() int {
	l := n.st.learnt(n.id)
	n.mu.Lock()
	defer n.mu.Unlock()
	if l == nil {
		return 0
	}
	return len(l.routes)
}

// AddAddr6 is addAddr6.
func (n *NIC) AddAddr6(p netip.Prefix, source string) error {
	return n.addAddr6(p.Addr(), p.Bits(), source)
}

// AddStatic6 adds a static address and its on-link route, as
// ipconfig(addr6=...) does, without removing other static ones.
func (n *NIC) AddStatic6(p netip.Prefix) error {
	if err := n.addAddr6(p.Addr(), p.Bits(), "static"); err != nil {
		return err
	}
	n.mu.Lock()
	n.routes6 = append(n.routes6, tcpip.Route{Destination: subnetOf(p), NIC: n.id})
	n.mu.Unlock()
	n.st.updateRoutes()
	return nil
}

// HasAddr6 reports whether a is in the NIC's address table and has not
// failed DAD.
func (n *NIC) HasAddr6(a netip.Addr) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	e := n.addrs6[a]
	return e != nil && !e.dup
}

// StackAddrs6 lists the IPv6 addresses gVisor holds on the NIC.
func (n *NIC) StackAddrs6() []netip.Addr {
	var out []netip.Addr
	for _, pa := range n.st.s.AllAddresses()[n.id] {
		if pa.Protocol == ipv6.ProtocolNumber {
			out = append(out, netipOf(pa.AddressWithPrefix.Address))
		}
	}
	return out
}
