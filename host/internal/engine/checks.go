package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nichost/nichost/abi"
)

// The checks of a compiled module, the same on every engine: each engine
// describes its module as a shape (its function imports and exports, with
// their signatures written as abi.Signature writes them) and these decide.

// wasiModule is the import module of WASI preview 1.
const wasiModule = "wasi_snapshot_preview1"

// shape is what the checks need to know of a compiled module.
type shape struct {
	exports  map[string]abi.Signature // exported functions
	memories map[string]bool          // exported memories
	imports  []importedFunc           // imported functions, in the module's order
}

type importedFunc struct {
	module, name string
	sig          abi.Signature
}

// ErrNotPlugin is wrapped when a module lacks nic_abi_version.
var ErrNotPlugin = errors.New("not a nichost plugin")

// signatureOf writes a function type as abi.Signature does: "(i32, i32) ->
// i32", "() -> ()".
func signatureOf(params, results []string) abi.Signature {
	res := strings.Join(results, ", ")
	if res == "" {
		res = "()"
	}
	return abi.Signature("(" + strings.Join(params, ", ") + ") -> " + res)
}

// check checks what must hold before the module can be instantiated and
// asked its ABI version: the version export, the memory export, and
// imports this host provides with the types it provides them.
func (m *shape) check() error {
	if _, ok := m.exports[abi.ExportABIVersion]; !ok {
		return fmt.Errorf("engine: %w: it has no %s export", ErrNotPlugin, abi.ExportABIVersion)
	}
	if !m.memories["memory"] {
		return errors.New("engine: plugin does not export its memory as \"memory\"")
	}
	_, start := m.exports["_start"]
	if _, init := m.exports["_initialize"]; start && !init {
		// A command's exports may not run before _start, and the host
		// never runs _start (it would run main and exit).
		return errors.New("engine: the module is a command (it exports _start): build a reactor (Go: -buildmode=c-shared; clang: -mexec-model=reactor)")
	}
	want := map[string]abi.Signature{}
	for _, f := range abi.ImportFuncs() {
		want[f.Name] = f.Sig
	}
	for _, im := range m.imports {
		switch im.module {
		case wasiModule:
		case abi.ImportModule:
			sig, ok := want[im.name]
			if !ok {
				return fmt.Errorf("engine: plugin imports %s.%s, which ABI %s does not have", im.module, im.name, abi.VersionString(abi.Version))
			}
			if im.sig != sig {
				return fmt.Errorf("engine: plugin imports %s.%s as %s, ABI %s has %s", im.module, im.name, im.sig, abi.VersionString(abi.Version), sig)
			}
		default:
			return fmt.Errorf("engine: plugin imports %s.%s: only the %q and %q modules are provided", im.module, im.name, abi.ImportModule, wasiModule)
		}
	}
	return nil
}

// checkExports checks that every export of ABI version v is there with its
// type. The host calls it after the version handshake, so that a plugin of
// another ABI version is told about the version, not about exports.
func (m *shape) checkExports(v uint32) error {
	var missing, wrong []string
	for _, f := range abi.ExportFuncs() {
		if f.Since > v {
			continue // a later version's: the host never calls it on this plugin
		}
		sig, ok := m.exports[f.Name]
		if !ok {
			if f.Required() {
				missing = append(missing, f.Name)
			}
			continue
		}
		if sig != f.Sig {
			wrong = append(wrong, fmt.Sprintf("%s is %s, want %s", f.Name, sig, f.Sig))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("engine: plugin lacks required exports: %s", strings.Join(missing, ", "))
	}
	if len(wrong) > 0 {
		return fmt.Errorf("engine: plugin exports have wrong types: %s", strings.Join(wrong, "; "))
	}
	return nil
}

// checkImports checks that a plugin declaring ABI version v imports
// nothing added after v: a 1.0 plugin cannot use what it does not know of.
func (m *shape) checkImports(v uint32) error {
	since := map[string]uint32{}
	for _, f := range abi.ImportFuncs() {
		since[f.Name] = f.Since
	}
	for _, im := range m.imports {
		if s := since[im.name]; im.module == abi.ImportModule && s > v {
			return fmt.Errorf("engine: the plugin declares ABI %s but imports %s.%s, which ABI %s added", abi.VersionString(v), im.module, im.name, abi.VersionString(s))
		}
	}
	return nil
}

// The kinds of import in wasm's binary format (the import section's
// descriptors).
var importKinds = map[byte]string{0: "function", 1: "table", 2: "memory", 3: "global", 4: "tag"}

// checkImportKinds reads the module's import section, before any engine
// compiles it, and refuses an import that is not a function of the nic or
// WASI modules (ABI.md section 1). Engines resolve imports by module
// name, and where plugins share a runtime (wazero) another plugin's
// instance is a module too: this check is what keeps one plugin from
// importing another's memory, table, globals or functions. A module this
// reader cannot follow is refused, never passed on unread.
func checkImportKinds(wasm []byte) error {
	r := wasmReader{b: wasm}
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return errors.New("engine: compile: not a wasm module (it does not begin with \\0asm)")
	}
	r.b = wasm[8:]
	for len(r.b) > 0 {
		id := r.byte()
		size := r.u32()
		if r.err != nil || uint64(size) > uint64(len(r.b)) {
			return fmt.Errorf("engine: compile: malformed module: section %d overruns the module", id)
		}
		body := wasmReader{b: r.b[:size]}
		r.b = r.b[size:]
		if id != 2 {
			continue
		}
		for n := body.u32(); n > 0 && body.err == nil; n-- {
			mod, field := body.name(), body.name()
			kind := body.byte()
			if body.err != nil {
				break
			}
			if kind != 0 {
				what := importKinds[kind]
				if what == "" {
					what = fmt.Sprintf("an import of unknown kind %d", kind)
				}
				return fmt.Errorf("engine: plugin imports %s %s.%s: a plugin may import only functions, from the %q and %q modules", what, mod, field, abi.ImportModule, wasiModule)
			}
			if mod != abi.ImportModule && mod != wasiModule {
				return fmt.Errorf("engine: plugin imports %s.%s: only the %q and %q modules are provided", mod, field, abi.ImportModule, wasiModule)
			}
			body.u32() // the function's type index
		}
		if body.err != nil {
			return fmt.Errorf("engine: compile: malformed module: import section: %v", body.err)
		}
		// The format allows one import section; engines refuse a second,
		// and this reads on so that no engine's leniency could pass one.
	}
	return nil
}

// wasmReader reads the binary format's bytes, names and unsigned LEB128
// numbers; the first error sticks.
type wasmReader struct {
	b   []byte
	err error
}

func (r *wasmReader) fail(what string) {
	if r.err == nil {
		r.err = errors.New(what)
	}
	r.b = nil
}

func (r *wasmReader) byte() byte {
	if len(r.b) == 0 {
		r.fail("unexpected end")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *wasmReader) u32() uint32 {
	var v uint64
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if v > 1<<32-1 {
				r.fail("number overflows 32 bits")
				return 0
			}
			return uint32(v)
		}
	}
	r.fail("number longer than 5 bytes")
	return 0
}

func (r *wasmReader) name() string {
	n := r.u32()
	if uint64(n) > uint64(len(r.b)) {
		r.fail("name overruns its section")
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
