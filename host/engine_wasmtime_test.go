//go:build wasmtime

package host_test

import (
	"testing"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
)

// With the tag, both engines are there: each host runs the one it asks
// for, whatever NICHOST_ENGINE says, and the plugin works on both.
func TestEngine_BothInOneBuild(t *testing.T) {
	t.Setenv(host.EngineEnv, "wasmtime")
	for _, e := range host.Engines() {
		t.Run(e, func(t *testing.T) {
			h, err := host.New(host.Options{Engine: e, Logger: quiet()})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			p, _, err := h.Load(ctxT(t), config.PluginConfig{Name: "full", Source: plugin("full")})
			if err != nil {
				t.Fatal(err)
			}
			if p.Engine() != e {
				t.Fatalf("the plugin runs on %q, want %q", p.Engine(), e)
			}
			nic := p.NICs()[0]
			if err := nic.SetActive(ctxT(t), true); err != nil {
				t.Fatal(err)
			}
			if up, err := nic.Active(ctxT(t)); err != nil || !up {
				t.Fatalf("active() = %v, %v after active(True) on %s", up, err, e)
			}
		})
	}
}
