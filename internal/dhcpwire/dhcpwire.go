// Package dhcpwire reads and writes DHCPv4 messages and the Ethernet
// frames that carry them. Both ends of DHCP in this module use it: the
// core's DHCP client (core/dhcp4.go) and the DHCP server of the simulated
// networks (internal/dhcpserver).
//
// DHCP travels as whole Ethernet frames built and parsed by hand, not
// through a stack's UDP sockets: a client without an address sends from
// 0.0.0.0 to the broadcast address, and a server answers a client that has
// no address yet, so no socket of a stack fits either end. UDPFrame wraps a
// message in UDP, IPv4 and Ethernet headers, with both checksums; ParseUDP
// takes them off again.
//
// The fixed part of a message is soypat/seqs' codec (dhcp.HeaderV4). The
// options are walked here, not with seqs' dhcp.ForEachOption: that one
// compares an option's length with the size of the whole payload rather
// than with what is left of it, so a frame that lies about a length makes
// it read past the end of the payload, or panic. A frame from the wire may lie about any length;
// every one is checked against the bytes actually there.
package dhcpwire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/soypat/seqs/eth/dhcp"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// MinSize is the size Encode pads a message to: BOOTP's minimum, below
// which some servers and relays drop a message.
const MinSize = 300

// Option numbers the walk treats specially (RFC 2132 3.1 and 3.2).
const (
	optPad dhcp.OptNum = 0
	optEnd dhcp.OptNum = 0xff
)

// ErrMalformed is the error Decode wraps for a message it cannot read.
var ErrMalformed = errors.New("dhcpwire: malformed DHCP message")

// Message is a decoded DHCPv4 message.
type Message struct {
	// Header is the fixed part: op, xid, addresses, client hardware address.
	Header dhcp.HeaderV4
	// Type is the DHCP message type (option 53).
	Type dhcp.MessageType
	// Options holds the data of each option present, by number; the parts
	// of an option that occurs more than once are concatenated (RFC 3396).
	// The data are copies and do not alias the decoded bytes. An option
	// present with no data maps to nil.
	Options map[dhcp.OptNum][]byte
}

// Decode parses a DHCPv4 message, the payload of a UDP datagram. It
// fails, with an error wrapping ErrMalformed, on a message shorter than
// the fixed part, without the magic cookie, with an option that runs past
// the end, or without exactly one byte of message type. The options end
// at an end option or at the end of b, whichever comes first.
func Decode(b []byte) (*Message, error) {
	if len(b) < dhcp.OptionsOffset {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the fixed part", ErrMalformed, len(b))
	}
	if binary.BigEndian.Uint32(b[dhcp.MagicCookieOffset:]) != dhcp.MagicCookie {
		return nil, fmt.Errorf("%w: no magic cookie", ErrMalformed)
	}
	m := &Message{Header: dhcp.DecodeHeaderV4(b), Options: map[dhcp.OptNum][]byte{}}
	rest := b[dhcp.OptionsOffset:]
	for len(rest) > 0 && dhcp.OptNum(rest[0]) != optEnd {
		num := dhcp.OptNum(rest[0])
		if num == optPad {
			rest = rest[1:]
			continue
		}
		if len(rest) < 2 || len(rest) < 2+int(rest[1]) {
			return nil, fmt.Errorf("%w: option %d runs past the end", ErrMalformed, num)
		}
		size := int(rest[1])
		m.Options[num] = append(m.Options[num], rest[2:2+size]...)
		rest = rest[2+size:]
	}
	t := m.Options[dhcp.OptMessageType]
	if len(t) != 1 {
		return nil, fmt.Errorf("%w: no message type", ErrMalformed)
	}
	m.Type = dhcp.MessageType(t[0])
	return m, nil
}

// Addr returns the first IPv4 address of option n: the invalid address if
// the option is absent or shorter than four bytes.
func (m *Message) Addr(n dhcp.OptNum) netip.Addr {
	if b := m.Options[n]; len(b) >= 4 {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.Addr{}
}

// Addrs returns the IPv4 addresses of option n, a list of them (DNS
// servers, routers); a trailing part shorter than four bytes is ignored.
// It returns nil if the option is absent.
func (m *Message) Addrs(n dhcp.OptNum) []netip.Addr {
	var out []netip.Addr
	for b := m.Options[n]; len(b) >= 4; b = b[4:] {
		out = append(out, netip.AddrFrom4([4]byte(b[:4])))
	}
	return out
}

// Seconds returns option n as a 32-bit count of seconds (lease, renewal
// and rebinding times), or def if the option is absent or not four bytes
// long.
func (m *Message) Seconds(n dhcp.OptNum, def uint32) uint32 {
	if b := m.Options[n]; len(b) == 4 {
		return binary.BigEndian.Uint32(b)
	}
	return def
}

// Encode lays out a DHCPv4 message: the fixed part from hdr, the magic
// cookie, opts in order, an end option, then zeros up to MinSize. An
// option with more than 255 bytes of data does not fit the format and is
// left out.
func Encode(hdr dhcp.HeaderV4, opts []dhcp.Option) []byte {
	size := dhcp.OptionsOffset + 1 // the end option
	for _, o := range opts {
		size += 2 + len(o.Data)
	}
	b := make([]byte, max(size, MinSize))
	hdr.Put(b)
	binary.BigEndian.PutUint32(b[dhcp.MagicCookieOffset:], dhcp.MagicCookie)
	p := dhcp.OptionsOffset
	for _, o := range opts {
		n, _ := o.Encode(b[p:]) // b is sized for all; only an oversized option fails, writing nothing
		p += n
	}
	b[p] = byte(optEnd)
	return b
}

// UDPFrame builds an Ethernet frame carrying payload in an IPv4/UDP
// datagram from src:sport to dst:dport, with the IPv4 header and UDP
// checksums filled in and a TTL of 64. src and dst must be IPv4 addresses
// (As4 panics on others), and payload must fit in one datagram (at most
// 65507 bytes).
func UDPFrame(dstMAC, srcMAC []byte, src, dst netip.Addr, sport, dport uint16, payload []byte) []byte {
	const ethLen, ipLen, udpLen = header.EthernetMinimumSize, header.IPv4MinimumSize, header.UDPMinimumSize
	f := make([]byte, ethLen+ipLen+udpLen+len(payload))
	header.Ethernet(f).Encode(&header.EthernetFields{
		SrcAddr: tcpip.LinkAddress(srcMAC), DstAddr: tcpip.LinkAddress(dstMAC), Type: header.IPv4ProtocolNumber,
	})
	s, d := tcpip.AddrFrom4(src.As4()), tcpip.AddrFrom4(dst.As4())
	ip := header.IPv4(f[ethLen:])
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(ipLen + udpLen + len(payload)),
		TTL:         64,
		Protocol:    uint8(header.UDPProtocolNumber),
		SrcAddr:     s,
		DstAddr:     d,
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	u := header.UDP(ip[ipLen:])
	u.Encode(&header.UDPFields{SrcPort: sport, DstPort: dport, Length: uint16(udpLen + len(payload))})
	copy(u.Payload(), payload)
	sum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, s, d, uint16(udpLen+len(payload)))
	u.SetChecksum(^u.CalculateChecksum(checksum.Checksum(payload, sum)))
	return f
}

// Datagram is what ParseUDP finds in a frame. Its slices alias the frame.
type Datagram struct {
	// SrcMAC is the frame's Ethernet source address.
	SrcMAC []byte
	// Src is the datagram's IPv4 source address.
	Src netip.Addr
	// SrcPort and DstPort are the UDP ports.
	SrcPort, DstPort uint16
	// Payload is the UDP payload, as long as the UDP header says.
	Payload []byte
}

// ParseUDP reads an Ethernet frame carrying an unfragmented IPv4/UDP
// datagram. It reports false for anything else: a frame too short for the
// three headers, another EtherType, IP version or protocol, a fragment, or an IPv4 or
// UDP length that disagrees with the bytes there (an IPv4 total length
// past the frame, a header length past the total, a UDP length past the
// datagram or shorter than the UDP header). Bytes after the IPv4 total
// length, Ethernet padding, are ignored. Checksums are not verified.
func ParseUDP(frame []byte) (Datagram, bool) {
	const ethLen = header.EthernetMinimumSize
	if len(frame) < ethLen+header.IPv4MinimumSize+header.UDPMinimumSize ||
		header.Ethernet(frame).Type() != header.IPv4ProtocolNumber {
		return Datagram{}, false
	}
	ip := header.IPv4(frame[ethLen:])
	if !ip.IsValid(len(ip)) || ip.TransportProtocol() != header.UDPProtocolNumber || ip.More() || ip.FragmentOffset() != 0 {
		return Datagram{}, false
	}
	body := ip[ip.HeaderLength():ip.TotalLength()]
	if len(body) < header.UDPMinimumSize {
		return Datagram{}, false
	}
	u := header.UDP(body)
	if n := int(u.Length()); n < header.UDPMinimumSize || n > len(body) {
		return Datagram{}, false
	}
	return Datagram{
		SrcMAC:  frame[6:12:12],
		Src:     netip.AddrFrom4(ip.SourceAddress().As4()),
		SrcPort: u.SourcePort(),
		DstPort: u.DestinationPort(),
		Payload: body[header.UDPMinimumSize:u.Length()],
	}, true
}
