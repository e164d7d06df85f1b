package engine

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/nichost/nichost/abi"
)

// Native runs a plugin compiled into the host. It goes through the same
// exports and the same Imports as a WASM instance, so only the sandbox
// crossing differs. It cannot interrupt a driver that loops and has
// no memory limit: use it for benchmarks and debugging, not for untrusted
// drivers. A panic in the driver is recovered and becomes a FaultTrap.
type Native struct {
	m     abi.Exports
	batch abi.TransmitBatcher // nil when the exports have no nic_transmit_batch
}

var _ Instance = (*Native)(nil)

// NewNative wraps a plugin's exports.
func NewNative(m abi.Exports) *Native {
	n := &Native{m: m}
	n.batch, _ = m.(abi.TransmitBatcher)
	return n
}

func (n *Native) guard(export string, fn func() int32) (rc int32, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &Fault{Kind: FaultTrap, Export: export, Detail: fmt.Sprintf("panic: %v\n%s", r, debug.Stack())}
		}
	}()
	return fn(), nil
}

// ABIVersion implements Instance.
func (n *Native) ABIVersion(context.Context) (uint32, error) {
	rc, err := n.guard(abi.ExportABIVersion, n.m.ABIVersion)
	return uint32(rc), err
}

// Call implements Instance.
func (n *Native) Call(_ context.Context, export string, iface int32) (int32, error) {
	var fn func(int32) int32
	switch export {
	case abi.ExportDescribe:
		return n.guard(export, n.m.Describe)
	case abi.ExportStart:
		return n.guard(export, n.m.Start)
	case abi.ExportActive:
		fn = n.m.Active
	case abi.ExportConnect:
		fn = n.m.Connect
	case abi.ExportDisconnect:
		fn = n.m.Disconnect
	case abi.ExportIsConnected:
		fn = n.m.IsConnected
	case abi.ExportScan:
		fn = n.m.Scan
	case abi.ExportStatus:
		fn = n.m.Status
	case abi.ExportConfig:
		fn = n.m.Config
	case abi.ExportCall:
		fn = n.m.Call
	default:
		return 0, fmt.Errorf("engine: %q is not a control export", export)
	}
	return n.guard(export, func() int32 { return fn(iface) })
}

// Poll implements Instance.
func (n *Native) Poll(_ context.Context, events abi.Event) (int32, error) {
	return n.guard(abi.ExportPoll, func() int32 { return n.m.Poll(uint32(events)) })
}

// Transmit implements Instance.
func (n *Native) Transmit(_ context.Context, iface int32, frame []byte) (int32, error) {
	return n.guard(abi.ExportTransmit, func() int32 { return n.m.Transmit(iface, frame) })
}

// CanBatch implements Instance.
func (n *Native) CanBatch() bool { return n.batch != nil }

// TransmitBatch implements Instance.
func (n *Native) TransmitBatch(_ context.Context, iface, count int32, records []byte) (int32, error) {
	if n.batch == nil {
		return 0, fmt.Errorf("engine: the plugin has no %s export", abi.ExportTransmitBatch)
	}
	return n.guard(abi.ExportTransmitBatch, func() int32 { return n.batch.TransmitBatch(iface, count, records) })
}

// Close implements Instance.
func (n *Native) Close(context.Context) error { return nil }
