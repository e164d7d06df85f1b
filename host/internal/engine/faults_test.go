package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
)

// Every engine contains a guest alike, and reports what went wrong in the
// same words (the supervisor and the tests of package host match them).

const (
	opUnreachable = 0x00
	opI32Load     = 0x28
	opMemoryGrow  = 0x40
	opI32DivS     = 0x6d
)

// faultyMod exports one misbehaviour per export: nic_poll traps on
// unreachable, nic_status loads far outside memory, nic_scan divides by
// zero, nic_config loops forever, nic_connect(n) calls proc_exit(n),
// nic_disconnect(n) grows memory by n pages and returns what memory.grow
// said, nic_isconnected logs from a pointer outside memory.
func faultyMod() wasmMod {
	const (
		procExit = iota
		logImport
		nImports
	)
	fns := []wasmFunc{
		abiVersion,
		{sig: "i:i", body: []byte{opUnreachable}},
		{sig: "i:i", body: cat(i32c(-16), []byte{opI32Load, 0x02, 0x00})},
		{sig: "i:i", body: cat(i32c(1), get(0), []byte{opI32DivS})},
		{sig: "i:i", body: cat([]byte{opLoop, 0x40, opBr, 0x00, opEnd}, i32c(0))},
		{sig: "i:i", body: cat(get(0), call(procExit), i32c(0))},
		{sig: "i:i", body: cat(get(0), []byte{opMemoryGrow, 0x00})},
		{sig: "i:i", body: cat(i32c(0), i32c(-0x100000), i32c(0x40), call(logImport))},
	}
	exports := map[string]int{}
	for i, n := range []string{"nic_abi_version", "nic_poll", "nic_status", "nic_scan", "nic_config", "nic_connect", "nic_disconnect", "nic_isconnected"} {
		exports[n] = nImports + i
	}
	return wasmMod{
		imports: []wasmImport{{module: wasiName, name: "proc_exit", sig: "i:"}, {module: abi.ImportModule, name: abi.ImportLog, sig: "iii:i"}},
		funcs:   fns,
		exports: exports,
		pages:   2,
	}
}

func faultOf(t *testing.T, err error) *Fault {
	t.Helper()
	var f *Fault
	if !errors.As(err, &f) {
		t.Fatalf("err = %v, want a Fault", err)
	}
	return f
}

func TestFault_Traps(t *testing.T) { forEngines(t, testFaultTraps) }

func testFaultTraps(t *testing.T, engine string) {
	for _, tt := range []struct{ export, detail string }{
		{"nic_poll", "wasm error: unreachable"},
		{"nic_status", "wasm error: out of bounds memory access"},
		{"nic_scan", "wasm error: integer divide by zero"},
	} {
		w := instantiate(t, engine, faultyMod(), 16<<20, Output{})
		_, err := w.invoke(ctxFor(10*time.Second), tt.export, 0)
		if f := faultOf(t, err); f.Kind != FaultTrap || f.Detail != tt.detail || f.Export != tt.export {
			t.Errorf("%s: %v (kind %v), want a trap: %s", tt.export, err, f.Kind, tt.detail)
		}
	}
}

func TestFault_Deadline(t *testing.T) { forEngines(t, testFaultDeadline) }

func testFaultDeadline(t *testing.T, engine string) {
	w := instantiate(t, engine, faultyMod(), 16<<20, Output{})
	const d = 200 * time.Millisecond
	t0 := time.Now()
	_, err := w.invoke(ctxFor(d), "nic_config", 0)
	took := time.Since(t0)
	f := faultOf(t, err)
	if f.Kind != FaultTimeout || f.Detail != "the call was interrupted" || !errors.Is(f, context.DeadlineExceeded) {
		t.Fatalf("loop = %v, want the deadline", err)
	}
	if took < d || took > d+2*time.Second {
		t.Fatalf("the loop was interrupted after %v under a deadline of %v", took, d)
	}
	// The interrupted instance is closed (wazero closes the module).
	if _, err := w.invoke(ctxFor(10*time.Second), "nic_abi_version"); faultOf(t, err).Detail != "instance already closed" {
		t.Fatalf("a call after the timeout = %v, want the instance closed", err)
	}
	mod := w.module()
	fresh := func() testInstance {
		inst, err := mod.Instantiate(context.Background(), nil, Output{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { inst.Close(context.Background()) })
		return inst.(testInstance)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if f := faultOf(t, func() error { _, err := fresh().invoke(ctx, "nic_config", 0); return err }()); f.Kind != FaultTimeout || f.Detail != "the call was cancelled" {
		t.Fatalf("loop cancelled = %v, want the cancellation", f)
	}
	// A context that has ended already interrupts at once.
	if _, err := fresh().invoke(ctx, "nic_poll", 0); faultOf(t, err).Kind != FaultTimeout {
		t.Fatalf("a call under an ended context = %v, want a timeout", err)
	}
	// A deadline that ends as a call returns does not reach into the next
	// call: short deadlines race the calls, and each next call with a
	// long one runs whole (on a fresh instance if the last was
	// interrupted).
	w = fresh()
	for i := range 200 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%20)*time.Microsecond)
		_, err := w.invoke(ctx, "nic_abi_version")
		cancel()
		if err != nil {
			w = fresh()
		}
		if v, err := w.invoke(ctxFor(10*time.Second), "nic_abi_version"); err != nil || uint32(v) != abi.Version {
			t.Fatalf("the call after a short deadline = %d, %v", v, err)
		}
	}
}

func TestFault_ProcExit(t *testing.T) { forEngines(t, testFaultProcExit) }

func testFaultProcExit(t *testing.T, engine string) {
	w := instantiate(t, engine, faultyMod(), 16<<20, Output{})
	_, err := w.invoke(ctxFor(10*time.Second), "nic_connect", 3)
	if f := faultOf(t, err); f.Kind != FaultCrash || f.Detail != "exit code 3" {
		t.Fatalf("proc_exit(3) = %v, want a crash with the exit code", err)
	}
	if _, err := w.invoke(ctxFor(10*time.Second), "nic_poll", 0); faultOf(t, err).Detail != "instance already closed" {
		t.Fatalf("a call after proc_exit = %v, want the instance closed", err)
	}
}

func TestFault_MemoryLimit(t *testing.T) { forEngines(t, testFaultMemoryLimit) }

func testFaultMemoryLimit(t *testing.T, engine string) {
	const limit = 16 << 20 // 256 pages; the module starts with 2
	w := instantiate(t, engine, faultyMod(), limit, Output{})
	ctx := ctxFor(10 * time.Second)
	if old, err := w.invoke(ctx, "nic_disconnect", 254); err != nil || old != 2 {
		t.Fatalf("memory.grow(254) = %d, %v; want 2 (up to the limit)", old, err)
	}
	if old, err := w.invoke(ctx, "nic_disconnect", 1); err != nil || old != -1 {
		t.Fatalf("memory.grow(1) at the limit = %d, %v; want -1", old, err)
	}
	if _, mem := w.(interface{ Counters() (uint64, uint64) }).Counters(); mem != limit {
		t.Fatalf("memory is %d bytes, want the limit %d", mem, limit)
	}
	// A module whose memory starts above the limit is refused when it is
	// compiled.
	big := faultyMod()
	big.pages = 300
	_, err := newRuntime(t, engine, limit).Compile(context.Background(), big.bytes())
	if err == nil || !strings.Contains(err.Error(), "min 300 pages (18 Mi) over limit of 256 pages (16 Mi)") {
		t.Fatalf("Compile(300 pages under a 256-page limit) = %v", err)
	}
}

// A pointer outside guest memory is an ABI violation, found by the shared
// host functions on every engine, with the same words.
func TestFault_Violation(t *testing.T) { forEngines(t, testFaultViolation) }

func testFaultViolation(t *testing.T, engine string) {
	w := instantiate(t, engine, faultyMod(), 16<<20, Output{})
	_, err := w.invoke(ctxFor(10*time.Second), "nic_isconnected", 0)
	const want = "log: buffer [0xfff00000, 0xfff00040) lies outside guest memory (131072 bytes)"
	if f := faultOf(t, err); f.Kind != FaultViolation || f.Detail != want {
		t.Fatalf("log from outside memory = %v, want the violation %q", err, want)
	}
	if calls, _ := w.(interface{ Counters() (uint64, uint64) }).Counters(); calls != 1 {
		t.Fatalf("%d host calls counted, want 1", calls)
	}
}

// A module using a feature beyond WebAssembly 2.0 (here a tail call) is
// refused at compile on every engine.
func TestCompile_RefusesTailCalls(t *testing.T) { forEngines(t, testCompileRefusesTailCalls) }

func testCompileRefusesTailCalls(t *testing.T, engine string) {
	const opReturnCall = 0x12
	m := wasmMod{
		funcs:   []wasmFunc{abiVersion, {sig: ":i", body: []byte{opReturnCall, 0x00}}},
		exports: map[string]int{"nic_abi_version": 0, "nic_poll": 1},
		pages:   1,
	}
	if _, err := newRuntime(t, engine, 16<<20).Compile(context.Background(), m.bytes()); err == nil || !strings.Contains(err.Error(), "engine: compile: ") {
		t.Fatalf("Compile(a tail call) = %v, want it refused", err)
	}
}
