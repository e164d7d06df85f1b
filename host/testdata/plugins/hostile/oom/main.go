// Command oom is a hostile plugin: active(True) allocates without limit.
package main

import (
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/internal/testdriver"
)

type driver struct{ *testdriver.Driver }

var hoard [][]byte

func (driver) SetActive(int, bool) error {
	for {
		b := make([]byte, 1<<20)
		for i := range b {
			b[i] = byte(i)
		}
		hoard = append(hoard, b)
	}
}

func init() { guest.Register(driver{testdriver.New().(*testdriver.Driver)}) }

func main() {}
