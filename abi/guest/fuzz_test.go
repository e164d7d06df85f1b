package guest

import (
	"bytes"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/internal/ccodec"
	"github.com/nichost/nichost/internal/testenv"
	"github.com/nichost/nichost/internal/valuevectors"
)

// FuzzCodec_GuestVsHost holds the SDK's codec to the host's: both decoders
// accept the same messages and
// decode them to equal values, and both encoders write those values as the
// same bytes, which decode to the same value again. The C SDK's codec
// (abi/c/nic.c, run as WASM through internal/ccodec) joins them: it accepts
// the same messages and re-encodes each to the host's bytes. Without clang
// the C codec is left out (logged), unless NICHOST_E2E=require. The seed
// corpus is every vector of abi/testdata/values.
//
//	go test -run '^$' -fuzz FuzzCodec_GuestVsHost ./abi/guest/
func FuzzCodec_GuestVsHost(f *testing.F) {
	for _, v := range readVectors(f) {
		f.Add(v.Msg)
		if v.OK && !bytes.Equal(v.Canon, v.Msg) {
			f.Add(v.Canon)
		}
	}
	cc, err := ccodec.Load()
	if err != nil {
		if testenv.Required() {
			f.Fatalf("NICHOST_E2E=require, but the C SDK's codec cannot be built: %v", err)
		}
		f.Logf("the C SDK's codec is left out: %v", err)
		cc = nil
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		gv, gerr := decodeValue(msg)
		hv, herr := abi.Unmarshal(msg)
		if cc != nil {
			checkC(t, cc, msg, hv, herr)
		}
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

// checkC holds the C codec's verdict on msg to the host's: hv, herr are
// abi.Unmarshal's.
func checkC(t *testing.T, cc *ccodec.Codec, msg []byte, hv any, herr error) {
	t.Helper()
	res, err := cc.Check(msg)
	switch {
	case err != nil:
		t.Fatalf("%x: the C codec: %v", msg, err)
	case res.OK && herr != nil:
		t.Fatalf("%x: the C codec accepts it, the host refuses: %v", msg, herr)
	case !res.OK && herr == nil:
		t.Fatalf("%x: the host accepts %s, the C codec refuses: %s", msg, valuevectors.Short(hv), res.Err)
	case !res.OK:
		return
	}
	hb, herr := abi.Marshal(hv)
	if (res.EncErr == "") != (herr == nil) || !bytes.Equal(res.Canon, hb) {
		t.Fatalf("%x: the C codec re-encodes it as %s (%s); the host as %s, %v", msg, valuevectors.Short(res.Canon), res.EncErr, valuevectors.Short(hb), herr)
	}
}
