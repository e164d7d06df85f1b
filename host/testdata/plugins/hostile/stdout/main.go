// Command stdout is a hostile plugin: active(True) prints 100,000 lines to
// stdout in one call, then returns.
package main

import (
	"fmt"

	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/internal/testdriver"
)

type driver struct{ *testdriver.Driver }

// Lines is how many lines active(True) prints; each is 12 bytes.
const Lines = 100000

func (driver) SetActive(int, bool) error {
	for i := range Lines {
		fmt.Printf("line %06d\n", i)
	}
	return nil
}

func init() { guest.Register(driver{testdriver.New().(*testdriver.Driver)}) }

func main() {}
