// Package cborhead reads the head of a CBOR data item (RFC 8949 §3): the
// initial byte and the argument that follows it. The host's shape check
// (package abi) and the guest SDK's decoder (package abi/guest) both walk
// CBOR item by item; this is the one place that reads a head, and each
// caller words its own errors.
package cborhead

import "encoding/binary"

// Fault says why a head could not be read.
type Fault uint8

const (
	OK         Fault = iota
	Short            // the message ends inside the head
	Indefinite       // additional information 31: an indefinite length, or a break
	Reserved         // additional information 28, 29 or 30
)

// Read reads the head at b[off:]. It returns the major type, the additional
// information, the argument (a length, a value or a tag number; for
// info < 24 the info itself) and the offset just past the head. On a fault
// only fault is meaningful.
func Read(b []byte, off int) (major, info byte, arg uint64, next int, fault Fault) {
	if off >= len(b) {
		return 0, 0, 0, off, Short
	}
	ib := b[off]
	off++
	major, info = ib>>5, ib&0x1f
	switch {
	case info < 24:
		return major, info, uint64(info), off, OK
	case info <= 27:
		n := 1 << (info - 24)
		if len(b)-off < n {
			return major, info, 0, off, Short
		}
		p := b[off:]
		switch n {
		case 1:
			arg = uint64(p[0])
		case 2:
			arg = uint64(binary.BigEndian.Uint16(p))
		case 4:
			arg = uint64(binary.BigEndian.Uint32(p))
		default:
			arg = binary.BigEndian.Uint64(p)
		}
		return major, info, arg, off + n, OK
	case info == 31:
		return major, info, 0, off, Indefinite
	}
	return major, info, 0, off, Reserved
}
