//go:build !wasip1

package main_test

import (
	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/native"
	"github.com/nichost/nichost/plugins/wiznet/driver"
)

// callCount counts the calls that cross the sandbox's boundary on the
// native build (native.Counter: the host's stats count spi_transact calls
// only; a WASM build runs the same driver and SDK code, so it makes the
// same calls for the same traffic).
type callCount = native.Counter

// snapshot is a callCount at one moment.
type snapshot = native.Calls

// countedWIZNET is the WIZNET5K driver, counted.
func countedWIZNET(c *callCount) func(abi.Imports) abi.Exports {
	return native.CountedExports(driver.New, c)
}
