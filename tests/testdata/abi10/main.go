// Command wiznet is nichost's WIZNET5K driver plugin: a WIZnet W5500 on a
// granted SPI device, with optional reset and interrupt lines, moving raw
// Ethernet frames through socket 0 in MACRAW mode. The host builds it to
// WASM from this directory; the driver itself is in package driver. See
// README.md.
package main

import (
	"example.com/abi10/abi/guest"
	"example.com/abi10/driver"
)

func init() { guest.Register(driver.New()) }

func main() {}
