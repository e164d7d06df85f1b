package guest

// Imports is the host's side of the ABI as Go calls with slices instead of
// (pointer, length) pairs. Return values follow ABI.md: a negative value is
// a negated errno. In a wasip1 build the SDK implements it with the "nic"
// imports; a host running a driver natively passes its own.
//
// Slices handed to the host are only valid during the call: the host copies
// what it keeps.
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

// SPIOp is one record of a batched SPI transaction. W is clocked out (zeros
// when W is empty and R is not); R receives what is clocked in (discarded
// when empty). When both are set they have the same length. KeepCS holds
// chip select asserted into the next record; otherwise it is released after
// this one.
type SPIOp struct {
	W, R   []byte
	KeepCS bool
}
