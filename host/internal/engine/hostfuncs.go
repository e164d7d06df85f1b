package engine

import (
	"encoding/binary"
	"fmt"

	"github.com/nichost/nichost/abi"
)

// hostState is what the host functions of module "nic" work with for one
// instance, on any engine: the instance's Imports, a view of its memory
// (which the engine sets before each host function runs) and what the
// functions record. Every (pointer, length) pair a guest passes is checked
// against that memory here, once for all engines.
type hostState struct {
	imp      Imports
	mem      memory // guest memory, valid during one host function
	violated error  // the first ABI violation of the running call
	txPtr    uint32 // the transmit buffer tx_buffer registered
	txCap    uint32
	spiOps   [abi.SPIMaxOps]abi.SPIOp // spi_transact's records as slices, reused

	hostCalls uint64 // host functions called by the instance
}

// memory is guest memory as the host functions need it. wazero's
// api.Memory is one; the wasmtime engine wraps its own.
type memory interface {
	// Read returns a view of [offset, offset+byteCount), false if that is
	// not inside memory.
	Read(offset, byteCount uint32) ([]byte, bool)
	// Size is the memory's size in bytes.
	Size() uint32
}

// violate records that the guest broke the ABI during the current call.
func (h *hostState) violate(format string, a ...any) {
	if h.violated == nil {
		h.violated = fmt.Errorf(format, a...)
	}
}

// view returns guest memory [ptr, ptr+n) or records a violation.
func (h *hostState) view(call string, ptr, n uint32) ([]byte, bool) {
	if n == 0 {
		return nil, true
	}
	b, ok := h.mem.Read(ptr, n)
	if !ok {
		h.violate("%s: buffer [%#x, %#x) lies outside guest memory (%d bytes)", call, ptr, uint64(ptr)+uint64(n), h.mem.Size())
		return nil, false
	}
	return b, true
}

// wide reports whether an import returns an i64 (now, blob_size): the
// handlers return 64-bit results whole and 32-bit ones sign-extended.
func wide(sig abi.Signature) bool {
	r := sig.Results()
	return len(r) == 1 && r[0] == "i64"
}

// importSigs is the ABI's imports by name, checked against hostFuncs: a
// host function the ABI does not have, or an import without one, is a bug
// of this package.
func importSigs() (map[string]abi.Signature, error) {
	sigs := map[string]abi.Signature{}
	for _, f := range abi.ImportFuncs() {
		sigs[f.Name] = f.Sig
	}
	for _, hf := range hostFuncs {
		if _, ok := sigs[hf.name]; !ok {
			return nil, fmt.Errorf("engine: host function %q is not in the ABI", hf.name)
		}
	}
	if len(hostFuncs) != len(sigs) {
		return nil, fmt.Errorf("engine: %d host functions for %d ABI imports", len(hostFuncs), len(sigs))
	}
	return sigs, nil
}

// hostFunc is one import of module "nic": its ABI signature and the code
// that turns the guest's integers into a call on the instance's Imports.
type hostFunc struct {
	name string
	fn   func(h *hostState, s []uint64) int64
}

// The handlers read their parameters from s and return the result; 64-bit
// results (now) are returned whole, 32-bit ones sign-extended.
var hostFuncs = []hostFunc{
	{abi.ImportArgs, func(h *hostState, s []uint64) int64 {
		// The host fills the guest's buffer: ask the Imports for the
		// length first, so a too-small buffer is never written.
		b, ok := h.view(abi.ImportArgs, u32(s[0]), u32(s[1]))
		if !ok {
			return -abi.EFAULT
		}
		return int64(h.imp.Args(b))
	}},
	{abi.ImportReply, func(h *hostState, s []uint64) int64 {
		b, ok := h.view(abi.ImportReply, u32(s[0]), u32(s[1]))
		if !ok {
			return -abi.EFAULT
		}
		return int64(h.imp.Reply(b))
	}},
	{abi.ImportRaise, func(h *hostState, s []uint64) int64 {
		b, ok := h.view(abi.ImportRaise, u32(s[2]), u32(s[3]))
		if !ok {
			return -abi.EFAULT
		}
		return int64(h.imp.Raise(i32(s[0]), i32(s[1]), b))
	}},
	{abi.ImportLog, func(h *hostState, s []uint64) int64 {
		b, ok := h.view(abi.ImportLog, u32(s[1]), u32(s[2]))
		if !ok {
			return -abi.EFAULT
		}
		return int64(h.imp.Log(i32(s[0]), b))
	}},
	{abi.ImportNow, func(h *hostState, _ []uint64) int64 { return h.imp.Now() }},
	{abi.ImportSleep, func(h *hostState, s []uint64) int64 { return int64(h.imp.Sleep(int64(s[0]))) }},
	{abi.ImportWakeAt, func(h *hostState, s []uint64) int64 { return int64(h.imp.WakeAt(int64(s[0]))) }},
	{abi.ImportTxBuffer, func(h *hostState, s []uint64) int64 {
		b, ok := h.view(abi.ImportTxBuffer, u32(s[0]), u32(s[1]))
		if !ok {
			return -abi.EFAULT
		}
		rc := h.imp.TxBuffer(b)
		if rc >= 0 {
			h.txPtr, h.txCap = u32(s[0]), min(u32(s[1]), abi.MaxTxBuffer)
		}
		return int64(rc)
	}},
	{abi.ImportRxPush, func(h *hostState, s []uint64) int64 {
		b, ok := h.view(abi.ImportRxPush, u32(s[1]), u32(s[2]))
		if !ok {
			return -abi.EFAULT
		}
		return int64(h.imp.RxPush(i32(s[0]), b))
	}},
	{abi.ImportRxPushBatch, func(h *hostState, s []uint64) int64 {
		b, ok := h.view(abi.ImportRxPushBatch, u32(s[1]), u32(s[2]))
		if !ok {
			return -abi.EFAULT
		}
		return int64(h.imp.RxPushBatch(i32(s[0]), b))
	}},
	{abi.ImportLink, func(h *hostState, s []uint64) int64 {
		return int64(h.imp.Link(i32(s[0]), i32(s[1]), i32(s[2]), i32(s[3])))
	}},
	{abi.ImportReport, func(h *hostState, s []uint64) int64 {
		b, ok := h.view(abi.ImportReport, u32(s[1]), u32(s[2]))
		if !ok {
			return -abi.EFAULT
		}
		return int64(h.imp.Report(i32(s[0]), b))
	}},
	{abi.ImportSPITransact, spiTransact},
	{abi.ImportGPIORead, func(h *hostState, s []uint64) int64 { return int64(h.imp.GPIORead(u32(s[0]))) }},
	{abi.ImportGPIOWrite, func(h *hostState, s []uint64) int64 {
		return int64(h.imp.GPIOWrite(u32(s[0]), i32(s[1])))
	}},
	{abi.ImportGPIOWatch, func(h *hostState, s []uint64) int64 {
		return int64(h.imp.GPIOWatch(u32(s[0]), i32(s[1])))
	}},
	{abi.ImportGPIOEdges, func(h *hostState, s []uint64) int64 { return int64(h.imp.GPIOEdges(u32(s[0]))) }},
	{abi.ImportUARTRead, bufCall(abi.ImportUARTRead, abi.Imports.UARTRead)},
	{abi.ImportUARTWrite, bufCall(abi.ImportUARTWrite, abi.Imports.UARTWrite)},
	{abi.ImportFrameRead, bufCall(abi.ImportFrameRead, abi.Imports.FrameRead)},
	{abi.ImportFrameWrite, bufCall(abi.ImportFrameWrite, abi.Imports.FrameWrite)},
	{abi.ImportMDIORead, func(h *hostState, s []uint64) int64 {
		return int64(h.imp.MDIORead(u32(s[0]), i32(s[1]), i32(s[2])))
	}},
	{abi.ImportMDIOWrite, func(h *hostState, s []uint64) int64 {
		return int64(h.imp.MDIOWrite(u32(s[0]), i32(s[1]), i32(s[2]), i32(s[3])))
	}},
	{abi.ImportBlobSize, func(h *hostState, s []uint64) int64 { return h.imp.BlobSize(u32(s[0])) }},
	{abi.ImportBlobRead, func(h *hostState, s []uint64) int64 {
		n := u32(s[3])
		if n > abi.MaxBlobRead {
			return -abi.E2BIG // before the view: a length past memory is too big first
		}
		b, ok := h.view(abi.ImportBlobRead, u32(s[2]), n)
		if !ok {
			return -abi.EFAULT
		}
		return int64(h.imp.BlobRead(u32(s[0]), int64(s[1]), b))
	}},
}

// bufCall adapts a (handle, buffer) import.
func bufCall(name string, call func(abi.Imports, uint32, []byte) int32) func(*hostState, []uint64) int64 {
	return func(h *hostState, s []uint64) int64 {
		b, ok := h.view(name, u32(s[1]), u32(s[2]))
		if !ok {
			return -abi.EFAULT
		}
		return int64(call(h.imp, u32(s[0]), b))
	}
}

func spiTransact(h *hostState, s []uint64) int64 {
	handle, ptr, n := u32(s[0]), u32(s[1]), u32(s[2])
	if n == 0 || n > abi.SPIMaxOps {
		return -abi.EINVAL
	}
	recs, ok := h.view(abi.ImportSPITransact, ptr, n*abi.SPIOpSize)
	if !ok {
		return -abi.EFAULT
	}
	ops := &h.spiOps // escapes through the Imports interface: keep one per instance
	for i := range n {
		r := recs[i*abi.SPIOpSize:]
		op := &ops[i]
		if op.W, ok = h.view(abi.ImportSPITransact, le32(r[abi.SPIOpWritePtr:]), le32(r[abi.SPIOpWriteLen:])); !ok {
			return -abi.EFAULT
		}
		if op.R, ok = h.view(abi.ImportSPITransact, le32(r[abi.SPIOpReadPtr:]), le32(r[abi.SPIOpReadLen:])); !ok {
			return -abi.EFAULT
		}
		op.KeepCS = le32(r[abi.SPIOpFlags:])&abi.SPIFlagKeepCS != 0
	}
	rc := h.imp.SPITransact(handle, ops[:n])
	clear(ops[:n]) // drop the views of guest memory
	return int64(rc)
}

func u32(v uint64) uint32 { return uint32(v) }
func i32(v uint64) int32  { return int32(uint32(v)) }

func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
