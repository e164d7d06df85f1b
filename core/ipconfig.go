package core

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/nichost/nichost/abi"
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
// (ip, netmask) tuple or "ip/bits"), gw4 (address). Every argument is
// checked before any is applied. A static addr4 turns dhcp4 off.
func (n *NIC) SetIPConfig(kw map[string]any) error {
	if len(kw) == 0 {
		return abi.TypeError("ipconfig() needs keyword arguments to set")
	}
	var (
		dhcpOn, setDHCP bool
		addr4           netip.Prefix
		setAddr         bool
		gw4             netip.Addr
		setGW           bool
		autoconf        *bool
		dhcp6           *bool
		addr6           netip.Prefix
		setAddr6        bool
	)
	for _, k := range abi.SortedKeys(kw) {
		v := kw[k]
		var err error
		switch k {
		case "dhcp4":
			dhcpOn, err = abi.Bool(k, v)
			setDHCP = true
		case "addr4":
			addr4, err = parseAddr4(v)
			setAddr = true
		case "gw4":
			gw4, err = parseIPv4(k, v)
			setGW = true
		case "autoconf6":
			var on bool
			on, err = abi.Bool(k, v)
			autoconf = &on
		case "dhcp6":
			var on bool
			on, err = abi.Bool(k, v)
			dhcp6 = &on
		case "addr6":
			addr6, err = parseAddr6(v)
			setAddr6 = true
		case "has_dhcp4", "has_autoconf6":
			err = abi.ValueError("ipconfig: %s is read-only", k)
		default:
			err = abi.ValueError("ipconfig: unknown parameter %q", k)
		}
		if err != nil {
			return err
		}
	}
	if setDHCP && dhcpOn && setAddr {
		return abi.ValueError("ipconfig: dhcp4=True and a static addr4 exclude each other")
	}
	if setAddr || (setDHCP && !dhcpOn) {
		n.stopDHCP(setDHCP && !dhcpOn)
	}
	if setAddr {
		if err := n.setAddr4(addr4, netip.Addr{}, true); err != nil {
			return abi.OSError(abi.EINVAL, "%v", err)
		}
	}
	if setGW {
		n.mu.Lock()
		n.gw4 = gw4
		n.mu.Unlock()
		n.st.updateRoutes()
	}
	if autoconf != nil {
		if err := n.setAutoconf6(*autoconf); err != nil {
			return err
		}
	}
	if setAddr6 {
		n.removeAddrs6("static")
		if err := n.addAddr6(addr6.Addr(), addr6.Bits(), "static"); err != nil {
			return err
		}
		n.mu.Lock()
		n.routes6 = append(removeRoute(n.routes6, subnetOf(addr6), tcpip.Address{}), tcpip.Route{Destination: subnetOf(addr6), NIC: n.id})
		n.mu.Unlock()
		n.st.updateRoutes()
	}
	if dhcp6 != nil {
		n.mu.Lock()
		c6 := n.dhcp6
		if *dhcp6 && c6 == nil && !n.removed {
			n.dhcp6 = newDHCP6Client(n)
		} else if !*dhcp6 {
			n.dhcp6 = nil
		}
		n.mu.Unlock()
		if !*dhcp6 && c6 != nil {
			c6.stop()
		}
	}
	if setDHCP && dhcpOn {
		n.mu.Lock()
		if n.dhcp4 == nil && !n.removed {
			n.dhcp4 = newDHCPClient(n)
		}
		n.mu.Unlock()
	}
	return nil
}

// stopDHCP stops the client (releasing the lease if release).
func (n *NIC) stopDHCP(release bool) {
	n.mu.Lock()
	c := n.dhcp4
	n.dhcp4 = nil
	n.mu.Unlock()
	if c != nil {
		c.stop(release)
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
		bits, ok := maskBits(mask)
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
		if aerr != nil {
			return netip.Prefix{}, abi.ValueError("addr6: %q is not an IPv6 address", s)
		}
		p = netip.PrefixFrom(a, 64)
	}
	if !p.Addr().Is6() || p.Addr().Is4In6() {
		return netip.Prefix{}, abi.ValueError("addr6: %q is not an IPv6 address", s)
	}
	return p, nil
}

func maskBits(m netip.Addr) (int, bool) {
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	ones := 0
	for v&(1<<31) != 0 {
		ones++
		v <<= 1
	}
	return ones, v == 0
}
