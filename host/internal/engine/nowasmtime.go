//go:build !wasmtime

package engine

import "errors"

// errNoWasmtime is what asking for wasmtime gets from a build without it.
var errNoWasmtime = errors.New(`engine "wasmtime": this nichost was built without it; build with -tags wasmtime (needs cgo and gcc)`)

func openWasmtime(string) (Engine, error) { return nil, errNoWasmtime }
