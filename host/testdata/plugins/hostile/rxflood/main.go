// Command rxflood is a hostile plugin with 8 interfaces: active(True) on
// eth0 pushes 64 KiB frames into all of them as fast as it can, 2100 to
// each (1.1 GB in all), ignoring -ENOBUFS, then returns.
package main

import (
	"fmt"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/internal/testdriver"
)

// Rounds is how many frames each interface is offered.
const Rounds = 2100

type driver struct {
	*testdriver.Driver
	env *guest.Env
}

func (d *driver) Describe() abi.Description {
	desc := d.Driver.Describe()
	desc.Name, desc.Interfaces = "rxflood", nil
	for i := range abi.MaxInterfaces {
		desc.Interfaces = append(desc.Interfaces, fmt.Sprintf("eth%d", i))
	}
	return desc
}

func (d *driver) Start(env *guest.Env) error {
	d.env = env
	return d.Driver.Start(env)
}

func (d *driver) SetActive(iface int, up bool) error {
	if iface != 0 || !up {
		return nil
	}
	frame := make([]byte, abi.MaxFrame)
	for i := range frame {
		frame[i] = byte(i)
	}
	for range Rounds {
		for i := range abi.MaxInterfaces {
			d.env.Deliver(i, frame) // -ENOBUFS is what the host should say
		}
	}
	return nil
}

func init() { guest.Register(&driver{Driver: testdriver.New().(*testdriver.Driver)}) }

func main() {}
