package guesttest

import (
	"log/slog"
	"maps"
	"slices"

	"github.com/nichost/nichost/abi"
)

// LinkState is one link report of the driver (the link import).
type LinkState struct {
	Up   bool
	Type abi.LinkType // abi.LinkEthernet or abi.LinkIP
	MTU  int          // 0: the default
}

// LogLine is one line the driver logged.
type LogLine struct {
	Level int // abi.LogDebug, abi.LogInfo, abi.LogWarn or abi.LogError
	Msg   string
}

// String is the line as the host's log shows it: "INFO lan: link up".
func (l LogLine) String() string { return slog.Level(l.Level).String() + " " + l.Msg }

// Frames are the frames the driver handed to the core on iface with
// rx_push or rx_push_batch, oldest first; nil for an interface the driver
// does not have.
func (h *Host) Frames(iface int) [][]byte {
	if iface < 0 || iface >= len(h.frames) {
		return nil
	}
	return slices.Clone(h.frames[iface])
}

// Link is the last link state the driver reported for iface; the zero
// LinkState (down) if it reported none.
func (h *Host) Link(iface int) LinkState {
	l := h.Links(iface)
	if len(l) == 0 {
		return LinkState{}
	}
	return l[len(l)-1]
}

// Links are every link report for iface, oldest first.
func (h *Host) Links(iface int) []LinkState {
	if iface < 0 || iface >= len(h.links) {
		return nil
	}
	return slices.Clone(h.links[iface])
}

// Reported is what the driver told the core with report() on iface, the
// keys of all its reports merged; nil if it reported nothing.
func (h *Host) Reported(iface int) map[string]any {
	if iface < 0 || iface >= len(h.reports) {
		return nil
	}
	return maps.Clone(h.reports[iface])
}

// Logs are the lines the driver logged, oldest first.
func (h *Host) Logs() []LogLine { return slices.Clone(h.logs) }
