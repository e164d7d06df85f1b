package sign

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
)

var testDesc = abi.Description{Class: "WIZNET5K", Name: "w5500", Version: "1.0.0",
	Buses: []abi.BusNeed{{Name: "spi", Kind: "spi"}, {Name: "int", Kind: "gpio", Optional: true}, {Name: "rst", Kind: "gpio"}}}

func TestKeys_PEMRoundTrip(t *testing.T) {
	pub, priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kp, pp := filepath.Join(dir, "k.key"), filepath.Join(dir, "k.pub")
	os.WriteFile(kp, MarshalPrivateKey(priv), 0o600)
	os.WriteFile(pp, MarshalPublicKey(pub), 0o644)
	priv2, err := ReadPrivateKey(kp)
	if err != nil || !priv2.Equal(priv) {
		t.Fatalf("private key: %v", err)
	}
	keys, err := ReadKeys([]string{pp})
	if err != nil || !keys[KeyID(pub)].Equal(pub) {
		t.Fatalf("public key: %v, %v", keys, err)
	}
	// A private key where a public one is wanted, and the reverse, say so.
	if _, err := ReadPublicKey(kp); err == nil || !strings.Contains(err.Error(), "not a PEM public key") {
		t.Fatalf("private key read as public: %v", err)
	}
	if _, err := ReadPrivateKey(pp); err == nil || !strings.Contains(err.Error(), "not a PEM private key") {
		t.Fatalf("public key read as private: %v", err)
	}
	if id := KeyID(pub); !strings.HasPrefix(id, "ed25519:") || len(id) != len("ed25519:")+16 {
		t.Fatalf("KeyID %q", id)
	}
}

// Every field the signature covers changes the verdict; the bus order
// does not.
func TestVerify_CoversBytesAndDeclaration(t *testing.T) {
	pub, priv, _ := GenerateKey()
	keys := Keys{KeyID(pub): pub}
	wasm := []byte("\x00asm\x01\x00\x00\x00 a module")
	sig := Sign(priv, wasm, DeclarationOf(testDesc))
	parsed, err := ParseSignature(sig.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if id, err := keys.Verify(wasm, parsed); err != nil || id != KeyID(pub) {
		t.Fatalf("a fresh signature: %q, %v", id, err)
	}
	shuffled := parsed
	shuffled.Declaration.Buses = []Bus{parsed.Declaration.Buses[2], parsed.Declaration.Buses[0], parsed.Declaration.Buses[1]}
	if _, err := keys.Verify(wasm, shuffled); err != nil {
		t.Fatalf("buses in another order: %v", err)
	}
	for name, edit := range map[string]func(*Signature){
		"class":    func(s *Signature) { s.Declaration.Class = "LAN" },
		"name":     func(s *Signature) { s.Declaration.Name = "w5100" },
		"version":  func(s *Signature) { s.Declaration.Version = "1.0.1" },
		"bus kind": func(s *Signature) { s.Declaration.Buses[0].Kind = "spi" },
		"optional": func(s *Signature) { s.Declaration.Buses[1].Optional = true },
		"no buses": func(s *Signature) { s.Declaration.Buses = nil },
	} {
		s := parsed
		s.Declaration.Buses = append([]Bus(nil), parsed.Declaration.Buses...)
		edit(&s)
		if _, err := keys.Verify(wasm, s); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s changed: %v, want ErrBadSignature", name, err)
		}
	}
	if _, err := keys.Verify(append(wasm, 0), parsed); !errors.Is(err, ErrTampered) {
		t.Errorf("a byte appended: %v", err)
	}
	other, _, _ := GenerateKey()
	if _, err := (Keys{KeyID(other): other}).Verify(wasm, parsed); !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), KeyID(pub)) {
		t.Errorf("an untrusted key: %v", err)
	}
	// Another key's signature under a trusted key's ID.
	_, forger, _ := GenerateKey()
	forged := Sign(forger, wasm, DeclarationOf(testDesc))
	forged.Key = KeyID(pub)
	if _, err := keys.Verify(wasm, forged); !errors.Is(err, ErrBadSignature) {
		t.Errorf("a forged key ID: %v", err)
	}
}

func TestParseSignature_Errors(t *testing.T) {
	_, priv, _ := GenerateKey()
	good := string(Sign(priv, []byte("x"), DeclarationOf(testDesc)).Marshal())
	for name, c := range map[string]struct{ text, want string }{
		"not JSON":      {"garbage", "bad signature file"},
		"unknown field": {strings.Replace(good, `"format"`, `"extra": 1, "format"`, 1), "unknown field"},
		"other format":  {strings.Replace(good, Format, "minisign/1", 1), `format "minisign/1"`},
		"short digest":  {strings.Replace(good, `"module": "sha256:`, `"module": "sha256:ab`, 1), "not a sha256: digest"},
		"bad base64":    {strings.Replace(good, `"signature": "`, `"signature": "!!`, 1), "base64"},
	} {
		if _, err := ParseSignature([]byte(c.text)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

func TestPolicy_CheckDeclaration(t *testing.T) {
	_, priv, _ := GenerateKey()
	sig := Sign(priv, []byte("x"), DeclarationOf(testDesc))
	if err := CheckDeclaration("m.wasm", sig, testDesc); err != nil {
		t.Fatal(err)
	}
	d := testDesc
	d.Buses = d.Buses[:1]
	err := CheckDeclaration("m.wasm", sig, d)
	if !errors.Is(err, ErrDeclaration) || !strings.Contains(err.Error(), "m.wasm") || !strings.Contains(err.Error(), "rst(gpio)") {
		t.Fatalf("a bus fewer: %v", err)
	}
}
