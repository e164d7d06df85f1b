package hosttest

import (
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/internal/seam"
)

// Attach connects nic to l in place of the host's network core, so that a
// test sees the frames the driver receives and its link reports (starting
// with the current state); nil gives the NIC no Link at all. It is a test
// seam: a NIC in use has the core as its Link. Do not call it from inside
// a Link method.
func Attach(nic *host.NIC, l host.Link) {
	var link any
	if l != nil {
		link = l
	}
	seam.Attach(nic, link)
}

// Transmit queues frame on nic for its driver to send, as the network core
// does. frame is copied. It returns host.ErrTxQueueFull (the frame is
// dropped and counted) when the driver falls behind.
func Transmit(nic *host.NIC, frame []byte) error { return seam.Transmit(nic, frame) }
