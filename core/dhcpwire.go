package core

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/soypat/seqs/eth/dhcp"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// DHCPv4 messages travel as whole Ethernet frames that the core builds and
// parses itself: before it has an address a client cannot use the stack's
// UDP sockets (source 0.0.0.0, broadcast destination). The DHCP message
// layout comes from soypat/seqs' codec; the options are walked here with
// bounds checks, since a frame from the wire may lie about any length.

// dhcpMsg is a decoded DHCPv4 message.
type dhcpMsg struct {
	hdr     dhcp.HeaderV4
	typ     dhcp.MessageType
	options map[dhcp.OptNum][]byte
}

var errDHCPMalformed = errors.New("core: malformed DHCP message")

// parseDHCP decodes a DHCP message (the UDP payload).
func parseDHCP(b []byte) (*dhcpMsg, error) {
	if len(b) < dhcp.OptionsOffset {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the fixed part", errDHCPMalformed, len(b))
	}
	if binary.BigEndian.Uint32(b[dhcp.MagicCookieOffset:]) != dhcp.MagicCookie {
		return nil, fmt.Errorf("%w: no magic cookie", errDHCPMalformed)
	}
	m := &dhcpMsg{hdr: dhcp.DecodeHeaderV4(b), options: map[dhcp.OptNum][]byte{}}
	for p := dhcp.OptionsOffset; p < len(b); {
		num := dhcp.OptNum(b[p])
		if num == 0xff {
			break
		}
		if num == 0 { // pad
			p++
			continue
		}
		if p+2 > len(b) || p+2+int(b[p+1]) > len(b) {
			return nil, fmt.Errorf("%w: option %d runs past the end", errDHCPMalformed, num)
		}
		data := b[p+2 : p+2+int(b[p+1])]
		m.options[num] = append(m.options[num], data...) // RFC 3396: split options concatenate
		p += 2 + len(data)
	}
	t, ok := m.options[dhcp.OptMessageType]
	if !ok || len(t) != 1 {
		return nil, fmt.Errorf("%w: no message type", errDHCPMalformed)
	}
	m.typ = dhcp.MessageType(t[0])
	return m, nil
}

// addrOpt returns an option holding one IPv4 address.
func (m *dhcpMsg) addrOpt(n dhcp.OptNum) netip.Addr {
	b := m.options[n]
	if len(b) < 4 {
		return netip.Addr{}
	}
	return netip.AddrFrom4([4]byte(b[:4]))
}

// addrsOpt returns an option holding a list of IPv4 addresses.
func (m *dhcpMsg) addrsOpt(n dhcp.OptNum) []netip.Addr {
	b := m.options[n]
	var out []netip.Addr
	for len(b) >= 4 {
		out = append(out, netip.AddrFrom4([4]byte(b[:4])))
		b = b[4:]
	}
	return out
}

// secondsOpt returns a 32-bit seconds option, or def.
func (m *dhcpMsg) secondsOpt(n dhcp.OptNum, def uint32) uint32 {
	if b := m.options[n]; len(b) == 4 {
		return binary.BigEndian.Uint32(b)
	}
	return def
}

// buildDHCP encodes a DHCP message: header, magic cookie, options, end.
func buildDHCP(hdr dhcp.HeaderV4, opts []dhcp.Option) []byte {
	size := dhcp.OptionsOffset + 1
	for _, o := range opts {
		size += 2 + len(o.Data)
	}
	if size < 300 { // BOOTP minimum; some servers drop shorter requests
		size = 300
	}
	b := make([]byte, size)
	hdr.Put(b)
	binary.BigEndian.PutUint32(b[dhcp.MagicCookieOffset:], dhcp.MagicCookie)
	p := dhcp.OptionsOffset
	for _, o := range opts {
		n, _ := o.Encode(b[p:])
		p += n
	}
	b[p] = 0xff
	return b
}

// udpFrame wraps a UDP payload in IPv4 and Ethernet headers.
func udpFrame(dstMAC, srcMAC []byte, src, dst netip.Addr, sport, dport uint16, payload []byte) []byte {
	const ipLen, udpLen = header.IPv4MinimumSize, header.UDPMinimumSize
	f := make([]byte, header.EthernetMinimumSize+ipLen+udpLen+len(payload))
	eth := header.Ethernet(f)
	copy(f[0:6], dstMAC)
	copy(f[6:12], srcMAC)
	binary.BigEndian.PutUint16(f[12:14], uint16(header.IPv4ProtocolNumber))
	_ = eth
	ip := header.IPv4(f[header.EthernetMinimumSize:])
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(ipLen + udpLen + len(payload)),
		TTL:         64,
		Protocol:    uint8(header.UDPProtocolNumber),
		SrcAddr:     addrOf(src),
		DstAddr:     addrOf(dst),
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	u := header.UDP(ip[ipLen:])
	u.Encode(&header.UDPFields{SrcPort: sport, DstPort: dport, Length: uint16(udpLen + len(payload))})
	copy(u[udpLen:], payload)
	xsum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, addrOf(src), addrOf(dst), uint16(udpLen+len(payload)))
	xsum = checksum.Checksum(payload, xsum)
	u.SetChecksum(^u.CalculateChecksum(xsum))
	return f
}

// udpOf returns the UDP ports and payload of an IPv4/UDP Ethernet frame, and
// the frame's source MAC and IP.
func udpOf(frame []byte) (srcMAC []byte, src netip.Addr, sport, dport uint16, payload []byte, ok bool) {
	if len(frame) < header.EthernetMinimumSize+header.IPv4MinimumSize+header.UDPMinimumSize {
		return nil, netip.Addr{}, 0, 0, nil, false
	}
	if binary.BigEndian.Uint16(frame[12:14]) != uint16(header.IPv4ProtocolNumber) {
		return nil, netip.Addr{}, 0, 0, nil, false
	}
	ip := header.IPv4(frame[header.EthernetMinimumSize:])
	if !ip.IsValid(len(ip)) || ip.Protocol() != uint8(header.UDPProtocolNumber) || ip.More() || ip.FragmentOffset() != 0 {
		return nil, netip.Addr{}, 0, 0, nil, false
	}
	body := ip[ip.HeaderLength():ip.TotalLength()]
	if len(body) < header.UDPMinimumSize {
		return nil, netip.Addr{}, 0, 0, nil, false
	}
	u := header.UDP(body)
	if int(u.Length()) > len(body) || u.Length() < header.UDPMinimumSize {
		return nil, netip.Addr{}, 0, 0, nil, false
	}
	return frame[6:12], netipOf(ip.SourceAddress()), u.SourcePort(), u.DestinationPort(), body[header.UDPMinimumSize:u.Length()], true
}
