package dhcpserver

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

// The server reads and writes whole Ethernet frames: its clients have no
// address yet (source 0.0.0.0, broadcast replies), so no socket of a stack
// fits. The message layout is soypat/seqs' codec; the options are walked
// here, bounds-checked, since a frame from the wire may lie about any
// length.

// message is a decoded DHCPv4 message.
type message struct {
	hdr     dhcp.HeaderV4
	typ     dhcp.MessageType
	options map[dhcp.OptNum][]byte
}

var errMalformed = errors.New("dhcpserver: malformed DHCP message")

// decode parses a DHCP message (a UDP payload). The options it returns
// alias b.
func decode(b []byte) (*message, error) {
	if len(b) < dhcp.OptionsOffset {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the fixed part", errMalformed, len(b))
	}
	if binary.BigEndian.Uint32(b[dhcp.MagicCookieOffset:]) != dhcp.MagicCookie {
		return nil, fmt.Errorf("%w: no magic cookie", errMalformed)
	}
	m := &message{hdr: dhcp.DecodeHeaderV4(b), options: map[dhcp.OptNum][]byte{}}
	rest := b[dhcp.OptionsOffset:]
	for len(rest) > 0 && rest[0] != 0xff {
		if rest[0] == 0 { // pad
			rest = rest[1:]
			continue
		}
		if len(rest) < 2 || len(rest) < 2+int(rest[1]) {
			return nil, fmt.Errorf("%w: option %d runs past the end", errMalformed, rest[0])
		}
		num, size := dhcp.OptNum(rest[0]), int(rest[1])
		m.options[num] = append(m.options[num], rest[2:2+size]...) // RFC 3396: split options concatenate
		rest = rest[2+size:]
	}
	t := m.options[dhcp.OptMessageType]
	if len(t) != 1 {
		return nil, fmt.Errorf("%w: no message type", errMalformed)
	}
	m.typ = dhcp.MessageType(t[0])
	return m, nil
}

// addr returns an option holding one IPv4 address (invalid if absent).
func (m *message) addr(n dhcp.OptNum) netip.Addr {
	if b := m.options[n]; len(b) >= 4 {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.Addr{}
}

// encode lays out a DHCP message: header, magic cookie, options, end,
// padded to BOOTP's 300 bytes.
func encode(hdr dhcp.HeaderV4, opts []dhcp.Option) []byte {
	size := dhcp.OptionsOffset + 1
	for _, o := range opts {
		size += 2 + len(o.Data)
	}
	b := make([]byte, max(size, 300))
	hdr.Put(b)
	binary.BigEndian.PutUint32(b[dhcp.MagicCookieOffset:], dhcp.MagicCookie)
	p := dhcp.OptionsOffset
	for _, o := range opts {
		n, _ := o.Encode(b[p:]) // sized above; every option is under 256 bytes
		p += n
	}
	b[p] = 0xff
	return b
}

// udpPayload returns the payload and ports of an Ethernet frame carrying
// an unfragmented IPv4/UDP datagram.
func udpPayload(frame []byte) (payload []byte, sport, dport uint16, ok bool) {
	const ethLen = header.EthernetMinimumSize
	if len(frame) < ethLen+header.IPv4MinimumSize+header.UDPMinimumSize ||
		header.Ethernet(frame).Type() != header.IPv4ProtocolNumber {
		return nil, 0, 0, false
	}
	ip := header.IPv4(frame[ethLen:])
	if !ip.IsValid(len(ip)) || ip.TransportProtocol() != header.UDPProtocolNumber || ip.More() || ip.FragmentOffset() != 0 {
		return nil, 0, 0, false
	}
	body := ip[ip.HeaderLength():ip.TotalLength()]
	if len(body) < header.UDPMinimumSize {
		return nil, 0, 0, false
	}
	u := header.UDP(body)
	if n := int(u.Length()); n < header.UDPMinimumSize || n > len(body) {
		return nil, 0, 0, false
	}
	return body[header.UDPMinimumSize:u.Length()], u.SourcePort(), u.DestinationPort(), true
}

// udpFrame builds an Ethernet frame carrying payload in IPv4/UDP, with
// both checksums.
func udpFrame(dstMAC, srcMAC []byte, src, dst netip.Addr, sport, dport uint16, payload []byte) []byte {
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
