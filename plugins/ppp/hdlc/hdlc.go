// Package hdlc is PPP's HDLC-like framing on an asynchronous serial line
// (RFC 1662): flag-delimited frames, octet stuffing with the Async-Control-
// Character-Map, the 16- and 32-bit frame check sequences, and the address,
// control and protocol field compressions LCP negotiates (RFC 1661 6.5 and
// 6.6).
//
// A frame on the line is
//
//	7e | ff 03 | protocol (1 or 2 octets) | information | FCS (2 or 4) | 7e
//
// with every 7e and 7d inside it, and every control character the peer's
// ACCM names, sent as 7d followed by the octet xor 0x20. The package is
// pure Go without allocation per frame, so that the PPP driver runs it as
// WASM and the simulated peer natively.
package hdlc

import (
	"encoding/binary"
	"hash/crc32"
)

// Octets of the framing.
const (
	Flag    = 0x7e // begins and ends a frame
	Escape  = 0x7d // the next octet is xor 0x20
	Address = 0xff // the all-stations address
	Control = 0x03 // unnumbered information
)

// PPP protocol numbers this module's users meet.
const (
	ProtoIPv4   = 0x0021
	ProtoIPv6   = 0x0057
	ProtoLCP    = 0xc021
	ProtoPAP    = 0xc023
	ProtoCHAP   = 0xc223
	ProtoIPCP   = 0x8021
	ProtoIPV6CP = 0x8057
)

// DefaultACCM escapes every control character: the map before LCP
// negotiates another, and the one every LCP packet of codes 1 to 7 is sent
// with (RFC 1662 7.1), so that a peer can always read them.
const DefaultACCM = 0xffffffff

// Send is how frames are sent: what the peer agreed to receive.
type Send struct {
	ACCM  uint32 // control characters (bit n for octet n) to escape
	FCS32 bool   // a 32-bit FCS instead of the 16-bit one
	ACFC  bool   // leave out the address and control fields
	PFC   bool   // one octet for a protocol below 0x100
}

// DefaultSend is how frames are sent before LCP has negotiated anything.
var DefaultSend = Send{ACCM: DefaultACCM}

// isLCPControl says whether a frame is an LCP Configure, Terminate or
// Code-Reject packet (codes 1 to 7), which is always sent with the default
// ACCM and its address, control and protocol fields in full: a peer must
// recognise them whatever was negotiated (RFC 1661 6.5, 6.6; RFC 1662 7.1).
func isLCPControl(proto uint16, info []byte) bool {
	return proto == ProtoLCP && len(info) > 0 && info[0] >= 1 && info[0] <= 7
}

// Append appends the frame carrying info under proto, sent as s says, to
// dst, and returns it. It begins and ends with a flag.
func Append(dst []byte, proto uint16, info []byte, s Send) []byte {
	accm, acfc, pfc := s.ACCM, s.ACFC, s.PFC
	if proto == ProtoLCP {
		acfc, pfc = false, false // LCP packets carry the full header (RFC 1661 6.5, 6.6)
		if isLCPControl(proto, info) {
			accm = DefaultACCM
		}
	}
	var hdr [4]byte
	h := hdr[:0]
	if !acfc {
		h = append(h, Address, Control)
	}
	if pfc && proto < 0x100 {
		h = append(h, byte(proto))
	} else {
		h = binary.BigEndian.AppendUint16(h, proto)
	}
	// The FCS, complemented, goes least significant octet first.
	var fcs [4]byte
	f := fcs[:2]
	if s.FCS32 {
		// crc32 complements for us. The header goes through by hand:
		// passed to crc32.Update, hdr would escape to the heap.
		c := ^uint32(0)
		for _, o := range h {
			c = crc32.IEEETable[byte(c)^o] ^ c>>8
		}
		binary.LittleEndian.PutUint32(fcs[:], crc32.Update(^c, crc32.IEEETable, info))
		f = fcs[:4]
	} else {
		binary.LittleEndian.PutUint16(fcs[:], FCS16(FCS16(FCS16Init, h), info)^0xffff)
	}
	dst = append(dst, Flag)
	dst = stuff(dst, h, accm)
	dst = stuff(dst, info, accm)
	dst = stuff(dst, f, accm)
	return append(dst, Flag)
}

// stuff appends b with flag, escape and the control characters in accm
// escaped.
func stuff(dst, b []byte, accm uint32) []byte {
	for _, c := range b {
		if c == Flag || c == Escape || (c < 0x20 && accm&(1<<c) != 0) {
			dst = append(dst, Escape, c^0x20)
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

// The 16-bit FCS (RFC 1662 appendix C.2): CRC-16/X.25, bits reflected.
const (
	FCS16Init = 0xffff
	FCS16Good = 0xf0b8 // the FCS over a frame and its own FCS
	// FCS32Good is the crc32 (as hash/crc32 computes it, complemented)
	// over a frame and its own 32-bit FCS.
	FCS32Good = 0x2144df1c
)

var fcs16Table = func() (t [256]uint16) {
	for b := range 256 {
		v := uint16(b)
		for range 8 {
			if v&1 != 0 {
				v = v>>1 ^ 0x8408
			} else {
				v >>= 1
			}
		}
		t[b] = v
	}
	return t
}()

// FCS16 updates the 16-bit FCS fcs with b.
func FCS16(fcs uint16, b []byte) uint16 {
	for _, c := range b {
		fcs = fcs>>8 ^ fcs16Table[byte(fcs)^c]
	}
	return fcs
}
