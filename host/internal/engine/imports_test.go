package engine

import (
	"context"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
)

// A plugin imports functions of nic and WASI and nothing else (ABI.md
// section 1): a memory, table, global or function of any other module,
// another plugin's instance included, is refused at compile, on every
// engine, with an error naming the import.
func TestCompile_RefusesForeignImports(t *testing.T) { forEngines(t, testCompileRefusesForeignImports) }

func testCompileRefusesForeignImports(t *testing.T, engine string) {
	ctx := context.Background()
	rt := newRuntime(t, engine, 16<<20)
	mem := []byte{0x02, 0x00, 0x01} // memory, min 1 page
	for _, tc := range []struct {
		name string
		m    wasmMod
		want string
	}{
		{"another plugin's memory", wasmMod{others: []wasmOtherImport{{"plugin-1", "memory", mem}}}, "plugin imports memory plugin-1.memory: a plugin may import only functions"},
		{"a memory of nic", wasmMod{others: []wasmOtherImport{{abi.ImportModule, "memory", mem}}}, "plugin imports memory nic.memory"},
		{"a table", wasmMod{others: []wasmOtherImport{{"plugin-2", "table", []byte{0x01, 0x70, 0x00, 0x00}}}}, "plugin imports table plugin-2.table"},
		{"a global", wasmMod{others: []wasmOtherImport{{abi.ImportModule, "g", []byte{0x03, tI32, 0x00}}}}, "plugin imports global nic.g"},
		{"an unknown kind", wasmMod{others: []wasmOtherImport{{abi.ImportModule, "x", []byte{0x09}}}}, "plugin imports an import of unknown kind 9 nic.x"},
		{"another plugin's function", wasmMod{imports: []wasmImport{{"plugin-1", "nic_poll", ":i"}}}, `plugin imports plugin-1.nic_poll: only the "nic" and "wasi_snapshot_preview1" modules are provided`},
	} {
		tc.m.funcs = []wasmFunc{abiVersion}
		tc.m.exports = map[string]int{abi.ExportABIVersion: len(tc.m.imports)} // function imports come first
		tc.m.pages = 1
		_, err := rt.Compile(ctx, tc.m.bytes())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Compile = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	// Functions of nic and WASI are what a plugin imports.
	ok := wasmMod{
		imports: []wasmImport{{module: abi.ImportModule, name: abi.ImportNow, sig: ":I"}, {module: wasiModule, name: "sched_yield", sig: ":i"}},
		funcs:   []wasmFunc{abiVersion},
		exports: map[string]int{abi.ExportABIVersion: 2},
		pages:   1,
	}
	if _, err := rt.Compile(ctx, ok.bytes()); err != nil {
		t.Fatalf("Compile(nic and WASI function imports) = %v", err)
	}
}

// A module whose import section the reader cannot follow is refused with
// an error saying so, never compiled unread.
func TestCheckImportKinds_Malformed(t *testing.T) {
	good := wasmMod{imports: []wasmImport{{module: abi.ImportModule, name: abi.ImportNow, sig: ":I"}}, funcs: []wasmFunc{abiVersion}, exports: map[string]int{abi.ExportABIVersion: 1}, pages: 1}.bytes()
	if err := checkImportKinds(good); err != nil {
		t.Fatalf("checkImportKinds(a good module) = %v", err)
	}
	hdr := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	for _, tc := range []struct {
		name string
		wasm []byte
		want string
	}{
		{"not wasm", []byte("not a wasm module"), "not a wasm module"},
		{"section overruns", cat(hdr, []byte{2, 0x7f, 1}), "section 2 overruns the module"},
		{"name overruns", cat(hdr, section(2, cat(uleb(1), []byte{0x40, 'n'}))), "import section: name overruns its section"},
		{"entries missing", cat(hdr, section(2, uleb(3))), "import section: unexpected end"},
		{"endless number", cat(hdr, section(2, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0x01})), "import section: number longer than 5 bytes"},
	} {
		if err := checkImportKinds(tc.wasm); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: checkImportKinds = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// The reader never panics and never passes a module importing anything
// but functions of nic and WASI. The oracle is a second, deliberately
// plain walk of the sections (encoding/binary's varints, every import
// section, no early exit); wazero is not the oracle here, since decoding
// arbitrary vectors makes it allocate by the declared count, and the
// engines' agreement is TestCompile_RefusesForeignImports's job.
func FuzzCheckImportKinds(f *testing.F) {
	f.Add(wasmMod{imports: []wasmImport{{module: abi.ImportModule, name: abi.ImportNow, sig: ":I"}}, funcs: []wasmFunc{abiVersion}, exports: map[string]int{abi.ExportABIVersion: 1}, pages: 1}.bytes())
	f.Add(wasmMod{others: []wasmOtherImport{{"plugin-1", "memory", []byte{0x02, 0x00, 0x01}}}, funcs: []wasmFunc{abiVersion}, exports: map[string]int{abi.ExportABIVersion: 0}, pages: 1}.bytes())
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x02\v\x01\x03nic\x03000\x000\x03\xf3\xcd\xf2o\xa9\xa4\x94\xdd\x06b\xdd"))
	f.Fuzz(func(t *testing.T, wasm []byte) {
		if checkImportKinds(wasm) != nil {
			return
		}
		imports, ok := plainImports(wasm)
		if !ok {
			t.Fatalf("passed a module the plain walk cannot follow: %x", wasm)
		}
		for _, im := range imports {
			if im.kind != 0 || (im.module != abi.ImportModule && im.module != wasiModule) {
				t.Fatalf("passed a module importing kind %d %s.%s", im.kind, im.module, im.name)
			}
		}
	})
}

type plainImport struct {
	module, name string
	kind         byte
}

// plainImports lists every import of every import section; ok is false
// when the module cannot be walked to its end.
func plainImports(wasm []byte) (imports []plainImport, ok bool) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return nil, false
	}
	b := wasm[8:]
	uvarint := func(p *[]byte) (uint64, bool) {
		v, n := binary.Uvarint(*p)
		if n <= 0 || n > 5 || v > math.MaxUint32 {
			return 0, false
		}
		*p = (*p)[n:]
		return v, true
	}
	for len(b) > 0 {
		id := b[0]
		b = b[1:]
		size, ok := uvarint(&b)
		if !ok || size > uint64(len(b)) {
			return nil, false
		}
		body := b[:size]
		b = b[size:]
		if id != 2 {
			continue
		}
		n, ok := uvarint(&body)
		if !ok {
			return nil, false
		}
		for ; n > 0; n-- {
			var names [2]string
			for i := range names {
				l, ok := uvarint(&body)
				if !ok || l > uint64(len(body)) {
					return nil, false
				}
				names[i], body = string(body[:l]), body[l:]
			}
			if len(body) == 0 {
				return nil, false
			}
			imports = append(imports, plainImport{names[0], names[1], body[0]})
			if body[0] != 0 {
				return imports, true // the reader under test must have refused already
			}
			body = body[1:]
			if _, ok := uvarint(&body); !ok {
				return nil, false
			}
		}
	}
	return imports, true
}
