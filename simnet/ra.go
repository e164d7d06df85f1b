package simnet

import (
	"encoding/binary"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// IPv6 router advertisements (RFC 4861), with Options.IPv6. gVisor's stack
// acts as a host only: it takes advertisements but never sends them, so
// the router builds its own with gVisor's header package and writes them
// to its port directly, bypassing its stack: one in answer to every router
// solicitation, and one every raInterval for hosts whose solicitations were
// lost. Each carries the router's MAC, Prefix6 (on-link, for SLAAC) and
// RouterAddr6 as the DNS server (RFC 8106 RDNSS).

const (
	raInterval       = 30 * time.Second
	raRouterLifetime = 30 * time.Minute
	raValidLifetime  = 24 * time.Hour
	raPreferLifetime = 4 * time.Hour
	raDNSLifetime    = 30 * time.Minute
)

// advertiser sends the router's advertisements.
type advertiser struct {
	send  func(frame []byte) error
	frame []byte // the advertisement to all nodes; never changed once built

	once sync.Once
	quit chan struct{}
	done chan struct{}
}

func newAdvertiser(send func([]byte) error) *advertiser {
	return &advertiser{send: send, frame: advertisement(), quit: make(chan struct{}), done: make(chan struct{})}
}

// start begins the periodic advertisements, the first one now.
func (a *advertiser) start() {
	go func() {
		defer close(a.done)
		t := time.NewTicker(raInterval)
		defer t.Stop()
		for {
			a.send(a.frame) // a lost advertisement is sent again on the next tick
			select {
			case <-a.quit:
				return
			case <-t.C:
			}
		}
	}()
}

// stop ends the periodic advertisements; the advertiser must have started.
func (a *advertiser) stop() {
	a.once.Do(func() { close(a.quit) })
	<-a.done
}

// observe answers frame with an advertisement if it is a router
// solicitation. frame is not kept.
func (a *advertiser) observe(frame []byte) {
	if isSolicitation(frame) {
		a.send(a.frame) // to all nodes, as RFC 4861 6.2.6 allows
	}
}

// isSolicitation reports whether frame is an ICMPv6 router solicitation
// as a host sends it: no extension headers, hop limit 255.
func isSolicitation(frame []byte) bool {
	const ethLen = header.EthernetMinimumSize
	if len(frame) < ethLen+header.IPv6MinimumSize+header.ICMPv6MinimumSize ||
		header.Ethernet(frame).Type() != header.IPv6ProtocolNumber {
		return false
	}
	ip := header.IPv6(frame[ethLen:])
	return ip.IsValid(len(ip)) && ip.TransportProtocol() == header.ICMPv6ProtocolNumber && ip.HopLimit() == 255 &&
		header.ICMPv6(ip.Payload()).Type() == header.ICMPv6RouterSolicit
}

// advertisement builds the router's advertisement to all nodes: Ethernet,
// IPv6 from the router's link-local address, ICMPv6 with its options.
func advertisement() []byte {
	mac := tcpip.LinkAddress(routerMAC)
	src, dst := header.LinkLocalAddr(mac), header.IPv6AllNodesMulticastAddress
	opts := header.NDPOptionsSerializer{
		header.NDPSourceLinkLayerAddressOption(mac),
		header.NDPPrefixInformation(prefixInformation()),
		header.NDPRecursiveDNSServer(recursiveDNS()),
	}
	icmpLen := header.ICMPv6HeaderSize + header.NDPRAMinimumSize + opts.Length()
	const ethLen, ipLen = header.EthernetMinimumSize, header.IPv6MinimumSize
	f := make([]byte, ethLen+ipLen+icmpLen)
	header.Ethernet(f).Encode(&header.EthernetFields{
		SrcAddr: mac, DstAddr: header.EthernetAddressFromMulticastIPv6Address(dst), Type: header.IPv6ProtocolNumber,
	})
	header.IPv6(f[ethLen:]).Encode(&header.IPv6Fields{
		PayloadLength: uint16(icmpLen), TransportProtocol: header.ICMPv6ProtocolNumber, HopLimit: 255, SrcAddr: src, DstAddr: dst,
	})
	icmp := header.ICMPv6(f[ethLen+ipLen:])
	icmp.SetType(header.ICMPv6RouterAdvert)
	ra := icmp.MessageBody()
	ra[0] = 64 // current hop limit; flags 0: no DHCPv6 for addresses or other configuration
	binary.BigEndian.PutUint16(ra[2:], uint16(raRouterLifetime/time.Second))
	// Reachable time and retransmission timer stay 0: unspecified.
	header.NDPOptions(ra[header.NDPRAMinimumSize:]).Serialize(opts)
	icmp.SetChecksum(header.ICMPv6Checksum(header.ICMPv6ChecksumParams{Header: icmp, Src: src, Dst: dst}))
	return f
}

// prefixInformation is the body of the Prefix Information option for
// Prefix6: on-link and autonomous (RFC 4861 4.6.2).
func prefixInformation() []byte {
	b := make([]byte, 30)
	b[0] = byte(Prefix6.Bits())
	b[1] = 1<<7 | 1<<6 // L, A
	binary.BigEndian.PutUint32(b[2:], uint32(raValidLifetime/time.Second))
	binary.BigEndian.PutUint32(b[6:], uint32(raPreferLifetime/time.Second))
	p := Prefix6.Addr().As16()
	copy(b[14:], p[:])
	return b
}

// recursiveDNS is the body of the Recursive DNS Server option naming
// RouterAddr6 (RFC 8106 5.1).
func recursiveDNS() []byte {
	b := make([]byte, 6, 6+16)
	binary.BigEndian.PutUint32(b[2:], uint32(raDNSLifetime/time.Second))
	a := RouterAddr6.As16()
	return append(b, a[:]...)
}
