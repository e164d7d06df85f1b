// Command needy is the test driver declaring two buses it cannot work
// without: an SPI device "spi" and a GPIO line "reset".
package main

import (
	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/internal/testdriver"
)

type driver struct{ *testdriver.Driver }

func (d driver) Describe() abi.Description {
	desc := d.Driver.Describe()
	desc.Name = "needy"
	desc.Buses = []abi.BusNeed{{Name: "spi", Kind: "spi"}, {Name: "reset", Kind: "gpio"}}
	return desc
}

func init() { guest.Register(driver{testdriver.New().(*testdriver.Driver)}) }

func main() {}
