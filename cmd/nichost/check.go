package main

import (
	"fmt"

	"github.com/nichost/nichost/host/config"
	"github.com/spf13/cobra"
)

func newCheck() *cobra.Command {
	return &cobra.Command{
		Use:   "check CONFIG",
		Short: "Validate a configuration file without loading anything",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.LoadConfig(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok, %d plugin(s)\n", args[0], len(cfg.Plugins))
			for _, p := range cfg.Plugins {
				fmt.Fprintf(cmd.OutOrStdout(), "  %s: %s, %d bus grant(s)\n", p.Name, p.Source, len(p.Buses))
			}
			return nil
		},
	}
}
