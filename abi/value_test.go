package abi

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestMarshal_RoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"none", nil, nil},
		{"bool", true, true},
		{"int", 42, int64(42)},
		{"negative int", int64(-7), int64(-7)},
		{"uint8", uint8(200), int64(200)},
		{"float", 1.5, 1.5},
		{"str", "ssid", "ssid"},
		{"bytes", []byte{0, 1, 2}, []byte{0, 1, 2}},
		{"empty bytes", []byte(nil), []byte{}},
		{"list", []any{1, "a"}, []any{int64(1), "a"}},
		{"tuple", Tuple{"net", []byte{1, 2, 3, 4, 5, 6}, 6, -40, 3, false},
			Tuple{"net", []byte{1, 2, 3, 4, 5, 6}, int64(6), int64(-40), int64(3), false}},
		{"list of tuples", []any{Tuple{1}, Tuple{2}}, []any{Tuple{int64(1)}, Tuple{int64(2)}}},
		{"map", map[string]any{"mac": []byte{1}, "channel": 11}, map[string]any{"mac": []byte{1}, "channel": int64(11)}},
		{"strings", []string{"a", "b"}, []any{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Marshal(tt.in)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			got, err := Unmarshal(b)
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("round trip: got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestMarshal_RejectsForeignTypes(t *testing.T) {
	tests := []struct {
		name string
		in   any
		path string
	}{
		{"struct", struct{}{}, "value"},
		{"nested chan", []any{1, make(chan int)}, "value[1]"},
		{"map value", map[string]any{"k": struct{}{}}, "value.k"},
		{"huge uint", uint64(1 << 63), "value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Marshal(tt.in)
			if !errors.Is(err, ErrEncoding) {
				t.Fatalf("err = %v, want ErrEncoding", err)
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Fatalf("err %q does not name the path %q", err, tt.path)
			}
		})
	}
}

func TestUnmarshal_RejectsGarbage(t *testing.T) {
	deep := bytes.Repeat([]byte{0x81}, MaxDepth+2) // nested one-element arrays
	deep = append(deep, 0x00)
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"truncated array", []byte{0x83, 0x01}},
		{"trailing bytes", []byte{0x01, 0x02}},
		{"indefinite array", []byte{0x9f, 0x01, 0xff}},
		{"int map key", []byte{0xa1, 0x01, 0x02}},
		{"duplicate key", []byte{0xa2, 0x61, 'a', 0x01, 0x61, 'a', 0x02}},
		{"invalid utf8", []byte{0x62, 0xff, 0xfe}},
		{"unknown tag", []byte{0xd8, 0x20, 0x01}},
		{"too deep", deep},
		{"uint64 overflow", []byte{0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"too big", make([]byte, MaxMessage+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Unmarshal(tt.in)
			if !errors.Is(err, ErrEncoding) {
				t.Fatalf("Unmarshal(% x) = %#v, %v; want ErrEncoding", tt.in, v, err)
			}
		})
	}
}

func TestError_Is(t *testing.T) {
	e := OSError(ETIMEDOUT, "no answer")
	if !errors.Is(e, ErrOS) || !errors.Is(e, syscall.ETIMEDOUT) {
		t.Fatalf("%v should match ErrOS and ETIMEDOUT", e)
	}
	if errors.Is(e, ErrValue) || errors.Is(e, syscall.EIO) {
		t.Fatalf("%v should not match ValueError or EIO", e)
	}
	if got, want := e.Error(), "OSError: [Errno 110] no answer"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if got, want := ValueError("mac must be 6 bytes").Error(), "ValueError: mac must be 6 bytes"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func TestDescription_Validate(t *testing.T) {
	ok := Description{ABI: Version, Class: ClassLAN, Name: "lan", Interfaces: []string{"eth"},
		Buses: []BusNeed{{Name: "port", Kind: "frame"}, {Name: "mdio", Kind: "mdio"}}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid description refused: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(*Description)
		want   string
	}{
		{"wrong major", func(d *Description) { d.ABI = 2 << 16 }, "ABI 2.0"},
		{"unknown class", func(d *Description) { d.Class = "TOKENRING" }, "unknown class"},
		{"no interfaces", func(d *Description) { d.Interfaces = nil }, "1 to 8 interfaces"},
		{"bad bus kind", func(d *Description) { d.Buses[0].Kind = "i2c" }, `unknown kind "i2c"`},
		{"repeated bus", func(d *Description) { d.Buses[1].Name = "port" }, `"port" is invalid or repeated`},
		{"bad name", func(d *Description) { d.Name = "Bad Name" }, "driver name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ok
			d.Buses = append([]BusNeed(nil), ok.Buses...)
			tt.mutate(&d)
			err := d.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestStartInfo_RoundTrip(t *testing.T) {
	in := StartInfo{Buses: map[string]uint32{"spi": 1}, Interfaces: []InterfaceInfo{{Name: "eth", MAC: []byte{2, 0, 0, 0, 0, 1}}},
		Options: map[string]any{"irq": true}, Hostname: "board", Country: "XX"}
	b, err := MarshalStruct(in)
	if err != nil {
		t.Fatal(err)
	}
	var out StartInfo
	if err := UnmarshalInto(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("got %#v, want %#v", out, in)
	}
}

func TestUnmarshalInto_NamesUnknownKey(t *testing.T) {
	for _, tt := range []struct {
		v    map[string]any
		want string
	}{
		{map[string]any{"abi": int64(Version), "class": "LAN", "colour": "red"}, `unknown key "colour" (this host speaks ABI 1.1; the keys are abi, class, name,`},
		{map[string]any{"abi": int64(Version), "buses": []any{map[string]any{"name": "spi", "kind": "spi", "speed": int64(1)}}}, `unknown key "speed" in buses[0]`},
	} {
		b, err := Marshal(tt.v)
		if err != nil {
			t.Fatal(err)
		}
		var d Description
		err = UnmarshalInto(b, &d)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("UnmarshalInto(%v) = %v, want an error containing %q", tt.v, err, tt.want)
		}
	}
}

func TestUnmarshal_ShapeErrorsNameThePath(t *testing.T) {
	for _, tt := range []struct {
		msg  []byte
		want string
	}{
		{[]byte{0xa1, 0x61, 'a', 0x82, 0x01, 0xf7}, "value.a[1] is undefined"},
		{[]byte{0x81, 0xe0}, "value[0] is the CBOR simple value 0"},
		{[]byte{0xa1, 0xf6, 0x01}, "is a map key of CBOR major type 7"},
		{[]byte{0xd9, 0xd9, 0xf7, 0x01}, "has CBOR tag 55799"},
		{[]byte{0xd9, 0x80, 0x66, 0x01}, "the tuple tag around CBOR major type 0"},
		{[]byte{0x9f, 0xff}, "indefinite length"},
		{append([]byte{0xa1, 0x61, 'k', 0x99, 0x10, 0x01}, make([]byte, 4097)...), "value.k holds 4097 items, more than 4096"},
		{[]byte{0x81, 0xbb, 0x80, 0, 0, 0, 0, 0, 0, 0}, "value[0] holds 9223372036854775808 pairs, more than 1024"},
	} {
		_, err := Unmarshal(tt.msg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Unmarshal(%x) = %v, want an error containing %q", tt.msg, err, tt.want)
		}
	}
}
