package main

import (
	"github.com/spf13/cobra"

	"github.com/nichost/nichost/host"
)

// engineFlag adds --engine, the WebAssembly engine of the host a command
// makes (host.Options.Engine), to cmd.
func engineFlag(cmd *cobra.Command, p *string, also string) {
	cmd.Flags().StringVar(p, "engine", "", "WebAssembly engine: wazero (the default) or wasmtime, in a nichost built with -tags wasmtime (needs cgo and gcc); default $"+host.EngineEnv+also)
}
