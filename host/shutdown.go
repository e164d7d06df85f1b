package host

import (
	"context"
	"errors"
	"time"
)

// releaseWait bounds how long Shutdown waits for a NIC's DHCPRELEASE to
// leave through its driver before it takes the interface down.
const releaseWait = time.Second

// Shutdown stops the host in order, as a daemon does on SIGTERM: for each
// NIC, the DHCPv4 lease is given back to its server (the release frame
// goes out through the driver before anything else changes), then the
// interface is brought down with active(False); then every plugin is
// closed and the core stopped, as Close does. ctx bounds the orderly part;
// whatever it leaves undone, Close still does. The error joins what
// failed, naming the NICs.
func (h *Host) Shutdown(ctx context.Context) error {
	if h.closed.Load() {
		return h.errClosed("shutdown")
	}
	var errs []error
	for _, n := range h.NICs() {
		if !n.Plugin().State().Up {
			continue // nothing can send the release or run active(False)
		}
		if _, leased, err := n.DHCP4(); err == nil && leased {
			before := n.Stats().TxFrames
			n.core.ReleaseDHCP4()
			waitSent(ctx, n, before)
		}
		if err := n.SetActive(ctx, false); err != nil {
			errs = append(errs, err)
		}
	}
	if err := h.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// waitSent waits, at most releaseWait, until the NIC's driver has sent a
// frame more than before: the release the core just queued.
func waitSent(ctx context.Context, n *NIC, before uint64) {
	ctx, cancel := context.WithTimeout(ctx, releaseWait)
	defer cancel()
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for n.Stats().TxFrames == before {
		select {
		case <-ctx.Done():
			n.p.log.Warn("the DHCP release was not sent before shutdown", "nic", n.name)
			return
		case <-t.C:
		}
	}
}
