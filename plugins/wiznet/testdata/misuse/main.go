// Command misuse is a WIZNET5K plugin that misuses the W5500 on purpose:
// nichost's own driver (plugins/wiznet/driver) built with NewMisusing,
// which writes the TX_WR and SEND of every frame it stages in one host
// call, without looking whether the previous SEND has completed. It
// moves frames on the simulator, which finishes each SEND at once, and
// would lose or garble them on a real chip. The tests of `nichost test`
// (cmd/nichost) check that the conformance suite FAILs it, naming the
// datasheet rule the simulator recorded.
package main

import (
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/plugins/wiznet/driver"
)

func init() { guest.Register(driver.NewMisusing()) }

func main() {}
