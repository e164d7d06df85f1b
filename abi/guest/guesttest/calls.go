package guesttest

import (
	"fmt"
	"slices"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// KW holds keyword arguments, as in config(mac=b"...", trace=1). Pass it
// last among the arguments of Call.
type KW map[string]any

// Call calls method on interface 0 the way the host does, and returns the
// driver's result (decoded with abi.Unmarshal: ints are int64, lists
// []any) or the error it raised (an *abi.Error). See CallOn.
func (h *Host) Call(method string, args ...any) (any, error) {
	return h.CallOn(0, method, args...)
}

// CallOn calls method on interface iface the way the host does. A KW
// last among args holds the keyword arguments. The AbstractNIC methods
// "active", "connect", "disconnect", "isconnected", "scan", "status" and
// "config" go to their own exports with [args, kwargs]; any other name is
// a class-specific method and goes to nic_call with [name, args, kwargs].
//
// Arguments that the ABI cannot encode give a TypeError, as on the host. A
// breach of the ABI by the driver's side returns an error wrapping
// ErrViolation.
func (h *Host) CallOn(iface int, method string, args ...any) (any, error) {
	pos, kw := []any{}, map[string]any{}
	if len(args) > 0 {
		if k, ok := args[len(args)-1].(KW); ok {
			args, kw = args[:len(args)-1], map[string]any(k)
		}
	}
	pos = append(pos, args...)
	i := int32(iface)
	var export string
	var fn func(int32) int32
	switch method {
	case "active":
		export, fn = abi.ExportActive, h.mod.Active
	case "connect":
		export, fn = abi.ExportConnect, h.mod.Connect
	case "disconnect":
		export, fn = abi.ExportDisconnect, h.mod.Disconnect
	case "isconnected":
		export, fn = abi.ExportIsConnected, h.mod.IsConnected
	case "scan":
		export, fn = abi.ExportScan, h.mod.Scan
	case "status":
		export, fn = abi.ExportStatus, h.mod.Status
	case "config":
		export, fn = abi.ExportConfig, h.mod.Config
	default:
		return h.control(abi.ExportCall, []any{method, pos, kw}, func() int32 { return h.mod.Call(i) })
	}
	return h.control(export, []any{pos, kw}, func() int32 { return fn(i) })
}

// control runs a control export with args and decodes its reply.
func (h *Host) control(export string, args any, fn func() int32) (any, error) {
	b, err := abi.Marshal(args)
	if err != nil {
		return nil, abi.TypeError("%v", err)
	}
	reply, err := h.run(export, b, fn)
	if err != nil || reply == nil {
		return nil, err
	}
	v, err := abi.Unmarshal(reply)
	if err != nil {
		return nil, fmt.Errorf("guesttest: %s: %w: its result is not a valid ABI value: %v", export, ErrViolation, err)
	}
	return v, nil
}

// run makes one call into the module with the given arguments (CBOR) and
// checks its status as the host does: it returns the reply's bytes (nil if
// none was set) or the raised error.
func (h *Host) run(export string, args []byte, fn func() int32) ([]byte, error) {
	h.begin(args)
	rc := fn()
	if h.bad != nil {
		return nil, fmt.Errorf("guesttest: %s: %w: %v", export, ErrViolation, h.bad)
	}
	switch rc {
	case abi.StatusOK:
		if !h.replied {
			return nil, nil
		}
		return h.reply, nil
	case abi.StatusError:
		return nil, h.raisedErr(export)
	}
	return nil, fmt.Errorf("guesttest: %s: %w: it returned %d; control exports return 0 or -1", export, ErrViolation, rc)
}

// begin resets the per-call state.
func (h *Host) begin(args []byte) {
	h.args = args
	h.reply, h.replied, h.raised, h.bad = h.reply[:0], false, nil, nil
	h.slept = 0
}

// raisedErr is the error of a call that returned -1.
func (h *Host) raisedErr(export string) error {
	if h.raised == nil {
		return fmt.Errorf("guesttest: %s: %w: it returned -1 without calling raise", export, ErrViolation)
	}
	return h.raised
}

// Poll calls nic_poll with events at the current time, as the host does
// when they happen; it returns the error the driver raised. With
// abi.EventTimer it first clears the wake-up request, as the host does
// before a timer poll. Advance and Next poll by themselves; Poll is for a
// test that makes the events itself.
func (h *Host) Poll(events abi.Event) error {
	if events&abi.EventTimer != 0 {
		h.wake = -1
	}
	h.notified.And(^uint32(events))
	if events&abi.EventGPIO != 0 {
		for _, g := range h.grants {
			g.fresh = false
		}
	}
	_, err := h.run(abi.ExportPoll, nil, func() int32 { return h.mod.Poll(uint32(events)) })
	return err
}

// Transmit offers frame to interface 0 as the host does; see TransmitOn.
func (h *Host) Transmit(frame []byte) error { return h.TransmitOn(0, frame) }

// TransmitOn offers frame to interface iface as the host does: copied into
// the transmit buffer the driver registered, then nic_transmit. It returns
// nil when the driver took the frame, guest.ErrBusy when it answered busy
// (a host would offer the frame again after the next poll; the test does
// that itself), or the error the driver raised.
func (h *Host) TransmitOn(iface int, frame []byte) error {
	if len(frame) > len(h.txbuf) {
		return fmt.Errorf("guesttest: a %d-byte frame does not fit the %d-byte transmit buffer", len(frame), len(h.txbuf))
	}
	buf := h.txbuf[:copy(h.txbuf, frame)]
	h.begin(nil)
	rc := h.mod.Transmit(int32(iface), buf)
	if h.bad != nil {
		return fmt.Errorf("guesttest: %s: %w: %v", abi.ExportTransmit, ErrViolation, h.bad)
	}
	switch rc {
	case abi.StatusOK:
		return nil
	case abi.TransmitBusy:
		return guest.ErrBusy
	case abi.StatusError:
		return h.raisedErr(abi.ExportTransmit)
	}
	return fmt.Errorf("guesttest: %s: %w: it returned %d; it returns 0, 1 or -1", abi.ExportTransmit, ErrViolation, rc)
}

// TransmitBatch offers frames to interface 0 in one nic_transmit_batch
// call; see TransmitBatchOn.
func (h *Host) TransmitBatch(frames ...[]byte) (int, error) { return h.TransmitBatchOn(0, frames...) }

// TransmitBatchOn offers frames (1 to abi.MaxTxBatch, 1 to abi.MaxFrame
// bytes each) to interface iface as a host offering abi.FeatureTxBatch
// does: written as records into the transmit buffer, then one
// nic_transmit_batch call. It returns how many frames the driver took (a
// host offers the rest again at once); (0, guest.ErrBusy) when it answered
// busy (a host offers them all again after the next poll); (0, err) with
// the error it raised refusing frames[0] (a host drops that frame and
// offers the rest again). The test re-offers frames itself.
func (h *Host) TransmitBatchOn(iface int, frames ...[]byte) (int, error) {
	const export = abi.ExportTransmitBatch
	if !slices.Contains(h.features, abi.FeatureTxBatch) {
		return 0, fmt.Errorf("guesttest: %s: Options.WithoutFeatures leaves out %s, so the host would not call it", export, abi.FeatureTxBatch)
	}
	if len(frames) == 0 || len(frames) > abi.MaxTxBatch {
		return 0, fmt.Errorf("guesttest: %s: %d frames; a host offers 1 to %d", export, len(frames), abi.MaxTxBatch)
	}
	buf := h.txbuf[:0:len(h.txbuf)]
	for i, f := range frames {
		if len(f) == 0 || len(f) > abi.MaxFrame {
			return 0, fmt.Errorf("guesttest: %s: frame %d has %d bytes; a host offers 1 to %d", export, i, len(f), abi.MaxFrame)
		}
		if len(buf)+abi.FrameRecordHeader+len(f) > len(h.txbuf) {
			return 0, fmt.Errorf("guesttest: %s: frames[:%d] do not fit the %d-byte transmit buffer with their record headers", export, i+1, len(h.txbuf))
		}
		buf = abi.AppendFrame(buf, f)
	}
	h.begin(nil)
	rc := h.mod.TransmitBatch(int32(iface), int32(len(frames)), buf)
	switch {
	case h.bad != nil:
		return 0, fmt.Errorf("guesttest: %s: %w: %v", export, ErrViolation, h.bad)
	case rc == abi.StatusError:
		return 0, h.raisedErr(export)
	case rc == 0:
		return 0, guest.ErrBusy
	case rc > 0 && int(rc) <= len(frames):
		return int(rc), nil
	}
	return 0, fmt.Errorf("guesttest: %s: %w: it returned %d for %d frames; it returns 0 to %d or -1", export, ErrViolation, rc, len(frames), len(frames))
}
