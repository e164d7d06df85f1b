package benchkit

import (
	"github.com/nichost/nichost/host"
)

// The engine is a parameter of every WASM figure: each rig takes the
// engine's name and puts it in host.Options.Engine; "" leaves the choice
// to the host (its default, or $NICHOST_ENGINE), as the go test wrappers
// want, so that a test pass on an engine runs them on it. Which engines a
// run measures is decided here alone.

// engineStatus is whether an engine can be measured in this build.
type engineStatus struct {
	Name   string
	Reason string // why not; "" when it can
}

// engines probes every engine of AllEngines: one whose host cannot be
// made (host.New refuses it: this build lacks it) is reported with the
// reason.
func engines(cacheDir string) []engineStatus {
	var out []engineStatus
	for _, e := range AllEngines {
		st := engineStatus{Name: e}
		h, err := host.New(host.Options{Engine: e, CacheDir: cacheDir, Logger: discard})
		if err == nil {
			h.Close()
		} else {
			st.Reason = err.Error()
		}
		out = append(out, st)
	}
	return out
}
