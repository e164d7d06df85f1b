// Command loop is a hostile plugin: active(True) never returns.
package main

import (
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/internal/testdriver"
)

type driver struct{ *testdriver.Driver }

var spins uint64

func (driver) SetActive(int, bool) error {
	for {
		spins++
	}
}

func init() { guest.Register(driver{testdriver.New().(*testdriver.Driver)}) }

func main() {}
