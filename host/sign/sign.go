// Package sign signs and verifies driver plugin modules with Ed25519
// keys. A signature is a detached file beside the module, NAME.wasm.sig
// (SigPath), that covers the module's bytes (their SHA-256 and length)
// and its declaration: the class, driver name, driver version and buses it
// declares (nic_describe, abi/ABI.md section 3). The host checks the
// bytes before it compiles the module and the declaration once the module
// has described itself, before the plugin starts; a module whose
// description differs from the one its signature covers is refused.
//
// Keys are PEM files: a private key (PKCS #8, "PRIVATE KEY", mode 0600)
// and its public key (PKIX, "PUBLIC KEY"), as `nichost plugin keygen`
// writes them and openssl reads them. A key is named by its KeyID.
package sign

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/nichost/nichost/abi"
)

// Format is the first line of every signed message and the format field
// of a signature file: a signature made for something else (another
// program's Ed25519 signature of the same bytes) never verifies here.
const Format = "nichost-plugin-signature/1"

// Errors of Verify and Policy, each wrapped with the file and the details.
var (
	ErrUnsigned     = errors.New("not signed")
	ErrTampered     = errors.New("does not match its signature")
	ErrUntrusted    = errors.New("signed by a key that is not trusted")
	ErrBadSignature = errors.New("bad signature file")
	ErrSource       = errors.New("a source directory is refused")
	ErrDeclaration  = errors.New("declares other than its signature covers")
)

// SigPath is where the signature of the module at wasmPath lives.
func SigPath(wasmPath string) string { return wasmPath + ".sig" }

// Bus is one bus of a declaration.
type Bus struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Optional bool   `json:"optional,omitempty"`
}

// Declaration is what a signature says the module declares about itself.
type Declaration struct {
	Class   string `json:"class"`
	Name    string `json:"name"`
	Version string `json:"version"`
	Buses   []Bus  `json:"buses"`
}

// DeclarationOf is the declaration of a module's description, with its
// buses in name order.
func DeclarationOf(d abi.Description) Declaration {
	out := Declaration{Class: d.Class, Name: d.Name, Version: d.Version, Buses: []Bus{}}
	for _, b := range d.Buses {
		out.Buses = append(out.Buses, Bus{Name: b.Name, Kind: string(b.Kind), Optional: b.Optional})
	}
	out.normalise()
	return out
}

func (d *Declaration) normalise() {
	if d.Buses == nil {
		d.Buses = []Bus{}
	}
	slices.SortFunc(d.Buses, func(a, b Bus) int { return strings.Compare(a.Name, b.Name) })
}

// String is the declaration in one line: "WIZNET5K w5500 1.2.0, buses
// int(gpio, optional) rst(gpio) spi(spi)".
func (d Declaration) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s, buses", d.Class, d.Name, strconv.Quote(d.Version))
	if len(d.Buses) == 0 {
		b.WriteString(" none")
	}
	for _, bus := range d.Buses {
		opt := ""
		if bus.Optional {
			opt = ", optional"
		}
		fmt.Fprintf(&b, " %s(%s%s)", bus.Name, bus.Kind, opt)
	}
	return b.String()
}

// Equal reports whether two declarations are the same.
func (d Declaration) Equal(o Declaration) bool {
	d.normalise()
	o.normalise()
	return d.Class == o.Class && d.Name == o.Name && d.Version == o.Version && slices.Equal(d.Buses, o.Buses)
}

// Signature is the content of a signature file (JSON).
type Signature struct {
	Format      string      `json:"format"`      // Format
	Module      string      `json:"module"`      // "sha256:" and the hex SHA-256 of the module's bytes
	Size        int64       `json:"size"`        // the module's length in bytes
	Declaration Declaration `json:"declaration"` // what the module declares
	Key         string      `json:"key"`         // the signing key's KeyID
	Signature   string      `json:"signature"`   // base64 (standard, padded) Ed25519 signature of Message
}

// Message is the byte string the Ed25519 signature is made over: Format,
// the module's digest, its size and the declaration as compact JSON (the
// fields in the order of Declaration, buses sorted by name), one per line.
func (s Signature) Message() []byte {
	d := s.Declaration
	d.normalise()
	decl, _ := json.Marshal(d) // strings and bools only: cannot fail
	return fmt.Appendf(nil, "%s\n%s\n%d\n%s\n", Format, s.Module, s.Size, decl)
}

// Digest is the "sha256:<hex>" digest of a module's bytes, as the host
// reports it (Plugin.Digest).
func Digest(wasm []byte) string {
	sum := sha256.Sum256(wasm)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// KeyID names a public key: "ed25519:" and the first 16 hex digits of the
// SHA-256 of its 32 bytes.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "ed25519:" + hex.EncodeToString(sum[:8])
}

// Sign signs a module's bytes and declaration.
func Sign(key ed25519.PrivateKey, wasm []byte, decl Declaration) Signature {
	decl.normalise()
	s := Signature{Format: Format, Module: Digest(wasm), Size: int64(len(wasm)), Declaration: decl,
		Key: KeyID(key.Public().(ed25519.PublicKey))}
	s.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, s.Message()))
	return s
}

// Marshal is the signature file's content: indented JSON and a newline.
func (s Signature) Marshal() []byte {
	b, _ := json.MarshalIndent(s, "", "  ")
	return append(b, '\n')
}

// ParseSignature reads a signature file's content, checking its form (not
// the signature itself: see Verify).
func ParseSignature(b []byte) (Signature, error) {
	var s Signature
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	switch {
	case s.Format != Format:
		return s, fmt.Errorf("%w: format %q, want %q", ErrBadSignature, s.Format, Format)
	case !strings.HasPrefix(s.Module, "sha256:") || len(s.Module) != len("sha256:")+64:
		return s, fmt.Errorf("%w: module %q is not a sha256: digest", ErrBadSignature, s.Module)
	case s.Key == "":
		return s, fmt.Errorf("%w: no key", ErrBadSignature)
	}
	raw, err := base64.StdEncoding.DecodeString(s.Signature)
	if err != nil || len(raw) != ed25519.SignatureSize {
		return s, fmt.Errorf("%w: signature is not %d bytes of base64", ErrBadSignature, ed25519.SignatureSize)
	}
	s.Declaration.normalise()
	return s, nil
}

// Keys are the public keys a policy trusts, by KeyID.
type Keys map[string]ed25519.PublicKey

// Verify checks that sig is a valid signature of wasm by one of keys and
// returns the key's ID. The errors wrap ErrTampered (the bytes are not
// the ones signed), ErrUntrusted (a key not in keys) or ErrBadSignature
// (the signature does not verify: the file was altered, or made with
// another key under a trusted key's ID).
func (keys Keys) Verify(wasm []byte, sig Signature) (string, error) {
	if got := Digest(wasm); got != sig.Module || int64(len(wasm)) != sig.Size {
		return "", fmt.Errorf("%w: the module's bytes are %s (%d bytes), the signature covers %s (%d bytes); the module was changed after it was signed",
			ErrTampered, short(got), len(wasm), short(sig.Module), sig.Size)
	}
	pub, ok := keys[sig.Key]
	if !ok {
		return "", fmt.Errorf("%w: signed by %s, which is not one of the trusted keys (%s)", ErrUntrusted, sig.Key, keys.ids())
	}
	raw, _ := base64.StdEncoding.DecodeString(sig.Signature)
	if !ed25519.Verify(pub, sig.Message(), raw) {
		return "", fmt.Errorf("%w: the Ed25519 signature does not verify with key %s: the signature file was altered, or made with another key", ErrBadSignature, sig.Key)
	}
	return sig.Key, nil
}

func (keys Keys) ids() string {
	if len(keys) == 0 {
		return "none"
	}
	ids := slices.Sorted(maps.Keys(keys))
	return strings.Join(ids, ", ")
}

// short cuts a digest for messages: "sha256:" and 12 hex digits.
func short(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}

// GenerateKey makes a new Ed25519 key pair.
func GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand.Reader)
}

// MarshalPrivateKey is the PEM (PKCS #8) form of a private key.
func MarshalPrivateKey(key ed25519.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err) // an ed25519.PrivateKey always marshals
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// MarshalPublicKey is the PEM (PKIX) form of a public key.
func MarshalPublicKey(pub ed25519.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// ReadPrivateKey reads a private key file (MarshalPrivateKey's form).
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	k, err := readKey(path, "PRIVATE KEY", x509.ParsePKCS8PrivateKey)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: a %T, not an Ed25519 key", path, k)
	}
	return ek, nil
}

// ReadPublicKey reads a public key file (MarshalPublicKey's form).
func ReadPublicKey(path string) (ed25519.PublicKey, error) {
	k, err := readKey(path, "PUBLIC KEY", x509.ParsePKIXPublicKey)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: a %T, not an Ed25519 key", path, k)
	}
	return ek, nil
}

// readKey parses the PEM block of type blockType in the file at path.
func readKey(path, blockType string, parse func([]byte) (any, error)) (any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != blockType {
		return nil, fmt.Errorf("%s: not a PEM %s (want a %s block, as nichost plugin keygen writes)", path, strings.ToLower(blockType), blockType)
	}
	k, err := parse(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return k, nil
}

// ReadKeys reads public key files into Keys.
func ReadKeys(paths []string) (Keys, error) {
	keys := Keys{}
	for _, p := range paths {
		pub, err := ReadPublicKey(p)
		if err != nil {
			return nil, err
		}
		keys[KeyID(pub)] = pub
	}
	return keys, nil
}

// Policy is what the host demands of the modules it loads.
type Policy struct {
	Keys Keys // the trusted keys; a module must be signed by one of them
	// AllowSource admits Go and C source directories, which the host
	// builds itself and which carry no signature.
	AllowSource bool
}

// Check is the policy's verdict on a module source before it is built or
// compiled: dir says whether source is a directory; wasm is the module's
// bytes (nil for a directory). It returns the signature found, or a zero
// Signature for an admitted source directory. The error names the file.
func (p *Policy) Check(source string, dir bool, wasm []byte) (Signature, error) {
	if dir {
		if p.AllowSource {
			return Signature{}, nil
		}
		return Signature{}, fmt.Errorf("%s: %w: signatures are required and a source directory carries none (set signatures.allow_source: true to build it anyway, or load a signed .wasm)", source, ErrSource)
	}
	b, err := os.ReadFile(SigPath(source))
	if errors.Is(err, os.ErrNotExist) {
		return Signature{}, fmt.Errorf("%s: %w: signatures are required and there is no %s", source, ErrUnsigned, SigPath(source))
	}
	if err != nil {
		return Signature{}, fmt.Errorf("%s: %w", source, err)
	}
	sig, err := ParseSignature(b)
	if err != nil {
		return Signature{}, fmt.Errorf("%s: %w", SigPath(source), err)
	}
	if _, err := p.Keys.Verify(wasm, sig); err != nil {
		return Signature{}, fmt.Errorf("%s: %w", source, err)
	}
	return sig, nil
}

// CheckDeclaration compares what a module declares with what its
// signature covers.
func CheckDeclaration(source string, sig Signature, d abi.Description) error {
	got := DeclarationOf(d)
	if got.Equal(sig.Declaration) {
		return nil
	}
	return fmt.Errorf("%s: %w: the module declares %s; its signature covers %s", source, ErrDeclaration, got, sig.Declaration)
}
