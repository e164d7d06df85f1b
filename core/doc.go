// Package core is nichost's TCP/IP core: one network stack for the host,
// one NIC in it per plugin interface. The engine is gVisor's netstack
// (IPv4, IPv6, ARP, NDP, ICMP, UDP, TCP, routing across NICs); the core adds
// what netstack lacks (a DHCPv4 client on soypat/seqs' message codec, a
// DNS resolver on miekg/dns's, stateless DHCPv6), MicroPython's
// ipconfig/ifconfig view of addresses, and sockets for Go code as
// standard net types.
//
// What a neighbour on the link can make the core hold is checked and
// bounded: a DHCP lease passes the rule a static address passes (package
// internal/ipaddr) or is refused and counted; a NIC learns at most 16
// routes from router advertisements and lists at most 16 IPv6 addresses;
// route rebuilds asked for by NDP are merged in one worker per stack; a
// lookup asks the static DNS servers, then the learnt ones, both families
// of one lookup from the same server, 2 attempts of 2 s per server.
//
// Drivers never see the core: the host hands each NIC's received frames to
// NIC.DeliverFrame and its link reports to NIC.LinkChanged; the core sends
// through the function given to Stack.AddNIC. No gVisor type appears in this
// package's API.
package core
