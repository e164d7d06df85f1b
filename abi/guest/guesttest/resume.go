package guesttest

import (
	"fmt"

	"github.com/nichost/nichost/abi"
)

// The warm handover (ABI.md "Warm handover"): a test hands a driver's
// device from one Host to the next as a host's reload does, with Suspend
// on the old one and Options.Resume for the new one.

// startReply checks nic_start's reply: anything is allowed on a cold
// start; on a resume offer, True says the driver took the device over.
func (h *Host) startReply(reply []byte) error {
	if reply == nil {
		return nil
	}
	v, err := abi.Unmarshal(reply)
	if err != nil {
		return fmt.Errorf("guesttest: %s: %w: its reply: %v", abi.ExportStart, ErrViolation, err)
	}
	h.resumed = h.opts.Resume != nil && v == true
	return nil
}

// Resumed reports whether the driver took over the running device that
// Options.Resume offered (nic_start replied True); false after a cold
// start.
func (h *Host) Resumed() bool { return h.resumed }

// Suspend calls nic_suspend as a host does before it replaces the
// instance, and returns the state the driver handed over (nil for None).
// A driver that declines returns its error. Make no further call into this
// Host's driver afterwards: start the next with Options.Resume set to
// abi.Resume{Reason: abi.ResumeReload, State: state}.
func (h *Host) Suspend() ([]byte, error) {
	b, err := h.run(abi.ExportSuspend, nil, func() int32 { return h.mod.Suspend(0) })
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, nil
	}
	v, err := abi.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("guesttest: %s: %w: its reply: %v", abi.ExportSuspend, ErrViolation, err)
	}
	switch s := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		if len(s) > abi.MaxResumeState {
			return nil, fmt.Errorf("guesttest: %s: %w: %d bytes of state, more than %d", abi.ExportSuspend, ErrViolation, len(s), abi.MaxResumeState)
		}
		return s, nil
	}
	return nil, fmt.Errorf("guesttest: %s: %w: it replied %s; the state is bytes or None", abi.ExportSuspend, ErrViolation, abi.TypeName(v))
}
