// Package core is nichost's TCP/IP core: one network stack for the host,
// one NIC in it per plugin interface. The engine is gVisor's netstack
// (IPv4, IPv6, ARP, NDP, ICMP, UDP, TCP, routing across NICs); the core adds
// what netstack lacks (a DHCPv4 client on soypat/seqs' message codec),
// MicroPython's ipconfig/ifconfig view of addresses, and sockets for Go
// code as standard net types.
//
// Drivers never see the core: the host hands each NIC's received frames to
// NIC.DeliverFrame and its link reports to NIC.LinkChanged; the core sends
// through the function given to Stack.AddNIC. No gVisor type appears in this
// package's API.
package core
