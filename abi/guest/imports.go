package guest

import "github.com/nichost/nichost/abi"

// The SDK reaches the host through an abi.Imports: the "nic" imports in a
// wasip1 build (wasm.go), the host's own implementation when it runs a
// driver natively, or a fake host in a driver's unit tests
// (abi/guest/guesttest).
var (
	_ abi.Exports         = (*Module)(nil)
	_ abi.TransmitBatcher = (*Module)(nil)
)
