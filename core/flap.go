package core

import (
	"cmp"
	"time"
)

// A link that goes down and comes back within FlapWindow is a flap, not a
// new network (ABI.md section 9, "What the core does with a short
// outage"): a driver restarting cold after a fault or a reload, a cable
// reseated. Disabling the interface at once would flush its neighbour
// table and, at the next up, rerun DHCP and duplicate address detection:
// seconds of ARP, DHCP and DAD traffic before connections could move
// again. So for FlapWindow the interface stays enabled, with its
// neighbours, addresses and lease; the frames the stack sends meanwhile
// are dropped and counted, as a NIC without carrier drops them, and the
// connections resend them as usual once the link is back.

// FlapWindow is how long the core waits, after the link went down, before
// it takes the outage for a real one.
const FlapWindow = 5 * time.Second

// flap is the state of a link down within FlapWindow.
type flap struct {
	timer *time.Timer
	mac   string // the NIC's MAC address when the link went down
}

// startFlap begins a flap (caller holds n.mu).
func (n *NIC) startFlap() *flap {
	f := &flap{mac: string(n.mac)}
	f.timer = time.AfterFunc(cmp.Or(n.st.opts.FlapWindow, FlapWindow), func() { n.flapOver(f) })
	return f
}

func (f *flap) stop() { f.timer.Stop() }

// downDrop takes a frame the stack sends: while the link is down it is
// dropped and counted, and downDrop reports true; while it is up, false
// (the frame goes to the driver).
func (n *NIC) downDrop() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.link.Up {
		return false
	}
	n.stats.drop(DropLinkDown)
	return true
}

// flapOver ends a flap whose link stayed down: the interface is disabled,
// which flushes its neighbours; the next up is a new link.
func (n *NIC) flapOver(f *flap) {
	n.linkMu.Lock()
	defer n.linkMu.Unlock()
	n.mu.Lock()
	if n.flap != f {
		n.mu.Unlock()
		return
	}
	n.flap = nil
	disable := !n.link.Up && !n.removed
	n.mu.Unlock()
	if disable {
		n.st.log.Info("link still down: disabling the interface", "nic", n.name, "after", cmp.Or(n.st.opts.FlapWindow, FlapWindow))
		if err := n.st.s.DisableNIC(n.id); err != nil {
			n.st.log.Warn("disabling NIC failed", "nic", n.name, "err", err)
		}
	}
}
