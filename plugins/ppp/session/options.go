package session

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// option is one configuration option: type, and its data (after the type
// and length octets).
type option struct {
	typ  byte
	data []byte
}

var errMalformed = errors.New("malformed option list")

// parseOptions splits a Configure packet's data into its options. A list
// that does not divide into whole options is malformed (RFC 1661 6: each
// option's length counts its type and length octets, so it is at least 2).
func parseOptions(b []byte, fn func(o option) error) error {
	for len(b) > 0 {
		if len(b) < 2 || b[1] < 2 || int(b[1]) > len(b) {
			return errMalformed
		}
		if err := fn(option{typ: b[0], data: b[2:b[1]]}); err != nil {
			return err
		}
		b = b[b[1]:]
	}
	return nil
}

// appendOption appends an option of type typ with data.
func appendOption(dst []byte, typ byte, data ...byte) []byte {
	dst = append(dst, typ, byte(2+len(data)))
	return append(dst, data...)
}

func appendU16(dst []byte, typ byte, v uint16) []byte {
	return appendOption(dst, typ, byte(v>>8), byte(v))
}

func appendU32(dst []byte, typ byte, v uint32) []byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return appendOption(dst, typ, b[:]...)
}

func appendAddr(dst []byte, typ byte, a netip.Addr) []byte {
	if !a.Is4() {
		a = netip.IPv4Unspecified()
	}
	b := a.As4()
	return appendOption(dst, typ, b[:]...)
}

// u16, u32 and addr read an option's data of exactly that size; ok is
// false for another size.
func (o option) u16() (uint16, bool) {
	if len(o.data) != 2 {
		return 0, false
	}
	return binary.BigEndian.Uint16(o.data), true
}

func (o option) u32() (uint32, bool) {
	if len(o.data) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(o.data), true
}

func (o option) addr() (netip.Addr, bool) {
	if len(o.data) != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(o.data)), true
}

// reply gathers the answer to a peer's Configure-Request: the options to
// nak and those to reject. Rejects win: a reply with any is a
// Configure-Reject of those alone (RFC 1661 5.4).
type reply struct {
	nak, rej []byte
}

func (r *reply) reject(o option) { r.rej = appendOption(r.rej, o.typ, o.data...) }

// result is the Configure-Ack, -Nak or -Reject the reply makes.
func (r *reply) result() (code byte, data []byte) {
	switch {
	case r.rej != nil:
		return 4, r.rej
	case r.nak != nil:
		return 3, r.nak
	}
	return 2, nil
}
