package guest

import (
	"example.com/abi10/abi"
)

// Trace is a driver's config(trace=...) setting: MicroPython's flag bits
// for logging the driver's events and frames. (A trace file name is the
// host's: it writes pcapng and never passes the name on.)
type Trace int64

// Trace flags, MicroPython's numbering.
const (
	TraceEvents Trace = 1 << 0 // the driver's state changes
	TraceTx     Trace = 1 << 1 // a line per sent frame
	TraceRx     Trace = 1 << 2 // a line per received frame
	TraceFull   Trace = 1 << 3 // with TraceTx/TraceRx: the frame's first 128 bytes too

	traceAll = TraceEvents | TraceTx | TraceRx | TraceFull
)

// ParseTrace checks a config(trace=...) value: an int made of the flags
// above (TypeError for another type, ValueError for other bits).
func ParseTrace(v any) (Trace, error) {
	n, err := abi.Int("trace", v)
	if err != nil {
		return 0, err
	}
	if n < 0 || n&^int64(traceAll) != 0 {
		return 0, abi.ValueError("trace: %d is not a set of flags (1 events, 2 tx, 4 rx, 8 full data), or a file name for the host", n)
	}
	return Trace(n), nil
}

// Has reports whether all of flags are set.
func (t Trace) Has(flags Trace) bool { return t&flags == flags }

// LogFrame logs one frame at debug level for a driver tracing frames:
// direction, length, addresses and EtherType, and with TraceFull the first
// 128 bytes. driver prefixes the line ("lan", "w5500").
func (e *Env) LogFrame(t Trace, driver, dir string, f []byte) {
	if len(f) < 14 {
		e.Logf(abi.LogDebug, "%s: %s %d bytes (runt)", driver, dir, len(f))
		return
	}
	var data []byte
	if t.Has(TraceFull) {
		const hex = "0123456789abcdef"
		data = append(data, " data"...)
		for _, b := range f[:min(len(f), 128)] {
			data = append(data, ' ', hex[b>>4], hex[b&15])
		}
	}
	e.Logf(abi.LogDebug, "%s: %s %d bytes %x > %x type %04x%s", driver, dir, len(f), f[6:12], f[0:6], uint16(f[12])<<8|uint16(f[13]), data)
}
