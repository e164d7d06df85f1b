// Command oob is a hostile plugin: active(True) hands the host a pointer
// outside its memory.
package main

import (
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/internal/testdriver"
)

//go:wasmimport nic log
func hostLog(level int32, ptr uint32, length uint32) int32

type driver struct{ *testdriver.Driver }

func (driver) SetActive(int, bool) error {
	hostLog(0, 0xfff00000, 64)
	return nil
}

func init() { guest.Register(driver{testdriver.New().(*testdriver.Driver)}) }

func main() {}
