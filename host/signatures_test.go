package host_test

import (
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/sign"
)

// signedModule is the full test driver as a .wasm file in a temporary
// directory, with its signature by key.
func signedModule(t *testing.T, r *rig, key ed25519.PrivateKey) string {
	t.Helper()
	res, err := r.h.Builder().Build(ctxT(t), plugin("full"))
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "full.wasm")
	if err := os.WriteFile(path, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	desc, err := r.h.Describe(ctxT(t), path)
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	if desc.Name == "" || desc.Class == "" {
		t.Fatalf("describe returned %+v", desc)
	}
	sig := sign.Sign(key, wasm, sign.DeclarationOf(desc))
	if err := os.WriteFile(sign.SigPath(path), sig.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func newKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := sign.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

// copyModule copies a module and its signature into a directory of their
// own, changed by edit (which gets the module's and the signature's paths).
func copyModule(t *testing.T, src string, edit func(wasm, sig string)) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	for _, f := range []string{src, sign.SigPath(src)} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst+strings.TrimPrefix(f, src), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	edit(dst, sign.SigPath(dst))
	return dst
}

func rewrite(t *testing.T, path string, f func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, f(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A module signed by a trusted key loads under the policy, and each way of
// breaking the trust is refused with its own error naming the file, at
// load and at reload, while the plugin already running runs on.
func TestSignatures_Policy(t *testing.T) {
	r := newRig(t, config.Limits{})
	pub, priv := newKey(t)
	_, other := newKey(t)
	good := signedModule(t, r, priv)
	r.h.SetSignatures(&sign.Policy{Keys: sign.Keys{sign.KeyID(pub): pub}})

	p, info, err := r.loadErr(t, "full", good)
	if err != nil {
		t.Fatalf("a signed module was refused: %v", err)
	}
	if info.SignedBy != sign.KeyID(pub) || p.SignedBy() != sign.KeyID(pub) || p.Origin() != host.OriginFile {
		t.Fatalf("signed by %q/%q, origin %q; want %q and %q", info.SignedBy, p.SignedBy(), p.Origin(), sign.KeyID(pub), host.OriginFile)
	}
	digest := p.Digest()

	cases := []struct {
		name string
		src  func() string
		want error
		msg  string
	}{
		{"one flipped byte", func() string {
			return copyModule(t, good, func(wasm, _ string) {
				rewrite(t, wasm, func(b []byte) []byte { b[len(b)/2] ^= 0x01; return b })
			})
		}, sign.ErrTampered, "changed after it was signed"},
		{"signed by an unlisted key", func() string {
			return copyModule(t, good, func(wasm, sig string) {
				b, _ := os.ReadFile(wasm)
				desc, err := r.h.Describe(ctxT(t), good)
				if err != nil {
					t.Fatal(err)
				}
				os.WriteFile(sig, sign.Sign(other, b, sign.DeclarationOf(desc)).Marshal(), 0o644)
			})
		}, sign.ErrUntrusted, "not one of the trusted keys"},
		{"unsigned", func() string {
			return copyModule(t, good, func(_, sig string) { os.Remove(sig) })
		}, sign.ErrUnsigned, "there is no"},
		{"a source directory", func() string { return plugin("full") }, sign.ErrSource, "source directory"},
		{"an altered signature file", func() string {
			return copyModule(t, good, func(_, sig string) {
				rewrite(t, sig, func(b []byte) []byte {
					return []byte(strings.Replace(string(b), `"class": "LAN"`, `"class": "WLAN"`, 1))
				})
			})
		}, sign.ErrBadSignature, "does not verify"},
		{"a declaration the module does not make", func() string {
			return copyModule(t, good, func(wasm, sig string) {
				b, _ := os.ReadFile(wasm)
				desc, err := r.h.Describe(ctxT(t), good)
				if err != nil {
					t.Fatal(err)
				}
				d := sign.DeclarationOf(desc)
				d.Version = "9.9.9"
				os.WriteFile(sig, sign.Sign(priv, b, d).Marshal(), 0o644)
			})
		}, sign.ErrDeclaration, `its signature covers`},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := c.src()
			_, _, err := r.loadErr(t, "bad"+string(rune('a'+i)), src, noBuses)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) || !strings.Contains(err.Error(), src) {
				t.Fatalf("load: %v; want %v, mentioning %q and %s", err, c.want, c.msg, src)
			}
			if _, err := p.Reload(ctxT(t), src); !errors.Is(err, c.want) {
				t.Fatalf("reload: %v; want %v", err, c.want)
			}
			if !p.State().Up || p.Digest() != digest || p.SignedBy() != sign.KeyID(pub) {
				t.Fatalf("after a refused reload: up %v, digest %s (was %s), signed by %q", p.State().Up, p.Digest(), digest, p.SignedBy())
			}
		})
	}

	// allow_source admits a source directory, unsigned.
	r.h.SetSignatures(&sign.Policy{Keys: sign.Keys{sign.KeyID(pub): pub}, AllowSource: true})
	q, info, err := r.loadErr(t, "src", plugin("full"), noBuses)
	if err != nil {
		t.Fatalf("allow_source: %v", err)
	}
	if q.Origin() != host.OriginBuild || info.SignedBy != "" {
		t.Fatalf("a source directory: origin %q, signed by %q", q.Origin(), info.SignedBy)
	}
}
