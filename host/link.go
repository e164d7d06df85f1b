package host

import "github.com/nichost/nichost/core"

// Link is the network core's side of one NIC, split by direction as in
// gVisor's link endpoints: the NIC calls it with what the driver received
// and reported; the core sends through the NIC. *core.NIC implements it;
// tests attach their own with hosttest.Attach and send with
// hosttest.Transmit.
//
// DeliverFrame is called one frame at a time, from the NIC's receive
// goroutine (for the host's own core, a frame or two at a time from the
// plugin's goroutine, which the core never blocks); LinkChanged and
// Reported from the plugin's goroutine: DeliverFrame may overlap them.
// None may block for long.
type Link interface {
	// DeliverFrame is one frame the driver received. frame is only valid
	// during the call: copy what you keep. An error counts the frame as
	// dropped.
	DeliverFrame(frame []byte) error
	// LinkChanged reports the link's state whenever the driver changes it.
	LinkChanged(state LinkState)
	// Reported carries what the driver negotiated (PPP: "addr4", "peer4",
	// "dns"), as a map of ABI values.
	Reported(info map[string]any)
}

// LinkState is what the driver last reported about its link.
type LinkState = core.LinkState

// LinkType is how frames are framed on a link.
type LinkType = core.LinkType

// Link types.
const (
	LinkEthernet = core.LinkEthernet // frames start with an Ethernet header
	LinkIP       = core.LinkIP       // frames are bare IP packets (PPP)
)

var _ Link = (*core.NIC)(nil)
