// Package engine runs one plugin instance behind a small interface, on a
// WebAssembly engine or natively (the driver compiled into the host, as a
// baseline and a debugging aid). It translates the ABI's (pointer, length)
// pairs into Go slices, checking every one against guest memory, and
// classifies what goes wrong into Faults.
//
// Two WebAssembly engines implement Engine: wazero (wazero*.go, pure Go,
// the default) and wasmtime-go (wasmtime*.go, only in builds with the
// wasmtime tag: it needs cgo and gcc). Both give a plugin the same ABI, the
// same WASI and the same bounds, and report the same Faults with the same
// texts; the host functions (hostfuncs.go) and the module checks
// (checks.go) are shared. Nothing of either engine leaves this package.
//
// A Runtime is one plugin's, but what lies under it differs. On wazero the
// plugins of one memory limit share one wazero runtime, and the plugins
// running one module share its compiled form (about 6 MiB for a Go
// plugin), across reloads too; checkImportKinds is what keeps their
// instances from importing each other. On wasmtime each plugin has its own
// engine and store, because epoch interruption, which bounds a call's
// time, is counted per engine.
package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nichost/nichost/abi"
)

// The engines Open knows.
const (
	Wazero   = "wazero"   // pure Go; the default
	Wasmtime = "wasmtime" // wasmtime-go, in builds with the wasmtime tag
	Default  = Wazero
)

// Names lists the engines Open knows, the default first.
func Names() []string { return []string{Wazero, Wasmtime} }

// Engine is a WebAssembly engine with its cache of compiled modules. A
// host opens one and makes a Runtime per plugin from it.
type Engine interface {
	// Name is what Open was given for it ("wazero", "wasmtime").
	Name() string
	// NewRuntime makes a runtime for one plugin, whose instances may grow
	// their memory to at most memLimit bytes. Calls into the instances of
	// one runtime must be serialised.
	NewRuntime(ctx context.Context, memLimit uint64) (Runtime, error)
	// Close releases the cache.
	Close(ctx context.Context) error
}

// Runtime holds one plugin's compiled modules and instances.
type Runtime interface {
	// Compile compiles a plugin (or takes it from the engine's cache) and
	// checks its imports and exports against ABI v1 (checks.go), so that
	// a module that cannot work is refused before it runs.
	Compile(ctx context.Context, wasm []byte) (Module, error)
	// Live is how many instances made in it are open (made and not yet
	// closed), so that a host can tell an idle runtime it may reuse.
	Live() int
	// Close releases the runtime and every instance in it.
	Close(ctx context.Context) error
}

// Module is a compiled plugin.
type Module interface {
	// Instantiate starts an instance: it runs the module's _initialize
	// (Go and wasi-libc reactors) under ctx's deadline. The guest's stdout
	// and stderr lines go to out (see Output and wasi.go for their
	// bounds), and the last lines are kept to explain a fault.
	Instantiate(ctx context.Context, imp Imports, out Output) (Instance, error)
	// Cached reports whether Compile took the module from the engine's
	// disk cache instead of compiling it.
	Cached() bool
	// CheckExports checks that every export of ABI version v is there
	// with its type; CheckImports that the module imports nothing added
	// after v (checks.go).
	CheckExports(v uint32) error
	CheckImports(v uint32) error
	// DroppedLines is how many lines of stdout/stderr the rate limit
	// dropped in the module's instances that had no Output.Dropped of
	// their own.
	DroppedLines() uint64
	// Close releases the compiled module.
	Close(ctx context.Context) error
}

// Open opens the engine called name ("" for the default) with its cache
// of compiled modules in the subdirectory of cacheDir named after the
// engine ("wazero", "wasmtime"), or in memory if cacheDir is empty.
func Open(name, cacheDir string) (Engine, error) {
	switch name {
	case "", Wazero:
		return openWazero(cacheDir)
	case Wasmtime:
		return openWasmtime(cacheDir) // wasmtime.go, or nowasmtime.go without the tag
	}
	return nil, fmt.Errorf("engine %q: unknown; the engines are %s", name, strings.Join(Names(), ", "))
}

// Imports is the host's implementation of the ABI for one instance, with
// guest memory already turned into slices. Slices passed to it are views of
// guest memory valid only during the call.
type Imports = abi.Imports

// Instance is one running plugin instance. Calls must be serialised by the
// caller. After any call returns a *Fault the instance is unusable.
type Instance interface {
	// ABIVersion calls nic_abi_version.
	ABIVersion(ctx context.Context) (uint32, error)
	// Call calls a control export: nic_describe, nic_start (iface is
	// ignored for both) or one of the per-interface ones.
	Call(ctx context.Context, export string, iface int32) (int32, error)
	// Poll calls nic_poll.
	Poll(ctx context.Context, events abi.Event) (int32, error)
	// Transmit copies frame into the guest's transmit buffer and calls
	// nic_transmit. frame is not retained.
	Transmit(ctx context.Context, iface int32, frame []byte) (int32, error)
	// CanBatch reports whether the instance exports nic_transmit_batch.
	CanBatch() bool
	// TransmitBatch copies count frame records (abi.AppendFrame) into the
	// guest's transmit buffer and calls nic_transmit_batch. records is not
	// retained.
	TransmitBatch(ctx context.Context, iface, count int32, records []byte) (int32, error)
	// Close discards the instance.
	Close(ctx context.Context) error
}

// FaultKind says how an instance failed.
type FaultKind int

const (
	FaultTimeout   FaultKind = iota + 1 // a call ran past its deadline and was interrupted
	FaultTrap                           // the guest trapped (unreachable, bad memory access, ...)
	FaultCrash                          // the guest ended itself: a Go panic, a fatal error, proc_exit
	FaultMemory                         // the guest ran out of memory under its limit
	FaultViolation                      // the guest broke the ABI
)

func (k FaultKind) String() string {
	switch k {
	case FaultTimeout:
		return "call deadline exceeded"
	case FaultTrap:
		return "trap"
	case FaultCrash:
		return "crash"
	case FaultMemory:
		return "out of memory"
	case FaultViolation:
		return "ABI violation"
	}
	return fmt.Sprintf("fault %d", int(k))
}

// Fault is an instance failure; the instance must be discarded.
type Fault struct {
	Kind   FaultKind
	Export string // the export that was running
	Detail string // what the engine or the guest's stderr said
	Err    error  // underlying error, if any
}

func (f *Fault) Error() string {
	s := fmt.Sprintf("%s in %s", f.Kind, f.Export)
	if f.Detail != "" {
		s += ": " + f.Detail
	}
	return s
}

func (f *Fault) Unwrap() error { return f.Err }

// Is lets callers match a timeout with context.DeadlineExceeded.
func (f *Fault) Is(target error) bool {
	return f.Kind == FaultTimeout && target == context.DeadlineExceeded
}

// IsFault reports whether err is (or wraps) a Fault.
func IsFault(err error) bool {
	var f *Fault
	return errors.As(err, &f)
}

// guestFault classifies a failed call from what the engine reported and
// what the guest said last (its stderr tail). A Go guest that panics or
// hits a fatal error prints it to stderr and then traps, so what it said
// decides between a crash, memory exhaustion and a plain trap. exited says
// the guest called proc_exit with code; trap is the engine's one-line
// description of the trap otherwise, in wazero's words ("wasm error:
// unreachable").
func guestFault(export string, err error, said string, exited bool, code uint32, trap string) *Fault {
	switch {
	case strings.Contains(said, "out of memory"):
		return &Fault{Kind: FaultMemory, Export: export, Detail: said, Err: err}
	case exited:
		detail := fmt.Sprintf("exit code %d", code)
		if said != "" {
			detail += ": " + said
		}
		return &Fault{Kind: FaultCrash, Export: export, Detail: detail, Err: err}
	case strings.HasPrefix(said, "panic: ") || strings.HasPrefix(said, "fatal error: "):
		return &Fault{Kind: FaultCrash, Export: export, Detail: said, Err: err}
	}
	detail := trap
	if said != "" {
		detail += "; the plugin said: " + said
	}
	return &Fault{Kind: FaultTrap, Export: export, Detail: detail, Err: err}
}

// timeoutFault is the fault of a call interrupted because ctx ended.
func timeoutFault(ctx context.Context, export string, err error) *Fault {
	if errors.Is(ctx.Err(), context.Canceled) {
		return &Fault{Kind: FaultTimeout, Export: export, Detail: "the call was cancelled", Err: err}
	}
	return &Fault{Kind: FaultTimeout, Export: export, Detail: "the call was interrupted", Err: err}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
