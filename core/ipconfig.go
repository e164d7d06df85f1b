package core

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/internal/ipaddr"
)

// IPConfig answers MicroPython's nic.ipconfig(name).
func (n *NIC) IPConfig(name string) (any, error) {
	n.mu.Lock()
	addr4, gw4, c := n.addr4, n.gw4, n.dhcp4
	n.mu.Unlock()
	switch name {
	case "dhcp4":
		return c != nil, nil
	case "has_dhcp4":
		return c != nil && c.bound(), nil
	case "addr4":
		if !addr4.IsValid() {
			return abi.Tuple{"0.0.0.0", "0.0.0.0"}, nil
		}
		return abi.Tuple{addr4.Addr().String(), maskString(addr4.Bits())}, nil
	case "gw4":
		if !gw4.IsValid() {
			return "0.0.0.0", nil
		}
		return gw4.String(), nil
	case "addr6":
		return n.Addrs6(), nil
	case "autoconf6":
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.autoconf6, nil
	case "has_autoconf6":
		return n.hasAutoconf6(), nil
	case "dhcp6":
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.dhcp6 != nil, nil
	}
	return nil, abi.ValueError("ipconfig: unknown parameter %q", name)
}

// SetIPConfig answers nic.ipconfig(k=v, ...): dhcp4 (bool), addr4 (an
// (ip, netmask) tuple or "ip/bits"), gw4 (address), autoconf6, dhcp6
// (bool), addr6 ("ip/bits" or an address, a /64). Every argument is
// checked, against each other and the NIC's state, before any is applied:
// a call that fails changes nothing. A static addr4 turns dhcp4 off.
func (n *NIC) SetIPConfig(kw map[string]any) error {
	c, err := n.parseIPConfig(kw)
	if err != nil {
		return err
	}
	return n.applyIPConfig(c)
}

// ipChange is one checked ipconfig(k=v, ...) call.
type ipChange struct {
	dhcp4, autoconf6, dhcp6 *bool
	addr4, addr6            *netip.Prefix
	gw4                     *netip.Addr
}

func (n *NIC) parseIPConfig(kw map[string]any) (ipChange, error) {
	var c ipChange
	if len(kw) == 0 {
		return c, abi.TypeError("ipconfig() needs keyword arguments to set")
	}
	boolArg := func(k string, v any) (*bool, error) {
		b, err := abi.Bool(k, v)
		return &b, err
	}
	for _, k := range abi.SortedKeys(kw) {
		v := kw[k]
		var err error
		switch k {
		case "dhcp4":
			c.dhcp4, err = boolArg(k, v)
		case "autoconf6":
			c.autoconf6, err = boolArg(k, v)
		case "dhcp6":
			c.dhcp6, err = boolArg(k, v)
		case "addr4":
			var p netip.Prefix
			if p, err = parseAddr4(v); err == nil {
				err = CheckAddr4(p)
			}
			c.addr4 = &p
		case "gw4":
			var a netip.Addr
			a, err = parseIPv4(k, v)
			c.gw4 = &a
		case "addr6":
			var p netip.Prefix
			p, err = parseAddr6(v)
			c.addr6 = &p
		case "has_dhcp4", "has_autoconf6":
			err = abi.ValueError("ipconfig: %s is read-only", k)
		default:
			err = abi.ValueError("ipconfig: unknown parameter %q", k)
		}
		if err != nil {
			return c, err
		}
	}
	if c.dhcp4 != nil && *c.dhcp4 && n.kind != LinkEthernet {
		// DHCP needs broadcast on a shared medium; an IP-only link (PPP)
		// gets its address from its own negotiation (IPCP).
		return c, abi.ValueError("ipconfig: dhcp4=True on an IP-only link (%s): its address comes from the link's negotiation (IPCP)", n.kind)
	}
	if c.dhcp4 != nil && *c.dhcp4 && n.Serving() {
		return c, abi.ValueError("ipconfig: dhcp4=True on an access point's interface: it serves addresses to its stations (ipconfig(addr4=...) sets its own and the subnet it serves)")
	}
	if c.addr4 != nil && n.Serving() {
		if err := checkServed4(*c.addr4); err != nil {
			return c, err
		}
	}
	if c.dhcp4 != nil && *c.dhcp4 && c.addr4 != nil {
		return c, abi.ValueError("ipconfig: dhcp4=True and a static addr4 exclude each other")
	}
	if c.gw4 != nil && c.gw4.IsValid() && !c.gw4.IsUnspecified() {
		addr := n.Addr4()
		if c.addr4 != nil {
			addr = *c.addr4
		}
		if err := checkGateway4(*c.gw4, addr); err != nil {
			return c, err
		}
	}
	if c.addr6 != nil {
		a := c.addr6.Addr()
		n.mu.Lock()
		e := n.addrs6[a]
		n.mu.Unlock()
		if e != nil && e.source != "static" {
			return c, abi.ValueError("ipconfig: addr6 %s is already an address of this interface (%s)", a, e.source)
		}
	}
	return c, nil
}

// applyIPConfig applies a checked change. parseIPConfig has refused
// everything the stack could refuse, so the steps below do not fail in
// practice; the one that could (adding addr6) comes first, before anything
// else changed.
func (n *NIC) applyIPConfig(c ipChange) error {
	if c.addr6 != nil {
		if err := n.replaceStatic6(*c.addr6); err != nil {
			return err
		}
	}
	oldGW := n.Gateway4()
	if c.addr4 != nil || (c.dhcp4 != nil && !*c.dhcp4) {
		// A static address ends the lease too: it is given back, as
		// dhcp4=False does.
		n.stopDHCP()
	}
	if c.addr4 != nil {
		// As MicroPython's ipconfig(addr4=...): the gateway stays, if it is
		// still on the subnet.
		gw := netip.Addr{}
		if oldGW.IsValid() && checkGateway4(oldGW, *c.addr4) == nil {
			gw = oldGW
		}
		if err := n.setAddr4(*c.addr4, gw, false); err != nil {
			return abi.OSError(abi.EINVAL, "%v", err)
		}
	}
	if c.gw4 != nil {
		gw := *c.gw4
		if gw.IsUnspecified() {
			gw = netip.Addr{} // gw4="0.0.0.0": no gateway
		}
		n.mu.Lock()
		n.gw4 = gw
		n.mu.Unlock()
		n.st.updateRoutes()
	}
	if c.autoconf6 != nil {
		if err := n.setAutoconf6(*c.autoconf6); err != nil {
			return err
		}
	}
	if c.dhcp6 != nil {
		n.mu.Lock()
		c6 := n.dhcp6
		if *c.dhcp6 && c6 == nil && !n.removed {
			n.dhcp6 = newDHCP6Client(n)
		} else if !*c.dhcp6 {
			n.dhcp6 = nil
		}
		n.mu.Unlock()
		if !*c.dhcp6 && c6 != nil {
			c6.stop()
		}
	}
	if c.dhcp4 != nil && *c.dhcp4 {
		n.startDHCP()
	}
	return nil
}

// replaceStatic6 makes p the NIC's one static IPv6 address: the new one is
// added before the old one goes, so a failed add leaves the old in place.
// The old address's on-link route goes with it. The same address again is
// left alone, unless it failed duplicate address detection: then it is
// added again and DAD runs again.
func (n *NIC) replaceStatic6(p netip.Prefix) error {
	n.mu.Lock()
	var old []*addr6
	for _, e := range n.addrs6 {
		if e.source == "static" {
			old = append(old, e)
		}
	}
	n.mu.Unlock()
	if len(old) == 1 && old[0].addr == p.Addr() && old[0].bits == p.Bits() && !old[0].dup {
		return nil
	}
	var oldNets []netip.Prefix
	for _, e := range old {
		oldNets = append(oldNets, netip.PrefixFrom(e.addr, e.bits))
	}
	if len(old) == 1 && old[0].addr == p.Addr() { // a new prefix length, or DAD again
		n.removeAddrs6("static")
		old = nil
	}
	if err := n.addAddr6(p.Addr(), p.Bits(), "static"); err != nil {
		return err
	}
	n.mu.Lock()
	for _, e := range old {
		if n.addrs6[e.addr] == e {
			delete(n.addrs6, e.addr)
		}
	}
	for _, o := range oldNets {
		n.routes6 = removeRoute(n.routes6, subnetOf(o), tcpip.Address{})
	}
	n.routes6 = append(removeRoute(n.routes6, subnetOf(p), tcpip.Address{}), tcpip.Route{Destination: subnetOf(p), NIC: n.id})
	n.mu.Unlock()
	for _, e := range old {
		n.st.s.RemoveAddress(n.id, addrOf(e.addr))
	}
	n.st.updateRoutes()
	return nil
}

// startDHCP starts the DHCPv4 client unless it runs already. It waits for
// the link like every exchange.
func (n *NIC) startDHCP() {
	n.mu.Lock()
	if n.dhcp4 == nil && !n.removed {
		n.dhcp4 = newDHCPClient(n)
	}
	n.mu.Unlock()
}

// StartDHCPByDefault turns the DHCPv4 client on, as MicroPython's Ethernet
// ports do when an interface comes up, unless the NIC has a static
// address. ipconfig(dhcp4=False) or a static addr4 turn it off again.
func (n *NIC) StartDHCPByDefault() {
	if n.kind != LinkEthernet || n.Addr4().IsValid() {
		return
	}
	n.startDHCP()
}

// CheckAddr4 refuses an IPv4 address an interface cannot own, by the rule
// shared with the config file and DHCP leases (package internal/ipaddr): a
// prefix length of 1..32 and a unicast address: not 0.0.0.0, loopback,
// multicast, the limited broadcast, or (for prefixes up to /30) the
// subnet's network or broadcast address.
func CheckAddr4(p netip.Prefix) error {
	a := p.Addr()
	switch {
	case !a.Is4():
		return abi.ValueError("addr4: %s is not an IPv4 address", a)
	case p.Bits() < 1 || p.Bits() > 32:
		return abi.ValueError("addr4: prefix length /%d out of range 1..32", p.Bits())
	}
	if r := ipaddr.Problem(a); r != "" {
		return abi.ValueError("addr4: %s is %s, not an interface's", a, r)
	}
	if r := ipaddr.SubnetProblem(p); r != "" {
		return abi.ValueError("addr4: %s is %s %s, not an interface's", a, r, p.Masked())
	}
	return nil
}

// checkGateway4 refuses a gateway that cannot be one: off the subnet of
// addr (when there is one), the address itself, or not unicast.
func checkGateway4(gw netip.Addr, addr netip.Prefix) error {
	switch {
	case ipaddr.Problem(gw) != "":
		return abi.ValueError("gw4: %s is %s, not a gateway", gw, ipaddr.Problem(gw))
	case !addr.IsValid():
		return nil
	case gw == addr.Addr():
		return abi.ValueError("gw4: %s is this interface's own address", gw)
	case addr.Bits() == 32: // a point-to-point address: the gateway is the far end
		return nil
	case !addr.Masked().Contains(gw):
		return abi.ValueError("gw4: %s is not on the interface's subnet %s", gw, addr.Masked())
	}
	return nil
}

// ReleaseDHCP4 stops the DHCPv4 client, if it runs, giving its lease back
// to the server with a DHCPRELEASE (RFC 2131 4.4.6) while the link is up:
// what a host does as it shuts down. The address goes with the lease.
// Unlike ipconfig(dhcp4=False), nothing else changes.
func (n *NIC) ReleaseDHCP4() { n.stopDHCP() }

// stopDHCP stops the client and gives its lease back.
func (n *NIC) stopDHCP() {
	n.mu.Lock()
	c := n.dhcp4
	n.dhcp4 = nil
	n.mu.Unlock()
	if c != nil {
		c.stop(true)
	}
}

// IfConfig answers the deprecated nic.ifconfig(): (ip, netmask, gateway,
// dns) as strings.
func (n *NIC) IfConfig(dns []netip.Addr) abi.Tuple {
	a, _ := n.IPConfig("addr4")
	gw, _ := n.IPConfig("gw4")
	t := a.(abi.Tuple)
	d := "0.0.0.0"
	if len(dns) > 0 {
		d = dns[0].String()
	}
	return abi.Tuple{t[0], t[1], gw, d}
}

// SetIfConfig answers nic.ifconfig((ip, netmask, gateway, dns)) and
// returns the DNS server to make the global one. "dhcp" in place of the
// tuple turns DHCP on, as MicroPython's ports accept.
func (n *NIC) SetIfConfig(v any) (netip.Addr, error) {
	if s, ok := v.(string); ok && s == "dhcp" {
		return netip.Addr{}, n.SetIPConfig(map[string]any{"dhcp4": true})
	}
	var t []any
	switch x := v.(type) {
	case abi.Tuple:
		t = x
	case []any:
		t = x
	default:
		return netip.Addr{}, abi.TypeError("ifconfig: expected a 4-tuple (ip, netmask, gateway, dns), got %s", abi.TypeName(v))
	}
	if len(t) != 4 {
		return netip.Addr{}, abi.ValueError("ifconfig: expected 4 items (ip, netmask, gateway, dns), got %d", len(t))
	}
	dns, err := parseIPv4("dns", t[3])
	if err != nil {
		return netip.Addr{}, err
	}
	if r := ipaddr.Problem(dns); r != "" { // checked before anything is applied
		return netip.Addr{}, abi.ValueError("ifconfig: dns %s is %s, not a server's", dns, r)
	}
	if _, err := parseIPv4("gateway", t[2]); err != nil {
		return netip.Addr{}, err
	}
	return dns, n.SetIPConfig(map[string]any{"addr4": abi.Tuple{t[0], t[1]}, "gw4": t[2]})
}

func parseIPv4(name string, v any) (netip.Addr, error) {
	s, err := abi.Str(name, v)
	if err != nil {
		return netip.Addr{}, err
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, abi.ValueError("%s: %q is not an IPv4 address", name, s)
	}
	return a, nil
}

// parseAddr4 accepts ("192.168.0.4", "255.255.255.0") or "192.168.0.4/24".
func parseAddr4(v any) (netip.Prefix, error) {
	switch x := v.(type) {
	case string:
		p, err := netip.ParsePrefix(x)
		if err != nil || !p.Addr().Is4() {
			return netip.Prefix{}, abi.ValueError("addr4: %q is not an IPv4 address in CIDR notation (192.168.0.4/24)", x)
		}
		return p, nil
	case abi.Tuple, []any:
		var t []any
		if tt, ok := x.(abi.Tuple); ok {
			t = tt
		} else {
			t = x.([]any)
		}
		if len(t) != 2 {
			return netip.Prefix{}, abi.ValueError("addr4: expected (ip, netmask), got %d items", len(t))
		}
		ip, err := parseIPv4("addr4 ip", t[0])
		if err != nil {
			return netip.Prefix{}, err
		}
		mask, err := parseIPv4("addr4 netmask", t[1])
		if err != nil {
			return netip.Prefix{}, err
		}
		bits, ok := ipaddr.MaskBits(mask.As4())
		if !ok {
			return netip.Prefix{}, abi.ValueError("addr4: netmask %s is not contiguous", mask)
		}
		return netip.PrefixFrom(ip, bits), nil
	}
	return netip.Prefix{}, abi.TypeError("addr4: expected (ip, netmask) or \"ip/bits\", got %s", abi.TypeName(v))
}

// parseAddr6 accepts "2001:db8::5" (a /64) or "2001:db8::5/64".
func parseAddr6(v any) (netip.Prefix, error) {
	s, err := abi.Str("addr6", v)
	if err != nil {
		return netip.Prefix{}, err
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		switch {
		case aerr != nil:
			return netip.Prefix{}, abi.ValueError("addr6: %q is not an IPv6 address", s)
		case a.Zone() != "":
			return netip.Prefix{}, abi.ValueError("addr6: %q: an interface's address takes no zone", s)
		}
		p = netip.PrefixFrom(a, 64)
	}
	a := p.Addr()
	switch {
	case !a.Is6() || a.Is4In6():
		return netip.Prefix{}, abi.ValueError("addr6: %q is not an IPv6 address", s)
	case p.Bits() < 1:
		return netip.Prefix{}, abi.ValueError("addr6: %q: prefix length /0 leaves no subnet (e.g. /64)", s)
	case ipaddr.Problem(a) != "":
		return netip.Prefix{}, abi.ValueError("addr6: %s is %s, not an interface's", a, ipaddr.Problem(a))
	}
	return p, nil
}
