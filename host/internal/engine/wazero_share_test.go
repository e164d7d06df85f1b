package engine

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/nichost/nichost/abi"
)

// Plugins of one module on wazero share its compiled form, and nothing
// else: each instance reads its own memory, a plugin's runtime closing
// leaves the other's instance working, and the shared runtime goes with
// the last plugin.
func TestWazero_SharesModulesNotInstances(t *testing.T) {
	ctx := context.Background()
	e, err := Open(Wazero, "")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	const opI32Load = 0x28
	// nic_status() returns the i32 at address 0 of the instance's memory.
	m := wasmMod{
		funcs:   []wasmFunc{abiVersion, {sig: ":i", body: cat(i32c(0), []byte{opI32Load, 0x02, 0x00})}},
		exports: map[string]int{abi.ExportABIVersion: 0, "nic_status": 1},
		pages:   1,
	}
	wasm := m.bytes() // once: the exports are written in map order
	var insts [2]testInstance
	var rts [2]Runtime
	for i := range insts {
		rt, err := e.NewRuntime(ctx, 16<<20)
		if err != nil {
			t.Fatal(err)
		}
		rts[i] = rt
		mod, err := rt.Compile(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := mod.Cached(), i == 1; got != want {
			t.Errorf("plugin %d: Cached() = %v, want %v (the second plugin takes the first's compiled module)", i, got, want)
		}
		inst, err := mod.Instantiate(ctx, nil, Output{})
		if err != nil {
			t.Fatal(err)
		}
		insts[i] = inst.(testInstance)
	}
	if a, b := insts[0].module().(*wazeroModule).cm, insts[1].module().(*wazeroModule).cm; a != b {
		t.Error("the two plugins of one module compiled it twice")
	}
	status := func(i int) uint32 {
		t.Helper()
		v, err := insts[i].rawCall(ctx, "nic_status")
		if err != nil {
			t.Fatalf("plugin %d: nic_status: %v", i, err)
		}
		return uint32(v)
	}
	binary.LittleEndian.PutUint32(readMem(t, insts[0], 0, 4), 0xfeed)
	if got := status(0); got != 0xfeed {
		t.Fatalf("plugin 0 reads %#x at 0, want 0xfeed", got)
	}
	if got := status(1); got != 0 {
		t.Fatalf("plugin 1 reads %#x at 0, plugin 0's write: instances share memory", got)
	}
	if err := rts[0].Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := status(1); got != 0 {
		t.Fatalf("after plugin 0 closed, plugin 1 reads %#x", got)
	}
	we := e.(*wazeroEngine)
	we.mu.Lock()
	n := len(we.shared)
	we.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d shared runtimes with one plugin open, want 1", n)
	}
	if err := rts[1].Close(ctx); err != nil {
		t.Fatal(err)
	}
	we.mu.Lock()
	n = len(we.shared)
	we.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d shared runtimes after the last plugin closed, want 0", n)
	}
}
