package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/nichost/nichost/abi"
)

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the versions of nichost, its plugin ABI and Go",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "nichost %s\nplugin ABI %s\n%s %s/%s\n", nichostVersion(), abi.VersionString(abi.Version), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

// version is set by a release build (-ldflags "-X main.version=V").
var version string

// nichostVersion is the release's version (nichost release stamps it),
// else the module version the binary was built from, "(devel)" for a
// build from a checkout.
func nichostVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
