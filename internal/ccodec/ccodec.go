// Package ccodec runs the C SDK's value codec (abi/c/nic.c) from Go, for
// the tests that hold it to the host's codec and the Go SDK's: the shared
// vectors of abi/testdata/values (abi/c) and the differential fuzz target
// FuzzCodec_GuestVsHost (abi/guest). The codec is built with clang for
// wasm32-wasi through host/build's cache, as a C plugin is, from
// abi/c/testdata/codec, and runs in wazero.
package ccodec

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/nichost/nichost/host/build"
	"github.com/nichost/nichost/internal/testenv"
)

// Codec is one instance of the C codec. It is not safe for concurrent use;
// Load hands out one per process.
type Codec struct {
	mu    sync.Mutex
	mod   api.Module
	check api.Function
	in    uint32 // the input buffer
	out   uint32 // the output buffer
	outN  api.Function
}

// Result is what the C codec made of a message.
type Result struct {
	OK    bool   // accepted
	Canon []byte // for OK: the value re-encoded in the host's canonical form (nil if EncErr)
	// EncErr is set when the message was accepted but re-encoding it
	// failed (it grew past the message limit).
	EncErr string
	Err    string // for a refusal: the C codec's message
}

var (
	once   sync.Once
	shared *Codec
	errLd  error
)

// Load builds (or takes from the cache) and instantiates the C codec.
// Without clang it returns the builder's error, which says what to
// install.
func Load() (*Codec, error) {
	once.Do(func() { shared, errLd = load(context.Background()) })
	return shared, errLd
}

func load(ctx context.Context) (*Codec, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return nil, errors.New("ccodec: cannot find the source tree")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "abi", "c", "testdata", "codec")
	res, err := (&build.Builder{}).Build(ctx, dir)
	if err != nil {
		return nil, err
	}
	wasm, err := os.ReadFile(res.Path)
	if err != nil {
		return nil, err
	}
	r := wazero.NewRuntime(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	compiled, err := r.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("ccodec: %w", err)
	}
	// nic.c imports the ABI's host functions for its exports; the codec
	// never calls them, so each answers -ENOTSUP.
	hb := r.NewHostModuleBuilder("nic")
	for _, f := range compiled.ImportedFunctions() {
		if mod, name, _ := f.Import(); mod == "nic" {
			results := f.ResultTypes()
			hb.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) {
				if len(results) > 0 {
					stack[0] = api.EncodeI32(-95)
				}
			}), f.ParamTypes(), results).Export(name)
		}
	}
	if _, err := hb.Instantiate(ctx); err != nil {
		return nil, fmt.Errorf("ccodec: %w", err)
	}
	mod, err := r.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithStartFunctions("_initialize"))
	if err != nil {
		return nil, fmt.Errorf("ccodec: %w", err)
	}
	c := &Codec{mod: mod, check: mod.ExportedFunction("codec_check"), outN: mod.ExportedFunction("codec_out_len")}
	in, err1 := mod.ExportedFunction("codec_in").Call(ctx)
	out, err2 := mod.ExportedFunction("codec_out").Call(ctx)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("ccodec: %w", err)
	}
	c.in, c.out = uint32(in[0]), uint32(out[0])
	return c, nil
}

// maxInput is the size of the codec's input buffer (abi/c/testdata/codec).
const maxInput = 65536 + 16

// Check runs msg through the C codec. A message longer than its buffer
// (65552 bytes) is refused without running it, as the C decoder refuses
// anything over 65536 bytes.
func (c *Codec) Check(msg []byte) (Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(msg) > maxInput {
		return Result{Err: fmt.Sprintf("invalid value encoding: message of %d bytes exceeds the 65536-byte limit", len(msg))}, nil
	}
	ctx := context.Background()
	mem := c.mod.Memory()
	if !mem.Write(c.in, msg) {
		return Result{}, errors.New("ccodec: input buffer out of memory")
	}
	rc, err := c.check.Call(ctx, uint64(len(msg)))
	if err != nil {
		return Result{}, fmt.Errorf("ccodec: codec_check: %w", err)
	}
	n, err := c.outN.Call(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("ccodec: codec_out_len: %w", err)
	}
	b, ok := mem.Read(c.out, uint32(n[0]))
	if !ok {
		return Result{}, errors.New("ccodec: output buffer out of memory")
	}
	b = append([]byte(nil), b...)
	switch int32(rc[0]) {
	case 1:
		return Result{OK: true, Canon: b}, nil
	case 2:
		return Result{OK: true, EncErr: string(b)}, nil
	}
	return Result{Err: string(b)}, nil
}

// Need returns the shared codec, or skips the test when it cannot be built
// (no clang), failing instead under NICHOST_E2E=require.
func Need(t testing.TB) *Codec {
	t.Helper()
	c, err := Load()
	testenv.Need(t, err == nil, fmt.Sprintf("the C SDK's codec cannot be built: %v", err))
	return c
}
