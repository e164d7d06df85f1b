package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/nichost/nichost/host/conformance"
	"github.com/nichost/nichost/simnet/devices"
)

func newTest() *cobra.Command {
	var sim, engine string
	cmd := &cobra.Command{
		Use:   "test DIR --sim NAME",
		Short: "Build a driver plugin and run the AbstractNIC conformance suite on a simulated device",
		Long: `Build the plugin in DIR (Go or C source, see "nichost build"; or take a
.wasm file) and run the conformance suite of its class against a simulated
device on a simulated LAN with a router (DHCP, DNS, HTTP), printing PASS or
FAIL per check. No hardware, no root. Simulators: ` + devices.List(),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, ok := devices.Lookup(sim)
			if !ok {
				return fmt.Errorf("test: unknown simulator %q (have: %s)", sim, devices.List())
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "conformance suite for %s on the %s simulator\n", s.Class, sim)
			plog := newPluginLog(conformance.PluginName)
			results, err := conformance.Run(cmd.Context(), conformance.Config{Source: args[0], Class: s.Class, Device: s.Conformance, Logger: plog.Logger(), Engine: engine},
				func(r conformance.Result) {
					switch {
					case r.Skipped != "":
						fmt.Fprintf(out, "SKIP  %s: %s\n", r.Name, r.Skipped)
					case r.Err != nil:
						fmt.Fprintf(out, "FAIL  %s (%v, ABI.md %s): %v\n", r.Name, r.Duration.Round(time.Millisecond), r.Section, r.Err)
					default:
						fmt.Fprintf(out, "PASS  %s (%v, ABI.md %s)\n", r.Name, r.Duration.Round(time.Millisecond), r.Section)
					}
				})
			if err != nil {
				return err
			}
			failed, skipped := 0, 0
			for _, r := range results {
				switch {
				case r.Skipped != "":
					skipped++
				case r.Err != nil:
					failed++
				}
			}
			fmt.Fprintf(out, "%d passed, %d failed, %d skipped\n", len(results)-failed-skipped, failed, skipped)
			switch {
			case failed > 0:
				plog.show(out)
				return fmt.Errorf("test: %d of %d checks failed", failed, len(results))
			case skipped > 0: // not passed either
				plog.show(out)
				return fmt.Errorf("test: %d of %d checks skipped", skipped, len(results))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&sim, "sim", "", "simulated device: "+devices.List())
	cmd.MarkFlagRequired("sim")
	engineFlag(cmd, &engine, "")
	return cmd
}
