//go:build wasmtime && cgo

package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	wt "github.com/bytecodealliance/wasmtime-go/v39"

	"github.com/nichost/nichost/abi"
)

// The wasmtime engine: wasmtime-go (cgo) behind the same interfaces and
// bounds as wazero's.
//
//   - Memory limit: each instance's store has a limiter that fails
//     memory.grow beyond the limit, as wazero's WithMemoryLimitPages does; a
//     module whose memory starts above the limit is refused at compile, in
//     wazero's words.
//   - Deadline: the engine is configured for epoch interruption; every call
//     into the instance sets its store's deadline to the next epoch, and
//     the call's context, when it ends, increments the epoch, which traps
//     the guest at its next function entry or loop back-edge. The epoch is
//     the engine's, so each runtime (each plugin) has an engine of its own:
//     one plugin's deadline never interrupts another's call.
//   - WASI: the host provides every function of wasi_snapshot_preview1
//     itself (wasmtime_wasi.go), answering as wazero's does for a module
//     with no file system, so that the guest's output goes through the
//     host's bounds.
//   - Host functions: Linker.FuncNew, decoding the parameters into a
//     reused array for the shared handlers of hostfuncs.go, the result
//     into a reused slice. A host call costs about 0.45 µs here
//     (BenchmarkEngine_Calls), with the two allocations wasmtime-go's
//     trampoline makes (the Caller and the parameters); FuncWrap's
//     reflection measured twice FuncNew's cost (1.1 against 0.56 µs).
//   - Compiled modules are serialised to the cache directory
//     (wasmtime_cache.go).

// wasmtimeRuntime is one plugin's wasmtime engine, with the linker that
// holds its host functions.
type wasmtimeRuntime struct {
	e         *wasmtimeEngine
	eng       *wt.Engine
	linker    *wt.Linker
	memLimit  uint64
	cur       *wasmtimeInstance // the instance whose call is running; calls are serialised
	fired     chan struct{}     // the deadline's epoch increment is done (call)
	interrupt func()            // increments the epoch, then sends on fired
	params    [9]uint64         // the running host function's parameters (path_open has 9)
	live      atomic.Int32      // instances made and not closed
}

// Live implements Runtime.
func (r *wasmtimeRuntime) Live() int { return int(r.live.Load()) }

// NewRuntime implements Engine.
func (e *wasmtimeEngine) NewRuntime(_ context.Context, memLimit uint64) (Runtime, error) {
	pages := memLimit / 65536
	if pages < 1 || pages > 65536 {
		return nil, fmt.Errorf("engine: memory limit %d bytes is outside 64 KiB..4 GiB", memLimit)
	}
	r := &wasmtimeRuntime{e: e, eng: wt.NewEngineWithConfig(wasmtimeConfig()), memLimit: pages * 65536, fired: make(chan struct{}, 1)}
	r.interrupt = func() {
		r.eng.IncrementEpoch()
		r.fired <- struct{}{}
	}
	r.linker = wt.NewLinker(r.eng)
	if err := r.defineHostModule(); err != nil {
		r.Close(context.Background())
		return nil, err
	}
	if err := r.defineWASI(); err != nil {
		r.Close(context.Background())
		return nil, err
	}
	return r, nil
}

// wasmtimeConfig is the configuration of every engine; what it changes in
// the compiled code is part of the cache key (wasmtimeConfigKey). The
// features are wazero's, WebAssembly 2.0 with SIMD (abi/ABI.md, "Wasm
// features"): what wasmtime would accept beyond them (threads, tail calls,
// multiple or 64-bit memories, typed function references, GC, relaxed
// SIMD, wide arithmetic) is refused at load on both engines.
func wasmtimeConfig() *wt.Config {
	cfg := wt.NewConfig()
	cfg.SetEpochInterruption(true)
	cfg.SetWasmThreads(false)
	cfg.SetWasmTailCall(false)
	cfg.SetWasmMultiMemory(false)
	cfg.SetWasmMemory64(false)
	cfg.SetWasmFunctionReferences(false)
	cfg.SetWasmGC(false)
	cfg.SetWasmRelaxedSIMD(false)
	cfg.SetWasmWideArithmetic(false)
	return cfg
}

const wasmtimeConfigKey = "epoch-wasm2"

// Close implements Runtime.
func (r *wasmtimeRuntime) Close(context.Context) error {
	r.linker.Close()
	r.eng.Close()
	return nil
}

// wasmtimeModule is a compiled plugin.
type wasmtimeModule struct {
	r      *wasmtimeRuntime
	mod    *wt.Module
	shape  shape
	cached bool
	lineLimit
}

// Compile implements Runtime.
func (r *wasmtimeRuntime) Compile(_ context.Context, wasm []byte) (Module, error) {
	if err := checkImportKinds(wasm); err != nil {
		return nil, err
	}
	mod, cached, err := r.e.compile(r.eng, wasm)
	if err != nil {
		return nil, err
	}
	m := &wasmtimeModule{r: r, mod: mod, shape: wasmtimeShape(mod), cached: cached}
	if err := m.shape.check(); err != nil {
		mod.Close()
		return nil, err
	}
	if err := r.checkMemory(mod); err != nil {
		mod.Close()
		return nil, err
	}
	return m, nil
}

// checkMemory refuses a module whose exported memory starts above the
// limit, as wazero refuses it when it decodes the module.
func (r *wasmtimeRuntime) checkMemory(mod *wt.Module) error {
	limit := uint32(r.memLimit / 65536)
	for _, ex := range mod.Exports() {
		mt := ex.Type().MemoryType()
		if mt == nil {
			continue
		}
		if min := mt.Minimum(); min > uint64(limit) {
			return fmt.Errorf("engine: compile: section memory: min %d pages (%s) over limit of %d pages (%s)", min, pagesInUnits(uint32(min)), limit, pagesInUnits(limit))
		}
	}
	return nil
}

// pagesInUnits writes a number of pages as wazero does in its memory
// errors ("16 Mi").
func pagesInUnits(pages uint32) string {
	k := uint64(pages) * 64
	switch {
	case k < 1024:
		return fmt.Sprintf("%d Ki", k)
	case k < 1024*1024:
		return fmt.Sprintf("%d Mi", k/1024)
	}
	return fmt.Sprintf("%d Gi", k/1024/1024)
}

func wasmtimeShape(mod *wt.Module) shape {
	s := shape{exports: map[string]abi.Signature{}, memories: map[string]bool{}}
	for _, ex := range mod.Exports() {
		ty := ex.Type()
		if ft := ty.FuncType(); ft != nil {
			s.exports[ex.Name()] = wasmtimeSignature(ft)
		} else if ty.MemoryType() != nil {
			s.memories[ex.Name()] = true
		}
	}
	for _, im := range mod.Imports() {
		ft := im.Type().FuncType()
		if ft == nil {
			continue // wazero lists function imports only; an import of anything else fails at instantiation on both
		}
		var name string
		if n := im.Name(); n != nil {
			name = *n
		}
		s.imports = append(s.imports, importedFunc{module: im.Module(), name: name, sig: wasmtimeSignature(ft)})
	}
	return s
}

func wasmtimeSignature(ft *wt.FuncType) abi.Signature {
	names := func(ts []*wt.ValType) []string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = kindName(t.Kind())
		}
		return s
	}
	return signatureOf(names(ft.Params()), names(ft.Results()))
}

// kindName is wazero's api.ValueTypeName of a wasmtime value kind.
func kindName(k wt.ValKind) string {
	switch k {
	case wt.KindI32, wt.KindI64, wt.KindF32, wt.KindF64, wt.KindExternref, wt.KindFuncref:
		return k.String()
	case 4: // WASMTIME_V128, which wasmtime-go has no name for
		return "v128"
	}
	return fmt.Sprintf("unknown(%d)", k)
}

// Cached implements Module.
func (m *wasmtimeModule) Cached() bool { return m.cached }

// CheckExports implements Module.
func (m *wasmtimeModule) CheckExports(v uint32) error { return m.shape.checkExports(v) }

// CheckImports implements Module.
func (m *wasmtimeModule) CheckImports(v uint32) error { return m.shape.checkImports(v) }

// Close implements Module.
func (m *wasmtimeModule) Close(context.Context) error {
	m.mod.Close()
	return nil
}

// wasmtimeInstance is one instance of a compiled plugin, alone in its
// store.
type wasmtimeInstance struct {
	hostState
	wasi   wasiState
	m      *wasmtimeModule
	r      *wasmtimeRuntime
	store  *wt.Store
	inst   *wt.Instance
	mem    *wt.Memory // the exported "memory"
	view   wasmtimeMemory
	fns    map[string]*wt.Func
	args   []any
	stderr *tail
	budget callBudget // what the running call may take from WASI (wasi.go)
	closed bool       // Close ran, or the guest called proc_exit

	hostPanic any // what a host function panicked with during the running call
}

var _ Instance = (*wasmtimeInstance)(nil)

// Instantiate implements Module: it instantiates the module in a store of
// its own and runs _initialize, if exported, as wazero runs its start
// functions.
func (m *wasmtimeModule) Instantiate(ctx context.Context, imp Imports, out Output) (Instance, error) {
	r := m.r
	store := wt.NewStore(r.eng)
	store.Limiter(int64(r.memLimit), -1, -1, -1, -1)
	w := &wasmtimeInstance{hostState: hostState{imp: imp}, m: m, r: r, store: store, fns: map[string]*wt.Func{}, args: make([]any, 0, 3), stderr: newTail(m.logFunc(out))}
	w.wasi = wasiState{h: &w.hostState, out: outputSink{b: &w.budget, t: w.stderr}, rand: randSource{b: &w.budget}}
	r.cur = w
	w.budget.begin(ctx)
	err := w.guarded(ctx, func() error {
		inst, err := r.linker.Instantiate(store, m.mod)
		if err != nil {
			return err
		}
		w.inst = inst
		if ex := inst.GetExport(store, "memory"); ex != nil {
			w.mem = ex.Memory()
		}
		for _, f := range abi.ExportFuncs() {
			if fn := inst.GetFunc(store, f.Name); fn != nil {
				w.fns[f.Name] = fn
			}
		}
		if init := inst.GetFunc(store, "_initialize"); init != nil {
			_, err = init.Call(store)
		}
		return err
	})
	if err != nil {
		f := w.classify(ctx, "_initialize", err)
		store.Close()
		w.closed = true
		return nil, f
	}
	r.live.Add(1)
	return w, nil
}

// guarded runs call, which calls into the guest, under ctx: when ctx ends
// the engine's epoch moves past the store's deadline and the guest traps.
// The increment is waited for before guarded returns, so that it cannot
// land in a later call.
func (w *wasmtimeInstance) guarded(ctx context.Context, call func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.store.SetEpochDeadline(1) // before the context can fire
	stop := context.AfterFunc(ctx, w.r.interrupt)
	err := call()
	if !stop() {
		<-w.r.fired
	}
	return err
}

func (w *wasmtimeInstance) invoke(ctx context.Context, export string, params ...uint64) (int32, error) {
	if w.closed {
		return 0, &Fault{Kind: FaultCrash, Export: export, Detail: "instance already closed"}
	}
	fn := w.fns[export]
	if fn == nil {
		return 0, &Fault{Kind: FaultViolation, Export: export, Detail: "the plugin does not export it"}
	}
	args := w.args[:0]
	for _, p := range params {
		args = append(args, int32(uint32(p))) // every export's parameters are i32
	}
	w.r.cur = w
	w.budget.begin(ctx)
	var res any
	err := w.guarded(ctx, func() (err error) {
		res, err = fn.Call(w.store, args...)
		return err
	})
	clear(args)
	if err != nil {
		return 0, w.classify(ctx, export, err)
	}
	if v := w.violated; v != nil {
		return 0, &Fault{Kind: FaultViolation, Export: export, Detail: v.Error(), Err: v}
	}
	rc, ok := res.(int32)
	if !ok {
		return 0, &Fault{Kind: FaultViolation, Export: export, Detail: fmt.Sprintf("it returned %T, not an i32", res)}
	}
	return rc, nil
}

// classify turns an error from a call into a Fault (guestFault), with
// wasmtime's trap in wazero's words.
func (w *wasmtimeInstance) classify(ctx context.Context, export string, err error) error {
	if p := w.hostPanic; p != nil {
		w.hostPanic = nil
		return &Fault{Kind: FaultTrap, Export: export, Detail: fmt.Sprintf("wasm error: a host function panicked: %v", p), Err: err}
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		w.closed = true
		return timeoutFault(ctx, export, err) // ended before the call began
	}
	var detail string
	var trap *wt.Trap
	if errors.As(err, &trap) {
		if code := trap.Code(); code != nil {
			if *code == wt.Interrupt {
				w.closed = true // as wazero closes the module when the context ends
				return timeoutFault(ctx, export, err)
			}
			detail = "wasm error: " + trapName(*code)
		}
	}
	if detail == "" {
		detail = wasmtimeMessage(err)
	}
	if w.wasi.exited {
		w.closed = true // as wazero closes the module on proc_exit
	}
	return guestFault(export, err, w.stderr.String(), w.wasi.exited, w.wasi.exitCode, detail)
}

// trapName is wazero's name of a trap.
func trapName(c wt.TrapCode) string {
	switch c {
	case wt.StackOverflow:
		return "stack overflow"
	case wt.MemoryOutOfBounds:
		return "out of bounds memory access"
	case wt.HeapMisaligned:
		return "unaligned atomic"
	case wt.TableOutOfBounds, wt.IndirectCallToNull:
		return "invalid table access"
	case wt.BadSignature:
		return "indirect call type mismatch"
	case wt.IntegerOverflow:
		return "integer overflow"
	case wt.IntegerDivisionByZero:
		return "integer divide by zero"
	case wt.BadConversionToInteger:
		return "invalid conversion to integer"
	case wt.UnreachableCodeReached:
		return "unreachable"
	}
	return fmt.Sprintf("trap %d", c)
}

// wasmtimeMessage is an error of wasmtime's on one line: its first line
// and, after "Caused by:", the innermost cause ("failed to compile:
// wasm[0]::function[1]: Invalid input WebAssembly code at offset 29: tail
// calls support is not enabled"), without the backtraces.
func wasmtimeMessage(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n\nStack backtrace:")
	head, causes, caused := strings.Cut(msg, "Caused by:")
	first := strings.TrimSpace(firstLine(head))
	if !caused {
		return first
	}
	var last string
	for _, l := range strings.Split(causes, "\n") {
		l = strings.TrimSpace(l)
		if n, rest, ok := strings.Cut(l, ": "); ok && n != "" && strings.Trim(n, "0123456789") == "" {
			last = rest // "N: cause": a new cause of the list
		} else if last == "" && l != "" {
			last = l // the only cause
		}
	}
	if strings.HasPrefix(first, "error while executing") || first == "" {
		return last // a runtime error: wasmtime's first line only says where
	}
	return first + ": " + last
}

// CheckExports checks the instance's module against ABI v1's exports.
func (w *wasmtimeInstance) CheckExports(v uint32) error { return w.m.CheckExports(v) }

// CheckImports checks the instance's module's imports against version v.
func (w *wasmtimeInstance) CheckImports(v uint32) error { return w.m.CheckImports(v) }

// ABIVersion implements Instance.
func (w *wasmtimeInstance) ABIVersion(ctx context.Context) (uint32, error) {
	rc, err := w.invoke(ctx, abi.ExportABIVersion)
	return uint32(rc), err
}

// Call implements Instance.
func (w *wasmtimeInstance) Call(ctx context.Context, export string, iface int32) (int32, error) {
	if err := checkControl(export, w.fns[export] != nil); err != nil {
		return 0, err
	}
	switch export {
	case abi.ExportDescribe, abi.ExportStart:
		return w.invoke(ctx, export)
	}
	return w.invoke(ctx, export, uint64(uint32(iface)))
}

// Poll implements Instance.
func (w *wasmtimeInstance) Poll(ctx context.Context, events abi.Event) (int32, error) {
	return w.invoke(ctx, abi.ExportPoll, uint64(uint32(events)))
}

// Transmit implements Instance.
func (w *wasmtimeInstance) Transmit(ctx context.Context, iface int32, frame []byte) (int32, error) {
	if err := w.fillTx(abi.ExportTransmit, frame); err != nil {
		return 0, err
	}
	return w.invoke(ctx, abi.ExportTransmit, uint64(uint32(iface)), uint64(len(frame)))
}

// CanBatch implements Instance.
func (w *wasmtimeInstance) CanBatch() bool { return w.fns[abi.ExportTransmitBatch] != nil }

// TransmitBatch implements Instance.
func (w *wasmtimeInstance) TransmitBatch(ctx context.Context, iface, count int32, records []byte) (int32, error) {
	if err := w.fillTx(abi.ExportTransmitBatch, records); err != nil {
		return 0, err
	}
	return w.invoke(ctx, abi.ExportTransmitBatch, uint64(uint32(iface)), uint64(uint32(count)), uint64(len(records)))
}

// fillTx writes b at the start of the guest's transmit buffer.
func (w *wasmtimeInstance) fillTx(export string, b []byte) error {
	if err := w.checkTx(b); err != nil {
		return err
	}
	if w.closed {
		return &Fault{Kind: FaultCrash, Export: export, Detail: "instance already closed"}
	}
	dst, ok := w.memoryNow().Read(w.txPtr, uint32(len(b)))
	if !ok {
		return &Fault{Kind: FaultViolation, Export: export, Detail: "transmit buffer no longer inside guest memory"}
	}
	copy(dst, b)
	return nil
}

// memoryNow is the guest's memory between calls.
func (w *wasmtimeInstance) memoryNow() *wasmtimeMemory {
	return &wasmtimeMemory{mem: w.mem, store: w.store}
}

// Counters returns the host calls the instance made and the size of its
// linear memory in bytes. Like every method, it runs between calls, on the
// caller that serialises them.
func (w *wasmtimeInstance) Counters() (hostCalls, memory uint64) {
	if w.closed || w.mem == nil {
		return w.hostCalls, 0
	}
	return w.hostCalls, uint64(w.mem.DataSize(w.store))
}

// Close implements Instance.
func (w *wasmtimeInstance) Close(context.Context) error {
	if w.store != nil {
		w.store.Close()
		w.store = nil
		w.r.live.Add(-1)
	}
	w.closed = true
	return nil
}

// wasmtimeMemory is the guest's memory as the host functions read it:
// the view is taken once per host function (memory can grow between
// them, never during one).
type wasmtimeMemory struct {
	mem   *wt.Memory
	store wt.Storelike // the host function's Caller, or the store between calls
	data  []byte
	fresh bool
}

func (m *wasmtimeMemory) bytes() []byte {
	if !m.fresh {
		m.data, m.fresh = nil, true
		if m.mem != nil {
			m.data = m.mem.UnsafeData(m.store)
		}
	}
	return m.data
}

// Read implements memory.
func (m *wasmtimeMemory) Read(offset, byteCount uint32) ([]byte, bool) {
	b := m.bytes()
	end := uint64(offset) + uint64(byteCount)
	if end > uint64(len(b)) {
		return nil, false
	}
	return b[offset:end:end], true
}

// Size implements memory.
func (m *wasmtimeMemory) Size() uint32 { return uint32(len(m.bytes())) }

// enter prepares the running instance for a host function called with
// args by caller: its memory view and the parameters, decoded into
// r.params as wazero passes them (an i32 zero-extended).
func (r *wasmtimeRuntime) enter(caller *wt.Caller, args []wt.Val) (*wasmtimeInstance, []uint64) {
	w := r.cur
	w.view.mem, w.view.store, w.view.fresh = w.mem, caller, false
	if w.view.mem == nil { // a start function calling the host, before Instantiate has the export
		if ex := caller.GetExport("memory"); ex != nil {
			w.view.mem = ex.Memory()
		}
	}
	w.hostState.mem = &w.view
	s := r.params[:len(args)]
	for i, a := range args {
		if a.Kind() == wt.KindI64 {
			s[i] = uint64(a.I64())
		} else {
			s[i] = uint64(uint32(a.I32()))
		}
	}
	return w, s
}

// leave ends a host function: the view of memory must not outlive it.
func (w *wasmtimeInstance) leave() {
	w.view.store, w.view.data, w.view.fresh = nil, nil, false
}

// recovered turns a panic of a host function into a trap, as wazero does,
// instead of letting wasmtime-go re-raise it in the host.
func (w *wasmtimeInstance) recovered(name string, trap **wt.Trap) {
	if p := recover(); p != nil {
		w.hostPanic = fmt.Sprintf("%s: %v", name, p)
		*trap = wt.NewTrap("host function " + name + " panicked")
	}
}

// defineHostModule defines module "nic" in the linker: the shared handlers
// of hostfuncs.go, each finding the running instance through r.cur.
func (r *wasmtimeRuntime) defineHostModule() error {
	sigs, err := importSigs()
	if err != nil {
		return err
	}
	for _, hf := range hostFuncs {
		sig := sigs[hf.name]
		fn, wide, name := hf.fn, wide(sig), hf.name
		res := make([]wt.Val, 1) // calls are serialised: one result slice per function
		err := r.linker.FuncNew(abi.ImportModule, hf.name, funcType(sig.Params(), sig.Results()), func(c *wt.Caller, args []wt.Val) (_ []wt.Val, trap *wt.Trap) {
			w, s := r.enter(c, args)
			defer w.leave()
			defer w.recovered(name, &trap)
			w.hostCalls++
			v := fn(&w.hostState, s)
			if wide {
				res[0] = wt.ValI64(v)
			} else {
				res[0] = wt.ValI32(int32(v))
			}
			return res, nil
		})
		if err != nil {
			return fmt.Errorf("engine: host function %s: %w", hf.name, err)
		}
	}
	return nil
}

// funcType is the wasmtime type of a function with these parameter and
// result types ("i32", "i64").
func funcType(params, results []string) *wt.FuncType {
	types := func(names []string) []*wt.ValType {
		ts := make([]*wt.ValType, len(names))
		for i, n := range names {
			if n == "i64" {
				ts[i] = wt.NewValType(wt.KindI64)
			} else {
				ts[i] = wt.NewValType(wt.KindI32)
			}
		}
		return ts
	}
	return wt.NewFuncType(types(params), types(results))
}
