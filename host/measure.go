package host

import (
	"context"
	"fmt"
	"time"

	"github.com/nichost/nichost/host/internal/engine"
)

// TimeExportCalls calls the running instance's emptiest export,
// nic_abi_version, n times in a row on the plugin's goroutine, each under
// the plugin's call deadline as every call the host makes into a plugin
// is, and returns the time the n calls took: what entering the guest costs
// (calling the native driver, for a native plugin), without any argument
// encoding. It is for benchmarks (`nichost bench`, the go test
// benchmarks). It waits, as a control call does, until an instance is up
// or ctx is done; an instance that faults is restarted and the fault
// returned.
func (p *Plugin) TimeExportCalls(ctx context.Context, n int) (time.Duration, error) {
	if err := p.h.errClosed("measure"); err != nil {
		return 0, err
	}
	timeout := p.limits.CallTimeout
	v, err := p.do(ctx, "measure", func() (any, error) {
		inst := p.sup.Instance()
		t0 := time.Now()
		for range n {
			cctx, cancel := context.WithTimeout(context.Background(), timeout)
			_, err := inst.ABIVersion(cctx)
			cancel()
			if err != nil {
				return nil, err
			}
		}
		return time.Since(t0), nil
	})
	if err != nil {
		if engine.IsFault(err) {
			p.Restart(ctx) // the instance is unusable after a fault
		}
		return 0, fmt.Errorf("host: %s: measure: %w", p.name, err)
	}
	return v.(time.Duration), nil
}
