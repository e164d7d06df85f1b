package native

import (
	"sync/atomic"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// Counter counts the calls that cross the ABI between the host and a
// native driver: the host calls (imports) the driver makes, by kind, and
// the export calls the host makes into it. The host's own statistics
// (host.PluginStats) count spi_transact calls and polls only; a native
// driver, whose imports and exports are Go interfaces, is where every call
// can be counted. A WASM build runs the same driver and SDK code, so it
// makes the same calls for the same traffic. The benchmarks of the drivers
// and `nichost bench` use it; it is safe for concurrent use.
type Counter struct {
	spi, rxPush, rxBatch, now, wakeAt, gpio, other atomic.Uint64
	polls, transmits, controls                     atomic.Uint64
}

// Calls is a Counter's counts at one moment.
type Calls struct {
	SPI         uint64 // spi_transact
	RxPush      uint64 // rx_push
	RxPushBatch uint64 // rx_push_batch
	Now         uint64 // now
	WakeAt      uint64 // wake_at
	GPIO        uint64 // gpio_read, gpio_write, gpio_watch, gpio_edges
	Other       uint64 // every other import
	Polls       uint64 // nic_poll
	Transmits   uint64 // nic_transmit and nic_transmit_batch
	Controls    uint64 // the control exports (isconnected, active, status, config, call)
}

// Snapshot returns the counts so far.
func (c *Counter) Snapshot() Calls {
	return Calls{
		SPI: c.spi.Load(), RxPush: c.rxPush.Load(), RxPushBatch: c.rxBatch.Load(), Now: c.now.Load(),
		WakeAt: c.wakeAt.Load(), GPIO: c.gpio.Load(), Other: c.other.Load(),
		Polls: c.polls.Load(), Transmits: c.transmits.Load(), Controls: c.controls.Load(),
	}
}

// Imports is the number of host calls, all kinds together.
func (s Calls) Imports() uint64 {
	return s.SPI + s.RxPush + s.RxPushBatch + s.Now + s.WakeAt + s.GPIO + s.Other
}

// Exports is the number of calls into the driver.
func (s Calls) Exports() uint64 { return s.Polls + s.Transmits + s.Controls }

// Sub is s minus o, kind by kind: the calls between two snapshots.
func (s Calls) Sub(o Calls) Calls {
	return Calls{
		s.SPI - o.SPI, s.RxPush - o.RxPush, s.RxPushBatch - o.RxPushBatch, s.Now - o.Now, s.WakeAt - o.WakeAt, s.GPIO - o.GPIO, s.Other - o.Other,
		s.Polls - o.Polls, s.Transmits - o.Transmits, s.Controls - o.Controls,
	}
}

// Add is s plus o, kind by kind.
func (s Calls) Add(o Calls) Calls {
	return Calls{
		s.SPI + o.SPI, s.RxPush + o.RxPush, s.RxPushBatch + o.RxPushBatch, s.Now + o.Now, s.WakeAt + o.WakeAt, s.GPIO + o.GPIO, s.Other + o.Other,
		s.Polls + o.Polls, s.Transmits + o.Transmits, s.Controls + o.Controls,
	}
}

// CountedExports is Exports with every call counted into c. The driver
// keeps the SDK's nic_transmit_batch, so the host batches transmits as it
// does for the WASM build.
func CountedExports(newDriver func() guest.Driver, c *Counter) func(abi.Imports) abi.Exports {
	return func(imp abi.Imports) abi.Exports {
		return &countExports{Module: guest.NewModule(newDriver(), &countImports{Imports: imp, c: c}), c: c}
	}
}

// countImports counts every import of abi.Imports (one added later passes
// through the embedded interface uncounted).
type countImports struct {
	abi.Imports
	c *Counter
}

func (i *countImports) SPITransact(h uint32, ops []abi.SPIOp) int32 {
	i.c.spi.Add(1)
	return i.Imports.SPITransact(h, ops)
}

func (i *countImports) RxPush(iface int32, frame []byte) int32 {
	i.c.rxPush.Add(1)
	return i.Imports.RxPush(iface, frame)
}

func (i *countImports) RxPushBatch(iface int32, records []byte) int32 {
	i.c.rxBatch.Add(1)
	return i.Imports.RxPushBatch(iface, records)
}

func (i *countImports) Now() int64 { i.c.now.Add(1); return i.Imports.Now() }

func (i *countImports) WakeAt(ns int64) int32 { i.c.wakeAt.Add(1); return i.Imports.WakeAt(ns) }

func (i *countImports) GPIORead(h uint32) int32 { i.c.gpio.Add(1); return i.Imports.GPIORead(h) }

func (i *countImports) GPIOWrite(h uint32, level int32) int32 {
	i.c.gpio.Add(1)
	return i.Imports.GPIOWrite(h, level)
}

func (i *countImports) GPIOWatch(h uint32, edge int32) int32 {
	i.c.gpio.Add(1)
	return i.Imports.GPIOWatch(h, edge)
}

func (i *countImports) GPIOEdges(h uint32) int32 { i.c.gpio.Add(1); return i.Imports.GPIOEdges(h) }

func (i *countImports) Args(dst []byte) int32 { i.c.other.Add(1); return i.Imports.Args(dst) }

func (i *countImports) Reply(b []byte) int32 { i.c.other.Add(1); return i.Imports.Reply(b) }

func (i *countImports) Raise(kind, errno int32, msg []byte) int32 {
	i.c.other.Add(1)
	return i.Imports.Raise(kind, errno, msg)
}

func (i *countImports) Log(level int32, msg []byte) int32 {
	i.c.other.Add(1)
	return i.Imports.Log(level, msg)
}

func (i *countImports) Sleep(ns int64) int32 { i.c.other.Add(1); return i.Imports.Sleep(ns) }

func (i *countImports) Link(iface, up, kind, mtu int32) int32 {
	i.c.other.Add(1)
	return i.Imports.Link(iface, up, kind, mtu)
}

func (i *countImports) TxBuffer(buf []byte) int32 { i.c.other.Add(1); return i.Imports.TxBuffer(buf) }

func (i *countImports) Report(iface int32, b []byte) int32 {
	i.c.other.Add(1)
	return i.Imports.Report(iface, b)
}

func (i *countImports) UARTRead(h uint32, p []byte) int32 {
	i.c.other.Add(1)
	return i.Imports.UARTRead(h, p)
}

func (i *countImports) UARTWrite(h uint32, p []byte) int32 {
	i.c.other.Add(1)
	return i.Imports.UARTWrite(h, p)
}

func (i *countImports) FrameRead(h uint32, p []byte) int32 {
	i.c.other.Add(1)
	return i.Imports.FrameRead(h, p)
}

func (i *countImports) FrameWrite(h uint32, p []byte) int32 {
	i.c.other.Add(1)
	return i.Imports.FrameWrite(h, p)
}

func (i *countImports) MDIORead(h uint32, phy, reg int32) int32 {
	i.c.other.Add(1)
	return i.Imports.MDIORead(h, phy, reg)
}

func (i *countImports) MDIOWrite(h uint32, phy, reg, val int32) int32 {
	i.c.other.Add(1)
	return i.Imports.MDIOWrite(h, phy, reg, val)
}

func (i *countImports) BlobSize(h uint32) int64 { i.c.other.Add(1); return i.Imports.BlobSize(h) }

func (i *countImports) BlobRead(h uint32, off int64, p []byte) int32 {
	i.c.other.Add(1)
	return i.Imports.BlobRead(h, off, p)
}

// countExports counts the calls into the driver.
type countExports struct {
	*guest.Module
	c *Counter
}

var (
	_ abi.Exports         = (*countExports)(nil)
	_ abi.TransmitBatcher = (*countExports)(nil)
)

func (e *countExports) Poll(events uint32) int32 { e.c.polls.Add(1); return e.Module.Poll(events) }

func (e *countExports) Transmit(iface int32, frame []byte) int32 {
	e.c.transmits.Add(1)
	return e.Module.Transmit(iface, frame)
}

func (e *countExports) TransmitBatch(iface, count int32, records []byte) int32 {
	e.c.transmits.Add(1)
	return e.Module.TransmitBatch(iface, count, records)
}

func (e *countExports) IsConnected(iface int32) int32 {
	e.c.controls.Add(1)
	return e.Module.IsConnected(iface)
}

func (e *countExports) Active(iface int32) int32 { e.c.controls.Add(1); return e.Module.Active(iface) }

func (e *countExports) Status(iface int32) int32 { e.c.controls.Add(1); return e.Module.Status(iface) }

func (e *countExports) Config(iface int32) int32 { e.c.controls.Add(1); return e.Module.Config(iface) }

func (e *countExports) Call(iface int32) int32 { e.c.controls.Add(1); return e.Module.Call(iface) }
