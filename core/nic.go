package core

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nichost/nichost/internal/dhcpserver"
	"github.com/nichost/nichost/internal/ipaddr"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

const defaultRetransmit = time.Second

// NIC is one interface of the stack. It receives from its driver through
// DeliverFrame and LinkChanged (it implements the host's Link) and owns the
// interface's IP configuration.
type NIC struct {
	st   *Stack
	id   tcpip.NICID
	name string
	kind LinkType
	mac  net.HardwareAddr
	ep   *endpoint

	// linkMu serialises the link's changes (LinkChanged, and the end of a
	// flap on its timer). Taken before ep.txMu and mu.
	linkMu    sync.Mutex
	mu        sync.Mutex
	link      LinkState
	addr4     netip.Prefix // current IPv4 address (static, DHCP or PPP)
	gw4       netip.Addr
	dns       []netip.Addr // learnt on this NIC (DHCP, PPP)
	dhcp4     *dhcpClient  // non-nil while dhcp4 is on
	addrs6    map[netip.Addr]*addr6
	autoconf6 bool
	routes6   []tcpip.Route
	gw6       netip.Addr
	dns6      []netip.Addr       // from router advertisements (RDNSS)
	dnsDHCP6  []netip.Addr       // from stateless DHCPv6
	dhcp6     *dhcp6Client       // non-nil while dhcp6 is on
	serving   bool               // an access point's interface: it serves DHCPv4 (dhcpserve.go)
	dhcps     *dhcpserver.Server // its server for the current address; nil without one
	removed   bool
	flap      *flap // the link is down within FlapWindow (flap.go); nil otherwise

	stats nicCounters
}

type nicCounters struct {
	rxFrames, rxBytes, txFrames, txBytes atomic.Uint64
	mu                                   sync.Mutex
	drops                                map[string]uint64
}

func (c *nicCounters) drop(reason string) {
	c.mu.Lock()
	if c.drops == nil {
		c.drops = map[string]uint64{}
	}
	c.drops[reason]++
	c.mu.Unlock()
}

// Stats are a NIC's counters in the core.
type Stats struct {
	RxFrames, RxBytes, TxFrames, TxBytes uint64
	Drops                                map[string]uint64 // by reason
}

// Stats returns the NIC's counters.
func (n *NIC) Stats() Stats {
	s := Stats{
		RxFrames: n.stats.rxFrames.Load(), RxBytes: n.stats.rxBytes.Load(),
		TxFrames: n.stats.txFrames.Load(), TxBytes: n.stats.txBytes.Load(),
		Drops: map[string]uint64{},
	}
	n.stats.mu.Lock()
	for k, v := range n.stats.drops {
		s.Drops[k] = v
	}
	n.stats.mu.Unlock()
	return s
}

// Name is the NIC's name.
func (n *NIC) Name() string { return n.name }

// MAC is the NIC's hardware address (nil on IP links).
func (n *NIC) MAC() net.HardwareAddr {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append(net.HardwareAddr(nil), n.mac...)
}

// SetMAC changes the NIC's hardware address (config(mac=...)).
func (n *NIC) SetMAC(mac net.HardwareAddr) {
	if n.kind != LinkEthernet || len(mac) != 6 {
		return
	}
	n.mu.Lock()
	n.mac = append(net.HardwareAddr(nil), mac...)
	if n.serving {
		n.renewServer() // its replies come from the new address
	}
	n.mu.Unlock()
	n.ep.SetLinkAddress(tcpip.LinkAddress(mac))
	n.removeAddrs6("link-local") // its EUI-64 follows the MAC
	n.addLinkLocal()
}

func (n *NIC) txError(err error) { n.stats.drop("transmit: " + err.Error()) }

// counted is the endpoint's transmit function wrapper: it counts, and
// drops the frames the stack sends while the link is down (in a flap).
func (n *NIC) counted(tx func([]byte) error) func([]byte) error {
	return func(b []byte) error {
		if n.downDrop() {
			return nil
		}
		if n.kind == LinkIP && len(b) > 0 && b[0]>>4 == 6 {
			// An IP-only link carries IPv6 only once negotiated (PPP's
			// IPV6CP), which the core does not take from a driver's
			// report yet: the stack's own router solicitations and MLD
			// reports stop here rather than at the driver, counted.
			n.stats.drop(DropNoIPv6)
			return nil
		}
		if err := tx(b); err != nil {
			return err
		}
		n.stats.txFrames.Add(1)
		n.stats.txBytes.Add(uint64(len(b)))
		return nil
	}
}

// DropError is DeliverFrame's error for a frame the core dropped: Reason
// is the fixed text it is counted under, in the core's statistics and the
// host's.
type DropError struct{ Reason string }

func (e *DropError) Error() string { return "core: frame dropped: " + e.Reason }

// Reasons of DropError.
const (
	DropRunt     = "runt frame"
	DropNotMine  = "not for this MAC"
	DropLinkDown = "link down"
	DropNotIP    = "not IP"
	DropNoIPv6   = "IPv6 on an IP-only link without IPv6"
)

// dropped counts a frame dropped for reason and returns its DropError.
func (n *NIC) dropped(reason string) error {
	n.stats.drop(reason)
	return &DropError{Reason: reason}
}

// DeliverFrame takes one frame the driver received. frame is copied. On an
// Ethernet link, frames for another unicast MAC are dropped (the MAC filter
// a NIC has in hardware). Every frame dropped (while the link is down,
// too short, for another MAC, not IP) is counted and returns a
// *DropError naming why.
func (n *NIC) DeliverFrame(frame []byte) error {
	n.stats.rxFrames.Add(1)
	n.stats.rxBytes.Add(uint64(len(frame)))
	if !n.linkUp() {
		return n.dropped(DropLinkDown)
	}
	if n.kind == LinkEthernet {
		if len(frame) < header.EthernetMinimumSize {
			return n.dropped(DropRunt)
		}
		dst := frame[:6]
		n.mu.Lock()
		mine := string(dst) == string(n.mac)
		n.mu.Unlock()
		if !mine && dst[0]&1 == 0 {
			return n.dropped(DropNotMine)
		}
		n.mu.Lock()
		c, s := n.dhcp4, n.dhcps
		n.mu.Unlock()
		if c != nil && c.wants(frame) {
			return nil
		}
		if s != nil && s.Handle(frame) {
			return nil
		}
	}
	if !n.ep.deliver(frame) {
		return n.dropped(DropNotIP)
	}
	return nil
}

// LinkChanged applies the driver's link report. Down starts a flap
// (flap.go): for FlapWindow the interface keeps its neighbours, addresses
// and lease, and the frames it sends are dropped; then, if the link is
// still down, the interface is disabled (connections wait; nothing is
// sent). Up within the window ends the flap (nothing restarts); up after
// it enables the interface (IPv6 duplicate address detection runs again,
// DHCP confirms the lease or starts over).
func (n *NIC) LinkChanged(st LinkState) {
	if st.MTU > 0 {
		mtu := uint32(st.MTU)
		if n.kind == LinkEthernet {
			mtu += header.EthernetMinimumSize
		}
		n.ep.SetMTU(mtu)
	}
	n.linkMu.Lock()
	defer n.linkMu.Unlock()
	n.mu.Lock()
	was := n.link.Up
	n.link = st
	c := n.dhcp4
	removed := n.removed
	flapped, renewed := false, false
	switch {
	case removed:
	case st.Up && !was && n.flap != nil:
		n.flap.stop()
		// Another address is another station to the network: the outage
		// was a real one after all.
		flapped, renewed = n.flap.mac == string(n.mac), n.flap.mac != string(n.mac)
		n.flap = nil
	case !st.Up && was:
		n.flap = n.startFlap()
	}
	n.mu.Unlock()
	if removed || st.Up == was {
		return
	}
	switch {
	case flapped:
		if c != nil {
			c.linkBack()
		}
	case st.Up:
		if renewed {
			if err := n.st.s.DisableNIC(n.id); err != nil {
				n.st.log.Warn("disabling NIC failed", "nic", n.name, "err", err)
			}
		}
		if err := n.st.s.EnableNIC(n.id); err != nil {
			n.st.log.Warn("enabling NIC failed", "nic", n.name, "err", err)
		}
		if c != nil {
			c.linkUp()
		}
	}
}

// Reported applies what the driver negotiated (PPP): addr4, peer4, dns.
// The far end of a link is a neighbour like a DHCP server, so what it
// proposed is held to the same rules: an address that is no host's is
// refused (counted as "report: refused <key>: <reason>" in the drops),
// and at most reportMaxDNS usable DNS servers are kept.
func (n *NIC) Reported(info map[string]any) {
	refuse := func(key, reason string) {
		n.stats.drop("report: refused " + key + ": " + reason)
		n.st.log.Warn("driver report refused", "nic", n.name, "key", key, "reason", reason)
	}
	if s, ok := info["addr4"].(string); ok {
		a, err := netip.ParseAddr(s)
		switch {
		case err != nil || !a.Is4():
			refuse("addr4", "not an IPv4 address")
		case CheckAddr4(netip.PrefixFrom(a, 32)) != nil:
			refuse("addr4", ipaddr.Problem(a))
		default:
			n.setAddr4(netip.PrefixFrom(a, 32), netip.Addr{}, false)
		}
	}
	if s, ok := info["peer4"].(string); ok {
		a, err := netip.ParseAddr(s)
		switch {
		case err != nil || !a.Is4():
			refuse("peer4", "not an IPv4 address")
		case ipaddr.Problem(a) != "":
			refuse("peer4", ipaddr.Problem(a))
		default:
			n.mu.Lock()
			n.gw4 = a
			n.mu.Unlock()
			n.st.updateRoutes()
		}
	}
	if l, ok := info["dns"].([]any); ok {
		var dns []netip.Addr
		for _, e := range l {
			s, _ := e.(string)
			a, err := netip.ParseAddr(s)
			switch {
			case err != nil || a.Zone() != "":
				refuse("dns", "not an address")
			case ipaddr.Problem(a) != "":
				refuse("dns", ipaddr.Problem(a))
			case len(dns) < reportMaxDNS && !slices.Contains(dns, a.Unmap()):
				dns = append(dns, a.Unmap())
			}
		}
		n.mu.Lock()
		n.dns = dns
		n.mu.Unlock()
	}
}

// reportMaxDNS is how many DNS servers a driver's report may give, as for
// a DHCP lease (resolv.conf's MAXNS).
const reportMaxDNS = 3

// Remove takes the NIC out of the stack.
func (n *NIC) Remove() {
	n.mu.Lock()
	if n.removed {
		n.mu.Unlock()
		return
	}
	n.removed = true
	c, c6 := n.dhcp4, n.dhcp6
	n.dhcp4, n.dhcp6 = nil, nil
	if n.flap != nil {
		n.flap.stop()
		n.flap = nil
	}
	n.mu.Unlock()
	if c != nil {
		c.stop(false)
	}
	if c6 != nil {
		c6.stop()
	}
	n.st.s.RemoveNIC(n.id)
	n.st.mu.Lock()
	delete(n.st.nics, n.id)
	n.st.mu.Unlock()
	n.st.updateRoutes()
}

// setAddr4 replaces the NIC's IPv4 address (and gateway, unless keepGW).
func (n *NIC) setAddr4(p netip.Prefix, gw netip.Addr, keepGW bool) error {
	n.mu.Lock()
	old := n.addr4
	n.mu.Unlock()
	// The same address again (a DHCP renewal, or INIT-REBOOT after the
	// link came back) stays in place: removing and re-adding it would
	// leave a moment without it, when a dial finds no route and a
	// connection's segments have no source.
	same := old == p
	if old.IsValid() && !same {
		n.st.s.RemoveAddress(n.id, addrOf(old.Addr()))
	}
	if p.IsValid() && !same {
		pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{Address: addrOf(p.Addr()), PrefixLen: p.Bits()}}
		if err := n.st.s.AddProtocolAddress(n.id, pa, stack.AddressProperties{}); err != nil {
			return fmt.Errorf("core: %s: adding %s: %s", n.name, p, err)
		}
	}
	n.mu.Lock()
	n.addr4 = p
	if !keepGW {
		n.gw4 = gw
	}
	if n.serving && (!same || n.dhcps == nil) {
		n.renewServer()
	}
	n.mu.Unlock()
	n.st.updateRoutes()
	return nil
}

// Addr4 is the NIC's IPv4 address and prefix (invalid if none).
func (n *NIC) Addr4() netip.Prefix {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.addr4
}

// Gateway4 is the NIC's IPv4 default gateway (invalid if none).
func (n *NIC) Gateway4() netip.Addr {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.gw4
}

// DNS lists the DNS servers learnt on this NIC (DHCP, PPP, router
// advertisements).
func (n *NIC) DNS() []netip.Addr {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append(append(append([]netip.Addr(nil), n.dns...), n.dnsDHCP6...), n.dns6...)
}

func maskString(bits int) string {
	m := net.CIDRMask(bits, 32)
	return net.IP(m).String()
}

func joinAddrs(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}

func (n *NIC) linkUp() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.link.Up && !n.removed
}
