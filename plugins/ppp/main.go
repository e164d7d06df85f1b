// Command ppp is nichost's PPP driver plugin: MicroPython's network.PPP
// over a granted UART, with an optional modem dial script. The host builds
// it to WASM from this directory; the driver itself is in package driver,
// PPP in packages hdlc, fsm and session. See README.md.
package main

import (
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/plugins/ppp/driver"
)

func init() { guest.Register(driver.New()) }

func main() {}
