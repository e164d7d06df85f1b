// Package benchkit measures what `nichost bench` reports: the sandbox's
// costs (host and export calls, control calls), the W5500 driver's frame
// rate and bus traffic, building and starting plugins, hot reloads, TCP
// through a plugin against the core alone, and the C LAN driver against
// the Go one, each figure in the same run as its baseline. Figures lists
// every figure with the one-line description the command prints and
// docs/benchmarks.md carries; Run measures them and returns a Report, which
// prints as a table, as one JSON object or as a self-contained HTML page.
//
// The rigs it measures with (WiznetNIC, LANFrames, ReloadRig, the TCP
// paths) are exported for the go test benchmarks, which wrap them. It
// imports no package testing: it returns errors, and waits with
// internal/wait/poll. The WASM engine is a parameter of every rig; which
// engines a run measures is decided in engine.go alone.
package benchkit
