// Command rawcalls is a hostile plugin for fuzzing: its method raw(b)
// makes the host calls b spells out, with whatever handles, pointers,
// lengths and values b holds, bypassing the SDK's checks. b is a series
// of 20-byte records, little-endian: the import's number (see calls,
// modulo their count) and four 32-bit arguments; 64-bit arguments are
// the first two, sign-extended. It returns the list of the calls' return
// values.
package main

import (
	"encoding/binary"

	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/internal/testdriver"
)

//go:wasmimport nic args
func hostArgs(ptr, capacity uint32) int32

//go:wasmimport nic reply
func hostReply(ptr, length uint32) int32

//go:wasmimport nic raise
func hostRaise(kind, errno int32, ptr, length uint32) int32

//go:wasmimport nic log
func hostLog(level int32, ptr, length uint32) int32

//go:wasmimport nic sleep
func hostSleep(ns int64) int32

//go:wasmimport nic wake_at
func hostWakeAt(ns int64) int32

//go:wasmimport nic tx_buffer
func hostTxBuffer(ptr, capacity uint32) int32

//go:wasmimport nic rx_push
func hostRxPush(iface int32, ptr, length uint32) int32

//go:wasmimport nic rx_push_batch
func hostRxPushBatch(iface int32, ptr, length uint32) int32

//go:wasmimport nic link
func hostLink(iface, up, kind, mtu int32) int32

//go:wasmimport nic report
func hostReport(iface int32, ptr, length uint32) int32

//go:wasmimport nic spi_transact
func hostSPITransact(h, ops, n uint32) int32

//go:wasmimport nic gpio_read
func hostGPIORead(h uint32) int32

//go:wasmimport nic gpio_write
func hostGPIOWrite(h uint32, level int32) int32

//go:wasmimport nic gpio_watch
func hostGPIOWatch(h uint32, edge int32) int32

//go:wasmimport nic gpio_edges
func hostGPIOEdges(h uint32) int32

//go:wasmimport nic uart_read
func hostUARTRead(h, ptr, capacity uint32) int32

//go:wasmimport nic uart_write
func hostUARTWrite(h, ptr, length uint32) int32

//go:wasmimport nic frame_read
func hostFrameRead(h, ptr, capacity uint32) int32

//go:wasmimport nic frame_write
func hostFrameWrite(h, ptr, length uint32) int32

//go:wasmimport nic mdio_read
func hostMDIORead(h uint32, phy, reg int32) int32

//go:wasmimport nic mdio_write
func hostMDIOWrite(h uint32, phy, reg, val int32) int32

//go:wasmimport nic blob_size
func hostBlobSize(h uint32) int64

//go:wasmimport nic blob_read
func hostBlobRead(h uint32, off int64, ptr, length uint32) int32

// calls are the imports raw can make, by number. sleep is capped at 1 ms
// so that the fuzzer's calls end; everything else is passed as it is.
var calls = []func(a, b, c, d uint32) int64{
	func(a, b, _, _ uint32) int64 { return int64(hostArgs(a, b)) },
	func(a, b, _, _ uint32) int64 { return int64(hostReply(a, b)) },
	func(a, b, c, d uint32) int64 { return int64(hostRaise(int32(a), int32(b), c, d)) },
	func(a, b, c, _ uint32) int64 { return int64(hostLog(int32(a), b, c)) },
	func(a, _, _, _ uint32) int64 { return int64(hostSleep(int64(a % 1_000_000))) },
	func(a, b, _, _ uint32) int64 { return int64(hostWakeAt(int64(a) | int64(b)<<32)) },
	func(a, b, _, _ uint32) int64 { return int64(hostTxBuffer(a, b)) },
	func(a, b, c, _ uint32) int64 { return int64(hostRxPush(int32(a), b, c)) },
	func(a, b, c, _ uint32) int64 { return int64(hostRxPushBatch(int32(a), b, c)) },
	func(a, b, c, d uint32) int64 { return int64(hostLink(int32(a), int32(b), int32(c), int32(d))) },
	func(a, b, c, _ uint32) int64 { return int64(hostReport(int32(a), b, c)) },
	func(a, b, c, _ uint32) int64 { return int64(hostSPITransact(a, b, c)) },
	func(a, _, _, _ uint32) int64 { return int64(hostGPIORead(a)) },
	func(a, b, _, _ uint32) int64 { return int64(hostGPIOWrite(a, int32(b))) },
	func(a, b, _, _ uint32) int64 { return int64(hostGPIOWatch(a, int32(b))) },
	func(a, _, _, _ uint32) int64 { return int64(hostGPIOEdges(a)) },
	func(a, b, c, _ uint32) int64 { return int64(hostUARTRead(a, b, c)) },
	func(a, b, c, _ uint32) int64 { return int64(hostUARTWrite(a, b, c)) },
	func(a, b, c, _ uint32) int64 { return int64(hostFrameRead(a, b, c)) },
	func(a, b, c, _ uint32) int64 { return int64(hostFrameWrite(a, b, c)) },
	func(a, b, c, _ uint32) int64 { return int64(hostMDIORead(a, int32(b), int32(c))) },
	func(a, b, c, d uint32) int64 { return int64(hostMDIOWrite(a, int32(b), int32(c), int32(d))) },
	func(a, _, _, _ uint32) int64 { return hostBlobSize(a) },
	func(a, b, c, d uint32) int64 { return int64(hostBlobRead(a, int64(int32(b)), c, d)) },
}

type driver struct{ *testdriver.Driver }

func (d driver) Call(iface int, name string, a guest.Args) (any, error) {
	if name != "raw" {
		return d.Driver.Call(iface, name, a)
	}
	b, err := a.At(0, "calls").Bytes()
	if err != nil {
		return nil, err
	}
	var rcs []any
	for ; len(b) >= 20; b = b[20:] {
		n := binary.LittleEndian.Uint32(b) % uint32(len(calls))
		u := func(i int) uint32 { return binary.LittleEndian.Uint32(b[4+4*i:]) }
		rcs = append(rcs, calls[n](u(0), u(1), u(2), u(3)))
	}
	return rcs, nil
}

func init() { guest.Register(driver{testdriver.New().(*testdriver.Driver)}) }

func main() {}
