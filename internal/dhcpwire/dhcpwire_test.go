package dhcpwire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/soypat/seqs/eth/dhcp"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

var (
	clientMAC = []byte{0x02, 0, 0, 0, 0, 0x07}
	serverMAC = []byte{0x02, 0x64, 0, 0, 0, 0x01}
	bcastMAC  = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	zero4     = netip.IPv4Unspecified()
	bcast4    = netip.AddrFrom4([4]byte{255, 255, 255, 255})
	server4   = netip.MustParseAddr("10.64.0.1")
)

// discoverHdr is the fixed part of a client's DISCOVER.
func discoverHdr() dhcp.HeaderV4 {
	h := dhcp.HeaderV4{OP: dhcp.OpRequest, HType: 1, HLen: 6, Xid: 0xdeadbeef, Secs: 3, Flags: 0x8000}
	copy(h.CHAddr[:], clientMAC)
	return h
}

// rawMessage is a message whose options are exactly opts, as bytes after
// the cookie: no end option and no padding unless opts holds them.
func rawMessage(opts ...byte) []byte {
	b := make([]byte, dhcp.OptionsOffset, dhcp.OptionsOffset+len(opts))
	h := discoverHdr()
	h.Put(b)
	binary.BigEndian.PutUint32(b[dhcp.MagicCookieOffset:], dhcp.MagicCookie)
	return append(b, opts...)
}

const (
	msgType = byte(dhcp.OptMessageType)
	host    = byte(dhcp.OptHostName)
	end     = 0xff
)

func TestDecode(t *testing.T) {
	discover := byte(dhcp.MsgDiscover)
	// A message padded to 300 bytes whose last two say: option 12, 10
	// bytes. seqs' ForEachOption checks that length against all 300 bytes,
	// not the 0 left, and would slice past the end.
	lyingTail := rawMessage(msgType, 1, discover)
	lyingTail = append(lyingTail, make([]byte, MinSize-2-len(lyingTail))...)
	lyingTail = append(lyingTail, host, 10)
	noCookie := rawMessage(msgType, 1, discover, end)
	noCookie[dhcp.MagicCookieOffset] ^= 0xff

	for _, c := range []struct {
		name    string
		in      []byte
		wantErr string           // "" for success; else what the error says after the prefix
		options map[byte]string  // on success, the options decoded
		typ     dhcp.MessageType // on success, the message type
	}{
		{name: "minimal", in: rawMessage(msgType, 1, discover, end),
			typ: dhcp.MsgDiscover, options: map[byte]string{msgType: "\x01"}},
		{name: "encoded", in: Encode(discoverHdr(), []dhcp.Option{{Num: dhcp.OptMessageType, Data: []byte{discover}}}),
			typ: dhcp.MsgDiscover, options: map[byte]string{msgType: "\x01"}},
		{name: "split option concatenates (RFC 3396)", in: rawMessage(host, 2, 'a', 'b', msgType, 1, discover, host, 2, 'c', 'd', end),
			typ: dhcp.MsgDiscover, options: map[byte]string{msgType: "\x01", host: "abcd"}},
		{name: "pads are skipped", in: rawMessage(0, 0, msgType, 1, discover, 0, host, 1, 'x', 0, end),
			typ: dhcp.MsgDiscover, options: map[byte]string{msgType: "\x01", host: "x"}},
		{name: "no end option: the options stop at the end", in: rawMessage(msgType, 1, discover),
			typ: dhcp.MsgDiscover, options: map[byte]string{msgType: "\x01"}},
		{name: "bytes after the end option are ignored", in: rawMessage(msgType, 1, discover, end, host, 200, 'x'),
			typ: dhcp.MsgDiscover, options: map[byte]string{msgType: "\x01"}},
		{name: "an empty option is present", in: rawMessage(msgType, 1, discover, host, 0, end),
			typ: dhcp.MsgDiscover, options: map[byte]string{msgType: "\x01", host: ""}},
		{name: "two message types concatenate to two bytes", in: rawMessage(msgType, 1, discover, msgType, 1, discover, end),
			wantErr: "no message type"},

		{name: "empty", in: nil, wantErr: "0 bytes, shorter than the fixed part"},
		{name: "short of the cookie", in: rawMessage()[:dhcp.MagicCookieOffset], wantErr: "shorter than the fixed part"},
		{name: "one byte short of the fixed part", in: rawMessage()[:dhcp.OptionsOffset-1], wantErr: "shorter than the fixed part"},
		{name: "missing cookie", in: noCookie, wantErr: "no magic cookie"},
		{name: "no options at all", in: rawMessage(), wantErr: "no message type"},
		{name: "only the end option", in: rawMessage(end), wantErr: "no message type"},
		{name: "message type without data", in: rawMessage(msgType, 0, end), wantErr: "no message type"},
		{name: "message type of two bytes", in: rawMessage(msgType, 2, discover, discover, end), wantErr: "no message type"},
		{name: "truncated option: number without length", in: rawMessage(msgType, 1, discover, host), wantErr: "option 12 runs past the end"},
		{name: "truncated option: data cut short", in: rawMessage(msgType, 1, discover, host, 3, 'a', 'b'), wantErr: "option 12 runs past the end"},
		{name: "length past the end", in: rawMessage(host, 255, 'a', msgType, 1, discover, end), wantErr: "option 12 runs past the end"},
		{name: "length past the end of a padded message", in: lyingTail, wantErr: "option 12 runs past the end"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := Decode(c.in)
			if c.wantErr != "" {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("Decode = %v, %v; want an error wrapping ErrMalformed", m, err)
				}
				if msg := err.Error(); !strings.HasPrefix(msg, "dhcpwire: malformed DHCP message: ") || !strings.Contains(msg, c.wantErr) {
					t.Fatalf("Decode error %q, want %q after the package's prefix", msg, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if m.Type != c.typ {
				t.Errorf("Type = %v, want %v", m.Type, c.typ)
			}
			if want := discoverHdr(); m.Header != want {
				t.Errorf("Header = %+v, want %+v", m.Header, want)
			}
			got := map[byte]string{}
			for n, d := range m.Options {
				got[byte(n)] = string(d)
			}
			if !reflect.DeepEqual(got, c.options) {
				t.Errorf("Options = %q, want %q", got, c.options)
			}
		})
	}
}

func TestDecode_OptionsAreCopies(t *testing.T) {
	in := rawMessage(msgType, 1, byte(dhcp.MsgRequest), host, 2, 'a', 'b', end)
	m, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := dhcp.OptionsOffset; i < len(in); i++ {
		in[i] = 'z'
	}
	if h := string(m.Options[dhcp.OptHostName]); h != "ab" {
		t.Fatalf("host name %q after the input changed, want %q", h, "ab")
	}
}

func TestMessage_Accessors(t *testing.T) {
	const n = dhcp.OptRouter
	for _, c := range []struct {
		name    string
		data    []byte // nil: option absent
		addr    string // "invalid IP" for the zero Addr
		addrs   []netip.Addr
		seconds uint32 // with a default of 7
	}{
		{"absent", nil, "invalid IP", nil, 7},
		{"empty", []byte{}, "invalid IP", nil, 7},
		{"three bytes", []byte{10, 0, 0}, "invalid IP", nil, 7},
		{"one address", []byte{10, 0, 0, 1}, "10.0.0.1", []netip.Addr{netip.MustParseAddr("10.0.0.1")}, 0x0a000001},
		{"an address and a stray byte", []byte{10, 0, 0, 1, 9}, "10.0.0.1", []netip.Addr{netip.MustParseAddr("10.0.0.1")}, 7},
		{"two addresses", []byte{10, 0, 0, 1, 10, 0, 0, 2}, "10.0.0.1",
			[]netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")}, 7},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := &Message{Options: map[dhcp.OptNum][]byte{}}
			if c.data != nil {
				m.Options[n] = c.data
			}
			if got := m.Addr(n).String(); got != c.addr {
				t.Errorf("Addr = %s, want %s", got, c.addr)
			}
			if got := m.Addrs(n); !reflect.DeepEqual(got, c.addrs) {
				t.Errorf("Addrs = %v, want %v", got, c.addrs)
			}
			if got := m.Seconds(n, 7); got != c.seconds {
				t.Errorf("Seconds = %d, want %d", got, c.seconds)
			}
		})
	}
}

func TestEncode(t *testing.T) {
	typ := dhcp.Option{Num: dhcp.OptMessageType, Data: []byte{byte(dhcp.MsgRequest)}}
	long := dhcp.Option{Num: dhcp.OptHostName, Data: bytes.Repeat([]byte{'h'}, 255)}
	for _, c := range []struct {
		name    string
		opts    []dhcp.Option
		size    int
		options map[dhcp.OptNum]int // option number: data length after Decode
	}{
		{"padded to the BOOTP minimum", []dhcp.Option{typ}, MinSize, map[dhcp.OptNum]int{dhcp.OptMessageType: 1}},
		{"longer than the minimum", []dhcp.Option{typ, long}, dhcp.OptionsOffset + 3 + 257 + 1,
			map[dhcp.OptNum]int{dhcp.OptMessageType: 1, dhcp.OptHostName: 255}},
		{"an oversized option is left out", []dhcp.Option{typ, {Num: dhcp.OptDomainName, Data: make([]byte, 256)}, long},
			dhcp.OptionsOffset + 3 + 258 + 257 + 1, map[dhcp.OptNum]int{dhcp.OptMessageType: 1, dhcp.OptHostName: 255}},
	} {
		t.Run(c.name, func(t *testing.T) {
			hdr := discoverHdr()
			b := Encode(hdr, c.opts)
			if len(b) != c.size {
				t.Fatalf("Encode made %d bytes, want %d", len(b), c.size)
			}
			if got := binary.BigEndian.Uint32(b[dhcp.MagicCookieOffset:]); got != dhcp.MagicCookie {
				t.Fatalf("cookie %#x", got)
			}
			m, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode(Encode(...)): %v", err)
			}
			if m.Header != hdr || m.Type != dhcp.MsgRequest {
				t.Fatalf("round trip: header %+v type %v", m.Header, m.Type)
			}
			got := map[dhcp.OptNum]int{}
			for n, d := range m.Options {
				got[n] = len(d)
			}
			if !reflect.DeepEqual(got, c.options) {
				t.Fatalf("options (number: length) %v, want %v", got, c.options)
			}
		})
	}
}

func TestUDPFrame(t *testing.T) {
	payload := []byte("hello, odd length")
	f := UDPFrame(bcastMAC, clientMAC, zero4, bcast4, 68, 67, payload)
	if want := header.EthernetMinimumSize + header.IPv4MinimumSize + header.UDPMinimumSize + len(payload); len(f) != want {
		t.Fatalf("frame of %d bytes, want %d", len(f), want)
	}
	eth := header.Ethernet(f)
	if eth.DestinationAddress() != tcpip.LinkAddress(bcastMAC) || eth.SourceAddress() != tcpip.LinkAddress(clientMAC) || eth.Type() != header.IPv4ProtocolNumber {
		t.Fatalf("Ethernet header %x", f[:header.EthernetMinimumSize])
	}
	ip := header.IPv4(f[header.EthernetMinimumSize:])
	if !ip.IsChecksumValid() || ip.TTL() != 64 || ip.SourceAddress() != tcpip.AddrFrom4(zero4.As4()) || ip.DestinationAddress() != tcpip.AddrFrom4(bcast4.As4()) {
		t.Fatalf("IPv4 header %x", ip[:header.IPv4MinimumSize])
	}
	u := header.UDP(ip.Payload())
	sum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, ip.SourceAddress(), ip.DestinationAddress(), u.Length())
	if u.CalculateChecksum(checksum.Checksum(u.Payload(), sum)) != 0xffff {
		t.Fatalf("UDP checksum %#04x does not verify", u.Checksum())
	}

	d, ok := ParseUDP(f)
	want := Datagram{SrcMAC: clientMAC, Src: zero4, SrcPort: 68, DstPort: 67, Payload: payload}
	if !ok || !reflect.DeepEqual(d, want) {
		t.Fatalf("ParseUDP = %+v, %v; want %+v", d, ok, want)
	}
}

// setIP edits the IPv4 header of a frame and fixes its checksum, so that
// only the edit makes the frame wrong.
func setIP(edit func(ip header.IPv4)) func([]byte) []byte {
	return func(f []byte) []byte {
		ip := header.IPv4(f[header.EthernetMinimumSize:])
		edit(ip)
		ip.SetChecksum(0)
		ip.SetChecksum(^ip.CalculateChecksum())
		return f
	}
}

func TestParseUDP(t *testing.T) {
	const ethLen, ipLen, udpLen = header.EthernetMinimumSize, header.IPv4MinimumSize, header.UDPMinimumSize
	const udpAt = ethLen + ipLen
	payload := []byte("offer")
	for _, c := range []struct {
		name    string
		edit    func(f []byte) []byte // of a valid frame from the server, payload "offer"
		ok      bool
		payload string
	}{
		{"valid", func(f []byte) []byte { return f }, true, "offer"},
		{"Ethernet padding is ignored", func(f []byte) []byte { return append(f, make([]byte, 20)...) }, true, "offer"},
		{"UDP length shorter than the datagram", func(f []byte) []byte {
			binary.BigEndian.PutUint16(f[udpAt+4:], udpLen+2)
			return f
		}, true, "of"},
		{"empty payload", func(f []byte) []byte {
			binary.BigEndian.PutUint16(f[udpAt+4:], udpLen)
			return f
		}, true, ""},

		{"nil", func([]byte) []byte { return nil }, false, ""},
		{"runt", func(f []byte) []byte { return f[:6] }, false, ""},
		{"Ethernet header only", func(f []byte) []byte { return f[:ethLen] }, false, ""},
		{"one byte short of the headers", func(f []byte) []byte { return f[:udpAt+udpLen-1] }, false, ""},
		{"cut inside the payload", func(f []byte) []byte { return f[:len(f)-1] }, false, ""},
		{"ARP", func(f []byte) []byte { binary.BigEndian.PutUint16(f[12:], 0x0806); return f }, false, ""},
		{"IPv6 EtherType", func(f []byte) []byte { binary.BigEndian.PutUint16(f[12:], 0x86dd); return f }, false, ""},
		{"IP version 6 in an IPv4 frame", setIP(func(ip header.IPv4) { ip[0] = 0x65 }), false, ""},
		{"IPv4 header length under 20", setIP(func(ip header.IPv4) { ip[0] = 0x44 }), false, ""},
		{"IPv4 header length past the total", setIP(func(ip header.IPv4) { ip.SetTotalLength(ipLen + 4); ip[0] = 0x46 }), false, ""},
		{"IPv4 total length past the frame", setIP(func(ip header.IPv4) { ip.SetTotalLength(ip.TotalLength() + 1) }), false, ""},
		{"IPv4 total length leaves no room for UDP", setIP(func(ip header.IPv4) { ip.SetTotalLength(ipLen + udpLen - 1) }), false, ""},
		{"TCP", setIP(func(ip header.IPv4) { ip[9] = uint8(header.TCPProtocolNumber) }), false, ""},
		{"first fragment", setIP(func(ip header.IPv4) { ip.SetFlagsFragmentOffset(header.IPv4FlagMoreFragments, 0) }), false, ""},
		{"later fragment", setIP(func(ip header.IPv4) { ip.SetFlagsFragmentOffset(0, 8) }), false, ""},
		{"UDP length past the datagram", func(f []byte) []byte {
			binary.BigEndian.PutUint16(f[udpAt+4:], uint16(udpLen+len(payload)+1))
			return f
		}, false, ""},
		{"UDP length under the UDP header", func(f []byte) []byte {
			binary.BigEndian.PutUint16(f[udpAt+4:], udpLen-1)
			return f
		}, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := c.edit(UDPFrame(clientMAC, serverMAC, server4, bcast4, 67, 68, payload))
			d, ok := ParseUDP(f)
			if ok != c.ok {
				t.Fatalf("ParseUDP ok = %v, want %v (%+v)", ok, c.ok, d)
			}
			if !ok {
				if !reflect.DeepEqual(d, Datagram{}) {
					t.Fatalf("ParseUDP returned %+v with false", d)
				}
				return
			}
			if string(d.Payload) != c.payload || !bytes.Equal(d.SrcMAC, serverMAC) || d.Src != server4 || d.SrcPort != 67 || d.DstPort != 68 {
				t.Fatalf("ParseUDP = %+v, want payload %q from %x %v port 67 to 68", d, c.payload, serverMAC, server4)
			}
			if cap(d.SrcMAC) != len(d.SrcMAC) {
				t.Fatalf("SrcMAC has room to grow into the frame (cap %d)", cap(d.SrcMAC))
			}
		})
	}
}

// FuzzDecode checks that no input makes Decode panic and that what it
// accepts carries a one-byte message type.
func FuzzDecode(f *testing.F) {
	f.Add(Encode(discoverHdr(), []dhcp.Option{{Num: dhcp.OptMessageType, Data: []byte{1}}}))
	f.Add(rawMessage(msgType, 1, 1, host, 9, 'x'))
	f.Add(rawMessage(host))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if len(m.Options[dhcp.OptMessageType]) != 1 || byte(m.Type) != m.Options[dhcp.OptMessageType][0] {
			t.Fatalf("accepted %x with message type option %x", b, m.Options[dhcp.OptMessageType])
		}
	})
}

// FuzzParseUDP checks that no frame makes ParseUDP panic and that the
// payload it returns lies inside the frame.
func FuzzParseUDP(f *testing.F) {
	f.Add(UDPFrame(bcastMAC, clientMAC, zero4, bcast4, 68, 67, []byte("x")))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, frame []byte) {
		d, ok := ParseUDP(frame)
		if ok && len(d.Payload) > len(frame)-header.EthernetMinimumSize-header.IPv4MinimumSize-header.UDPMinimumSize {
			t.Fatalf("payload of %d bytes from a frame of %d", len(d.Payload), len(frame))
		}
	})
}
