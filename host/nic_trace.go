package host

import (
	"maps"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/internal/pcapng"
)

// config(trace="file.pcapng") is the host's: frames are recorded where
// they cross into and out of the driver.

// takeTrace splits a host-handled trace setting off kw. It opens the file
// at once, so a bad path fails before anything changes.
func (n *NIC) takeTrace(kw KW) (rest KW, tr *pcapng.Writer, stop bool, err error) {
	v, ok := kw["trace"]
	path, isPath := v.(string)
	if !ok || !(isPath || v == nil || v == false) {
		return kw, nil, false, nil // absent, or flags for the driver
	}
	rest = maps.Clone(kw)
	delete(rest, "trace")
	if path == "" {
		return rest, nil, true, nil
	}
	link := uint16(pcapng.LinkEthernet)
	if n.Class() == abi.ClassPPP {
		link = pcapng.LinkRaw
	}
	if tr, err = pcapng.Create(path, link, n.name); err != nil {
		return nil, nil, false, abi.OSError(abi.EIO, "%v", err)
	}
	return rest, tr, false, nil
}

// setTracer replaces the NIC's tracer (nil and stop: tracing ends).
func (n *NIC) setTracer(tr *pcapng.Writer, stop bool) {
	if tr == nil && !stop {
		return
	}
	n.mu.Lock()
	old := n.trace
	n.trace = tr
	n.mu.Unlock()
	if old != nil {
		old.Close()
	}
}

// traceFrame records a frame if the NIC is being traced.
func (n *NIC) traceFrame(frame []byte, inbound bool) {
	n.mu.Lock()
	t := n.trace
	n.mu.Unlock()
	if t != nil {
		t.Record(frame, inbound, time.Now())
	}
}
