package engine

import (
	"context"
	"fmt"

	"github.com/tetratelabs/wazero/api"

	"github.com/nichost/nichost/abi"
)

// hostFunc is one import of module "nic": its ABI signature and the code
// that turns the guest's integers into a call on the instance's Imports.
type hostFunc struct {
	name string
	fn   func(w *Wasm, mod api.Module, s []uint64) int64
}

// The handlers read their parameters from s and return the result; 64-bit
// results (now) are returned whole, 32-bit ones sign-extended.
var hostFuncs = []hostFunc{
	{abi.ImportArgs, func(w *Wasm, mod api.Module, s []uint64) int64 {
		// The host fills the guest's buffer: ask the Imports for the
		// length first, so a too-small buffer is never written.
		b, ok := w.view(mod, abi.ImportArgs, u32(s[0]), u32(s[1]))
		if !ok {
			return -abi.EFAULT
		}
		return int64(w.imp.Args(b))
	}},
	{abi.ImportReply, func(w *Wasm, mod api.Module, s []uint64) int64 {
		b, ok := w.view(mod, abi.ImportReply, u32(s[0]), u32(s[1]))
		if !ok {
			return -abi.EFAULT
		}
		return int64(w.imp.Reply(b))
	}},
	{abi.ImportRaise, func(w *Wasm, mod api.Module, s []uint64) int64 {
		b, ok := w.view(mod, abi.ImportRaise, u32(s[2]), u32(s[3]))
		if !ok {
			return -abi.EFAULT
		}
		return int64(w.imp.Raise(i32(s[0]), i32(s[1]), b))
	}},
	{abi.ImportLog, func(w *Wasm, mod api.Module, s []uint64) int64 {
		b, ok := w.view(mod, abi.ImportLog, u32(s[1]), u32(s[2]))
		if !ok {
			return -abi.EFAULT
		}
		return int64(w.imp.Log(i32(s[0]), b))
	}},
	{abi.ImportNow, func(w *Wasm, _ api.Module, _ []uint64) int64 { return w.imp.Now() }},
	{abi.ImportSleep, func(w *Wasm, _ api.Module, s []uint64) int64 { return int64(w.imp.Sleep(int64(s[0]))) }},
	{abi.ImportWakeAt, func(w *Wasm, _ api.Module, s []uint64) int64 { return int64(w.imp.WakeAt(int64(s[0]))) }},
	{abi.ImportTxBuffer, func(w *Wasm, mod api.Module, s []uint64) int64 {
		b, ok := w.view(mod, abi.ImportTxBuffer, u32(s[0]), u32(s[1]))
		if !ok {
			return -abi.EFAULT
		}
		rc := w.imp.TxBuffer(b)
		if rc >= 0 {
			w.txPtr, w.txCap = u32(s[0]), min(u32(s[1]), abi.MaxTxBuffer)
		}
		return int64(rc)
	}},
	{abi.ImportRxPush, func(w *Wasm, mod api.Module, s []uint64) int64 {
		b, ok := w.view(mod, abi.ImportRxPush, u32(s[1]), u32(s[2]))
		if !ok {
			return -abi.EFAULT
		}
		return int64(w.imp.RxPush(i32(s[0]), b))
	}},
	{abi.ImportRxPushBatch, func(w *Wasm, mod api.Module, s []uint64) int64 {
		b, ok := w.view(mod, abi.ImportRxPushBatch, u32(s[1]), u32(s[2]))
		if !ok {
			return -abi.EFAULT
		}
		return int64(w.imp.RxPushBatch(i32(s[0]), b))
	}},
	{abi.ImportLink, func(w *Wasm, _ api.Module, s []uint64) int64 {
		return int64(w.imp.Link(i32(s[0]), i32(s[1]), i32(s[2]), i32(s[3])))
	}},
	{abi.ImportReport, func(w *Wasm, mod api.Module, s []uint64) int64 {
		b, ok := w.view(mod, abi.ImportReport, u32(s[1]), u32(s[2]))
		if !ok {
			return -abi.EFAULT
		}
		return int64(w.imp.Report(i32(s[0]), b))
	}},
	{abi.ImportSPITransact, spiTransact},
	{abi.ImportGPIORead, func(w *Wasm, _ api.Module, s []uint64) int64 { return int64(w.imp.GPIORead(u32(s[0]))) }},
	{abi.ImportGPIOWrite, func(w *Wasm, _ api.Module, s []uint64) int64 {
		return int64(w.imp.GPIOWrite(u32(s[0]), i32(s[1])))
	}},
	{abi.ImportGPIOWatch, func(w *Wasm, _ api.Module, s []uint64) int64 {
		return int64(w.imp.GPIOWatch(u32(s[0]), i32(s[1])))
	}},
	{abi.ImportGPIOEdges, func(w *Wasm, _ api.Module, s []uint64) int64 { return int64(w.imp.GPIOEdges(u32(s[0]))) }},
	{abi.ImportUARTRead, bufCall(abi.ImportUARTRead, abi.Imports.UARTRead)},
	{abi.ImportUARTWrite, bufCall(abi.ImportUARTWrite, abi.Imports.UARTWrite)},
	{abi.ImportFrameRead, bufCall(abi.ImportFrameRead, abi.Imports.FrameRead)},
	{abi.ImportFrameWrite, bufCall(abi.ImportFrameWrite, abi.Imports.FrameWrite)},
	{abi.ImportMDIORead, func(w *Wasm, _ api.Module, s []uint64) int64 {
		return int64(w.imp.MDIORead(u32(s[0]), i32(s[1]), i32(s[2])))
	}},
	{abi.ImportMDIOWrite, func(w *Wasm, _ api.Module, s []uint64) int64 {
		return int64(w.imp.MDIOWrite(u32(s[0]), i32(s[1]), i32(s[2]), i32(s[3])))
	}},
	{abi.ImportBlobSize, func(w *Wasm, _ api.Module, s []uint64) int64 { return w.imp.BlobSize(u32(s[0])) }},
	{abi.ImportBlobRead, func(w *Wasm, mod api.Module, s []uint64) int64 {
		n := u32(s[3])
		if n > abi.MaxBlobRead {
			return -abi.E2BIG // before the view: a length past memory is too big first
		}
		b, ok := w.view(mod, abi.ImportBlobRead, u32(s[2]), n)
		if !ok {
			return -abi.EFAULT
		}
		return int64(w.imp.BlobRead(u32(s[0]), int64(s[1]), b))
	}},
}

// bufCall adapts a (handle, buffer) import.
func bufCall(name string, call func(abi.Imports, uint32, []byte) int32) func(*Wasm, api.Module, []uint64) int64 {
	return func(w *Wasm, mod api.Module, s []uint64) int64 {
		b, ok := w.view(mod, name, u32(s[1]), u32(s[2]))
		if !ok {
			return -abi.EFAULT
		}
		return int64(call(w.imp, u32(s[0]), b))
	}
}

func spiTransact(w *Wasm, mod api.Module, s []uint64) int64 {
	h, ptr, n := u32(s[0]), u32(s[1]), u32(s[2])
	if n == 0 || n > abi.SPIMaxOps {
		return -abi.EINVAL
	}
	recs, ok := w.view(mod, abi.ImportSPITransact, ptr, n*abi.SPIOpSize)
	if !ok {
		return -abi.EFAULT
	}
	ops := &w.spiOps // escapes through the Imports interface: keep one per instance
	for i := range n {
		r := recs[i*abi.SPIOpSize:]
		op := &ops[i]
		if op.W, ok = w.view(mod, abi.ImportSPITransact, le32(r[abi.SPIOpWritePtr:]), le32(r[abi.SPIOpWriteLen:])); !ok {
			return -abi.EFAULT
		}
		if op.R, ok = w.view(mod, abi.ImportSPITransact, le32(r[abi.SPIOpReadPtr:]), le32(r[abi.SPIOpReadLen:])); !ok {
			return -abi.EFAULT
		}
		op.KeepCS = le32(r[abi.SPIOpFlags:])&abi.SPIFlagKeepCS != 0
	}
	rc := w.imp.SPITransact(h, ops[:n])
	clear(ops[:n]) // drop the views of guest memory
	return int64(rc)
}

func u32(v uint64) uint32 { return uint32(v) }
func i32(v uint64) int32  { return int32(uint32(v)) }

// instantiateHostModule defines module "nic" in the runtime. Each function
// finds the running instance through r.cur.
func (r *Runtime) instantiateHostModule(ctx context.Context) error {
	sigs := map[string]abi.Signature{}
	for _, f := range abi.ImportFuncs() {
		sigs[f.Name] = f.Sig
	}
	b := r.rt.NewHostModuleBuilder(abi.ImportModule)
	for _, hf := range hostFuncs {
		sig, ok := sigs[hf.name]
		if !ok {
			return fmt.Errorf("engine: host function %q is not in the ABI", hf.name)
		}
		params, results := valueTypes(sig.Params()), valueTypes(sig.Results())
		fn := hf.fn
		wide := len(results) == 1 && results[0] == api.ValueTypeI64
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, mod api.Module, s []uint64) {
			w := r.cur
			w.hostCalls++
			v := fn(w, mod, s)
			if wide {
				s[0] = uint64(v)
			} else {
				s[0] = api.EncodeI32(int32(v))
			}
		}), params, results).Export(hf.name)
	}
	if len(hostFuncs) != len(sigs) {
		return fmt.Errorf("engine: %d host functions for %d ABI imports", len(hostFuncs), len(sigs))
	}
	_, err := b.Instantiate(ctx)
	if err != nil {
		return fmt.Errorf("engine: host module: %w", err)
	}
	return nil
}

func valueTypes(names []string) []api.ValueType {
	out := make([]api.ValueType, len(names))
	for i, n := range names {
		if n == "i64" {
			out[i] = api.ValueTypeI64
		} else {
			out[i] = api.ValueTypeI32
		}
	}
	return out
}
