package guesttest

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/nichost/nichost/abi"
)

// imports is the Host seen as the ABI's host side: one method per import,
// with the host's checks and results. The bus imports are in buses.go.
type imports Host

var _ abi.Imports = (*imports)(nil)

// violate records the first ABI violation of the running call.
func (h *imports) violate(format string, a ...any) {
	if h.bad == nil {
		h.bad = fmt.Errorf(format, a...)
	}
}

// Args implements abi.Imports.
func (h *imports) Args(dst []byte) int32 {
	h.calls[abi.ImportArgs]++
	if len(dst) >= len(h.args) {
		copy(dst, h.args)
	}
	return int32(len(h.args))
}

// Reply implements abi.Imports.
func (h *imports) Reply(b []byte) int32 {
	h.calls[abi.ImportReply]++
	if len(b) > abi.MaxMessage {
		h.violate("reply of %d bytes exceeds the %d-byte limit", len(b), abi.MaxMessage)
		return -abi.E2BIG
	}
	h.reply = append(h.reply[:0], b...)
	h.replied = true
	return 0
}

// Raise implements abi.Imports: the message is cut at 1024 bytes and the
// errno dropped for kinds other than OSError, as the host does.
func (h *imports) Raise(kind, errno int32, msg []byte) int32 {
	h.calls[abi.ImportRaise]++
	e, ok := abi.Raised(kind, errno, msg)
	if !ok {
		h.violate("raise with unknown error kind %d", kind)
		return -abi.EINVAL
	}
	h.raised = e
	return 0
}

// Log implements abi.Imports. Lines are kept (Logs) with no rate limit.
func (h *imports) Log(level int32, msg []byte) int32 {
	h.calls[abi.ImportLog]++
	l := LogLine{Level: int(level), Msg: abi.Text(msg)}
	h.logs = append(h.logs, l)
	if h.logf != nil {
		h.logf("driver log: %v", l)
	}
	return 0
}

// Now implements abi.Imports.
func (h *imports) Now() int64 {
	h.calls[abi.ImportNow]++
	return int64(h.clock.Now())
}

// Sleep implements abi.Imports: it moves the clock forward by ns at once.
// Past the call's deadline (Options.Deadline) it moves it to the deadline
// and returns -ETIMEDOUT.
func (h *imports) Sleep(ns int64) int32 {
	h.calls[abi.ImportSleep]++
	if ns < 0 || ns > abi.MaxSleepNanos {
		return -abi.EINVAL
	}
	d := time.Duration(ns)
	if left := h.opts.Deadline - h.slept; d > left {
		h.slept += left
		h.clock.set(h.clock.Now() + left)
		return -abi.ETIMEDOUT
	}
	h.slept += d
	h.clock.set(h.clock.Now() + d)
	return 0
}

// WakeAt implements abi.Imports: the request replaces any earlier one; a
// negative time cancels it.
func (h *imports) WakeAt(ns int64) int32 {
	h.calls[abi.ImportWakeAt]++
	h.wake = time.Duration(max(ns, -1))
	return 0
}

// TxBuffer implements abi.Imports. Unlike other slices handed to a host
// call, the transmit buffer is the guest's for the instance's life: the
// host keeps it and writes frames there for nic_transmit.
func (h *imports) TxBuffer(buf []byte) int32 {
	h.calls[abi.ImportTxBuffer]++
	if len(buf) < abi.MinTxBuffer {
		return -abi.EINVAL
	}
	h.txbuf = buf[:min(len(buf), abi.MaxTxBuffer)]
	return 0
}

// RxPush implements abi.Imports: the frame is kept (Frames).
func (h *imports) RxPush(iface int32, frame []byte) int32 {
	h.calls[abi.ImportRxPush]++
	if iface < 0 || int(iface) >= len(h.frames) {
		return -abi.ENODEV
	}
	if len(frame) > abi.MaxFrame {
		return -abi.EMSGSIZE
	}
	h.frames[iface] = append(h.frames[iface], bytes.Clone(frame))
	return 0
}

// RxPushBatch implements abi.Imports: the batch is checked whole, then its
// frames are kept (Frames) as rx_push keeps them.
func (h *imports) RxPushBatch(iface int32, records []byte) int32 {
	h.calls[abi.ImportRxPushBatch]++
	if !h.offers(abi.FeatureRxBatch, abi.ImportRxPushBatch) {
		return -abi.ENOTSUP
	}
	if iface < 0 || int(iface) >= len(h.frames) {
		return -abi.ENODEV
	}
	n, err := abi.ForEachFrame(records, abi.MaxRxBatch, func(frame []byte) {
		h.frames[iface] = append(h.frames[iface], bytes.Clone(frame))
	})
	if err != nil {
		if h.logf != nil {
			h.logf("guesttest: %s: %v", abi.ImportRxPushBatch, err)
		}
		return -abi.EINVAL
	}
	return int32(n)
}

// offers reports whether the host offers feature; the call of an import
// of a feature it does not offer is a violation.
func (h *imports) offers(feature, call string) bool {
	if slices.Contains(h.features, feature) {
		return true
	}
	h.violate("%s: the host does not offer %s (Options.WithoutFeatures), so a module importing it would not load", call, feature)
	return false
}

// Link implements abi.Imports: the state is kept (Link, Links).
func (h *imports) Link(iface, up, kind, mtu int32) int32 {
	h.calls[abi.ImportLink]++
	if iface < 0 || int(iface) >= len(h.links) {
		return -abi.ENODEV
	}
	t := abi.LinkType(kind)
	if (up != 0 && up != 1) || (t != abi.LinkEthernet && t != abi.LinkIP) || (mtu != 0 && (mtu < 68 || mtu > 65535)) {
		return -abi.EINVAL
	}
	h.links[iface] = append(h.links[iface], LinkState{Up: up == 1, Type: t, MTU: int(mtu)})
	return 0
}

// Report implements abi.Imports: the keys are merged into the interface's
// report (Reported). A WLAN driver's access point may report only its
// stations, as the host allows.
func (h *imports) Report(iface int32, b []byte) int32 {
	h.calls[abi.ImportReport]++
	if iface < 0 || int(iface) >= len(h.reports) {
		return -abi.ENODEV
	}
	v, err := abi.Unmarshal(b)
	if err != nil {
		return -abi.EINVAL
	}
	m, ok := v.(map[string]any)
	// As the host: a WLAN driver's access point reports its stations, and
	// nothing else (ABI.md 8.4); the other keys are for any interface here.
	ap := h.desc.Class == abi.ClassWLAN && h.desc.Interfaces[iface] == "ap"
	switch {
	case !ok:
		return -abi.EINVAL
	case ap && !abi.ValidStationsReport(m):
		return -abi.EINVAL
	case !ap && !abi.ValidReport(m):
		return -abi.EINVAL
	}
	if h.reports[iface] == nil {
		h.reports[iface] = map[string]any{}
	}
	maps.Copy(h.reports[iface], m)
	return 0
}
