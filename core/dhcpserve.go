package core

import (
	"encoding/binary"
	"net"
	"net/netip"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/internal/dhcpserver"
)

// DefaultAP4 is the address an access point's interface takes and serves
// its stations from, as MicroPython's ports do.
var DefaultAP4 = netip.MustParsePrefix("192.168.4.1/24")

// APLease is how long an access point's DHCP server lends an address.
const APLease = 2 * time.Hour

// Lease is an address the NIC's DHCP server handed out (ServeDHCP4).
type Lease struct {
	MAC      net.HardwareAddr
	Addr     netip.Addr
	Hostname string    // what the client called itself (option 12)
	Expires  time.Time // on the wall clock
	Bound    bool      // acknowledged, not merely offered
}

// ServeDHCP4 makes the NIC an access point's interface: it takes addr as
// its static address (DHCPv4 client off) and answers the DHCPv4 requests
// of the stations on its link with addresses of addr's subnet, offering
// itself as their router and no DNS server. ipconfig(addr4=...) later
// moves the server to the new subnet (the leases given out are
// forgotten); ipconfig(dhcp4=True) is refused, since the interface serves
// addresses rather than asks for one. addr needs room for stations: a
// prefix of /30 or shorter.
func (n *NIC) ServeDHCP4(addr netip.Prefix) error {
	if n.kind != LinkEthernet {
		return abi.ValueError("a DHCP server needs an Ethernet link, not %s", n.kind)
	}
	if err := checkServed4(addr); err != nil {
		return err
	}
	n.stopDHCP()
	n.mu.Lock()
	n.serving = true
	n.mu.Unlock()
	if err := n.setAddr4(addr, netip.Addr{}, false); err != nil {
		n.mu.Lock()
		n.serving = false
		n.mu.Unlock()
		return abi.OSError(abi.EINVAL, "%v", err)
	}
	return nil
}

// checkServed4 refuses an address a DHCP server cannot serve from.
func checkServed4(p netip.Prefix) error {
	if err := CheckAddr4(p); err != nil {
		return err
	}
	if p.Bits() > 30 {
		return abi.ValueError("addr4: %s leaves no address for the access point's stations: a /30 or shorter prefix is needed", p)
	}
	return nil
}

// Serving reports whether the NIC runs a DHCP server (ServeDHCP4).
func (n *NIC) Serving() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.serving
}

// Leases lists what the NIC's DHCP server has handed out, by address;
// nil when it serves none.
func (n *NIC) Leases() []Lease {
	n.mu.Lock()
	s := n.dhcps
	n.mu.Unlock()
	if s == nil {
		return nil
	}
	var out []Lease
	for _, l := range s.Leases() {
		out = append(out, Lease{MAC: l.MAC, Addr: l.Addr, Hostname: l.Hostname, Expires: l.Expires, Bound: l.Bound})
	}
	return out
}

// renewServer makes the DHCP server for the NIC's current address and MAC
// (or none, without an address). Called with n.mu held, while serving.
func (n *NIC) renewServer() {
	n.dhcps = nil
	p := n.addr4
	if !p.IsValid() || p.Bits() > 30 {
		return
	}
	net4 := p.Masked().Addr().As4()
	bcast := binary.BigEndian.Uint32(net4[:]) | ^uint32(0)>>p.Bits()
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], bcast-1)
	first, last := p.Masked().Addr().Next(), netip.AddrFrom4(b)
	s, err := dhcpserver.New(dhcpserver.Config{
		Addr: p, MAC: n.mac, First: first, Last: last, Router: p.Addr(), Lease: APLease,
		Send:   n.ep.tx,
		Logger: n.st.log.With("nic", n.name, "part", "dhcp server"),
	})
	if err != nil {
		n.st.log.Warn("the access point's DHCP server did not start", "nic", n.name, "err", err)
		return
	}
	n.dhcps = s
}
