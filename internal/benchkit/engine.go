package benchkit

import (
	"github.com/nichost/nichost/host"
)

// The engine is a parameter of every WASM figure: each rig takes the
// engine's name and makes its host with hostOptions. Which engines a run
// measures is decided here alone.

// setEngine makes o run WASM plugins on engine ("wazero", "wasmtime"); the
// host refuses an engine this build lacks (no `wasmtime` build tag), and
// its error is the reason the report shows.
func setEngine(o *host.Options, engine string) { o.Engine = engine }

// hostOptions is o set to run WASM plugins on engine; "" leaves the
// choice to the host (its default, or $NICHOST_ENGINE), as the go test wrappers do so that a test pass on an engine runs
// them on it.
func hostOptions(engine string, o host.Options) (host.Options, error) {
	if engine == "" {
		return o, nil
	}
	setEngine(&o, engine)
	return o, nil
}

// engineStatus is whether an engine can be measured in this build.
type engineStatus struct {
	Name   string
	Reason string // why not; "" when it can
}

// engines probes every engine of AllEngines: one whose host cannot be
// made (hostOptions refuses it, or host.New does) is reported with the
// reason.
func engines(cacheDir string) []engineStatus {
	var out []engineStatus
	for _, e := range AllEngines {
		st := engineStatus{Name: e}
		o, err := hostOptions(e, host.Options{CacheDir: cacheDir, Logger: discard})
		if err == nil {
			var h *host.Host
			if h, err = host.New(o); err == nil {
				h.Close()
			}
		}
		if err != nil {
			st.Reason = err.Error()
		}
		out = append(out, st)
	}
	return out
}
