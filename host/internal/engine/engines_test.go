package engine

import (
	"context"
	"testing"
)

// The engine tests run on every engine of the build: wazero always, and
// wasmtime with the wasmtime tag (wasmtime_test.go adds it), each in a
// subtest named after it.
var testEngines = []string{Wazero}

func forEngines(t *testing.T, test func(t *testing.T, engine string)) {
	for _, e := range testEngines {
		t.Run(e, func(t *testing.T) { test(t, e) })
	}
}

// testInstance is an instance as the engine tests drive it: besides the
// Instance calls, raw export calls and a look at its memory and output.
type testInstance interface {
	Instance
	invoke(ctx context.Context, export string, params ...uint64) (int32, error)
	rawCall(ctx context.Context, name string, params ...uint64) (uint64, error)
	testMemory() memory
	module() Module
	outputTail() *tail
}

func (w *wazeroInstance) testMemory() memory { return w.mod.Memory() }
func (w *wazeroInstance) module() Module     { return w.m }
func (w *wazeroInstance) outputTail() *tail  { return w.stderr }

// newRuntime opens engine with an in-memory cache and makes a runtime
// with a memory limit of memLimit.
func newRuntime(t testing.TB, engine string, memLimit uint64) Runtime {
	t.Helper()
	ctx := context.Background()
	e, err := Open(engine, "")
	if err != nil {
		t.Fatal(err)
	}
	rt, err := e.NewRuntime(ctx, memLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rt.Close(ctx)
		e.Close(ctx)
	})
	return rt
}

// instantiate compiles m on engine in a runtime with a memory limit of
// memLimit and starts an instance whose output goes to out.
func instantiate(t testing.TB, engine string, m wasmMod, memLimit uint64, out Output) testInstance {
	t.Helper()
	ctx := context.Background()
	rt := newRuntime(t, engine, memLimit)
	mod, err := rt.Compile(ctx, m.bytes())
	if err != nil {
		t.Fatal(err)
	}
	inst, err := mod.Instantiate(ctx, nil, out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close(ctx) })
	return inst.(testInstance)
}

// writeMem writes b into w's memory at ptr.
func writeMem(t testing.TB, w testInstance, ptr uint32, b []byte) {
	t.Helper()
	copy(readMem(t, w, ptr, uint32(len(b))), b)
}

// readMem is a view of w's memory [ptr, ptr+n).
func readMem(t testing.TB, w testInstance, ptr, n uint32) []byte {
	t.Helper()
	v, ok := w.testMemory().Read(ptr, n)
	if !ok {
		t.Fatalf("[%#x, %#x) is outside guest memory", ptr, ptr+n)
	}
	return v
}

// rawCall calls any export of the module with its parameters as wazero
// passes them (an i32 zero-extended), and returns its one result.
func (w *wazeroInstance) rawCall(ctx context.Context, name string, params ...uint64) (uint64, error) {
	w.budget.begin(ctx)
	res, err := w.mod.ExportedFunction(name).Call(&wazeroCall{ctx, w}, params...)
	if err != nil {
		return 0, err
	}
	return uint64(uint32(res[0])), nil
}
