//go:build wasmtime && !cgo

package engine

// The wasmtime engine is wasmtime-go, which needs cgo: a build with the
// wasmtime tag and CGO_ENABLED=0 stops here, saying so.
var _ = the_wasmtime_tag_needs_cgo__build_with_CGO_ENABLED_1_and_gcc_installed
