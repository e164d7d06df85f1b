// Command wlan is nichost's WLAN driver plugin: an Infineon CYW43439 (the
// Raspberry Pi Pico W's Wi-Fi chip) on its gSPI bus, with its WL_REG_ON
// and host-wake lines and the firmware, CLM and NVRAM as blobs, serving
// the station (sta) and the access point (ap). The host builds it to WASM
// from this directory; the driver itself is in package driver. See
// README.md.
package main

import (
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/plugins/wlan/driver"
)

func init() { guest.Register(driver.New()) }

func main() {}
