// Command badhandle is a hostile plugin: active(True) drives a GPIO handle
// it was never granted (99), then a granted SPI handle as if it were a
// GPIO line, and raises OSError with what the host answered.
package main

import (
	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/internal/testdriver"
)

//go:wasmimport nic gpio_write
func gpioWrite(h uint32, level int32) int32

type driver struct {
	*testdriver.Driver
	spi uint32
}

var d = &driver{Driver: testdriver.New().(*testdriver.Driver)}

func (d *driver) Start(env *guest.Env) error {
	d.spi = env.Info().Buses["spi"]
	return d.Driver.Start(env)
}

func (d *driver) SetActive(int, bool) error {
	if rc := gpioWrite(99, 1); rc < 0 {
		if rc2 := gpioWrite(d.spi, 1); rc2 != rc {
			return abi.OSError(abi.EIO, "handle 99 gave %d but the SPI handle used as GPIO gave %d", rc, rc2)
		}
		return abi.OSError(int(-rc), "gpio_write on handles 99 and %d (spi) returned %d", d.spi, rc)
	}
	return nil
}

func init() { guest.Register(d) }

func main() {}
