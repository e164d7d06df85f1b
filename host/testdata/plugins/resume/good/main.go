// Command good is a test plugin that takes part in the warm handover
// (ABI.md "Warm handover"): the test driver with a count of the handovers
// it was part of, which it hands to the next instance and takes over from
// the previous one. call("handover") returns (reason, handovers) of the
// running instance: how its start was offered the device ("" for a cold
// start) and how many warm handovers led to it.
package main

import (
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/host/testdata/plugins/resume/internal/resumer"
)

func init() { guest.Register(resumer.New(resumer.Good)) }

func main() {}
