package sign

import (
	"errors"
	"testing"
)

// FuzzVerify: any bytes as a signature file either fail to parse with
// ErrBadSignature, or verify against the module, or are refused with one
// of the documented errors; nothing panics, and nothing but the real key's
// signature of the real bytes is accepted.
func FuzzVerify(f *testing.F) {
	pub, priv, err := GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	keys := Keys{KeyID(pub): pub}
	wasm := []byte("\x00asm\x01\x00\x00\x00")
	good := Sign(priv, wasm, DeclarationOf(testDesc))
	f.Add(good.Marshal())
	f.Add([]byte(`{"format":"nichost-plugin-signature/1"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		sig, err := ParseSignature(b)
		if err != nil {
			if !errors.Is(err, ErrBadSignature) {
				t.Fatalf("parse error %v is not ErrBadSignature", err)
			}
			return
		}
		id, err := keys.Verify(wasm, sig)
		switch {
		case err == nil:
			if id != good.Key || !sig.Declaration.Equal(good.Declaration) || sig.Module != good.Module {
				t.Fatalf("accepted a signature of something else: %+v", sig)
			}
		case !errors.Is(err, ErrTampered) && !errors.Is(err, ErrUntrusted) && !errors.Is(err, ErrBadSignature):
			t.Fatalf("an undocumented error: %v", err)
		}
	})
}
