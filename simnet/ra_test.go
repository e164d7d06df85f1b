package simnet

import (
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// The advertisement is what RFC 4861 asks of one, as gVisor's own parser
// reads it.
func TestAdvertisement(t *testing.T) {
	f := advertisement()
	if eth := header.Ethernet(f); eth.Type() != header.IPv6ProtocolNumber || eth.DestinationAddress() != "\x33\x33\x00\x00\x00\x01" {
		t.Fatalf("Ethernet: type %#x to %v", eth.Type(), eth.DestinationAddress())
	}
	ip := header.IPv6(f[header.EthernetMinimumSize:])
	if !ip.IsValid(len(ip)) || ip.HopLimit() != 255 || ip.DestinationAddress() != header.IPv6AllNodesMulticastAddress ||
		ip.SourceAddress() != header.LinkLocalAddr(tcpip.LinkAddress(routerMAC)) {
		t.Fatalf("IPv6 header: valid %v, hop limit %d, %v -> %v", ip.IsValid(len(ip)), ip.HopLimit(), ip.SourceAddress(), ip.DestinationAddress())
	}
	icmp := header.ICMPv6(ip.Payload())
	want := header.ICMPv6Checksum(header.ICMPv6ChecksumParams{Header: icmp, Src: ip.SourceAddress(), Dst: ip.DestinationAddress()})
	if icmp.Type() != header.ICMPv6RouterAdvert || icmp.Code() != 0 || icmp.Checksum() != want {
		t.Fatalf("ICMPv6 type %d code %d checksum %#x (want %#x)", icmp.Type(), icmp.Code(), icmp.Checksum(), want)
	}
	ra := header.NDPRouterAdvert(icmp.MessageBody())
	if ra.CurrHopLimit() != 64 || ra.RouterLifetime() != raRouterLifetime || ra.ManagedAddrConfFlag() || ra.OtherConfFlag() {
		t.Fatalf("RA hop limit %d, router lifetime %v, M %v, O %v", ra.CurrHopLimit(), ra.RouterLifetime(), ra.ManagedAddrConfFlag(), ra.OtherConfFlag())
	}
	it, err := ra.Options().Iter(true)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for {
		o, done, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
		switch o := o.(type) {
		case header.NDPSourceLinkLayerAddressOption:
			seen["slla"] = o.EthernetAddress() == tcpip.LinkAddress(routerMAC)
		case header.NDPPrefixInformation:
			seen["prefix"] = o.Subnet().String() == Prefix6.String() && o.OnLinkFlag() && o.AutonomousAddressConfigurationFlag() &&
				o.ValidLifetime() == raValidLifetime && o.PreferredLifetime() == raPreferLifetime
		case header.NDPRecursiveDNSServer:
			addrs, err := o.Addresses()
			seen["rdnss"] = err == nil && len(addrs) == 1 && addrs[0] == tcpip.AddrFrom16(RouterAddr6.As16()) && o.Lifetime() == raDNSLifetime
		default:
			t.Fatalf("unexpected option %v", o)
		}
	}
	for _, k := range []string{"slla", "prefix", "rdnss"} {
		if !seen[k] {
			t.Errorf("option %s missing or wrong (%v)", k, seen)
		}
	}
}

// icmp6 is an Ethernet frame carrying an ICMPv6 message of type typ with
// the given hop limit, from a host's link-local address to all routers.
func icmp6(typ header.ICMPv6Type, hopLimit uint8) []byte {
	const ethLen, ipLen = header.EthernetMinimumSize, header.IPv6MinimumSize
	mac := tcpip.LinkAddress("\x02\x00\x00\x00\x00\x07")
	src, dst := header.LinkLocalAddr(mac), header.IPv6AllRoutersLinkLocalMulticastAddress
	f := make([]byte, ethLen+ipLen+header.ICMPv6MinimumSize+4)
	header.Ethernet(f).Encode(&header.EthernetFields{SrcAddr: mac, DstAddr: header.EthernetAddressFromMulticastIPv6Address(dst), Type: header.IPv6ProtocolNumber})
	header.IPv6(f[ethLen:]).Encode(&header.IPv6Fields{
		PayloadLength: uint16(len(f) - ethLen - ipLen), TransportProtocol: header.ICMPv6ProtocolNumber, HopLimit: hopLimit, SrcAddr: src, DstAddr: dst,
	})
	header.ICMPv6(f[ethLen+ipLen:]).SetType(typ)
	return f
}

func TestIsSolicitation(t *testing.T) {
	udp := icmp6(header.ICMPv6RouterSolicit, 255)
	header.IPv6(udp[header.EthernetMinimumSize:]).SetNextHeader(uint8(header.UDPProtocolNumber))
	for _, c := range []struct {
		name  string
		frame []byte
		want  bool
	}{
		{"router solicitation", icmp6(header.ICMPv6RouterSolicit, 255), true},
		{"forwarded solicitation (hop limit 254)", icmp6(header.ICMPv6RouterSolicit, 254), false},
		{"neighbour solicitation", icmp6(header.ICMPv6NeighborSolicit, 255), false},
		{"router advertisement", advertisement(), false},
		{"UDP", udp, false},
		{"truncated", icmp6(header.ICMPv6RouterSolicit, 255)[:50], false},
		{"runt", []byte{1, 2, 3}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := isSolicitation(c.frame); got != c.want {
				t.Fatalf("isSolicitation = %v, want %v", got, c.want)
			}
		})
	}
}
