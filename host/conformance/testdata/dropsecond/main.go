// Command dropsecond is a LAN plugin that loses frames in batches: nichost's
// LAN driver (plugins/lan/driver) wrapped so that nic_transmit_batch takes
// every frame of a batch but never sends the second. Frames offered one at
// a time all go out, so only a check that makes the host offer batches of
// several frames can see it. The suite's tests (host/conformance) check
// that it fails the burst check.
package main

import (
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/plugins/lan/driver"
)

type dropSecond struct{ *driver.Driver }

func (d dropSecond) TransmitBatch(iface int, frames [][]byte) (int, error) {
	if len(frames) < 2 {
		return d.Driver.TransmitBatch(iface, frames)
	}
	if n, err := d.Driver.TransmitBatch(iface, frames[:1]); n < 1 {
		return n, err
	}
	n, err := d.Driver.TransmitBatch(iface, frames[2:])
	return n + 2, err // frames[1] "taken", never sent
}

func init() { guest.Register(dropSecond{driver.New().(*driver.Driver)}) }

func main() {}
