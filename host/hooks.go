package host

import (
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/internal/grant"
	"github.com/nichost/nichost/host/internal/hostcall"
	"github.com/nichost/nichost/host/internal/supervise"
)

// hooks is a Plugin as its supervisor and its host calls see it. The
// methods run on the plugin's goroutine, except Notify.
type hooks Plugin

var _ supervise.Hooks = (*hooks)(nil)

func (h *hooks) p() *Plugin { return (*Plugin)(h) }

// Grant implements hostcall.Owner.
func (h *hooks) Grant(handle uint32, k bus.Kind) *grant.Grant {
	if handle != 0 && int(handle) <= len(h.grants) {
		if g := h.grants[handle-1]; g.Kind == k {
			return g
		}
	}
	h.stats.badHandles.Add(1)
	if h.warnLimit.Allow(time.Now()) {
		h.log.Warn("plugin used a handle it was not granted", "handle", handle, "as", k)
	}
	return nil
}

// NIC implements hostcall.Owner.
func (h *hooks) NIC(iface int32) hostcall.NIC {
	nics := h.nics.Load()
	if nics == nil || iface < 0 || int(iface) >= len(*nics) {
		return nil
	}
	return (*nicCalls)((*nics)[iface])
}

// Notify implements hostcall.Owner.
func (h *hooks) Notify(ev abi.Event) { h.sup.Notify(ev) }

// WakeAt implements hostcall.Owner.
func (h *hooks) WakeAt(ns int64) { h.sup.WakeAt(ns) }

// Logger implements hostcall.Owner.
func (h *hooks) Logger() *slog.Logger { return h.log }

// AllowLog implements hostcall.Owner.
func (h *hooks) AllowLog() bool { return h.logLimit.Allow(time.Now()) }

// CountSPI implements hostcall.Owner.
func (h *hooks) CountSPI(n int) {
	h.stats.spiCalls.Add(1)
	h.stats.spiBytes.Add(uint64(n))
}

// LinkType implements hostcall.Owner.
func (h *hooks) LinkType() abi.LinkType {
	if h.sup.Description().Class == abi.ClassPPP {
		return abi.LinkIP
	}
	return abi.LinkEthernet
}

// Class implements hostcall.Owner.
func (h *hooks) Class() string { return h.sup.Description().Class }

// Deny implements hostcall.Owner.
func (h *hooks) Deny(call, why string) {
	h.stats.denied.Add(1)
	if h.warnLimit.Allow(time.Now()) {
		h.log.Warn("host call refused (EPERM)", "call", call, "why", why)
	}
}

// OutputDropped implements hostcall.Owner.
func (h *hooks) OutputDropped() *atomic.Uint64 { return &h.stats.outputDropped }

// Check implements supervise.Hooks: every description is checked against
// the config and the grants; the first one makes the NICs.
func (h *hooks) Check(desc abi.Description, first bool) error {
	if err := h.p().checkDescription(desc); err != nil {
		return err
	}
	if first {
		return h.p().makeNICs(desc)
	}
	return nil
}

// StartInfo implements supervise.Hooks.
func (h *hooks) StartInfo() abi.StartInfo {
	info := abi.StartInfo{Buses: map[string]uint32{}, Options: h.cfg.Options}
	if h.sup.Description().ABI > abi.Version10 {
		info.Features = abi.HostFeatures() // a 1.0 plugin sees nothing of 1.1
	}
	for _, g := range h.grants {
		info.Buses[g.Name] = g.Handle
	}
	for _, n := range h.p().NICs() {
		info.Interfaces = append(info.Interfaces, abi.InterfaceInfo{Name: n.iface, MAC: n.MAC()})
	}
	g := h.h.globals()
	info.Hostname, info.Country, info.PhyMode = g.hostname, g.country, g.phyMode
	return info
}

// Replay implements supervise.Hooks.
func (h *hooks) Replay() []supervise.Step {
	var steps []supervise.Step
	for _, n := range h.p().NICs() {
		steps = append(steps, n.desired()...)
	}
	return steps
}

// Down implements supervise.Hooks: nothing moves frames now, so the core is
// told the links are down; the next instance reports them again.
func (h *hooks) Down() {
	for _, n := range h.p().NICs() {
		n.stationsGone()
		if st := n.LinkState(); st.Up {
			st.Up = false
			n.setLink(st)
		}
	}
}

// Hold implements supervise.Hooks: the links that are up stay up in the
// core while the next instance takes the device over.
func (h *hooks) Hold() {
	for _, n := range h.p().NICs() {
		n.mu.Lock()
		n.held, n.pended = n.state.Up, nil
		n.mu.Unlock()
	}
}

// Held implements supervise.Hooks.
func (h *hooks) Held() bool {
	for _, n := range h.p().NICs() {
		n.mu.Lock()
		held := n.held
		n.mu.Unlock()
		if held {
			return true
		}
	}
	return false
}

// Release implements supervise.Hooks.
func (h *hooks) Release(takenOver bool) {
	for _, n := range h.p().NICs() {
		n.mu.Lock()
		held, back, st := n.held, n.pended, n.state
		n.held, n.pended = false, nil
		n.mu.Unlock()
		switch {
		case !held:
		case takenOver && back != nil:
			n.setLink(*back)
		case !takenOver:
			st.Up = false
			n.setLink(st)
		}
	}
}

// Sent implements supervise.Hooks.
func (h *hooks) Sent(iface int, frame []byte, outcome supervise.TxOutcome, err error) {
	nics := h.nics.Load() // not NICs(): no copy per frame
	if nics == nil || iface < 0 || iface >= len(*nics) {
		return
	}
	n := (*nics)[iface]
	switch outcome {
	case supervise.TxSent:
		n.stats.txFrames.Add(1)
		n.stats.txBytes.Add(uint64(len(frame)))
		n.traceFrame(frame, false)
	case supervise.TxTooLong:
		n.stats.drop(dropTooLong)
	case supervise.TxRefused:
		n.stats.drop(dropDriverError)
		if h.warnLimit.Allow(time.Now()) {
			h.log.Warn("driver refused a frame", "nic", n.name, "err", err)
		}
	}
}

// FlushRx implements supervise.Hooks: each NIC's receive queue hands on
// what the driver pushed (the core's queue delivers a frame or two on this
// goroutine, rxqueue.Queue.Flush).
func (h *hooks) FlushRx() {
	if nics := h.nics.Load(); nics != nil {
		for _, n := range *nics {
			n.rx.Flush()
		}
	}
}

// Wrap implements supervise.Hooks.
func (h *hooks) Wrap(op string, err error) error {
	var pe *PluginError
	if errors.As(err, &pe) {
		return err
	}
	return &PluginError{Plugin: h.name, Op: op, Err: err}
}

// Lifecycle implements supervise.Hooks: it publishes the event.
func (h *hooks) Lifecycle(kind string, generation int, err error) {
	h.p().lifecycle(kind, generation, err)
}

// nicCalls is a NIC as the host calls of its plugin see it.
type nicCalls NIC

// Deliver implements hostcall.NIC.
func (c *nicCalls) Deliver(frame []byte) int32 { return (*NIC)(c).deliver(frame) }

// SetLink implements hostcall.NIC.
func (c *nicCalls) SetLink(st LinkState) { (*NIC)(c).setLink(st) }

// Report implements hostcall.NIC.
func (c *nicCalls) Report(info map[string]any) { (*NIC)(c).report(info) }

// Role implements hostcall.NIC.
func (c *nicCalls) Role() string { return c.iface }
