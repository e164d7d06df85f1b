// Command panic is a hostile plugin: active(True) panics, which ends a Go
// WebAssembly program.
package main

import (
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/internal/testdriver"
)

type driver struct{ *testdriver.Driver }

func (driver) SetActive(int, bool) error { panic("driver bug: boom") }

func init() { guest.Register(driver{testdriver.New().(*testdriver.Driver)}) }

func main() {}
