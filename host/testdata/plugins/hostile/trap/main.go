// Command trap is a hostile plugin: active(True) reads memory far outside
// its linear memory, which is a WebAssembly trap.
package main

import (
	"unsafe"

	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/internal/testdriver"
)

type driver struct{ *testdriver.Driver }

var (
	sink byte
	far  = 0xfffffff0
)

func (driver) SetActive(int, bool) error {
	sink = *(*byte)(unsafe.Add(unsafe.Pointer(nil), far))
	return nil
}

func init() { guest.Register(driver{testdriver.New().(*testdriver.Driver)}) }

func main() {}
