// Command full is the test plugin that exercises every import and export
// of the ABI (see internal/testdriver).
package main

import (
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/internal/testdriver"
)

func init() { guest.Register(testdriver.New()) }

func main() {}
