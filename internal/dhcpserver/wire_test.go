package dhcpserver

import (
	"errors"
	"testing"

	"github.com/soypat/seqs/eth/dhcp"
)

func TestDecode(t *testing.T) {
	valid := encode(dhcp.HeaderV4{OP: dhcp.OpRequest, HLen: 6}, []dhcp.Option{
		{Num: dhcp.OptMessageType, Data: []byte{byte(dhcp.MsgDiscover)}},
		{Num: dhcp.OptHostName, Data: []byte("ab")},
		{Num: dhcp.OptHostName, Data: []byte("cd")}, // RFC 3396: concatenated
	})
	truncated := append([]byte(nil), valid[:dhcp.OptionsOffset+3]...) // message type's data, then a cut
	truncated = append(truncated, byte(dhcp.OptHostName), 9, 'x')
	noCookie := append([]byte(nil), valid...)
	noCookie[dhcp.MagicCookieOffset] ^= 0xff
	noType := encode(dhcp.HeaderV4{OP: dhcp.OpRequest}, nil)
	for _, c := range []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"valid", valid, true},
		{"short", valid[:dhcp.OptionsOffset-1], false},
		{"no magic cookie", noCookie, false},
		{"option past the end", truncated, false},
		{"no message type", noType, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := decode(c.in)
			if !c.ok {
				if !errors.Is(err, errMalformed) {
					t.Fatalf("decode = %v, want errMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.typ != dhcp.MsgDiscover || string(m.options[dhcp.OptHostName]) != "abcd" {
				t.Fatalf("decoded %v, host name %q", m.typ, m.options[dhcp.OptHostName])
			}
		})
	}
}

func TestUDPFrame(t *testing.T) {
	f := udpFrame(broadcast, serverMAC, zero4, bcast4, 68, 67, []byte("hello"))
	payload, sport, dport, ok := udpPayload(f)
	if !ok || sport != 68 || dport != 67 || string(payload) != "hello" {
		t.Fatalf("udpPayload = %q %d %d %v", payload, sport, dport, ok)
	}
	f[12] = 0x86 // EtherType 0x86dd: not IPv4
	f[13] = 0xdd
	if _, _, _, ok := udpPayload(f); ok {
		t.Fatal("an IPv6 frame parsed as IPv4/UDP")
	}
}
