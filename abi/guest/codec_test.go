package guest

import (
	"bytes"
	"errors"
	"math"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/internal/valuevectors"
)

// Every vector of abi/testdata/values: accepted ones decode and re-encode
// to the host's canonical bytes, refused ones fail with an error naming
// the offending value's path.
func TestDecodeValue_Vectors(t *testing.T) {
	for _, v := range readVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			got, err := decodeValue(v.Msg)
			if !v.OK {
				switch {
				case err == nil:
					t.Fatalf("%s: accepted as %s", v, valuevectors.Short(got))
				case !errors.Is(err, abi.ErrEncoding):
					t.Fatalf("%s: error %v does not wrap abi.ErrEncoding", v, err)
				case v.Path != "" && !strings.Contains(err.Error(), ": "+v.Path+": "):
					t.Fatalf("%s: error %q does not name %s", v, err, v.Path)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: refused: %v", v, err)
			}
			b, err := encodeValue(got)
			if err != nil || !bytes.Equal(b, v.Canon) {
				t.Fatalf("%s: decoded as %s, which encodes as %s, %v; want %s", v, valuevectors.Short(got), valuevectors.Short(b), err, valuevectors.Short(v.Canon))
			}
		})
	}
}

// The decoder gives the Go types abi.Unmarshal gives, and copies: the
// message's buffer can be reused.
func TestDecodeValue_Types(t *testing.T) {
	msg, err := abi.Marshal([]any{nil, true, int64(-3), 1.5, "s", []byte{1}, []any{}, abi.Tuple{}, map[string]any{"k": []byte{}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeValue(msg)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := abi.Unmarshal(msg)
	if !equalValues(got, want) {
		t.Fatalf("decoded %#v; abi.Unmarshal gives %#v", got, want)
	}
	clear(msg)
	if l := got.([]any); l[4] != "s" || l[5].([]byte)[0] != 1 {
		t.Fatalf("the decoded value changed with the message's buffer: %#v", got)
	}
}

// The encoder takes what abi.Marshal takes and writes the same bytes.
func TestEncodeValue_LikeMarshal(t *testing.T) {
	type level int
	tests := []struct {
		name string
		v    any
	}{
		{"int", 7},
		{"int8", int8(-8)},
		{"uint16", uint16(65535)},
		{"uint64 max int64", uint64(math.MaxInt64)},
		{"float32", float32(0.1)},
		{"named int", level(3)},
		{"abi.Edge", abi.EdgeBoth},
		{"strings", []string{"a", "bb"}},
		{"nil strings", []string(nil)},
		{"nil bytes", []byte(nil)},
		{"nil list", []any(nil)},
		{"nil map", map[string]any(nil)},
		{"MAC", net.HardwareAddr{2, 0, 0, 0, 0, 1}},
		{"byte array", [6]byte{1, 2, 3, 4, 5, 6}},
		{"string array as tuple", [2]string{"a", "b"}},
		{"net.IP", net.IPv4(10, 0, 0, 2)},
		{"netip.Prefix", netip.MustParsePrefix("10.0.0.2/24")},
		{"map of ints", map[string]int{"b": 1, "aa": 2, "a": 3}},
		{"map of named values", map[string]any{"edge": abi.EdgeRising, "list": []int{1, 2}}},
		{"scan result", []any{abi.Tuple{[]byte("net"), []byte{1, 2, 3, 4, 5, 6}, 6, -40, 3, false}}},
		{"NaN and infinities", []any{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1)}},
		{"long key", map[string]any{strings.Repeat("k", 300): 1, strings.Repeat("k", 30): 2, "k": 3}},
		{"4096 items", make([]any, 4096)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := abi.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			got, err := encodeValue(tt.v)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("encoded %s, %v; abi.Marshal writes %s", valuevectors.Short(got), err, valuevectors.Short(want))
			}
		})
	}
}

// A value the ABI cannot carry is refused with an error naming its path.
func TestEncodeValue_Refuses(t *testing.T) {
	deep := any(int64(1))
	for range 17 {
		deep = []any{deep}
	}
	pairs := map[string]any{}
	for i := range 1025 {
		pairs[strings.Repeat("k", i)] = nil
	}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"channel", []any{1, make(chan int)}, "value[1] has type chan int, which the ABI cannot carry"},
		{"channel in a map", map[string]any{"a": map[string]any{"b": make(chan int)}}, "value.a.b has type chan int"},
		{"channel inside a named type", map[string]any{"a": []chan int{nil}}, "value.a[0] has type chan int"},
		{"uint64 above int64", []any{uint64(math.MaxUint64)}, "value[0]: 18446744073709551615 does not fit a signed 64-bit int"},
		{"invalid UTF-8", map[string]any{"ssid": "\xff"}, "value.ssid: a str is not valid UTF-8"},
		{"invalid UTF-8 key", map[string]any{"\xff": 1}, `value: key "\xff" is not valid UTF-8`},
		{"17 deep", deep, "value[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: nests deeper than 16"},
		{"4097 items", []any{make([]any, 4097)}, "value[0]: 4097 items exceed the limit of 4096"},
		{"4097 strings", make([]string, 4097), "value: 4097 items exceed the limit of 4096"},
		{"1025 pairs", pairs, "value: 1025 pairs exceed the limit of 1024"},
		{"too big", []any{make([]byte, abi.MaxMessage)}, "message of 65542 bytes exceeds the 65536-byte limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte{0xaa}
			got, err := appendValue(dst, tt.v)
			if err == nil || !errors.Is(err, abi.ErrEncoding) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v; want one wrapping abi.ErrEncoding containing %q", err, tt.want)
			}
			if !bytes.Equal(got, dst) {
				t.Fatalf("a refused value left %x in the buffer", got)
			}
		})
	}
}

// equalValues compares decoded values: the same Go types and the same
// numbers, NaN equal to NaN and -0 unequal to 0.
func equalValues(a, b any) bool {
	switch x := a.(type) {
	case nil, bool, int64, string:
		return a == b
	case float64:
		y, ok := b.(float64)
		return ok && (math.Float64bits(x) == math.Float64bits(y) || x != x && y != y)
	case []byte:
		y, ok := b.([]byte)
		return ok && x != nil && y != nil && bytes.Equal(x, y)
	case []any:
		y, ok := b.([]any)
		return ok && equalLists(x, y)
	case abi.Tuple:
		y, ok := b.(abi.Tuple)
		return ok && equalLists(x, y)
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || x == nil || y == nil || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equalValues(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

func equalLists(a, b []any) bool {
	if a == nil || b == nil || len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equalValues(a[i], b[i]) {
			return false
		}
	}
	return true
}
