//go:build !wasip1

package main_test

import (
	"sync/atomic"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/plugins/wiznet/driver"
)

// callCount counts the calls that cross the sandbox's boundary: host calls
// (imports) the driver makes, by kind, and export calls the host makes
// into it. The host's stats count spi_transact calls only; the native
// build, whose imports and exports are Go interfaces, is where every call
// can be counted. A WASM build runs the same driver and SDK code, so it
// makes the same calls for the same traffic.
type callCount struct {
	spi, rxPush, rxBatch, now, wakeAt, gpio, other atomic.Uint64
	polls, transmits, controls                     atomic.Uint64
}

// snapshot is a callCount at one moment.
type snapshot struct {
	spi, rxPush, rxBatch, now, wakeAt, gpio, other uint64
	polls, transmits, controls                     uint64
}

func (c *callCount) snapshot() snapshot {
	return snapshot{
		c.spi.Load(), c.rxPush.Load(), c.rxBatch.Load(), c.now.Load(), c.wakeAt.Load(), c.gpio.Load(), c.other.Load(),
		c.polls.Load(), c.transmits.Load(), c.controls.Load(),
	}
}

// imports are the host calls, all of them.
func (s snapshot) imports() uint64 {
	return s.spi + s.rxPush + s.rxBatch + s.now + s.wakeAt + s.gpio + s.other
}

// exports are the calls into the driver.
func (s snapshot) exports() uint64 { return s.polls + s.transmits + s.controls }

func (s snapshot) sub(o snapshot) snapshot {
	return snapshot{
		s.spi - o.spi, s.rxPush - o.rxPush, s.rxBatch - o.rxBatch, s.now - o.now, s.wakeAt - o.wakeAt, s.gpio - o.gpio, s.other - o.other,
		s.polls - o.polls, s.transmits - o.transmits, s.controls - o.controls,
	}
}

// countedExports is host.Host.LoadNative's argument for the driver made by
// newDriver, counting into c.
func countedExports(c *callCount, newDriver func() guest.Driver) func(abi.Imports) abi.Exports {
	return func(imp abi.Imports) abi.Exports {
		return &countExports{Module: guest.NewModule(newDriver(), &countImports{Imports: imp, c: c}), c: c}
	}
}

// countedWIZNET is the WIZNET5K driver, counted.
func countedWIZNET(c *callCount) func(abi.Imports) abi.Exports { return countedExports(c, driver.New) }

// countImports counts every import of abi.Imports (one added later passes
// through the embedded interface uncounted).
type countImports struct {
	abi.Imports
	c *callCount
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

// countExports counts the calls into the driver. It has the Module's
// nic_transmit_batch, so the host batches as it does for the WASM build.
type countExports struct {
	*guest.Module
	c *callCount
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
