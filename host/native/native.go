// Package native runs a Go SDK driver (a guest.Driver) compiled into the
// host process instead of as a WASM module. The driver gets the same ABI
// calls, grants, supervision and NICs as a WASM plugin, without the sandbox:
// no memory limit, and a driver that loops cannot be interrupted. It is the
// baseline of the WASM-versus-native benchmarks, the quickest way to debug a
// driver with ordinary Go tools, and what the drivers' test rigs use to run
// the same driver both ways.
//
// It is the one package under host/ that imports the driver SDK: the host
// itself speaks only the contract in package abi.
package native

import (
	"context"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
)

// Load starts a plugin whose instances are drivers made by newDriver (called
// once per instance: at load and after every restart).
func Load(ctx context.Context, h *host.Host, cfg config.PluginConfig, newDriver func() guest.Driver) (*host.Plugin, error) {
	return h.LoadNative(ctx, cfg, Exports(newDriver))
}

// Exports adapts newDriver to host.Host.LoadNative.
func Exports(newDriver func() guest.Driver) func(abi.Imports) abi.Exports {
	return func(imp abi.Imports) abi.Exports { return guest.NewModule(newDriver(), imp) }
}
