// Command lan is nichost's LAN driver plugin: an Ethernet MAC on a granted
// frame port with a LAN8720A or KSZ8081 PHY on a granted MDIO bus. The host
// builds it to WASM from this directory; the driver itself is in package
// driver. See README.md.
package main

import (
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/plugins/lan/driver"
)

func init() { guest.Register(driver.New()) }

func main() {}
