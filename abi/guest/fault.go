package guest

import (
	"maps"
	"runtime"
	"slices"
	"strings"
	"unsafe"

	"github.com/nichost/nichost/abi"
)

// Fault injection lets an operator show, on a running system, that the
// host contains a misbehaving driver: with the plugin's option
// fault_injection: true, call("_fault", KIND) makes the SDK itself, before
// the driver sees the call, fail in one of the ways the host must survive.
// It is off unless the operator sets the option, so that nothing a remote
// caller can send takes a plugin down by default.
const (
	// FaultMethod is the class-specific method the SDK answers itself: a
	// driver's Caller never sees it. Drivers should leave the other names
	// that start with "_" to the SDK too.
	FaultMethod = "_fault"
	// FaultOption is the plugin option that turns fault injection on. Only
	// the bool true does; absent or false, _fault raises ValueError. The
	// SDK takes it out of the options its driver sees.
	FaultOption = "fault_injection"
)

// The kinds of fault _fault injects.
const (
	// FaultTrap reads far outside the instance's linear memory: a
	// WebAssembly trap, which the host reports as one (host.ErrTrap). A
	// native build has no sandbox to trap in and panics instead.
	FaultTrap = "trap"
	// FaultPanic is a Go panic, which ends a Go WebAssembly program
	// (host.ErrCrashed).
	FaultPanic = "panic"
	// FaultLoop spins until the host interrupts the call at its deadline
	// (host.ErrTimeout). WebAssembly only: a native driver cannot be
	// interrupted.
	FaultLoop = "loop"
	// FaultMemory allocates and touches memory until the instance's
	// memory limit stops it (host.ErrOutOfMemory). WebAssembly only: a
	// native driver has no limit but the host's.
	FaultMemory = "memory"
)

// FaultKinds lists the kinds _fault takes, in the order its errors name
// them.
var FaultKinds = []string{FaultTrap, FaultPanic, FaultLoop, FaultMemory}

// faultSpins and faultHoard keep the loop and the allocations observable,
// so that the compiler cannot drop them and the collector cannot free them.
var (
	faultSpins uint64
	faultHoard [][]byte
	faultFar   = uintptr(0xfffffff0) // beyond any 32-bit linear memory's end
)

// fault answers call("_fault", kind). It returns only with an error: a
// fault that is off, a kind it does not know, or one a native build cannot
// contain.
func (m *Module) fault(a Args) (any, error) {
	if err := a.Takes(FaultMethod, 1); err != nil {
		return nil, err
	}
	if err := m.faultsOn(); err != nil {
		return nil, err
	}
	kind, err := a.At(0, "kind").Str()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(FaultKinds, kind) {
		return nil, abi.ValueError("_fault(): unknown kind %q (want %s)", kind, strings.Join(FaultKinds, ", "))
	}
	wasm := runtime.GOOS == "wasip1"
	if !wasm && (kind == FaultLoop || kind == FaultMemory) {
		return nil, abi.Unsupported("_fault(%q): a native build has no sandbox to contain it; run the plugin as WebAssembly", kind)
	}
	// The line reaches the host's log before the instance dies, so that
	// whoever reads the fault that follows sees it was asked for.
	m.env.Logf(abi.LogWarn, "_fault(%q): injecting the fault the operator asked for", kind)
	switch kind {
	case FaultTrap:
		if !wasm {
			panic("nichost guest: _fault(\"trap\") requested (a native build panics instead of trapping)")
		}
		return *(*byte)(unsafe.Add(unsafe.Pointer(nil), faultFar)), nil
	case FaultPanic:
		panic("nichost guest: _fault(\"panic\") requested")
	case FaultLoop:
		for {
			faultSpins++
		}
	}
	for { // FaultMemory
		b := make([]byte, 1<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1 // touch every page, so that it is really allocated
		}
		faultHoard = append(faultHoard, b)
	}
}

// faultsOn reports why fault injection is off, if it is.
func (m *Module) faultsOn() error {
	if m.faults {
		return nil
	}
	return abi.ValueError("_fault(): fault injection is off for this plugin: set options: {%s: true} in its config", FaultOption)
}

// takeFaultOption reads FaultOption from the start info and takes it out
// of the options the driver sees: it is the SDK's, so a driver that
// refuses options it does not know starts with it too. A value that is
// not a bool fails the start, as a driver's bad option does.
func (m *Module) takeFaultOption(info *abi.StartInfo) error {
	v, ok := info.Options[FaultOption]
	if !ok {
		m.faults = false
		return nil
	}
	on, err := abi.Bool("options."+FaultOption, v)
	if err != nil {
		return err
	}
	m.faults = on
	rest := maps.Clone(info.Options)
	delete(rest, FaultOption)
	info.Options = rest
	return nil
}
