package host_test

import (
	"errors"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/internal/testdriver"
)

// TimeExportCalls times the calls it is asked for on a WASM and a native
// plugin, leaving the instance up, and refuses after Close.
func TestPlugin_TimeExportCalls(t *testing.T) {
	r := newRig(t, config.Limits{})
	wasm := r.load(t, "wasm", plugin("full"), noBuses)
	nat, err := r.h.LoadNative(ctxT(t), config.PluginConfig{Name: "native"}, func(imp abi.Imports) abi.Exports {
		return guest.NewModule(testdriver.New(), imp)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*host.Plugin{wasm, nat} {
		if d, err := p.TimeExportCalls(ctxT(t), 100); err != nil || d <= 0 {
			t.Errorf("%s: TimeExportCalls(100) = %v, %v", p.Name(), d, err)
		}
		if !p.State().Up {
			t.Errorf("%s: not up after the calls: %+v", p.Name(), p.State())
		}
	}
	r.h.Close()
	if _, err := wasm.TimeExportCalls(ctxT(t), 1); !errors.Is(err, host.ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}
