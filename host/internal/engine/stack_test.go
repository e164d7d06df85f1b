package engine

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// recursion is a module whose nic_poll(n) recurses n calls deep and
// returns n: legal, and it grows wazero's call stack by ~28 bytes a level.
func recursion() wasmMod {
	const self = 1
	body := cat(get(0), []byte{opI32Eqz, opIf, tI32}, i32c(0), []byte{opElse},
		get(0), i32c(1), []byte{opI32Sub}, call(self), i32c(1), []byte{opI32Add, opEnd})
	return wasmMod{
		funcs:   []wasmFunc{abiVersion, {sig: "i:i", body: body}},
		exports: map[string]int{"nic_abi_version": 0, "nic_poll": self},
		pages:   1,
	}
}

func heapInuse() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

const mib = 1 << 20

func TestStack_Readable(t *testing.T) {
	w := instantiate(t, Wazero, recursion(), 64*mib, Output{}).(*wazeroInstance)
	if n := stackBytes(w.fns["nic_poll"]); n <= 0 || n > stackKeep {
		t.Fatalf("stackBytes = %d for a function never called: wazero's callEngine no longer has its stack where stack.go looks", n)
	}
	if !callStart(w.fns["nic_poll"]).IsZero() {
		t.Fatal("callStart reads the clock although the stack is readable")
	}
	// Anything else falls back to timing the call.
	other := struct{ api.Function }{w.fns["nic_poll"]}
	if stackBytes(&other) != -1 {
		t.Fatal("stackBytes read a stack from a value that has none")
	}
	t0 := callStart(&other)
	if t0.IsZero() || keepsBigStack(&other, t0) || !keepsBigStack(&other, t0.Add(-2*stackDropAfter)) {
		t.Fatal("the fallback does not drop functions after long calls only")
	}
}

func TestStack_DeepCallLeavesNoStack(t *testing.T) {
	w := instantiate(t, Wazero, recursion(), 64*mib, Output{}).(*wazeroInstance)
	ctx := context.Background()
	const depth = 1_000_000

	// What a function keeps after such a call when nothing is done.
	before := heapInuse()
	raw := w.mod.ExportedFunction("nic_poll")
	if err := raw.CallWithStack(ctx, []uint64{depth}); err != nil {
		t.Fatal(err)
	}
	held, grown := heapInuse()-before, stackBytes(raw)
	runtime.KeepAlive(raw)
	raw = nil
	if held < 16*mib {
		t.Fatalf("a recursion %d deep left %.1f MiB in the heap (stack %d bytes): the test does not measure what it should", depth, float64(held)/mib, grown)
	}

	before = heapInuse()
	t0 := time.Now()
	rc, err := w.invoke(ctx, "nic_poll", depth)
	took := time.Since(t0)
	if err != nil || rc != depth {
		t.Fatalf("invoke = %d, %v; want %d", rc, err, depth)
	}
	after := heapInuse() - before
	if n := stackBytes(w.fns["nic_poll"]); n > stackKeep {
		t.Fatalf("the instance kept a function with a stack of %d bytes", n)
	}
	if after > 2*mib {
		t.Fatalf("after the call the heap holds %.1f MiB more, want at most 2 MiB", float64(after)/mib)
	}
	t.Logf("recursion %d deep (%v): a cached function keeps %.1f MiB (stack %.1f MiB); the engine's instance keeps %+.1f MiB",
		depth, took, float64(held)/mib, float64(grown)/mib, float64(after)/mib)
}

func BenchmarkInvoke(b *testing.B) {
	w := instantiate(b, Wazero, recursion(), 64*mib, Output{}).(*wazeroInstance)
	ctx := context.Background()
	b.Run("invoke", func(b *testing.B) {
		for b.Loop() {
			w.invoke(ctx, "nic_poll", 0)
		}
	})
	b.Run("wazero", func(b *testing.B) { // what invoke adds to
		fn := w.fns["nic_poll"]
		for b.Loop() {
			fn.CallWithStack(ctx, w.stack[:])
		}
	})
	b.Run("stackBytes", func(b *testing.B) {
		fn := w.fns["nic_poll"]
		for b.Loop() {
			stackBytes(fn)
		}
	})
	b.Run("clock", func(b *testing.B) { // the fallback's cost
		for b.Loop() {
			_ = time.Since(time.Now())
		}
	})
	b.Run("ExportedFunction", func(b *testing.B) { // a drop
		for b.Loop() {
			w.mod.ExportedFunction("nic_poll")
		}
	})
}
