package host

// The codes NIC.StatusCode returns, per class. MicroPython gives each
// class its own; compare a NIC's code with its class's constants.

// status() of LAN and WIZNET5K.
const (
	StatLinkDown   = 0 // no link, or the PHY or chip does not answer
	StatLinkNoIf   = 1 // the PHY has a link but the interface is inactive
	StatLinkActive = 2 // link up and the interface active
)

// status() of a WLAN station, as MicroPython's rp2 port reports it.
const (
	StatIdle          = 0  // not connected, not trying
	StatConnecting    = 1  // joining
	StatNoIP          = 2  // joined, no IP address yet
	StatGotIP         = 3  // connected with an address
	StatConnectFail   = -1 // the join failed
	StatNoAPFound     = -2 // no access point with that SSID answered
	StatWrongPassword = -3 // authentication failed
)

// status() of PPP.
const (
	StatPPPInactive   = 0 // not started
	StatPPPActive     = 1 // started, not connecting
	StatPPPConnecting = 3 // LCP, authentication or IPCP under way
	StatPPPConnected  = 4 // IPCP opened, an address is held
)
