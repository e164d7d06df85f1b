package host

// Link is the network core's side of one NIC, split by direction as in
// gVisor's link endpoints: the NIC calls it with what the driver received
// and reported; the core sends with NIC.Transmit.
//
// Calls come from the plugin's goroutine, one at a time; they must not block
// for long (hand the frame to a queue).
type Link interface {
	// DeliverFrame is one frame the driver received. frame is only valid
	// during the call: copy what you keep. An error counts the frame as
	// dropped for that reason.
	DeliverFrame(frame []byte) error
	// LinkChanged reports the link's state whenever the driver changes it.
	LinkChanged(state LinkState)
	// Reported carries what the driver negotiated (PPP: "addr4", "peer4",
	// "dns"), as a map of ABI values.
	Reported(info map[string]any)
}

// LinkState is what the driver last reported about its link.
type LinkState struct {
	Up   bool
	Type LinkType
	MTU  int
}

// LinkType is how frames are framed on a link.
type LinkType int

const (
	LinkEthernet LinkType = 1 // frames start with an Ethernet header
	LinkIP       LinkType = 2 // frames are bare IP packets (PPP)
)

func (t LinkType) String() string {
	switch t {
	case LinkEthernet:
		return "ethernet"
	case LinkIP:
		return "ip"
	}
	return "unknown"
}
