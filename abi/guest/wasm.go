//go:build wasip1

package guest

import (
	"runtime"
	"unsafe"

	"github.com/nichost/nichost/abi"
)

// The module of this plugin instance, set by Register from an init
// function; the exports below forward to it.
var mod *Module

// Register installs the driver behind this plugin's exports. Call it from an
// init function of the main package (a reactor module runs init functions,
// not main).
func Register(d Driver) { mod = NewModule(d, wasmImports{}) }

func must() *Module {
	if mod == nil {
		panic("nichost guest: no driver registered (call guest.Register from an init function)")
	}
	return mod
}

//go:wasmexport nic_abi_version
func nicABIVersion() int32 { return abi.Version }

//go:wasmexport nic_describe
func nicDescribe() int32 { return must().Describe() }

//go:wasmexport nic_start
func nicStart() int32 { return must().Start() }

//go:wasmexport nic_active
func nicActive(iface int32) int32 { return must().Active(iface) }

//go:wasmexport nic_connect
func nicConnect(iface int32) int32 { return must().Connect(iface) }

//go:wasmexport nic_disconnect
func nicDisconnect(iface int32) int32 { return must().Disconnect(iface) }

//go:wasmexport nic_isconnected
func nicIsConnected(iface int32) int32 { return must().IsConnected(iface) }

//go:wasmexport nic_scan
func nicScan(iface int32) int32 { return must().Scan(iface) }

//go:wasmexport nic_status
func nicStatus(iface int32) int32 { return must().Status(iface) }

//go:wasmexport nic_config
func nicConfig(iface int32) int32 { return must().Config(iface) }

//go:wasmexport nic_call
func nicCall(iface int32) int32 { return must().Call(iface) }

//go:wasmexport nic_poll
func nicPoll(events int32) int32 { return must().Poll(uint32(events)) }

//go:wasmexport nic_transmit
func nicTransmit(iface, length int32) int32 {
	m := must()
	buf := m.TxBuffer()
	if length < 0 || int(length) > len(buf) {
		return m.raise(abi.ValueError("nic_transmit: length %d outside the %d-byte transmit buffer", length, len(buf)))
	}
	return m.Transmit(iface, buf[:length])
}

//go:wasmexport nic_transmit_batch
func nicTransmitBatch(iface, count, length int32) int32 {
	m := must()
	buf := m.TxBuffer()
	if length < 0 || int(length) > len(buf) {
		return m.raise(abi.ValueError("nic_transmit_batch: length %d outside the %d-byte transmit buffer", length, len(buf)))
	}
	return m.TransmitBatch(iface, count, buf[:length])
}

//go:wasmexport nic_suspend
func nicSuspend(flags int32) int32 { return must().Suspend(flags) }

//go:wasmimport nic args
func hostArgs(ptr unsafe.Pointer, capacity uint32) int32

//go:wasmimport nic reply
func hostReply(ptr unsafe.Pointer, length uint32) int32

//go:wasmimport nic raise
func hostRaise(kind, errno int32, ptr unsafe.Pointer, length uint32) int32

//go:wasmimport nic log
func hostLog(level int32, ptr unsafe.Pointer, length uint32) int32

//go:wasmimport nic now
func hostNow() int64

//go:wasmimport nic sleep
func hostSleep(ns int64) int32

//go:wasmimport nic wake_at
func hostWakeAt(ns int64) int32

//go:wasmimport nic tx_buffer
func hostTxBuffer(ptr unsafe.Pointer, capacity uint32) int32

//go:wasmimport nic rx_push
func hostRxPush(iface int32, ptr unsafe.Pointer, length uint32) int32

//go:wasmimport nic rx_push_batch
func hostRxPushBatch(iface int32, ptr unsafe.Pointer, length uint32) int32

//go:wasmimport nic link
func hostLink(iface, up, kind, mtu int32) int32

//go:wasmimport nic report
func hostReport(iface int32, ptr unsafe.Pointer, length uint32) int32

//go:wasmimport nic spi_transact
func hostSPITransact(h uint32, ops unsafe.Pointer, n uint32) int32

//go:wasmimport nic gpio_read
func hostGPIORead(h uint32) int32

//go:wasmimport nic gpio_write
func hostGPIOWrite(h uint32, level int32) int32

//go:wasmimport nic gpio_watch
func hostGPIOWatch(h uint32, edge int32) int32

//go:wasmimport nic gpio_edges
func hostGPIOEdges(h uint32) int32

//go:wasmimport nic uart_read
func hostUARTRead(h uint32, ptr unsafe.Pointer, capacity uint32) int32

//go:wasmimport nic uart_write
func hostUARTWrite(h uint32, ptr unsafe.Pointer, length uint32) int32

//go:wasmimport nic frame_read
func hostFrameRead(h uint32, ptr unsafe.Pointer, capacity uint32) int32

//go:wasmimport nic frame_write
func hostFrameWrite(h uint32, ptr unsafe.Pointer, length uint32) int32

//go:wasmimport nic mdio_read
func hostMDIORead(h uint32, phy, reg int32) int32

//go:wasmimport nic mdio_write
func hostMDIOWrite(h uint32, phy, reg, val int32) int32

//go:wasmimport nic blob_size
func hostBlobSize(h uint32) int64

//go:wasmimport nic blob_read
func hostBlobRead(h uint32, off int64, ptr unsafe.Pointer, length uint32) int32

// ptr returns the address of b's first byte (nil for an empty slice, which
// the host accepts with a zero length).
func ptr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(b))
}

// wasmImports implements abi.Imports with the nic host functions.
type wasmImports struct{}

func (wasmImports) Args(dst []byte) int32 { return hostArgs(ptr(dst), uint32(len(dst))) }
func (wasmImports) Reply(b []byte) int32  { return hostReply(ptr(b), uint32(len(b))) }
func (wasmImports) Raise(kind, errno int32, msg []byte) int32 {
	return hostRaise(kind, errno, ptr(msg), uint32(len(msg)))
}
func (wasmImports) Log(level int32, msg []byte) int32 {
	return hostLog(level, ptr(msg), uint32(len(msg)))
}
func (wasmImports) Now() int64                { return hostNow() }
func (wasmImports) Sleep(ns int64) int32      { return hostSleep(ns) }
func (wasmImports) WakeAt(ns int64) int32     { return hostWakeAt(ns) }
func (wasmImports) TxBuffer(buf []byte) int32 { return hostTxBuffer(ptr(buf), uint32(len(buf))) }
func (wasmImports) RxPush(iface int32, frame []byte) int32 {
	return hostRxPush(iface, ptr(frame), uint32(len(frame)))
}
func (wasmImports) RxPushBatch(iface int32, records []byte) int32 {
	return hostRxPushBatch(iface, ptr(records), uint32(len(records)))
}
func (wasmImports) Link(iface, up, kind, mtu int32) int32 { return hostLink(iface, up, kind, mtu) }
func (wasmImports) Report(iface int32, b []byte) int32 {
	return hostReport(iface, ptr(b), uint32(len(b)))
}

// spiRecords holds the op records of one spi_transact call; a plugin
// instance runs one export at a time, so one buffer serves all calls.
var spiRecords [abi.SPIMaxOps * abi.SPIOpSize]byte

func (wasmImports) SPITransact(h uint32, ops []abi.SPIOp) int32 {
	if len(ops) > abi.SPIMaxOps {
		return -abi.E2BIG
	}
	for i, op := range ops {
		rec := spiRecords[i*abi.SPIOpSize : (i+1)*abi.SPIOpSize]
		put32(rec[abi.SPIOpWritePtr:], uint32(uintptr(ptr(op.W))))
		put32(rec[abi.SPIOpWriteLen:], uint32(len(op.W)))
		put32(rec[abi.SPIOpReadPtr:], uint32(uintptr(ptr(op.R))))
		put32(rec[abi.SPIOpReadLen:], uint32(len(op.R)))
		var flags uint32
		if op.KeepCS {
			flags |= abi.SPIFlagKeepCS
		}
		put32(rec[abi.SPIOpFlags:], flags)
	}
	rc := hostSPITransact(h, unsafe.Pointer(&spiRecords[0]), uint32(len(ops)))
	// The records hold addresses of ops' buffers as integers, which the
	// garbage collector does not see: keep the buffers alive until here.
	runtime.KeepAlive(ops)
	return rc
}

func put32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

func (wasmImports) GPIORead(h uint32) int32               { return hostGPIORead(h) }
func (wasmImports) GPIOWrite(h uint32, level int32) int32 { return hostGPIOWrite(h, level) }
func (wasmImports) GPIOWatch(h uint32, edge int32) int32  { return hostGPIOWatch(h, edge) }
func (wasmImports) GPIOEdges(h uint32) int32              { return hostGPIOEdges(h) }
func (wasmImports) UARTRead(h uint32, p []byte) int32 {
	return hostUARTRead(h, ptr(p), uint32(len(p)))
}
func (wasmImports) UARTWrite(h uint32, p []byte) int32 {
	return hostUARTWrite(h, ptr(p), uint32(len(p)))
}
func (wasmImports) FrameRead(h uint32, p []byte) int32 {
	return hostFrameRead(h, ptr(p), uint32(len(p)))
}
func (wasmImports) FrameWrite(h uint32, p []byte) int32 {
	return hostFrameWrite(h, ptr(p), uint32(len(p)))
}
func (wasmImports) MDIORead(h uint32, phy, reg int32) int32 { return hostMDIORead(h, phy, reg) }
func (wasmImports) MDIOWrite(h uint32, phy, reg, val int32) int32 {
	return hostMDIOWrite(h, phy, reg, val)
}
func (wasmImports) BlobSize(h uint32) int64 { return hostBlobSize(h) }
func (wasmImports) BlobRead(h uint32, off int64, p []byte) int32 {
	return hostBlobRead(h, off, ptr(p), uint32(len(p)))
}
