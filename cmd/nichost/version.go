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
			v := "(devel)"
			if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
				v = bi.Main.Version
			}
			fmt.Fprintf(cmd.OutOrStdout(), "nichost %s\nplugin ABI %s\n%s %s/%s\n", v, abi.VersionString(abi.Version), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
