// Package host runs network-interface drivers as sandboxed WebAssembly
// plugins and gives each interface they serve the shape of MicroPython's
// network.AbstractNIC.
//
// A Host holds the plugins, the buses the operator granted them, and the
// TCP/IP core. Load builds a plugin from its Go or C source directory (or reads
// a .wasm file), checks its ABI version, description and grants, and
// starts it under supervision: every call into it runs on a goroutine of
// its own, one at a time, under a deadline, within a memory limit and a
// share of the CPU. A plugin that traps, loops, runs out of memory or
// breaks the ABI (abi/ABI.md) is discarded and restarted with the state
// callers asked for replayed; Reload swaps its module the same way. The
// network core keeps each interface's addresses and connections across
// both.
//
// Each interface is a *NIC with two faces: the MicroPython calls (Active,
// SetActive, Connect, Status, Config, IPConfig, ... with string keys and
// MicroPython's value types) and typed Go accessors (Addr4, Gateway4, DNS,
// Addrs6, StatusCode). Sockets go through the core: Host.Dial, Listen,
// ListenPacket and LookupHost, and the same on a NIC to bind traffic to
// it, return the standard net types.
//
// Errors from a plugin are *PluginError, naming the plugin and the call;
// match them with errors.Is against the Err* values, abi.ErrValue and
// friends, or context.DeadlineExceeded.
//
// # Engines
//
// Plugins run on a WebAssembly engine of the host's (Options.Engine):
// wazero, pure Go, by default; or wasmtime-go, in a nichost built with
// -tags wasmtime (it needs cgo and gcc). Both give a plugin the same ABI,
// WASI and bounds and report faults in the same words (abi/ABI.md §7);
// wasmtime runs guest code faster and crosses between host and guest more
// slowly. When Options.Engine is empty the environment variable
// NICHOST_ENGINE (EngineEnv) names the engine, so that
//
//	NICHOST_ENGINE=wasmtime go test -tags wasmtime ./...
//
// runs a whole test suite on wasmtime. A build without the tag refuses
// wasmtime, asked for either way, with an error from New saying how to
// build it; it never runs wazero instead. Plugin.Engine and LoadInfo.Engine
// say what runs a plugin.
package host
