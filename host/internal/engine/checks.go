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
