package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
)

// A few hand-assembled modules test the engine without a Go toolchain
// building a plugin: wasmMod is a tiny assembler for wasm's binary format.

const (
	tI32 = 0x7f
	tI64 = 0x7e

	opBlock  = 0x02
	opLoop   = 0x03
	opIf     = 0x04
	opElse   = 0x05
	opEnd    = 0x0b
	opBr     = 0x0c
	opBrIf   = 0x0d
	opCall   = 0x10
	opDrop   = 0x1a
	opGet    = 0x20
	opConst  = 0x41
	opI32Eqz = 0x45
	opI32Add = 0x6a
	opI32Sub = 0x6b
)

// A signature is written "params:results", one letter a value: i for i32,
// I for i64 ("ii:i" is (i32, i32) -> i32).
type wasmFunc struct {
	sig  string
	body []byte
}

type wasmImport struct {
	module, name, sig string
}

// A wasmOtherImport is an import that is not a function: desc is its kind
// and descriptor as the binary format writes them.
type wasmOtherImport struct {
	module, name string
	desc         []byte
}

type wasmMod struct {
	imports []wasmImport
	others  []wasmOtherImport // after the function imports
	funcs   []wasmFunc
	exports map[string]int // name -> function index (imports first)
	pages   uint32         // memory, exported as "memory"
}

func uleb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func sleb(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// i32c is i32.const v.
func i32c(v int32) []byte { return append([]byte{opConst}, sleb(int64(v))...) }

// call is call f.
func call(f int) []byte { return append([]byte{opCall}, uleb(uint64(f))...) }

// get is local.get i.
func get(i int) []byte { return append([]byte{opGet}, uleb(uint64(i))...) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func vec(items ...[]byte) []byte { return cat(append([][]byte{uleb(uint64(len(items)))}, items...)...) }

func name(s string) []byte { return cat(uleb(uint64(len(s))), []byte(s)) }

func section(id byte, body []byte) []byte { return cat([]byte{id}, uleb(uint64(len(body))), body) }

func (m wasmMod) bytes() []byte {
	functype := func(sig string) []byte {
		p, r, _ := strings.Cut(sig, ":")
		types := func(s string) [][]byte {
			var ts [][]byte
			for _, c := range s {
				if c == 'I' {
					ts = append(ts, []byte{tI64})
				} else {
					ts = append(ts, []byte{tI32})
				}
			}
			return ts
		}
		return cat([]byte{0x60}, vec(types(p)...), vec(types(r)...))
	}
	var types, imports, funcs, codes, exports [][]byte
	for _, im := range m.imports {
		imports = append(imports, cat(name(im.module), name(im.name), []byte{0x00}, uleb(uint64(len(types)))))
		types = append(types, functype(im.sig))
	}
	for _, im := range m.others {
		imports = append(imports, cat(name(im.module), name(im.name), im.desc))
	}
	for _, f := range m.funcs {
		funcs = append(funcs, uleb(uint64(len(types))))
		types = append(types, functype(f.sig))
		body := cat(vec(), f.body, []byte{opEnd}) // no locals beyond the params
		codes = append(codes, cat(uleb(uint64(len(body))), body))
	}
	exports = append(exports, cat(name("memory"), []byte{0x02, 0x00}))
	for n, i := range m.exports {
		exports = append(exports, cat(name(n), []byte{0x00}, uleb(uint64(i))))
	}
	return cat([]byte{0, 'a', 's', 'm', 1, 0, 0, 0},
		section(1, vec(types...)),
		section(2, vec(imports...)),
		section(3, vec(funcs...)),
		section(5, vec(cat([]byte{0x00}, uleb(uint64(m.pages))))),
		section(7, vec(exports...)),
		section(10, vec(codes...)))
}

// abiVersion is a nic_abi_version function, which every plugin exports.
var abiVersion = wasmFunc{sig: ":i", body: i32c(int32(abi.Version))}

// A command module (exporting _start, as `go build` without
// -buildmode=c-shared makes) is refused at compile with a message saying
// how to build a reactor; one with _initialize too is a reactor.
func TestCompile_RefusesCommandModules(t *testing.T) {
	forEngines(t, testCompileRefusesCommandModules)
}

func testCompileRefusesCommandModules(t *testing.T, engine string) {
	rt := newRuntime(t, engine, 16<<20)
	ctx := context.Background()
	noop := wasmFunc{sig: ":", body: nil}
	cmd := wasmMod{funcs: []wasmFunc{abiVersion, noop}, exports: map[string]int{abi.ExportABIVersion: 0, "_start": 1}, pages: 1}
	if _, err := rt.Compile(ctx, cmd.bytes()); err == nil || !strings.Contains(err.Error(), "the module is a command (it exports _start): build a reactor (Go: -buildmode=c-shared") {
		t.Fatalf("Compile(command) = %v, want the command-module refusal", err)
	}
	reactor := wasmMod{funcs: []wasmFunc{abiVersion, noop, noop}, exports: map[string]int{abi.ExportABIVersion: 0, "_start": 1, "_initialize": 2}, pages: 1}
	if _, err := rt.Compile(ctx, reactor.bytes()); err != nil {
		t.Fatalf("Compile(reactor with _start and _initialize) = %v", err)
	}
}
