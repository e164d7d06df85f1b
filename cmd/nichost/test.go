package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/conformance"
	"github.com/nichost/nichost/plugins/lan/landev"
	"github.com/nichost/nichost/plugins/wiznet/wdev"
)

// simulators are the simulated devices a driver can be tested against, by
// name, with the class of driver each serves.
var simulators = map[string]struct {
	class  string
	device conformance.NewDevice
	about  string
}{
	"lan8720": {abi.ClassLAN, landev.Conformance, "LAN8720-style PHY over MDIO, MAC port on the simulated LAN"},
	"w5500":   {abi.ClassWIZNET5K, wdev.Conformance, "W5500 over SPI with RSTn and INTn, on the simulated LAN"},
}

func newTest() *cobra.Command {
	var sim string
	cmd := &cobra.Command{
		Use:   "test DIR --sim NAME",
		Short: "Build a driver plugin and run the AbstractNIC conformance suite on a simulated device",
		Long: `Build the plugin in DIR (Go source, or a .wasm file) and run the conformance
suite of its class against a simulated device on a simulated LAN with a
router (DHCP, DNS, HTTP), printing PASS or FAIL per check. No hardware, no
root. Simulators: ` + simulatorList(),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, ok := simulators[sim]
			if !ok {
				return fmt.Errorf("test: unknown simulator %q (have: %s)", sim, simulatorList())
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "conformance suite for %s on the %s simulator\n", s.class, sim)
			results, err := conformance.Run(cmd.Context(), conformance.Config{Source: args[0], Class: s.class, Device: s.device},
				func(r conformance.Result) {
					switch {
					case r.Skipped != "":
						fmt.Fprintf(out, "SKIP  %s: %s\n", r.Name, r.Skipped)
					case r.Err != nil:
						fmt.Fprintf(out, "FAIL  %s (%v): %v\n", r.Name, r.Duration.Round(time.Millisecond), r.Err)
					default:
						fmt.Fprintf(out, "PASS  %s (%v)\n", r.Name, r.Duration.Round(time.Millisecond))
					}
				})
			if err != nil {
				return err
			}
			failed := 0
			for _, r := range results {
				if r.Err != nil || r.Skipped != "" {
					failed++
				}
			}
			fmt.Fprintf(out, "%d passed, %d failed\n", len(results)-failed, failed)
			if failed > 0 {
				return fmt.Errorf("test: %d of %d checks failed", failed, len(results))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&sim, "sim", "", "simulated device: "+simulatorList())
	cmd.MarkFlagRequired("sim")
	return cmd
}

func simulatorList() string {
	var names []string
	for n, s := range simulators {
		names = append(names, n+" ("+s.class+")")
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
