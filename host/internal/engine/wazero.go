package engine

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/nichost/nichost/abi"
)

// wazeroEngine is wazero with its compilation cache, shared by every
// runtime of a host. With a directory it persists across processes, so a
// second start of the same module skips compilation.
//
// The plugins of one memory limit share one wazero runtime (wazeroShared),
// and the plugins of one module in it share its compiled module: wazero's
// decoded module, about 6 MiB for a Go plugin, is then held once however
// many plugins run it. An instance is no less apart from the others: it
// has its own memory, tables and globals, and checks.go refuses a module
// that imports anything but functions of the nic and WASI modules, so no
// instance can reach another's exports.
type wazeroEngine struct {
	cache wazero.CompilationCache
	dir   string // "" for an in-memory cache

	mu     sync.Mutex
	shared map[uint32]*wazeroShared // by memory limit in pages
}

func openWazero(cacheDir string) (Engine, error) {
	e := &wazeroEngine{shared: map[uint32]*wazeroShared{}}
	if cacheDir == "" {
		e.cache = wazero.NewCompilationCache()
		return e, nil
	}
	dir := filepath.Join(cacheDir, Wazero)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("engine: compilation cache: %w", err)
	}
	c, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return nil, fmt.Errorf("engine: compilation cache in %s: %w", dir, err)
	}
	e.cache, e.dir = c, dir
	return e, nil
}

func (e *wazeroEngine) Name() string { return Wazero }

func (e *wazeroEngine) Close(ctx context.Context) error { return e.cache.Close(ctx) }

// wazeroShared is the wazero runtime of the plugins of one memory limit
// (the limit is a runtime-wide setting in wazero), with the WASI and nic
// host modules and the modules compiled in it. Calls into different
// instances may run at once; a host function finds the instance calling
// it in the call's context (wazeroCall).
type wazeroShared struct {
	e     *wazeroEngine
	pages uint32
	rt    wazero.Runtime
	seq   atomic.Uint64

	// Guarded by e.mu.
	handles int                          // open wazeroRuntimes
	mods    map[[32]byte]*wazeroCompiled // by the module's SHA-256
}

// wazeroCompiled is a module compiled in a shared runtime, with how many
// wazeroModules hold it.
type wazeroCompiled struct {
	cm    wazero.CompiledModule
	shape shape
	refs  int // guarded by e.mu
}

// wazeroRuntime is one plugin's handle on the shared runtime of its
// memory limit: what it compiled and instantiated, closed with it.
type wazeroRuntime struct {
	s    *wazeroShared
	live atomic.Int32 // instances made and not closed

	mu     sync.Mutex
	closed bool
	mods   []*wazeroModule
	insts  map[*wazeroInstance]struct{}
}

// Live implements Runtime.
func (r *wazeroRuntime) Live() int { return int(r.live.Load()) }

// NewRuntime implements Engine.
func (e *wazeroEngine) NewRuntime(ctx context.Context, memLimit uint64) (Runtime, error) {
	pages := memLimit / 65536
	if pages < 1 || pages > 65536 {
		return nil, fmt.Errorf("engine: memory limit %d bytes is outside 64 KiB..4 GiB", memLimit)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.shared[uint32(pages)]
	if s == nil {
		cfg := wazero.NewRuntimeConfig().
			WithMemoryLimitPages(uint32(pages)).
			WithCloseOnContextDone(true).
			WithCompilationCache(e.cache)
		s = &wazeroShared{e: e, pages: uint32(pages), rt: wazero.NewRuntimeWithConfig(ctx, cfg), mods: map[[32]byte]*wazeroCompiled{}}
		if err := instantiateWASI(ctx, s.rt); err != nil {
			s.rt.Close(ctx)
			return nil, err
		}
		if err := s.instantiateHostModule(ctx); err != nil {
			s.rt.Close(ctx)
			return nil, err
		}
		e.shared[s.pages] = s
	}
	s.handles++
	return &wazeroRuntime{s: s, insts: map[*wazeroInstance]struct{}{}}, nil
}

// Close implements Runtime: it closes the plugin's instances and modules,
// and the shared runtime with the last plugin of its memory limit.
func (r *wazeroRuntime) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	insts, mods := r.insts, r.mods
	r.insts, r.mods = nil, nil
	r.mu.Unlock()
	for w := range insts {
		w.Close(ctx)
	}
	for _, m := range mods {
		m.Close(ctx)
	}
	e := r.s.e
	e.mu.Lock()
	r.s.handles--
	last := r.s.handles == 0
	if last {
		delete(e.shared, r.s.pages)
	}
	e.mu.Unlock()
	if last {
		return r.s.rt.Close(ctx)
	}
	return nil
}

// wazeroModule is one plugin's hold on a compiled module.
type wazeroModule struct {
	r      *wazeroRuntime
	c      *wazeroCompiled
	key    [32]byte
	cm     wazero.CompiledModule
	shape  shape
	cached bool
	closed atomic.Bool
	lineLimit
}

// Compile implements Runtime. A module the shared runtime has compiled
// already (another plugin's, or a plugin's before a reload) is taken as it
// is, without decoding it again.
func (r *wazeroRuntime) Compile(ctx context.Context, wasm []byte) (Module, error) {
	if err := checkImportKinds(wasm); err != nil {
		return nil, err
	}
	key := sha256.Sum256(wasm)
	s, e := r.s, r.s.e
	e.mu.Lock()
	c := s.mods[key]
	if c != nil {
		c.refs++
	}
	e.mu.Unlock()
	cached := true
	if c == nil {
		// Whether the disk cache had the module shows afterwards: a miss
		// stores a new file there.
		before := countFiles(e.dir)
		cm, err := s.rt.CompileModule(ctx, wasm)
		if err != nil {
			return nil, fmt.Errorf("engine: compile: %w", err)
		}
		cached = e.dir != "" && countFiles(e.dir) == before
		sh := wazeroShape(cm)
		if err := sh.check(); err != nil {
			cm.Close(ctx)
			return nil, err
		}
		e.mu.Lock()
		if c = s.mods[key]; c != nil { // compiled meanwhile by another plugin
			c.refs++
		} else {
			c = &wazeroCompiled{cm: cm, shape: sh, refs: 1}
			s.mods[key] = c
			cm = nil
		}
		e.mu.Unlock()
		if cm != nil {
			cm.Close(ctx)
		}
	}
	m := &wazeroModule{r: r, c: c, key: key, cm: c.cm, shape: c.shape, cached: cached}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		m.Close(ctx)
		return nil, errors.New("engine: runtime closed")
	}
	r.mods = append(r.mods, m)
	r.mu.Unlock()
	return m, nil
}

// countFiles counts the files under dir (0 if it cannot be read).
func countFiles(dir string) int {
	if dir == "" {
		return 0
	}
	n := 0
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func wazeroShape(cm wazero.CompiledModule) shape {
	s := shape{exports: map[string]abi.Signature{}, memories: map[string]bool{}}
	for name, def := range cm.ExportedFunctions() {
		s.exports[name] = wazeroSignature(def)
	}
	for name := range cm.ExportedMemories() {
		s.memories[name] = true
	}
	for _, def := range cm.ImportedFunctions() {
		mod, name, _ := def.Import()
		s.imports = append(s.imports, importedFunc{module: mod, name: name, sig: wazeroSignature(def)})
	}
	return s
}

func wazeroSignature(def api.FunctionDefinition) abi.Signature {
	names := func(ts []api.ValueType) []string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return s
	}
	return signatureOf(names(def.ParamTypes()), names(def.ResultTypes()))
}

// Cached implements Module.
func (m *wazeroModule) Cached() bool { return m.cached }

// CheckExports implements Module.
func (m *wazeroModule) CheckExports(v uint32) error { return m.shape.checkExports(v) }

// CheckImports implements Module.
func (m *wazeroModule) CheckImports(v uint32) error { return m.shape.checkImports(v) }

// Close implements Module: the compiled module is closed with its last
// holder.
func (m *wazeroModule) Close(ctx context.Context) error {
	if m.closed.Swap(true) {
		return nil
	}
	s := m.r.s
	s.e.mu.Lock()
	m.c.refs--
	last := m.c.refs == 0
	if last && s.mods[m.key] == m.c {
		delete(s.mods, m.key)
	}
	s.e.mu.Unlock()
	if last {
		return m.cm.Close(ctx)
	}
	return nil
}

// wazeroInstance is one instance of a compiled plugin.
type wazeroInstance struct {
	hostState
	m      *wazeroModule
	r      *wazeroRuntime
	mod    api.Module
	fns    map[string]api.Function
	stderr *tail
	budget callBudget // what the running call may take from WASI (wasi.go)
	stack  [4]uint64
	closed bool // Close ran
}

var _ Instance = (*wazeroInstance)(nil)

// Instantiate implements Module. The host runs _initialize itself, once
// the instance is known to the host functions (a Go plugin calls them
// while it initialises).
func (m *wazeroModule) Instantiate(ctx context.Context, imp Imports, out Output) (Instance, error) {
	w := &wazeroInstance{hostState: hostState{imp: imp}, m: m, r: m.r, fns: map[string]api.Function{}, stderr: newTail(m.logFunc(out))}
	sink := outputSink{b: &w.budget, t: w.stderr}
	s := m.r.s
	name := fmt.Sprintf("plugin-%d", s.seq.Add(1))
	cfg := wazero.NewModuleConfig().
		WithName(name).
		WithStartFunctions().
		WithStdout(sink).
		WithStderr(sink).
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(randSource{b: &w.budget})
	w.budget.begin(ctx)
	mod, err := s.rt.InstantiateModule(ctx, m.cm, cfg)
	if err != nil {
		return nil, w.classify("_initialize", err)
	}
	w.mod = mod
	m.r.live.Add(1)
	m.r.mu.Lock()
	closed := m.r.closed
	if !closed {
		m.r.insts[w] = struct{}{}
	}
	m.r.mu.Unlock()
	if closed {
		w.Close(ctx)
		return nil, errors.New("engine: runtime closed")
	}
	if init := mod.ExportedFunction("_initialize"); init != nil {
		if _, err := init.Call(&wazeroCall{ctx, w}); err != nil {
			f := w.classify("_initialize", err)
			w.Close(ctx)
			return nil, f
		}
	}
	for _, f := range abi.ExportFuncs() {
		if fn := mod.ExportedFunction(f.Name); fn != nil {
			w.fns[f.Name] = fn
		}
	}
	return w, nil
}

func (w *wazeroInstance) invoke(ctx context.Context, export string, params ...uint64) (int32, error) {
	if w.mod == nil || w.mod.IsClosed() {
		return 0, &Fault{Kind: FaultCrash, Export: export, Detail: "instance already closed"}
	}
	fn := w.fns[export]
	if fn == nil {
		return 0, &Fault{Kind: FaultViolation, Export: export, Detail: "the plugin does not export it"}
	}
	copy(w.stack[:], params)
	w.budget.begin(ctx)
	t0 := callStart(fn)
	err := fn.CallWithStack(&wazeroCall{ctx, w}, w.stack[:])
	if err != nil {
		return 0, w.classify(export, err)
	}
	if keepsBigStack(fn, t0) { // a fresh function drops the grown stack (stack.go)
		w.fns[export] = w.mod.ExportedFunction(export)
	}
	if v := w.violated; v != nil {
		return 0, &Fault{Kind: FaultViolation, Export: export, Detail: v.Error(), Err: v}
	}
	return int32(uint32(w.stack[0])), nil
}

// CheckExports checks the instance's module against ABI v1's exports.
func (w *wazeroInstance) CheckExports(v uint32) error { return w.m.CheckExports(v) }

// CheckImports checks the instance's module's imports against version v.
func (w *wazeroInstance) CheckImports(v uint32) error { return w.m.CheckImports(v) }

// ABIVersion implements Instance.
func (w *wazeroInstance) ABIVersion(ctx context.Context) (uint32, error) {
	rc, err := w.invoke(ctx, abi.ExportABIVersion)
	return uint32(rc), err
}

// Call implements Instance.
func (w *wazeroInstance) Call(ctx context.Context, export string, iface int32) (int32, error) {
	if err := checkControl(export, w.fns[export] != nil); err != nil {
		return 0, err
	}
	switch export {
	case abi.ExportDescribe, abi.ExportStart:
		return w.invoke(ctx, export)
	}
	return w.invoke(ctx, export, api.EncodeI32(iface))
}

// checkControl refuses a call of an export that is not a control export
// of ABI v1 (exported says whether the module has it).
func checkControl(export string, exported bool) error {
	switch export {
	case abi.ExportDescribe, abi.ExportStart:
		return nil
	case abi.ExportPoll, abi.ExportTransmit, abi.ExportABIVersion:
		return fmt.Errorf("engine: %q is not a control export", export)
	}
	if !exported {
		return fmt.Errorf("engine: %q is not an export of ABI v1", export)
	}
	return nil
}

// Poll implements Instance.
func (w *wazeroInstance) Poll(ctx context.Context, events abi.Event) (int32, error) {
	return w.invoke(ctx, abi.ExportPoll, api.EncodeU32(uint32(events)))
}

// ErrNoTxBuffer is returned by Transmit when the guest never registered its
// transmit buffer, and ErrFrameTooLong when the frame does not fit it.
var (
	ErrNoTxBuffer   = errors.New("engine: plugin registered no transmit buffer (tx_buffer)")
	ErrFrameTooLong = errors.New("engine: frame exceeds the plugin's transmit buffer")
)

// Transmit implements Instance.
func (w *wazeroInstance) Transmit(ctx context.Context, iface int32, frame []byte) (int32, error) {
	if err := w.fillTx(abi.ExportTransmit, frame); err != nil {
		return 0, err
	}
	return w.invoke(ctx, abi.ExportTransmit, api.EncodeI32(iface), api.EncodeU32(uint32(len(frame))))
}

// CanBatch implements Instance.
func (w *wazeroInstance) CanBatch() bool { return w.fns[abi.ExportTransmitBatch] != nil }

// TransmitBatch implements Instance.
func (w *wazeroInstance) TransmitBatch(ctx context.Context, iface, count int32, records []byte) (int32, error) {
	if err := w.fillTx(abi.ExportTransmitBatch, records); err != nil {
		return 0, err
	}
	return w.invoke(ctx, abi.ExportTransmitBatch, api.EncodeI32(iface), api.EncodeI32(count), api.EncodeU32(uint32(len(records))))
}

// fillTx writes b at the start of the guest's transmit buffer.
func (w *wazeroInstance) fillTx(export string, b []byte) error {
	if err := w.checkTx(b); err != nil {
		return err
	}
	if w.mod == nil || !w.mod.Memory().Write(w.txPtr, b) {
		return &Fault{Kind: FaultViolation, Export: export, Detail: "transmit buffer no longer inside guest memory"}
	}
	return nil
}

// checkTx checks that b fits the transmit buffer the guest registered.
func (h *hostState) checkTx(b []byte) error {
	if h.txCap == 0 {
		return ErrNoTxBuffer
	}
	if uint32(len(b)) > h.txCap {
		return fmt.Errorf("%w: %d > %d bytes", ErrFrameTooLong, len(b), h.txCap)
	}
	return nil
}

// Counters returns the host calls the instance made and the size of its
// linear memory in bytes. Like every method, it runs between calls, on the
// caller that serialises them.
func (w *wazeroInstance) Counters() (hostCalls, memory uint64) {
	if w.mod == nil || w.mod.Memory() == nil {
		return w.hostCalls, 0
	}
	return w.hostCalls, uint64(w.mod.Memory().Size())
}

// Close implements Instance.
func (w *wazeroInstance) Close(ctx context.Context) error {
	if w.mod == nil || w.closed {
		return nil
	}
	w.closed = true
	w.r.live.Add(-1)
	w.r.mu.Lock()
	delete(w.r.insts, w)
	w.r.mu.Unlock()
	return w.mod.Close(ctx)
}

// classify turns an error from wazero into a Fault (guestFault).
func (w *wazeroInstance) classify(export string, err error) error {
	var exit *sys.ExitError
	isExit := errors.As(err, &exit)
	var code uint32
	if isExit {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return &Fault{Kind: FaultTimeout, Export: export, Detail: "the call was interrupted", Err: err}
		case sys.ExitCodeContextCanceled:
			return &Fault{Kind: FaultTimeout, Export: export, Detail: "the call was cancelled", Err: err}
		}
		code = exit.ExitCode()
	}
	return guestFault(export, err, w.stderr.String(), isExit, code, firstLine(err.Error()))
}

// wazeroCall is the context of one call into an instance, by which the
// host functions it calls find the instance: plugins share the host
// module, and a type assertion is cheaper than a lookup by module. One is
// made per call, since wazero may read the context after the call returns.
type wazeroCall struct {
	context.Context
	w *wazeroInstance
}

// instantiateHostModule defines module "nic" in the shared runtime. Each
// function finds the instance calling it in the call's context.
func (s *wazeroShared) instantiateHostModule(ctx context.Context) error {
	sigs, err := importSigs()
	if err != nil {
		return err
	}
	b := s.rt.NewHostModuleBuilder(abi.ImportModule)
	for _, hf := range hostFuncs {
		sig := sigs[hf.name]
		params, results := valueTypes(sig.Params()), valueTypes(sig.Results())
		fn, wide := hf.fn, wide(sig)
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, st []uint64) {
			c, ok := ctx.(*wazeroCall)
			if !ok || c.w.mod != mod {
				// The host calls an instance only with its wazeroCall,
				// and an instance cannot call into another (checks.go).
				panic("engine: a host call from outside the instance the host called")
			}
			w := c.w
			w.hostCalls++
			w.mem = mod.Memory()
			r := fn(&w.hostState, st)
			if wide {
				st[0] = uint64(r)
			} else {
				st[0] = api.EncodeI32(int32(r))
			}
		}), params, results).Export(hf.name)
	}
	if _, err := b.Instantiate(ctx); err != nil {
		return fmt.Errorf("engine: host module: %w", err)
	}
	return nil
}

func valueTypes(names []string) []api.ValueType {
	out := make([]api.ValueType, len(names))
	for i, n := range names {
		if n == "i64" {
			out[i] = api.ValueTypeI64
		} else {
			out[i] = api.ValueTypeI32
		}
	}
	return out
}
