// Package seam carries the two NIC internals that host/hosttest and the
// conformance suite (host/conformance, which queues frames for a driver
// whose link is down) need and the public API does not offer: attaching a
// test Link in place of the network core, and queueing a frame for the
// driver to send. Package host sets the functions when it is initialised;
// nothing else may.
package seam

// Attach connects nic (a *host.NIC) to link (a host.Link, or nil for none).
var Attach func(nic, link any)

// Transmit queues frame on nic (a *host.NIC) for its driver to send.
var Transmit func(nic any, frame []byte) error
