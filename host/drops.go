package host

import (
	"errors"

	"github.com/nichost/nichost/core"
)

// Reasons of NICStats.Drops for frames the network core dropped (ABI.md
// section 9): each is counted under the core's own reason, so that a frame
// received while the core has the link down is told from one it could not
// parse. The host's own reasons are in stats.go.
const (
	dropLinkDown = core.DropLinkDown // received while the core has the link down
	dropRunt     = core.DropRunt     // shorter than an Ethernet header
	dropNotMine  = core.DropNotMine  // unicast for another MAC address
	dropNotIP    = core.DropNotIP    // neither IPv4 nor IPv6 (ARP included on an IP link)
)

// coreDropReason is the reason a Link's error for a delivered frame is
// counted under: the core's, or dropCoreRefused for a Link that does not
// say.
func coreDropReason(err error) string {
	var de *core.DropError
	if errors.As(err, &de) {
		switch de.Reason {
		case dropLinkDown, dropRunt, dropNotMine, dropNotIP:
			return de.Reason
		}
	}
	return dropCoreRefused
}
