package core

import (
	"net/netip"
	"slices"
	"sort"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/internal/ipaddr"
)

// IPv6: the core adds each Ethernet NIC's link-local address itself
// (EUI-64 from the MAC) so that it can follow the address through
// duplicate address detection; SLAAC addresses come from gVisor's NDP and
// are followed through the dispatcher it calls. Routes and DNS servers
// from router advertisements go into the core's own tables.
//
// Everything a neighbour can make the core learn is bounded, so that a
// stream of hostile advertisements costs CPU per packet but no memory and
// no goroutines:
//
//   - gVisor keeps at most ipv6.MaxDiscoveredOffLinkRoutes (10) off-link
//     routes (default routers included), MaxDiscoveredOnLinkPrefixes (10)
//     on-link prefixes and MaxDiscoveredSLAACPrefixes (10) SLAAC prefixes
//     per NIC. The core does not rely on those: it keeps at most
//     maxLearntRoutes6 routes and maxAddrs6 addresses per NIC itself.
//   - A route learnt again (a new preference, say) replaces the one it
//     updates; a change that leaves the route table as it is does not
//     rebuild it.
//   - NDP callbacks only record and then ask the Stack's one route worker
//     for a rebuild; requests made while one is pending are merged.

// Bounds of what the core learns from NDP, per NIC.
const (
	// maxLearntRoutes6 bounds the routes from router advertisements:
	// default routers, route information (RFC 4191) and on-link prefixes
	// together. gVisor hands at most 10 off-link routes and 10 on-link
	// prefixes; a real network needs a handful.
	maxLearntRoutes6 = 16
	// maxAddrs6 bounds a NIC's address table. SLAAC addresses may take
	// all but three places, which stay free for the link-local address and
	// a static one (two while ipconfig replaces it: new added, then old
	// removed). gVisor makes at most 10 SLAAC addresses (one per prefix).
	maxAddrs6 = 16
	maxSLAAC6 = maxAddrs6 - 3
	// maxDNS6 bounds the DNS servers taken from one RDNSS option.
	maxDNS6 = 4
	// ndpLogEvery is how often a NIC may log that a table is full or that
	// a SLAAC address failed DAD; lines held back are counted in the next.
	ndpLogEvery = 5 * time.Minute
)

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

// OnRemoved implements stack.AddressDispatcher. gVisor has removed the
// address. One that failed DAD stays listed with state 0x40 if it is the
// link-local or a static address: there is at most one link-local address
// and the user sets static ones, so these entries are bounded. A SLAAC
// address that failed DAD is dropped: gVisor may make one per prefix per
// advertisement.
func (a *addr6) OnRemoved(reason stack.AddressRemovalReason) {
	a.n.mu.Lock()
	defer a.n.mu.Unlock()
	if reason == stack.AddressRemovalDADFailed {
		a.dup = true
		if a.source != "slaac" {
			return
		}
	}
	if a.n.addrs6[a.addr] == a { // not an entry that replaced this one
		delete(a.n.addrs6, a.addr)
	}
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

// addAddr6 adds an IPv6 address the core follows. An address already in
// the table is refused and its entry left as it is, unless it failed DAD
// (gVisor no longer holds it): then the new entry replaces it, and DAD
// runs again. On failure the table is as it was.
func (n *NIC) addAddr6(a netip.Addr, bits int, source string) error {
	entry := &addr6{n: n, addr: a, bits: bits, source: source, added: time.Now()}
	n.mu.Lock()
	prev := n.addrs6[a]
	switch {
	case prev != nil && !prev.dup:
		n.mu.Unlock()
		return abi.OSError(abi.EINVAL, "adding %s/%d: already present", a, bits)
	case prev == nil && len(n.addrs6) >= maxAddrs6:
		n.mu.Unlock()
		return abi.OSError(abi.ENOBUFS, "adding %s/%d: address table full (%d addresses)", a, bits, maxAddrs6)
	}
	if n.addrs6 == nil {
		n.addrs6 = map[netip.Addr]*addr6{}
	}
	// In the table before gVisor has it, so that a DAD result arriving at
	// once finds it.
	n.addrs6[a] = entry
	n.mu.Unlock()
	pa := tcpip.ProtocolAddress{Protocol: ipv6.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{Address: addrOf(a), PrefixLen: bits}}
	if err := n.st.s.AddProtocolAddress(n.id, pa, stack.AddressProperties{Disp: entry}); err != nil {
		n.mu.Lock()
		if n.addrs6[a] == entry {
			if prev != nil {
				n.addrs6[a] = prev
			} else {
				delete(n.addrs6, a)
			}
		}
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
		l := n.st.learnt(n.id)
		n.mu.Lock()
		if l != nil {
			l.routes = nil
		}
		n.gw6, n.dns6 = netip.Addr{}, nil
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
	// No RFC 4941 temporary addresses: MicroPython (lwIP) has none, and
	// gVisor would add one per prefix per day, each kept up to a week,
	// which the address table could not hold. SLAAC gives one address per
	// prefix.
	c.AutoGenTempGlobalAddresses = false
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

// ndpLearnt is what a NIC learnt from NDP beyond its address table. It is
// kept in the Stack (by NIC ID) and guarded by the NIC's mu.
type ndpLearnt struct {
	routes []learntRoute // at most maxLearntRoutes6

	// SLAAC addresses gVisor added while the address table was full: not
	// recorded, and removed from gVisor by the route worker. At most
	// maxAddrs6.
	refused map[netip.Addr]struct{}

	routeLog, addrLog, dadLog logLimit
	dadLogged                 [maxAddrs6]netip.Addr // the last DAD failures logged
	dadNext                   int
}

// learntRoute is a route from a router advertisement: off-link through
// router (a default router if dest is ::/0), or on-link if router is zero.
type learntRoute struct {
	dest   tcpip.Subnet
	router tcpip.Address
	prf    header.NDPRoutePreference
}

func (l *ndpLearnt) find(dest tcpip.Subnet, router tcpip.Address) int {
	for i, r := range l.routes {
		if r.dest == dest && r.router == router {
			return i
		}
	}
	return -1
}

// learn records a route, replacing the one it updates. It reports whether
// the route is new and whether it was refused because the table is full.
func (l *ndpLearnt) learn(r learntRoute) (added, full bool) {
	if i := l.find(r.dest, r.router); i >= 0 {
		l.routes[i] = r
		return false, false
	}
	if len(l.routes) >= maxLearntRoutes6 {
		return false, true
	}
	l.routes = append(l.routes, r)
	return true, false
}

func (l *ndpLearnt) forget(dest tcpip.Subnet, router tcpip.Address) bool {
	i := l.find(dest, router)
	if i < 0 {
		return false
	}
	l.routes = append(l.routes[:i], l.routes[i+1:]...)
	return true
}

// defaultRouter is the default router to use: the highest preference, the
// first learnt among equals.
func (l *ndpLearnt) defaultRouter() netip.Addr {
	var best netip.Addr
	rank := -1
	for _, r := range l.routes {
		if r.dest.Prefix() != 0 || r.router == (tcpip.Address{}) {
			continue
		}
		if k := prfRank(r.prf); k > rank {
			best, rank = netipOf(r.router), k
		}
	}
	return best
}

func prfRank(p header.NDPRoutePreference) int {
	switch p {
	case header.HighRoutePreference:
		return 2
	case header.LowRoutePreference:
		return 0
	}
	return 1
}

// dadFirst reports whether a's DAD failure has not been logged lately,
// and remembers it.
func (l *ndpLearnt) dadFirst(a netip.Addr) bool {
	for _, b := range l.dadLogged {
		if b == a {
			return false
		}
	}
	l.dadLogged[l.dadNext] = a
	l.dadNext = (l.dadNext + 1) % len(l.dadLogged)
	return true
}

// logLimit lets one log line through per ndpLogEvery and counts those it
// holds back.
type logLimit struct {
	last time.Time
	held int
}

// allow reports whether a line may be logged now and how many were held
// back since the last one.
func (l *logLimit) allow(now time.Time) (bool, int) {
	if !l.last.IsZero() && now.Sub(l.last) < ndpLogEvery {
		l.held++
		return false, 0
	}
	held := l.held
	l.last, l.held = now, 0
	return true, held
}

// ndpDispatcher receives gVisor's NDP events for every NIC. gVisor calls
// it with its own locks held, so it only records and never calls the stack
// itself: route table rebuilds and removals go to the Stack's route worker
// (Stack.requestRoutes).
type ndpDispatcher struct{ st *Stack }

var _ ipv6.NDPDispatcher = ndpDispatcher{}

func (d ndpDispatcher) nic(id tcpip.NICID) (*NIC, *ndpLearnt) {
	d.st.mu.Lock()
	defer d.st.mu.Unlock()
	n, l := d.st.nics[id], d.st.ndp[id]
	if n == nil || l == nil {
		return nil, nil
	}
	return n, l
}

func (d ndpDispatcher) OnDuplicateAddressDetectionResult(id tcpip.NICID, a tcpip.Address, r stack.DADResult) {
	if _, dup := r.(*stack.DADDupAddrDetected); !dup {
		return
	}
	n, l := d.nic(id)
	if n == nil {
		return
	}
	addr := netipOf(a)
	n.mu.Lock()
	e := n.addrs6[addr]
	if e != nil {
		e.dup = true
	}
	slaac := e == nil || e.source == "slaac"
	log, held := l.dadFirst(addr), 0
	if log && slaac { // link-local and static ones are few; SLAAC ones may not be
		log, held = l.dadLog.allow(time.Now())
	}
	n.mu.Unlock()
	if log {
		d.st.log.Warn("IPv6 address is used by another host on the link", "nic", n.name, "addr", addr, "held_back", held)
	}
}

// learnRoute records r for the NIC and asks for a rebuild if the route
// table changes.
func (d ndpDispatcher) learnRoute(id tcpip.NICID, r learntRoute) {
	n, l := d.nic(id)
	if n == nil {
		return
	}
	n.mu.Lock()
	added, full := l.learn(r)
	changed := added
	if r.dest.Prefix() == 0 && r.router != (tcpip.Address{}) {
		if gw := l.defaultRouter(); gw != n.gw6 {
			n.gw6, changed = gw, true
		}
	}
	log, held := false, 0
	if full {
		log, held = l.routeLog.allow(time.Now())
	}
	n.mu.Unlock()
	if full {
		n.stats.drop("ndp: route table full")
		if log {
			d.st.log.Warn("IPv6 route from a router advertisement ignored: route table full", "nic", n.name, "max", maxLearntRoutes6, "dest", r.dest, "held_back", held)
		}
	}
	if changed {
		d.st.requestRoutes()
	}
}

// forgetRoute removes a learnt route and asks for a rebuild if there was
// one.
func (d ndpDispatcher) forgetRoute(id tcpip.NICID, dest tcpip.Subnet, router tcpip.Address) {
	n, l := d.nic(id)
	if n == nil {
		return
	}
	n.mu.Lock()
	changed := l.forget(dest, router)
	if dest.Prefix() == 0 && router != (tcpip.Address{}) {
		if gw := l.defaultRouter(); gw != n.gw6 {
			n.gw6, changed = gw, true
		}
	}
	n.mu.Unlock()
	if changed {
		d.st.requestRoutes()
	}
}

func (d ndpDispatcher) OnOffLinkRouteUpdated(id tcpip.NICID, s tcpip.Subnet, router tcpip.Address, prf header.NDPRoutePreference) {
	d.learnRoute(id, learntRoute{dest: s, router: router, prf: prf})
}

func (d ndpDispatcher) OnOffLinkRouteInvalidated(id tcpip.NICID, s tcpip.Subnet, router tcpip.Address) {
	d.forgetRoute(id, s, router)
}

func (d ndpDispatcher) OnOnLinkPrefixDiscovered(id tcpip.NICID, s tcpip.Subnet) {
	d.learnRoute(id, learntRoute{dest: s, prf: header.MediumRoutePreference})
}

func (d ndpDispatcher) OnOnLinkPrefixInvalidated(id tcpip.NICID, s tcpip.Subnet) {
	d.forgetRoute(id, s, tcpip.Address{})
}

// OnAutoGenAddress records a new SLAAC address. While the address table is
// full the address is not recorded and the route worker removes it from
// gVisor again (this callback may not call the stack).
func (d ndpDispatcher) OnAutoGenAddress(id tcpip.NICID, a tcpip.AddressWithPrefix) stack.AddressDispatcher {
	n, l := d.nic(id)
	if n == nil {
		return nil
	}
	e := &addr6{n: n, addr: netipOf(a.Address), bits: a.PrefixLen, source: "slaac", added: time.Now()}
	n.mu.Lock()
	if n.addrs6 == nil {
		n.addrs6 = map[netip.Addr]*addr6{}
	}
	// gVisor makes only addresses it does not hold, so an entry present is
	// one that failed DAD: the new one replaces it.
	if n.addrs6[e.addr] != nil || len(n.addrs6) < maxSLAAC6 {
		n.addrs6[e.addr] = e
		delete(l.refused, e.addr)
		n.mu.Unlock()
		return e
	}
	queued := len(l.refused) < maxAddrs6
	if queued {
		if l.refused == nil {
			l.refused = map[netip.Addr]struct{}{}
		}
		l.refused[e.addr] = struct{}{}
	}
	log, held := l.addrLog.allow(time.Now())
	n.mu.Unlock()
	n.stats.drop("ndp: address table full")
	if log {
		d.st.log.Warn("SLAAC address ignored: address table full", "nic", n.name, "max", maxAddrs6, "addr", e.addr, "held_back", held)
	}
	if queued {
		d.st.requestWork()
	}
	return nil
}

// removeRefused removes from gVisor the SLAAC addresses the NIC did not
// record. It runs on the route worker, with no lock held.
func (n *NIC) removeRefused(l *ndpLearnt) {
	n.mu.Lock()
	var drop []netip.Addr
	for a := range l.refused {
		if n.addrs6[a] == nil { // not recorded since
			drop = append(drop, a)
		}
	}
	clear(l.refused)
	n.mu.Unlock()
	for _, a := range drop {
		n.st.s.RemoveAddress(n.id, addrOf(a)) // an error: gVisor removed it already
	}
}

func (d ndpDispatcher) OnAutoGenAddressDeprecated(tcpip.NICID, tcpip.AddressWithPrefix)  {}
func (d ndpDispatcher) OnAutoGenAddressInvalidated(tcpip.NICID, tcpip.AddressWithPrefix) {}

func (d ndpDispatcher) OnRecursiveDNSServerOption(id tcpip.NICID, addrs []tcpip.Address, lifetime time.Duration) {
	n, _ := d.nic(id)
	if n == nil {
		return
	}
	var dns []netip.Addr
	if lifetime > 0 {
		for _, a := range addrs {
			// A usable unicast address, as for DHCP. A link-local one
			// would need this NIC's zone, which lookups cannot give.
			s := netipOf(a)
			if ipaddr.Problem(s) != "" || s.IsLinkLocalUnicast() || slices.Contains(dns, s) {
				continue
			}
			if dns = append(dns, s); len(dns) == maxDNS6 {
				break
			}
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
