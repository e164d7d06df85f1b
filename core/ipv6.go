package core

import (
	"net/netip"
	"sort"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/nichost/nichost/abi"
)

// IPv6: the core adds each Ethernet NIC's link-local address itself
// (EUI-64 from the MAC) so that it can follow the address through
// duplicate address detection; SLAAC addresses come from gVisor's NDP and
// are followed through the dispatcher it calls. Routes and DNS servers
// from router advertisements go into the core's own tables.

// Address states of ipconfig("addr6"), as MicroPython reports them.
const (
	addr6Tentative  = 0x08 // + probes sent, up to 0x0f
	addr6Deprecated = 0x10
	addr6Preferred  = 0x30
	addr6Duplicated = 0x40
	lifetimeForever = 0xffffffff
)

// dadTransmits is how many neighbour solicitations DAD sends.
const dadTransmits = 1

// addr6 is one IPv6 address of a NIC as the core follows it.
type addr6 struct {
	n      *NIC
	addr   netip.Addr
	bits   int
	source string // "link-local", "slaac", "static"
	added  time.Time

	// Updated by gVisor through the AddressDispatcher methods.
	state     stack.AddressAssignmentState
	lifetimes stack.AddressLifetimes
	dup       bool
}

var _ stack.AddressDispatcher = (*addr6)(nil)

// OnChanged implements stack.AddressDispatcher.
func (a *addr6) OnChanged(l stack.AddressLifetimes, s stack.AddressAssignmentState) {
	a.n.mu.Lock()
	a.lifetimes, a.state = l, s
	a.n.mu.Unlock()
}

// OnRemoved implements stack.AddressDispatcher.
func (a *addr6) OnRemoved(reason stack.AddressRemovalReason) {
	a.n.mu.Lock()
	defer a.n.mu.Unlock()
	if reason == stack.AddressRemovalDADFailed {
		a.dup = true // kept in the list with state 0x40
		return
	}
	delete(a.n.addrs6, a.addr)
}

// code is the MicroPython state code of the address.
func (a *addr6) code(now time.Time) int {
	switch {
	case a.dup:
		return addr6Duplicated
	case a.state == stack.AddressTentative || a.state == stack.AddressDisabled:
		probes := 0
		if a.state == stack.AddressTentative {
			probes = min(1+int(now.Sub(a.added)/defaultRetransmit), dadTransmits, 7)
		}
		return addr6Tentative + probes
	case a.lifetimes.Deprecated:
		return addr6Deprecated
	}
	return addr6Preferred
}

// remaining converts a gVisor deadline to seconds left (0xffffffff: forever).
func remaining(until tcpip.MonotonicTime, now tcpip.MonotonicTime) int64 {
	if until == (tcpip.MonotonicTime{}) || until == tcpip.MonotonicTimeInfinite() {
		return lifetimeForever
	}
	d := until.Sub(now)
	if d < 0 {
		return 0
	}
	return int64(d / time.Second)
}

// addLinkLocal gives an Ethernet NIC its EUI-64 link-local address.
func (n *NIC) addLinkLocal() {
	if n.kind != LinkEthernet {
		return
	}
	ll := header.LinkLocalAddr(tcpip.LinkAddress(n.MAC()))
	n.addAddr6(netipOf(ll), 64, "link-local")
}

// addAddr6 adds an IPv6 address the core follows.
func (n *NIC) addAddr6(a netip.Addr, bits int, source string) error {
	entry := &addr6{n: n, addr: a, bits: bits, source: source, added: time.Now()}
	n.mu.Lock()
	if n.addrs6 == nil {
		n.addrs6 = map[netip.Addr]*addr6{}
	}
	n.addrs6[a] = entry
	n.mu.Unlock()
	pa := tcpip.ProtocolAddress{Protocol: ipv6.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{Address: addrOf(a), PrefixLen: bits}}
	if err := n.st.s.AddProtocolAddress(n.id, pa, stack.AddressProperties{Disp: entry}); err != nil {
		n.mu.Lock()
		delete(n.addrs6, a)
		n.mu.Unlock()
		return abi.OSError(abi.EINVAL, "adding %s/%d: %s", a, bits, err)
	}
	return nil
}

// removeAddrs6 removes the addresses of a source.
func (n *NIC) removeAddrs6(source string) {
	n.mu.Lock()
	var drop []netip.Addr
	for a, e := range n.addrs6 {
		if e.source == source {
			drop = append(drop, a)
		}
	}
	for _, a := range drop {
		delete(n.addrs6, a)
	}
	n.mu.Unlock()
	for _, a := range drop {
		n.st.s.RemoveAddress(n.id, addrOf(a))
	}
}

// Addrs6 answers ipconfig("addr6"): (ip, state, preferred, valid) tuples,
// link-local first.
func (n *NIC) Addrs6() []any {
	now, mono := time.Now(), n.st.s.Clock().NowMonotonic()
	n.mu.Lock()
	entries := make([]*addr6, 0, len(n.addrs6))
	for _, e := range n.addrs6 {
		entries = append(entries, e)
	}
	n.mu.Unlock()
	sort.Slice(entries, func(i, j int) bool {
		if (entries[i].source == "link-local") != (entries[j].source == "link-local") {
			return entries[i].source == "link-local"
		}
		return entries[i].addr.Less(entries[j].addr)
	})
	out := make([]any, 0, len(entries))
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, e := range entries {
		pref := remaining(e.lifetimes.PreferredUntil, mono)
		if e.lifetimes.Deprecated {
			pref = 0
		}
		out = append(out, abi.Tuple{e.addr.String(), int64(e.code(now)), pref, remaining(e.lifetimes.ValidUntil, mono)})
	}
	return out
}

// hasAutoconf6 reports whether a SLAAC address is assigned.
func (n *NIC) hasAutoconf6() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, e := range n.addrs6 {
		if e.source == "slaac" && !e.dup && e.state == stack.AddressAssigned {
			return true
		}
	}
	return false
}

// setAutoconf6 turns SLAAC (and taking routes from router advertisements)
// on or off for the NIC.
func (n *NIC) setAutoconf6(on bool) error {
	ep, err := n.st.s.GetNetworkEndpoint(n.id, ipv6.ProtocolNumber)
	if err != nil {
		return abi.OSError(abi.EINVAL, "autoconf6: %s", err)
	}
	cfg := ndpConfig(on)
	ep.(ipv6.NDPEndpoint).SetNDPConfigurations(cfg)
	n.mu.Lock()
	n.autoconf6 = on
	n.mu.Unlock()
	if !on {
		n.removeAddrs6("slaac")
		n.mu.Lock()
		n.routes6, n.gw6, n.dns6 = nil, netip.Addr{}, nil
		n.mu.Unlock()
		n.st.updateRoutes()
	}
	return nil
}

func ndpConfig(autoconf bool) ipv6.NDPConfigurations {
	c := ipv6.DefaultNDPConfigurations()
	c.MaxRtrSolicitations = 3
	c.RtrSolicitationInterval = 4 * time.Second
	c.MaxRtrSolicitationDelay = time.Second
	if autoconf {
		c.HandleRAs = ipv6.HandlingRAsEnabledWhenForwardingDisabled
		c.DiscoverDefaultRouters = true
		c.DiscoverOnLinkPrefixes = true
		c.AutoGenGlobalAddresses = true
	} else {
		c.HandleRAs = ipv6.HandlingRAsDisabled
		c.DiscoverDefaultRouters = false
		c.DiscoverOnLinkPrefixes = false
		c.AutoGenGlobalAddresses = false
	}
	return c
}

// ndpDispatcher receives gVisor's NDP events for every NIC. gVisor calls
// it with its own locks held, so it only records and never calls the stack
// itself (route updates go to another goroutine).
type ndpDispatcher struct{ st *Stack }

var _ ipv6.NDPDispatcher = ndpDispatcher{}

func (d ndpDispatcher) nic(id tcpip.NICID) *NIC {
	d.st.mu.Lock()
	defer d.st.mu.Unlock()
	return d.st.nics[id]
}

func (d ndpDispatcher) OnDuplicateAddressDetectionResult(id tcpip.NICID, a tcpip.Address, r stack.DADResult) {
	if _, dup := r.(*stack.DADDupAddrDetected); !dup {
		return
	}
	if n := d.nic(id); n != nil {
		d.st.log.Warn("IPv6 address is used by another host on the link", "nic", n.name, "addr", netipOf(a))
		n.mu.Lock()
		if e := n.addrs6[netipOf(a)]; e != nil {
			e.dup = true
		}
		n.mu.Unlock()
	}
}

func (d ndpDispatcher) OnOffLinkRouteUpdated(id tcpip.NICID, s tcpip.Subnet, router tcpip.Address, _ header.NDPRoutePreference) {
	n := d.nic(id)
	if n == nil {
		return
	}
	n.mu.Lock()
	if s.Prefix() == 0 {
		n.gw6 = netipOf(router)
	} else {
		n.routes6 = append(n.routes6, tcpip.Route{Destination: s, Gateway: router, NIC: id})
	}
	n.mu.Unlock()
	go d.st.updateRoutes() // NDP callbacks must not call the stack
}

func (d ndpDispatcher) OnOffLinkRouteInvalidated(id tcpip.NICID, s tcpip.Subnet, router tcpip.Address) {
	n := d.nic(id)
	if n == nil {
		return
	}
	n.mu.Lock()
	if s.Prefix() == 0 && n.gw6 == netipOf(router) {
		n.gw6 = netip.Addr{}
	}
	n.routes6 = removeRoute(n.routes6, s, router)
	n.mu.Unlock()
	go d.st.updateRoutes() // NDP callbacks must not call the stack
}

func (d ndpDispatcher) OnOnLinkPrefixDiscovered(id tcpip.NICID, s tcpip.Subnet) {
	n := d.nic(id)
	if n == nil {
		return
	}
	n.mu.Lock()
	n.routes6 = append(removeRoute(n.routes6, s, tcpip.Address{}), tcpip.Route{Destination: s, NIC: id})
	n.mu.Unlock()
	go d.st.updateRoutes() // NDP callbacks must not call the stack
}

func (d ndpDispatcher) OnOnLinkPrefixInvalidated(id tcpip.NICID, s tcpip.Subnet) {
	n := d.nic(id)
	if n == nil {
		return
	}
	n.mu.Lock()
	n.routes6 = removeRoute(n.routes6, s, tcpip.Address{})
	n.mu.Unlock()
	go d.st.updateRoutes() // NDP callbacks must not call the stack
}

func (d ndpDispatcher) OnAutoGenAddress(id tcpip.NICID, a tcpip.AddressWithPrefix) stack.AddressDispatcher {
	n := d.nic(id)
	if n == nil {
		return nil
	}
	e := &addr6{n: n, addr: netipOf(a.Address), bits: a.PrefixLen, source: "slaac", added: time.Now()}
	n.mu.Lock()
	if n.addrs6 == nil {
		n.addrs6 = map[netip.Addr]*addr6{}
	}
	n.addrs6[e.addr] = e
	n.mu.Unlock()
	return e
}

func (d ndpDispatcher) OnAutoGenAddressDeprecated(tcpip.NICID, tcpip.AddressWithPrefix)  {}
func (d ndpDispatcher) OnAutoGenAddressInvalidated(tcpip.NICID, tcpip.AddressWithPrefix) {}

func (d ndpDispatcher) OnRecursiveDNSServerOption(id tcpip.NICID, addrs []tcpip.Address, lifetime time.Duration) {
	n := d.nic(id)
	if n == nil {
		return
	}
	var dns []netip.Addr
	if lifetime > 0 {
		for _, a := range addrs {
			dns = append(dns, netipOf(a))
		}
	}
	n.mu.Lock()
	n.dns6 = dns
	n.mu.Unlock()
}

func (d ndpDispatcher) OnDNSSearchListOption(tcpip.NICID, []string, time.Duration) {}

func (d ndpDispatcher) OnDHCPv6Configuration(tcpip.NICID, ipv6.DHCPv6ConfigurationFromNDPRA) {}

func removeRoute(rs []tcpip.Route, s tcpip.Subnet, gw tcpip.Address) []tcpip.Route {
	out := rs[:0]
	for _, r := range rs {
		if r.Destination != s || (gw != (tcpip.Address{}) && r.Gateway != gw) {
			out = append(out, r)
		}
	}
	return out
}
