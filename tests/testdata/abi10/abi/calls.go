package abi

// Imports is the host's side of the ABI as Go calls, with slices instead of
// (pointer, length) pairs: one method per import of ABI.md §5 (Imports), with
// the same results (a negative value is a negated errno). The guest SDK
// implements it with the "nic" imports in a wasip1 build; the host
// implements it for every plugin instance, after checking each pointer and
// length against guest memory; a driver's unit tests implement it with a
// fake host (abi/guest/guesttest).
//
// Slices handed to an Imports method are only valid during the call: the
// callee copies what it keeps.
type Imports interface {
	Args(dst []byte) int32
	Reply(b []byte) int32
	Raise(kind, errno int32, msg []byte) int32
	Log(level int32, msg []byte) int32

	Now() int64
	Sleep(ns int64) int32
	WakeAt(ns int64) int32

	TxBuffer(buf []byte) int32
	RxPush(iface int32, frame []byte) int32
	Link(iface, up, kind, mtu int32) int32
	Report(iface int32, b []byte) int32

	SPITransact(h uint32, ops []SPIOp) int32
	GPIORead(h uint32) int32
	GPIOWrite(h uint32, level int32) int32
	GPIOWatch(h uint32, edge int32) int32
	GPIOEdges(h uint32) int32
	UARTRead(h uint32, p []byte) int32
	UARTWrite(h uint32, p []byte) int32
	FrameRead(h uint32, p []byte) int32
	FrameWrite(h uint32, p []byte) int32
	MDIORead(h uint32, phy, reg int32) int32
	MDIOWrite(h uint32, phy, reg, val int32) int32
}

// SPIOp is one record of a batched SPI transaction (spi_transact) as Go
// slices. W is clocked out (zeros when W is empty and R is not); R receives
// what is clocked in (discarded when empty). When both are set they have
// the same length. KeepCS holds chip select asserted into the next record;
// otherwise it is released after this one. In guest memory each record is
// SPIOpSize bytes laid out as the SPIOp* offsets say.
type SPIOp struct {
	W, R   []byte
	KeepCS bool
}

// Exports is the plugin's side of the ABI as Go calls: one method per
// export of ABI.md §4 (Exports) with the same result, the transmit buffer
// already turned into a slice. The guest SDK's Module implements it; a
// host runs a driver compiled into itself (the native baseline of the
// benchmarks) through it, so that only the sandbox crossing differs from a
// WASM instance.
type Exports interface {
	ABIVersion() int32
	Describe() int32
	Start() int32
	Active(iface int32) int32
	Connect(iface int32) int32
	Disconnect(iface int32) int32
	IsConnected(iface int32) int32
	Scan(iface int32) int32
	Status(iface int32) int32
	Config(iface int32) int32
	Call(iface int32) int32
	Poll(events uint32) int32
	Transmit(iface int32, frame []byte) int32
}
