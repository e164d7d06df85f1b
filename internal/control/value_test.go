package control

import (
	"bytes"
	"errors"
	"math"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
)

// sameValue compares ABI values, NaN equal to NaN and -0.0 apart from 0.0.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (x == y && math.Signbit(x) == math.Signbit(y) || math.IsNaN(x) && math.IsNaN(y))
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case []any:
		y, ok := b.([]any)
		return ok && sameSeq(x, y)
	case abi.Tuple:
		y, ok := b.(abi.Tuple)
		return ok && sameSeq(x, y)
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	}
	return a == b
}

func sameSeq(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameValue(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestEncodeValue(t *testing.T) {
	for _, c := range []struct {
		v    any
		json string
	}{
		{nil, `null`},
		{true, `true`},
		{int64(-42), `-42`},
		{42, `42`}, // a Go int is normalized
		{1.0, `1.0`},
		{-0.0, `0.0`},
		{math.Copysign(0, -1), `-0.0`},
		{2.5e-7, `2.5e-07`},
		{1e21, `1e+21`},
		{math.Inf(1), `{"$float":"inf"}`},
		{math.Inf(-1), `{"$float":"-inf"}`},
		{math.NaN(), `{"$float":"nan"}`},
		{"a\"b\n", `"a\"b\n"`},
		{[]byte{2, 0, 0xab}, `{"$bytes":"0200ab"}`},
		{[]byte{}, `{"$bytes":""}`},
		{net.HardwareAddr{2, 0, 0, 0, 0, 1}, `{"$bytes":"020000000001"}`},
		{netip.MustParsePrefix("10.0.0.2/24"), `"10.0.0.2/24"`},
		{[]any{int64(1), "x"}, `[1,"x"]`},
		{abi.Tuple{"10.0.0.2", "255.255.255.0"}, `{"$tuple":["10.0.0.2","255.255.255.0"]}`},
		{abi.Tuple{}, `{"$tuple":[]}`},
		{map[string]any{"b": int64(1), "a": abi.Tuple{true}}, `{"a":{"$tuple":[true]},"b":1}`},
		{map[string]any{"$bytes": "not bytes"}, `{"$map":{"$bytes":"not bytes"}}`},
		{map[string]any{}, `{}`},
	} {
		got, err := EncodeValue(c.v)
		if err != nil {
			t.Errorf("EncodeValue(%#v): %v", c.v, err)
			continue
		}
		if string(got) != c.json {
			t.Errorf("EncodeValue(%#v) = %s, want %s", c.v, got, c.json)
		}
	}
}

func TestEncodeValue_Refuses(t *testing.T) {
	for _, c := range []struct {
		v    any
		says string
	}{
		{"\xff", "not valid UTF-8"},
		{[]any{map[string]any{"k": "\xfe"}}, "value[0].k"},
		{struct{}{}, "struct {}"},
		{uint64(math.MaxUint64), "does not fit"},
	} {
		_, err := EncodeValue(c.v)
		if !errors.Is(err, ErrValue) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("EncodeValue(%#v) = %v, want an error saying %q", c.v, err, c.says)
		}
	}
}

func TestDecodeValue(t *testing.T) {
	for _, c := range []struct {
		json string
		v    any
	}{
		{`null`, nil},
		{` true `, true},
		{`7`, int64(7)},
		{`-9223372036854775808`, int64(math.MinInt64)},
		{`7.0`, 7.0},
		{`7e0`, 7.0},
		{`1E2`, 100.0},
		{`-0.0`, math.Copysign(0, -1)},
		{`"\u00e9"`, "é"},
		{`{"$bytes":"0AfF"}`, []byte{0x0a, 0xff}},
		{`{"$float":"-inf"}`, math.Inf(-1)},
		{`{"$float":"nan"}`, math.NaN()},
		{`{"$tuple":[1,{"$tuple":[]}]}`, abi.Tuple{int64(1), abi.Tuple{}}},
		{`{"$map":{"$tuple":1,"x":{"$bytes":""}}}`, map[string]any{"$tuple": int64(1), "x": []byte{}}},
		{`{"a":[[],{}]}`, map[string]any{"a": []any{[]any{}, map[string]any{}}}},
		{strings.Repeat("[", 17) + strings.Repeat("]", 17), nest(16)},
	} {
		got, err := DecodeValue([]byte(c.json))
		if err != nil {
			t.Errorf("DecodeValue(%s): %v", c.json, err)
			continue
		}
		if !sameValue(got, c.v) {
			t.Errorf("DecodeValue(%s) = %#v, want %#v", c.json, got, c.v)
		}
	}
}

// nest is a list nested n deep inside a list: [[...[]...]].
func nest(n int) any {
	v := []any{}
	for range n {
		v = []any{v}
	}
	return v
}

func TestDecodeValue_Refuses(t *testing.T) {
	for _, c := range []struct {
		json, says string
	}{
		{``, "ends early"},
		{`[1,`, "ends early"},
		{`[1 2]`, "malformed JSON"},
		{`1 2`, "more than one value"},
		{`18446744073709551616`, "does not fit 64 bits"},
		{`1e999`, "out of range"},
		{`{"$bytes":"abc"}`, "even number of hex digits"},
		{`{"$bytes":1}`, "expected a string"},
		{`{"$float":"1.5"}`, `not "inf"`},
		{`{"$tuple":{}}`, "expected a list, got dict"},
		{`{"$map":[]}`, "expected an object"},
		{`{"$set":[1]}`, `unknown form "$set"`},
		{`{"$bytes":"00","x":1}`, "only key"},
		{`{"x":1,"$bytes":"00"}`, "only key"},
		{`{"$bytes":"00","$tuple":[]}`, "in one object"},
		{`{"a":1,"a":2}`, `"a" appears twice`},
		{`{"$map":{"a":1,"a":2}}`, `"a" appears twice`},
		{`{"k":[{"$bytes":"x"}]}`, "k[0]: $bytes"},
		{strings.Repeat("[", 18) + strings.Repeat("]", 18), "deeper than 16"},
		{strings.Repeat("[", 5000) + strings.Repeat("]", 5000), "deeper than 16"},
		{strings.Repeat(`{"$tuple":[`, 18) + strings.Repeat("]}", 18), "deeper than 16"},
	} {
		_, err := DecodeValue([]byte(c.json))
		if !errors.Is(err, ErrValue) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("DecodeValue(%.40s) = %v, want an error saying %q", c.json, err, c.says)
		}
	}
}

// roundTrip checks that a decoded value encodes to a canonical form that
// decodes to the same value and encodes the same again.
func roundTrip(t *testing.T, data []byte) {
	v, err := DecodeValue(data)
	if err != nil {
		return
	}
	enc, err := EncodeValue(v)
	if err != nil {
		t.Fatalf("DecodeValue(%q) = %#v, which does not encode: %v", data, v, err)
	}
	w, err := DecodeValue(enc)
	if err != nil {
		t.Fatalf("EncodeValue gave %s, which does not decode: %v", enc, err)
	}
	if !sameValue(v, w) {
		t.Fatalf("%q decoded to %#v, encoded as %s, decoded again to %#v", data, v, enc, w)
	}
	if enc2, _ := EncodeValue(w); !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding is not canonical: %s then %s", enc, enc2)
	}
}

func TestValue_RoundTrip(t *testing.T) {
	for _, s := range []string{
		`[null,true,1,1.5,-0.0,"s",{"$bytes":"00"},{"$tuple":[{"$float":"nan"}]},{"$map":{"$x":{}}},{"a":[]}]`,
		`1.7976931348623157e308`, `5e-324`, `0.1`, `123456789012345678.0`,
	} {
		roundTrip(t, []byte(s))
	}
}

// FuzzDecodeValue: decoding never panics, and what decodes survives an
// encode and a decode unchanged, encoded the same each time.
func FuzzDecodeValue(f *testing.F) {
	for _, s := range []string{`null`, `[1, 1.0, "x"]`, `{"$bytes": "00ff"}`, `{"$tuple": [{"$map": {"$k": 1}}]}`, `{"$float": "nan"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { roundTrip(t, data) })
}
