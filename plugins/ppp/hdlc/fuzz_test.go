package hdlc

import (
	"bytes"
	"testing"
)

// Any octets from the line: the decoder never panics, never passes more
// than the MRU, and every frame it passes goes out and back unchanged.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte{Flag, Address, Control, 0x00, 0x21, 0x45, 0x00, 0x7c, 0x1c, Flag}, uint8(0))
	f.Add(Append(nil, ProtoLCP, []byte{1, 1, 0, 10, 1, 4, 5, 0xdc, 7, 2}, DefaultSend), uint8(0))
	f.Add(Append(nil, ProtoIPv4, []byte{Flag, Escape, 0, 0x1f}, Send{FCS32: true, ACFC: true, PFC: true}), uint8(3))
	f.Add([]byte{Flag, Escape, Flag, Flag, Escape, Escape, 0x11, Flag}, uint8(1))
	f.Fuzz(func(t *testing.T, line []byte, opts uint8) {
		r := Receive{ACCM: DefaultACCM, FCS32: opts&1 != 0, MRU: 64}
		if opts&2 != 0 {
			r.ACCM = 0
		}
		d := NewDecoder(r)
		var frames [][]byte
		var protos []uint16
		d.Write(line, func(p uint16, info []byte) {
			if len(info) > r.MRU {
				t.Fatalf("passed %d octets over an MRU of %d", len(info), r.MRU)
			}
			protos = append(protos, p)
			frames = append(frames, bytes.Clone(info))
		})
		for i, info := range frames {
			back := NewDecoder(r)
			n := 0
			back.Write(Append(nil, protos[i], info, Send{ACCM: r.ACCM, FCS32: r.FCS32}), func(p uint16, got []byte) {
				n++
				if p != protos[i] || !bytes.Equal(got, info) {
					t.Fatalf("frame %04x % x came back as %04x % x", protos[i], info, p, got)
				}
			})
			if n != 1 {
				t.Fatalf("frame %04x % x: %d frames back, want 1", protos[i], info, n)
			}
		}
	})
}
