// Command garbage is a hostile plugin written without the SDK: a valid
// handshake, then isconnected() replies with bytes that are not CBOR and
// status() returns a status code the ABI does not have.
package main

import "unsafe"

//go:wasmimport nic reply
func reply(ptr unsafe.Pointer, n uint32) int32

//go:wasmimport nic tx_buffer
func txBuffer(ptr unsafe.Pointer, n uint32) int32

var txbuf [2048]byte

func send(b []byte) int32 {
	reply(unsafe.Pointer(unsafe.SliceData(b)), uint32(len(b)))
	return 0
}

//go:wasmexport nic_abi_version
func abiVersion() int32 { return 0x00010001 }

// description is {"abi": 0x00010001, "name": "garbage", "class": "LAN",
// "interfaces": ["eth"]} in CBOR, written by hand as a driver in another
// language would.
var description = []byte{
	0xa4,
	0x63, 'a', 'b', 'i', 0x1a, 0x00, 0x01, 0x00, 0x01,
	0x64, 'n', 'a', 'm', 'e', 0x67, 'g', 'a', 'r', 'b', 'a', 'g', 'e',
	0x65, 'c', 'l', 'a', 's', 's', 0x63, 'L', 'A', 'N',
	0x6a, 'i', 'n', 't', 'e', 'r', 'f', 'a', 'c', 'e', 's', 0x81, 0x63, 'e', 't', 'h',
}

//go:wasmexport nic_describe
func describe() int32 { return send(description) }

//go:wasmexport nic_start
func start() int32 { return txBuffer(unsafe.Pointer(&txbuf[0]), uint32(len(txbuf))) }

//go:wasmexport nic_active
func active(int32) int32 { return send([]byte{0xf5}) } // true

//go:wasmexport nic_connect
func connect(int32) int32 { return 0 }

//go:wasmexport nic_disconnect
func disconnect(int32) int32 { return 0 }

//go:wasmexport nic_isconnected
func isconnected(int32) int32 { return send([]byte{0xff, 0xfe, 0x9f}) }

//go:wasmexport nic_scan
func scan(int32) int32 { return send([]byte{0x80}) }

//go:wasmexport nic_status
func status(int32) int32 { return 7 }

//go:wasmexport nic_config
func config(int32) int32 { return 0 }

//go:wasmexport nic_call
func call(int32) int32 { return 0 }

//go:wasmexport nic_poll
func poll(int32) int32 { return 0 }

//go:wasmexport nic_transmit
func transmit(int32, int32) int32 { return 0 }

func main() {}
