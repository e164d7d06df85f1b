package guest

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
)

// The SDK writes the description as the host's abi.MarshalStruct does, and
// the host's abi.UnmarshalInto reads it back whole.
func TestEncodeDescription(t *testing.T) {
	tests := []struct {
		name string
		d    abi.Description
	}{
		{"minimal", abi.Description{ABI: abi.Version, Class: abi.ClassLAN, Name: "lan", Interfaces: []string{"eth"}}},
		{"everything", abi.Description{
			ABI: abi.Version, Class: abi.ClassWLAN, Name: "cyw43", Version: "0.3",
			Interfaces: []string{"sta", "ap"},
			Buses: []abi.BusNeed{
				{Name: "spi", Kind: abi.BusSPI},
				{Name: "irq", Kind: abi.BusGPIO, Optional: true},
				{Name: "firmware", Kind: abi.BusBlob},
			},
			Features: []string{"phy_mode", "country"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeDescription(tt.d)
			if err != nil {
				t.Fatal(err)
			}
			want, err := abi.MarshalStruct(tt.d)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("encoded %x; abi.MarshalStruct writes %x", got, want)
			}
			var back abi.Description
			if err := abi.UnmarshalInto(got, &back); err != nil || !reflect.DeepEqual(back, tt.d) {
				t.Errorf("the host reads %+v, %v; want %+v", back, err, tt.d)
			}
		})
	}
}

// The SDK reads the start info the host writes, skips keys it does not
// know (a newer host may add some) and names a key of the wrong type.
func TestDecodeStartInfo(t *testing.T) {
	info := abi.StartInfo{
		Buses:      map[string]uint32{"spi": 1, "rst": 2},
		Interfaces: []abi.InterfaceInfo{{Name: "eth", MAC: []byte{2, 0, 0, 0, 0, 1}}},
		Options:    map[string]any{"bridge": true, "speeds": []any{int64(10), int64(100)}, "pair": abi.Tuple{"a", 1.5}},
		Hostname:   "board", Country: "DE", PhyMode: 3,
		Features: abi.HostFeatures(),
	}
	b, err := abi.MarshalStruct(info)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeStartInfo(b)
	if err != nil || !reflect.DeepEqual(got, info) {
		t.Fatalf("decoded %+v, %v; want %+v", got, err, info)
	}

	newer, err := abi.Marshal(map[string]any{
		"buses":      map[string]any{"spi": 1},
		"interfaces": []any{map[string]any{"name": "eth", "mac": []byte{2, 0, 0, 0, 0, 1}, "speed": 100}},
		"hostname":   "h", "country": "XX",
		"cpu_share": 0.5, "limits": map[string]any{"poll": 250},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err = decodeStartInfo(newer)
	if err != nil || got.Buses["spi"] != 1 || got.Interfaces[0].Name != "eth" || got.Hostname != "h" {
		t.Fatalf("a start info with keys of a newer host: %+v, %v", got, err)
	}

	for _, tt := range []struct {
		v    any
		want string
	}{
		{map[string]any{"buses": map[string]any{"spi": "1"}}, "start info: buses.spi: expected a handle (int), got str"},
		{map[string]any{"interfaces": []any{map[string]any{"name": "eth", "mac": "02:00"}}}, "start info: interfaces[0].mac: expected bytes, got str"},
		{map[string]any{"features": []any{"tx_batch", 1}}, "start info: features[1]: expected str, got int"},
		{map[string]any{"phy_mode": true}, "start info: phy_mode: expected int, got bool"},
		{[]any{}, "start info: expected dict, got list"},
	} {
		b, err := abi.Marshal(tt.v)
		if err != nil {
			t.Fatal(err)
		}
		_, err = decodeStartInfo(b)
		if !errors.Is(err, abi.ErrEncoding) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("decoding %v: %v; want an error containing %q", tt.v, err, tt.want)
		}
	}
}
