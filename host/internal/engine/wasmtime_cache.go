//go:build wasmtime && cgo

package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"

	wt "github.com/bytecodealliance/wasmtime-go/v39"
)

// wasmtimeEngine is the wasmtime engine's side of a host: the cache of
// compiled modules. wasmtime compiles a module for one wt.Engine, and each
// runtime has an engine of its own (wasmtime.go: the epoch is per
// engine), so what is shared is the module serialised: on disk under
// dir, keyed by the module's SHA-256, wasmtime's version and the engine
// configuration, or in memory without a directory. A second start of the
// same module deserialises it (milliseconds) instead of compiling it
// (about 2.5 s for a Go plugin here).
//
// Deserialising runs the machine code it is given: like wazero's
// compilation cache, the directory must be writable only by the host's
// user. wasmtime itself refuses code from another version or
// configuration, in which case the module is compiled and the file
// replaced.
type wasmtimeEngine struct {
	dir string // "" for the in-memory cache

	mu  sync.Mutex
	mem map[string][]byte // serialised modules by key, without dir
}

func openWasmtime(cacheDir string) (Engine, error) {
	e := &wasmtimeEngine{mem: map[string][]byte{}}
	if cacheDir != "" {
		e.dir = filepath.Join(cacheDir, Wasmtime)
		if err := os.MkdirAll(e.dir, 0o755); err != nil {
			return nil, fmt.Errorf("engine: compilation cache: %w", err)
		}
	}
	return e, nil
}

func (e *wasmtimeEngine) Name() string { return Wasmtime }

func (e *wasmtimeEngine) Close(context.Context) error {
	e.mu.Lock()
	e.mem = map[string][]byte{}
	e.mu.Unlock()
	return nil
}

// wasmtimeVersion is the wasmtime-go module's version this host is built
// with, for the cache key.
var wasmtimeVersion = sync.OnceValue(func() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/bytecodealliance/wasmtime-go/v39" {
				return d.Version
			}
		}
	}
	return "v39" // wasmtime checks the exact version when it deserialises
})

func cacheKey(wasm []byte) string {
	sum := sha256.Sum256(wasm)
	return hex.EncodeToString(sum[:]) + "-" + wasmtimeVersion() + "-" + wasmtimeConfigKey
}

// compile returns wasm compiled for eng, from the cache if it has it
// (cached), else compiled and stored there.
func (e *wasmtimeEngine) compile(eng *wt.Engine, wasm []byte) (mod *wt.Module, cached bool, err error) {
	key := cacheKey(wasm)
	path := filepath.Join(e.dir, key+".cwasm")
	if e.dir != "" {
		if _, err := os.Stat(path); err == nil {
			if mod, err := wt.NewModuleDeserializeFile(eng, path); err == nil {
				return mod, true, nil
			}
		}
	} else {
		e.mu.Lock()
		b := e.mem[key]
		e.mu.Unlock()
		if b != nil {
			if mod, err := wt.NewModuleDeserialize(eng, b); err == nil {
				return mod, true, nil
			}
		}
	}
	mod, err = wt.NewModule(eng, wasm)
	if err != nil {
		return nil, false, fmt.Errorf("engine: compile: %s", wasmtimeMessage(err))
	}
	b, err := mod.Serialize()
	if err != nil {
		return mod, false, nil // a module that cannot be cached still runs
	}
	if e.dir == "" {
		e.mu.Lock()
		e.mem[key] = b
		e.mu.Unlock()
		return mod, false, nil
	}
	// Write then rename: another process reading the cache sees the whole
	// file or none.
	tmp, err := os.CreateTemp(e.dir, key+".*.tmp")
	if err != nil {
		return mod, false, nil
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), path) != nil {
		os.Remove(tmp.Name())
	}
	return mod, false, nil
}
