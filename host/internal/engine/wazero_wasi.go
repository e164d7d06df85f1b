package engine

import (
	"context"
	"fmt"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// instantiateWASI defines module wasi_snapshot_preview1 in rt: wazero's,
// with the iovec and subscription counts bounded.
func instantiateWASI(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder(wasi_snapshot_preview1.ModuleName)
	wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(b)
	// Compiling the builder as it is gives wazero's Go functions, which the
	// bounded versions call.
	orig, err := b.Compile(ctx)
	if err != nil {
		return fmt.Errorf("engine: WASI: %w", err)
	}
	defer orig.Close(ctx)
	defs := orig.ExportedFunctions()
	bound := func(name string, arg, most int) error {
		def, ok := defs[name]
		if !ok {
			return fmt.Errorf("engine: WASI has no %s", name)
		}
		fn, ok := def.GoFunction().(api.GoModuleFunction)
		if !ok {
			return fmt.Errorf("engine: WASI's %s is a %T", name, def.GoFunction())
		}
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
			if uint32(stack[arg]) > uint32(most) {
				stack[0] = wasiEINVAL
				return
			}
			fn.Call(ctx, mod, stack)
		}), def.ParamTypes(), def.ResultTypes()).
			WithParameterNames(def.ParamNames()...).
			WithResultNames(def.ResultNames()...).
			Export(name)
		return nil
	}
	for _, f := range []struct {
		name      string
		arg, most int
	}{
		// (fd, iovs, iovs_len, ...)
		{"fd_read", 2, iovMax},
		{"fd_write", 2, iovMax},
		{"fd_pread", 2, iovMax},
		{"fd_pwrite", 2, iovMax},
		// (in, out, nsubscriptions, result.nevents)
		{"poll_oneoff", 2, maxSubscriptions},
	} {
		if err := bound(f.name, f.arg, f.most); err != nil {
			return err
		}
	}
	if _, err := b.Instantiate(ctx); err != nil {
		return fmt.Errorf("engine: WASI: %w", err)
	}
	return nil
}
