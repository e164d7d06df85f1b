// Package ipaddr holds the one rule for which addresses an interface may
// own, shared by static configuration (nic.ipconfig(), the config file)
// and what the network hands out (DHCP leases): the core and host/config
// both check with it, so a value the config file accepts is one ipconfig
// accepts, and a lease is held to the same rule as a static address.
package ipaddr

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// Reasons an address is refused, as Problem and SubnetProblem name them.
// They are fixed strings, fit for counter keys.
const (
	Unspecified     = "the unspecified address"
	Loopback        = "loopback address"
	Multicast       = "multicast address"
	Broadcast       = "limited broadcast address"
	SubnetNetwork   = "the subnet's network address"
	SubnetBroadcast = "the subnet's broadcast address"
)

// Problem reports why a cannot be a host's unicast address, or "": the
// unspecified address, a loopback or multicast address, or IPv4's
// limited broadcast.
func Problem(a netip.Addr) string {
	a = a.Unmap() // ::ffff:0.0.0.0 is 0.0.0.0
	switch {
	case a.IsUnspecified():
		return Unspecified
	case a.IsLoopback():
		return Loopback
	case a.IsMulticast():
		return Multicast
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return Broadcast
	}
	return ""
}

// SubnetProblem reports why p's IPv4 address cannot be a host of its
// subnet, or "": the subnet's network or broadcast address, where it has
// them (prefixes up to /30; RFC 3021's /31 and a /32 have neither).
func SubnetProblem(p netip.Prefix) string {
	if !p.Addr().Is4() || p.Bits() < 0 || p.Bits() > 30 {
		return ""
	}
	switch p.Addr() {
	case p.Masked().Addr():
		return SubnetNetwork
	case Broadcast4(p):
		return SubnetBroadcast
	}
	return ""
}

// Broadcast4 is the directed broadcast address of p's IPv4 subnet.
func Broadcast4(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	v := binary.BigEndian.Uint32(b[:]) | ^(^uint32(0) << (32 - p.Bits()))
	var out [4]byte
	binary.BigEndian.PutUint32(out[:], v)
	return netip.AddrFrom4(out)
}

// MaskBits returns the prefix length of an IPv4 netmask and whether the
// mask is contiguous (255.0.255.0 is not).
func MaskBits(mask [4]byte) (ones int, contiguous bool) {
	v := binary.BigEndian.Uint32(mask[:])
	ones = bits.LeadingZeros32(^v)
	return ones, ones == 32 || v == ^uint32(0)<<(32-ones)
}
