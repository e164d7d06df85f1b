package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/internal/ratelimit"
)

// Cache is wazero's compilation cache, shared by every runtime of a host.
// With a directory it persists across processes, so a second start of the
// same module skips compilation.
type Cache struct{ c wazero.CompilationCache }

// NewCache opens a compilation cache in dir, or an in-memory one if dir is
// empty.
func NewCache(dir string) (*Cache, error) {
	if dir == "" {
		return &Cache{c: wazero.NewCompilationCache()}, nil
	}
	c, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return nil, fmt.Errorf("engine: compilation cache in %s: %w", dir, err)
	}
	return &Cache{c: c}, nil
}

// Close releases the cache.
func (c *Cache) Close(ctx context.Context) error { return c.c.Close(ctx) }

// Runtime is a wazero runtime for one plugin: the memory limit is a
// runtime-wide setting in wazero, and one runtime per plugin also keeps
// plugins' instances apart.
type Runtime struct {
	rt  wazero.Runtime
	cur *Wasm // the instance whose export is running; calls are serialised
	seq atomic.Uint64
}

// NewRuntime makes a runtime whose instances may grow their memory to at
// most memLimit bytes.
func NewRuntime(ctx context.Context, cache *Cache, memLimit uint64) (*Runtime, error) {
	pages := memLimit / 65536
	if pages < 1 || pages > 65536 {
		return nil, fmt.Errorf("engine: memory limit %d bytes is outside 64 KiB..4 GiB", memLimit)
	}
	cfg := wazero.NewRuntimeConfig().
		WithMemoryLimitPages(uint32(pages)).
		WithCloseOnContextDone(true).
		WithCompilationCache(cache.c)
	r := &Runtime{rt: wazero.NewRuntimeWithConfig(ctx, cfg)}
	if err := instantiateWASI(ctx, r.rt); err != nil {
		r.rt.Close(ctx)
		return nil, err
	}
	if err := r.instantiateHostModule(ctx); err != nil {
		r.rt.Close(ctx)
		return nil, err
	}
	return r, nil
}

// Close releases the runtime and every instance in it.
func (r *Runtime) Close(ctx context.Context) error { return r.rt.Close(ctx) }

// Module is a compiled plugin.
type Module struct {
	r  *Runtime
	cm wazero.CompiledModule

	outLimit ratelimit.Lines // when Output.Allow is nil (wasi.go)
	dropped  atomic.Uint64   // when Output.Dropped is nil
}

// ErrNotPlugin is wrapped when a module lacks nic_abi_version.
var ErrNotPlugin = errors.New("not a nichost plugin")

// Compile compiles a plugin and checks its imports and exports against
// ABI v1, so that a module that cannot work is refused before it runs.
func (r *Runtime) Compile(ctx context.Context, wasm []byte) (*Module, error) {
	cm, err := r.rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("engine: compile: %w", err)
	}
	if err := checkModule(cm); err != nil {
		cm.Close(ctx)
		return nil, err
	}
	return &Module{r: r, cm: cm}, nil
}

// checkModule checks what must hold before the module can be instantiated
// and asked its ABI version: the version export, the memory export, and
// imports this host provides with the types it provides them.
func checkModule(cm wazero.CompiledModule) error {
	exports := cm.ExportedFunctions()
	if _, ok := exports[abi.ExportABIVersion]; !ok {
		return fmt.Errorf("engine: %w: it has no %s export", ErrNotPlugin, abi.ExportABIVersion)
	}
	if _, ok := cm.ExportedMemories()["memory"]; !ok {
		return errors.New("engine: plugin does not export its memory as \"memory\"")
	}
	_, start := exports["_start"]
	if _, init := exports["_initialize"]; start && !init {
		// A command's exports may not run before _start, and the host
		// never runs _start (it would run main and exit).
		return errors.New("engine: the module is a command (it exports _start): build a reactor (Go: -buildmode=c-shared; clang: -mexec-model=reactor)")
	}
	want := map[string]abi.Signature{}
	for _, f := range abi.ImportFuncs() {
		want[f.Name] = f.Sig
	}
	for _, def := range cm.ImportedFunctions() {
		mod, name, _ := def.Import()
		switch mod {
		case wasi_snapshot_preview1.ModuleName:
		case abi.ImportModule:
			sig, ok := want[name]
			if !ok {
				return fmt.Errorf("engine: plugin imports %s.%s, which ABI %s does not have", mod, name, abi.VersionString(abi.Version))
			}
			if got := signature(def); got != sig {
				return fmt.Errorf("engine: plugin imports %s.%s as %s, ABI %s has %s", mod, name, got, abi.VersionString(abi.Version), sig)
			}
		default:
			return fmt.Errorf("engine: plugin imports %s.%s: only the %q and %q modules are provided", mod, name, abi.ImportModule, wasi_snapshot_preview1.ModuleName)
		}
	}
	return nil
}

// CheckExports checks that every export of ABI v1 is there with its type.
// The host calls it after the version handshake, so that a plugin of
// another ABI version is told about the version, not about exports.
func (m *Module) CheckExports(v uint32) error {
	exports := m.cm.ExportedFunctions()
	var missing, wrong []string
	for _, f := range abi.ExportFuncs() {
		if f.Since > v {
			continue // a later version's: the host never calls it on this plugin
		}
		def, ok := exports[f.Name]
		if !ok {
			if f.Required() {
				missing = append(missing, f.Name)
			}
			continue
		}
		if got := signature(def); got != f.Sig {
			wrong = append(wrong, fmt.Sprintf("%s is %s, want %s", f.Name, got, f.Sig))
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

// CheckImports checks that a plugin declaring ABI version v imports
// nothing added after v: a 1.0 plugin cannot use what it does not know of.
func (m *Module) CheckImports(v uint32) error {
	since := map[string]uint32{}
	for _, f := range abi.ImportFuncs() {
		since[f.Name] = f.Since
	}
	for _, def := range m.cm.ImportedFunctions() {
		mod, name, _ := def.Import()
		if s := since[name]; mod == abi.ImportModule && s > v {
			return fmt.Errorf("engine: the plugin declares ABI %s but imports %s.%s, which ABI %s added", abi.VersionString(v), mod, name, abi.VersionString(s))
		}
	}
	return nil
}

// CheckImports checks the instance's module's imports against version v.
func (w *Wasm) CheckImports(v uint32) error { return w.m.CheckImports(v) }

func signature(def api.FunctionDefinition) abi.Signature {
	names := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return strings.Join(s, ", ")
	}
	res := names(def.ResultTypes())
	if res == "" {
		res = "()"
	}
	return abi.Signature("(" + names(def.ParamTypes()) + ") -> " + res)
}

// Close releases the compiled module.
func (m *Module) Close(ctx context.Context) error { return m.cm.Close(ctx) }

// Wasm is one instance of a compiled plugin.
type Wasm struct {
	m        *Module
	r        *Runtime
	mod      api.Module
	imp      Imports
	fns      map[string]api.Function
	stderr   *tail
	budget   callBudget // what the running call may take from WASI (wasi.go)
	txPtr    uint32
	txCap    uint32
	violated error
	stack    [4]uint64
	spiOps   [abi.SPIMaxOps]abi.SPIOp // spi_transact's records as slices, reused

	hostCalls uint64 // host functions called by the instance
}

var _ Instance = (*Wasm)(nil)

// InstantiateWith starts an instance: it runs the module's start functions
// (_initialize for Go reactor modules) under ctx's deadline. The guest's
// stdout and stderr lines go to out (see Output and wasi.go for their
// bounds), and the last lines are kept to explain a fault.
func (m *Module) InstantiateWith(ctx context.Context, imp Imports, out Output) (*Wasm, error) {
	w := &Wasm{m: m, r: m.r, imp: imp, fns: map[string]api.Function{}, stderr: newTail(m.logFunc(out))}
	sink := outputSink{b: &w.budget, t: w.stderr}
	name := fmt.Sprintf("plugin-%d", m.r.seq.Add(1))
	cfg := wazero.NewModuleConfig().
		WithName(name).
		WithStartFunctions("_initialize").
		WithStdout(sink).
		WithStderr(sink).
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(randSource{b: &w.budget})
	m.r.cur = w
	w.budget.begin(ctx)
	mod, err := m.r.rt.InstantiateModule(ctx, m.cm, cfg)
	if err != nil {
		return nil, w.classify("_initialize", err)
	}
	w.mod = mod
	for _, f := range abi.ExportFuncs() {
		if fn := mod.ExportedFunction(f.Name); fn != nil {
			w.fns[f.Name] = fn
		}
	}
	return w, nil
}

func (w *Wasm) invoke(ctx context.Context, export string, params ...uint64) (int32, error) {
	if w.mod == nil || w.mod.IsClosed() {
		return 0, &Fault{Kind: FaultCrash, Export: export, Detail: "instance already closed"}
	}
	fn := w.fns[export]
	if fn == nil {
		return 0, &Fault{Kind: FaultViolation, Export: export, Detail: "the plugin does not export it"}
	}
	copy(w.stack[:], params)
	w.r.cur = w
	w.budget.begin(ctx)
	t0 := callStart(fn)
	err := fn.CallWithStack(ctx, w.stack[:])
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
func (w *Wasm) CheckExports(v uint32) error { return w.m.CheckExports(v) }

// ABIVersion implements Instance.
func (w *Wasm) ABIVersion(ctx context.Context) (uint32, error) {
	rc, err := w.invoke(ctx, abi.ExportABIVersion)
	return uint32(rc), err
}

// Call implements Instance.
func (w *Wasm) Call(ctx context.Context, export string, iface int32) (int32, error) {
	switch export {
	case abi.ExportDescribe, abi.ExportStart:
		return w.invoke(ctx, export)
	case abi.ExportPoll, abi.ExportTransmit, abi.ExportABIVersion:
		return 0, fmt.Errorf("engine: %q is not a control export", export)
	}
	if _, ok := w.fns[export]; !ok {
		return 0, fmt.Errorf("engine: %q is not an export of ABI v1", export)
	}
	return w.invoke(ctx, export, api.EncodeI32(iface))
}

// Poll implements Instance.
func (w *Wasm) Poll(ctx context.Context, events abi.Event) (int32, error) {
	return w.invoke(ctx, abi.ExportPoll, api.EncodeU32(uint32(events)))
}

// ErrNoTxBuffer is returned by Transmit when the guest never registered its
// transmit buffer, and ErrFrameTooLong when the frame does not fit it.
var (
	ErrNoTxBuffer   = errors.New("engine: plugin registered no transmit buffer (tx_buffer)")
	ErrFrameTooLong = errors.New("engine: frame exceeds the plugin's transmit buffer")
)

// Transmit implements Instance.
func (w *Wasm) Transmit(ctx context.Context, iface int32, frame []byte) (int32, error) {
	if err := w.fillTx(abi.ExportTransmit, frame); err != nil {
		return 0, err
	}
	return w.invoke(ctx, abi.ExportTransmit, api.EncodeI32(iface), api.EncodeU32(uint32(len(frame))))
}

// CanBatch implements Instance.
func (w *Wasm) CanBatch() bool { return w.fns[abi.ExportTransmitBatch] != nil }

// TransmitBatch implements Instance.
func (w *Wasm) TransmitBatch(ctx context.Context, iface, count int32, records []byte) (int32, error) {
	if err := w.fillTx(abi.ExportTransmitBatch, records); err != nil {
		return 0, err
	}
	return w.invoke(ctx, abi.ExportTransmitBatch, api.EncodeI32(iface), api.EncodeI32(count), api.EncodeU32(uint32(len(records))))
}

// fillTx writes b at the start of the guest's transmit buffer.
func (w *Wasm) fillTx(export string, b []byte) error {
	if w.txCap == 0 {
		return ErrNoTxBuffer
	}
	if uint32(len(b)) > w.txCap {
		return fmt.Errorf("%w: %d > %d bytes", ErrFrameTooLong, len(b), w.txCap)
	}
	if w.mod == nil || !w.mod.Memory().Write(w.txPtr, b) {
		return &Fault{Kind: FaultViolation, Export: export, Detail: "transmit buffer no longer inside guest memory"}
	}
	return nil
}

// Counters returns the host calls the instance made and the size of its
// linear memory in bytes. Like every method, it runs between calls, on the
// caller that serialises them.
func (w *Wasm) Counters() (hostCalls, memory uint64) {
	if w.mod == nil || w.mod.Memory() == nil {
		return w.hostCalls, 0
	}
	return w.hostCalls, uint64(w.mod.Memory().Size())
}

// Close implements Instance.
func (w *Wasm) Close(ctx context.Context) error {
	if w.mod == nil {
		return nil
	}
	return w.mod.Close(ctx)
}

// classify turns an error from wazero into a Fault. A Go guest that
// panics or hits a fatal error prints it to stderr and then traps, so what
// it said decides between a crash, memory exhaustion and a plain trap.
func (w *Wasm) classify(export string, err error) error {
	var exit *sys.ExitError
	isExit := errors.As(err, &exit)
	if isExit {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return &Fault{Kind: FaultTimeout, Export: export, Detail: "the call was interrupted", Err: err}
		case sys.ExitCodeContextCanceled:
			return &Fault{Kind: FaultTimeout, Export: export, Detail: "the call was cancelled", Err: err}
		}
	}
	said := w.stderr.String()
	switch {
	case strings.Contains(said, "out of memory"):
		return &Fault{Kind: FaultMemory, Export: export, Detail: said, Err: err}
	case isExit:
		detail := fmt.Sprintf("exit code %d", exit.ExitCode())
		if said != "" {
			detail += ": " + said
		}
		return &Fault{Kind: FaultCrash, Export: export, Detail: detail, Err: err}
	case strings.HasPrefix(said, "panic: ") || strings.HasPrefix(said, "fatal error: "):
		return &Fault{Kind: FaultCrash, Export: export, Detail: said, Err: err}
	}
	detail := firstLine(err.Error())
	if said != "" {
		detail += "; the plugin said: " + said
	}
	return &Fault{Kind: FaultTrap, Export: export, Detail: detail, Err: err}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// violate records that the guest broke the ABI during the current call.
func (w *Wasm) violate(format string, a ...any) {
	if w.violated == nil {
		w.violated = fmt.Errorf(format, a...)
	}
}

// view returns guest memory [ptr, ptr+n) or records a violation.
func (w *Wasm) view(mod api.Module, call string, ptr, n uint32) ([]byte, bool) {
	if n == 0 {
		return nil, true
	}
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		w.violate("%s: buffer [%#x, %#x) lies outside guest memory (%d bytes)", call, ptr, uint64(ptr)+uint64(n), mod.Memory().Size())
		return nil, false
	}
	return b, true
}

func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
