package abi_test

import (
	"errors"
	"math"
	"net"
	"net/netip"
	"reflect"
	"testing"

	"github.com/nichost/nichost/abi"
)

// The Go types a Go caller has in hand become the value model's.
func TestNormalize_GoTypes(t *testing.T) {
	type level uint16
	type name string
	cases := []struct {
		in   any
		want any
	}{
		{int32(6), int64(6)},
		{int8(-3), int64(-3)},
		{uint64(7), int64(7)},
		{uintptr(9), int64(9)},
		{abi.EdgeFalling, int64(abi.EdgeFalling)},
		{level(3), int64(3)},
		{name("eth0"), "eth0"},
		{float32(0.5), 0.5},
		{net.HardwareAddr{2, 0, 0, 0, 0, 1}, []byte{2, 0, 0, 0, 0, 1}},
		{[6]byte{2, 0, 0, 0, 0, 1}, []byte{2, 0, 0, 0, 0, 1}},
		{net.IPv4(10, 0, 0, 2), "10.0.0.2"},
		{netip.MustParseAddr("fd00::1"), "fd00::1"},
		{netip.MustParsePrefix("10.0.0.2/24"), "10.0.0.2/24"},
		{netip.MustParseAddrPort("10.0.0.1:53"), "10.0.0.1:53"},
		{[2]string{"10.0.0.2", "255.255.255.0"}, abi.Tuple{"10.0.0.2", "255.255.255.0"}},
		{[]string{"a", "b"}, []any{"a", "b"}},
		{[]netip.Addr{netip.MustParseAddr("1.1.1.1")}, []any{"1.1.1.1"}},
		{map[string]int{"a": 1}, map[string]any{"a": int64(1)}},
		{map[string]any{"mac": net.HardwareAddr{1, 2, 3, 4, 5, 6}}, map[string]any{"mac": []byte{1, 2, 3, 4, 5, 6}}},
	}
	for _, c := range cases {
		got, err := abi.Normalize(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Normalize(%T %v) = %#v, %v; want %#v", c.in, c.in, got, err, c.want)
		}
		// What Normalize accepts, Marshal carries.
		if _, err := abi.Marshal(c.in); err != nil {
			t.Errorf("Marshal(%T) = %v", c.in, err)
		}
	}
}

func TestNormalize_Refused(t *testing.T) {
	for _, in := range []any{
		struct{}{}, make(chan int), map[int]string{1: "a"}, uint64(math.MaxUint64),
		netip.Addr{}, netip.Prefix{}, net.IP(nil), func() {},
	} {
		_, err := abi.Normalize(in)
		if !errors.Is(err, abi.ErrType) {
			t.Errorf("Normalize(%T) = %v, want a TypeError", in, err)
		}
	}
}

// Int takes every Go integer type; a bool, a float or a string is a
// TypeError that names the type as MicroPython would.
func TestInt_GoIntegerTypes(t *testing.T) {
	for _, in := range []any{int(6), int8(6), int16(6), int32(6), int64(6), uint(6), uint8(6), uint16(6), uint32(6), uint64(6)} {
		if n, err := abi.Int("prefer", in); n != 6 || err != nil {
			t.Errorf("Int(%T(6)) = %d, %v", in, n, err)
		}
	}
	for _, c := range []struct {
		in   any
		want string
	}{{true, "prefer: expected int, got bool"}, {1.5, "prefer: expected int, got float"}, {"6", "prefer: expected int, got str"}} {
		_, err := abi.Int("prefer", c.in)
		var ae *abi.Error
		if !errors.As(err, &ae) || ae.Kind != abi.KindTypeError || ae.Msg != c.want {
			t.Errorf("Int(%v) = %v, want TypeError %q", c.in, err, c.want)
		}
	}
}
