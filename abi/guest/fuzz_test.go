package guest

import (
	"bytes"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/internal/valuevectors"
)

// FuzzCodec_GuestVsHost holds the SDK's codec to the host's: both decoders
// accept the same messages and
// decode them to equal values, and both encoders write those values as the
// same bytes, which decode to the same value again. The seed corpus is
// every vector of abi/testdata/values.
//
//	go test -run '^$' -fuzz FuzzCodec_GuestVsHost ./abi/guest/
func FuzzCodec_GuestVsHost(f *testing.F) {
	for _, v := range readVectors(f) {
		f.Add(v.Msg)
		if v.OK && !bytes.Equal(v.Canon, v.Msg) {
			f.Add(v.Canon)
		}
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		gv, gerr := decodeValue(msg)
		hv, herr := abi.Unmarshal(msg)
		switch {
		case gerr != nil && herr == nil:
			t.Fatalf("%x: the host accepts %s, the guest refuses: %v", msg, valuevectors.Short(hv), gerr)
		case gerr == nil && herr != nil:
			t.Fatalf("%x: the guest accepts %s, the host refuses: %v", msg, valuevectors.Short(gv), herr)
		case gerr != nil:
			return
		}
		if !equalValues(gv, hv) {
			t.Fatalf("%x: the guest decodes %s, the host %s", msg, valuevectors.Short(gv), valuevectors.Short(hv))
		}
		gb, gerr := encodeValue(gv)
		hb, herr := abi.Marshal(hv)
		if (gerr == nil) != (herr == nil) || !bytes.Equal(gb, hb) {
			t.Fatalf("%x: the guest encodes %s, %v; the host %s, %v", msg, valuevectors.Short(gb), gerr, valuevectors.Short(hb), herr)
		}
		if gerr != nil {
			return // re-encoded past the size limit: float16s become float64s
		}
		again, err := decodeValue(gb)
		if err != nil || !equalValues(again, gv) {
			t.Fatalf("%x: re-encoded as %x, which decodes as %s, %v", msg, gb, valuevectors.Short(again), err)
		}
	})
}
