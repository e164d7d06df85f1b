package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/internal/supervise"
)

// errDescribed ends Describe's instance once it has described itself.
var errDescribed = errors.New("described")

// Describe returns what a module declares about itself (nic_describe,
// after the version handshake and the checks of the export and import
// lists): a .wasm file, or a Go or C source directory the host builds. The
// instance is stopped before nic_start, so nothing is granted and no NIC
// is made; the host's signature policy applies as at load. `nichost plugin
// sign` signs the declaration it returns.
func (h *Host) Describe(ctx context.Context, source string) (abi.Description, error) {
	const name = "describe"
	if err := h.errClosed("describe"); err != nil {
		return abi.Description{}, err
	}
	var info LoadInfo
	limits := h.opts.Limits
	m, err := h.prepare(ctx, name, source, limits, &info)
	if err != nil {
		return abi.Description{}, &PluginError{Plugin: source, Op: "describe", Err: err}
	}
	var desc abi.Description
	check := m.Declared
	m.Declared = func(d abi.Description) error {
		if check != nil {
			if err := check(d); err != nil {
				return err
			}
		}
		desc = d
		return errDescribed
	}
	cfg := config.PluginConfig{Name: name, Source: source}
	p := &Plugin{h: h, name: name, cfg: cfg, limits: limits, log: h.log.With("plugin", source), digest: info.Digest, engine: info.Engine}
	p.sup = supervise.New(name, limits, p.log, h.epoch, (*hooks)(p), m)
	err = p.sup.Start()
	p.sup.Close()
	if !errors.Is(err, errDescribed) {
		if err == nil { // cannot happen: the check above ends every start
			err = fmt.Errorf("the instance started")
		}
		return abi.Description{}, &PluginError{Plugin: source, Op: "describe", Err: err}
	}
	return desc, nil
}
