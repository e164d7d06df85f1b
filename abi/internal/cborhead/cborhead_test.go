package cborhead

import "testing"

func TestRead(t *testing.T) {
	for _, c := range []struct {
		in          []byte
		major, info byte
		arg         uint64
		next        int
		fault       Fault
	}{
		{in: []byte{0x17}, major: 0, info: 23, arg: 23, next: 1},
		{in: []byte{0x18, 0xff}, major: 0, info: 24, arg: 255, next: 2},
		{in: []byte{0x59, 0x01, 0x00}, major: 2, info: 25, arg: 256, next: 3},
		{in: []byte{0xda, 0, 1, 0, 0}, major: 6, info: 26, arg: 65536, next: 5},
		{in: []byte{0x1b, 1, 0, 0, 0, 0, 0, 0, 0}, major: 0, info: 27, arg: 1 << 56, next: 9},
		{in: nil, fault: Short},
		{in: []byte{0x19, 0x01}, major: 0, info: 25, next: 1, fault: Short},
		{in: []byte{0x5f}, major: 2, info: 31, next: 1, fault: Indefinite},
		{in: []byte{0xff}, major: 7, info: 31, next: 1, fault: Indefinite},
		{in: []byte{0x1c}, major: 0, info: 28, next: 1, fault: Reserved},
	} {
		major, info, arg, next, fault := Read(c.in, 0)
		if fault != c.fault || next != c.next || (fault == OK && (major != c.major || info != c.info || arg != c.arg)) {
			t.Errorf("Read(% x) = major %d, info %d, arg %d, next %d, fault %d; want %d, %d, %d, %d, %d",
				c.in, major, info, arg, next, fault, c.major, c.info, c.arg, c.next, c.fault)
		}
	}
}
