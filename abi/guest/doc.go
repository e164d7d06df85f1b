// Package guest is the SDK for nichost driver plugins written in Go.
//
// A driver implements Driver (the medium side of MicroPython's AbstractNIC:
// IP configuration belongs to the host's core) and registers it from an init
// function of its main package:
//
//	func init() { guest.Register(newDriver()) }
//	func main() {}
//
// Driver holds the methods every class has. A class with more implements
// the small optional interfaces as well: Connector for connect() and
// disconnect() (WLAN, PPP), Scanner for scan() (WLAN), Caller for
// class-specific methods such as regs(). The SDK finds them with type
// assertions and raises NotImplementedError, naming the class, for a call
// the driver has no method for; a WIZNET5K or LAN driver simply leaves
// Connector and Scanner out.
//
// Arguments reach the driver as Args; Args.At, Args.Key and Args.Takes
// decode and check them with MicroPython's TypeError texts. The SDK
// encodes and decodes values with its own small codec for ABI.md's value
// model, byte for byte what the host's writes, so a plugin does not carry a
// general CBOR library.
//
// Frames move in batches where the host offers it (ABI 1.1): the host
// hands a driver several frames at once (BatchTransmitter, or one Transmit
// per frame for a driver without it), and the frames a driver delivers
// with Env.Deliver during one export reach the core in one host call when
// the export ends. Env.Blob reads large operator-supplied data such as
// firmware.
//
// A driver that implements Resumer takes part in the warm handover of
// ABI.md: on a reload its Suspend hands its state to the next instance,
// whose Resume takes the running device over instead of resetting it, and
// after a fault Resume takes over a device it finds as it expects; the SDK
// declares the "resume" feature for it and exports nic_suspend. Package
// guesttest's Options.Resume and Host.Suspend test a driver's handover.
//
// With the plugin option fault_injection: true, the SDK answers
// call("_fault", KIND) itself by trapping, panicking, looping or exhausting
// memory (fault.go), so that an operator can show the host containing a
// failing driver; without it, _fault raises ValueError.
//
// Built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o drv.wasm .
//
// the package provides every export of ABI 1.1 (see abi/ABI.md) and reaches
// the host through the "nic" imports. Built natively, nothing is exported;
// instead the host drives the same Driver through NewModule with its own
// Imports, which is how nichost benchmarks a driver as WASM against the same
// code compiled natively, and how a driver can be debugged with ordinary
// tools. A driver's unit tests do the same with the fake host of package
// guesttest.
//
// Drivers are poll-driven: no export may block. Slow work (a PHY
// negotiating, a chip resetting) is a state machine advanced in Poll, which
// asks to run again with Env.WakeAfter or waits for a bus event.
package guest
