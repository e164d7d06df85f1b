package engine

import (
	"reflect"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// The call stacks wazero keeps.
//
// wazero's compiler runs a call on a stack of its own: a Go []byte that
// belongs to the api.Function (its callEngine) and stays with it after the
// call returns. It starts at 10 KiB and doubles (plus the frame that needed
// more) whenever a call runs out of it, as long as it is not yet over
// 50,000,000 bytes (47.7 MiB; callStackCeiling in wazero's
// internal/engine/wazevo/call_engine.go); a call that needs more then traps
// with a stack overflow. So a call can grow its stack to at most
// 2 × 50 MB = 100 MB (95.4 MiB); by doublings from 10 KiB it reaches
// 84.9 MB (81 MiB) in practice. After the call wazero still points into the
// stack before the last doubling, so half as much again can stay
// reachable: a wasm recursion 3,000,000 calls deep left 121 MiB (84.9 +
// 42.4 MB) in the Go heap, one 1,000,000 deep 30 MiB; a Go plugin's
// recursion 1,000,000 deep 81 MiB, one 500,000 deep 40 MiB. During a
// call the stack before a doubling and the doubled one coexist: at most
// ~150 MB (143 MiB) for one call, at its last growth.
//
// None of it is guest memory, so the memory limit does not cover it. The
// engine bounds what stays once a call is over: after every call whose
// function's stack is over stackKeep, it drops the function and takes a
// fresh one from the module (about 2 µs and 12 KB), and the big stack is
// garbage. What stays is then at most 1.5 × stackKeep per export. A Go
// plugin's ordinary calls do not grow the stack: every call in the host's
// and the plugins' tests ran on the first 10 KiB, so the drop costs them
// nothing.
//
// The stack's size is read from wazero's callEngine by reflection (about
// 15 ns a call; TestStack_Readable fails if a new wazero moves it); where
// that is not possible, the function is dropped after every call that ran
// longer than stackDropAfter instead, which costs two clock reads a call
// (about 100 ns on a virtual machine) and bounds what stays by how much
// stack a call can grow in that time (1 MiB in a millisecond, measured).
const (
	stackKeep      = 64 << 10
	stackDropAfter = time.Millisecond
)

// stackField is where the stack is in a function of wazero's compiler.
type stackField struct {
	typ reflect.Type // *wazevo.callEngine
	idx []int        // its field stack []byte
}

var stackAt atomic.Pointer[stackField]

// stackBytes is the length of the call stack fn keeps, or -1 if fn has no
// stack where wazero's compiler keeps it.
func stackBytes(fn api.Function) int {
	v := reflect.ValueOf(fn)
	at := stackAt.Load()
	if at == nil || at.typ != v.Type() {
		at = findStack(v.Type())
		if at == nil {
			return -1
		}
		stackAt.Store(at)
	}
	return v.Elem().FieldByIndex(at.idx).Len()
}

func findStack(t reflect.Type) *stackField {
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	f, ok := t.Elem().FieldByName("stack")
	if !ok || f.Type.Kind() != reflect.Slice || f.Type.Elem().Kind() != reflect.Uint8 {
		return nil
	}
	return &stackField{typ: t, idx: f.Index}
}

// keepsBigStack reports whether fn should be replaced after a call that
// began at t0 (zero when stackBytes works for fn, which is then used).
func keepsBigStack(fn api.Function, t0 time.Time) bool {
	if t0.IsZero() {
		return stackBytes(fn) > stackKeep
	}
	return time.Since(t0) > stackDropAfter
}

// callStart is what keepsBigStack needs to know when a call of fn begins.
func callStart(fn api.Function) time.Time {
	if at := stackAt.Load(); (at != nil && at.typ == reflect.TypeOf(fn)) || stackBytes(fn) >= 0 {
		return time.Time{}
	}
	return time.Now()
}
