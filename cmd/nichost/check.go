package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/sign"
)

func newCheck() *cobra.Command {
	return &cobra.Command{
		Use:   "check CONFIG",
		Short: "Validate a configuration file without loading anything",
		Long: `check reads a configuration file and checks every field, naming the file and
line of the first bad one. With signatures.require it also reads the keys
and checks each plugin's source as a start would before loading it: the
signature file, the module's bytes, the key (the module's declaration is
checked when it loads). Nothing is built, compiled or started.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.LoadConfig(args[0])
			if err != nil {
				return err
			}
			policy, err := signaturePolicy(cfg.Signatures)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok, %d plugin(s)\n", args[0], len(cfg.Plugins))
			refused := 0
			for _, p := range cfg.Plugins {
				line := fmt.Sprintf("  %s: %s, %d bus grant(s)", p.Name, p.Source, len(p.Buses))
				if policy != nil {
					switch sig, err := checkSignature(policy, p.Source); {
					case err != nil:
						refused++
						line += "\n    REFUSED: " + err.Error()
					case sig != "":
						line += ", signed by " + sig
					default:
						line += ", a source directory (allow_source)"
					}
				}
				fmt.Fprintln(cmd.OutOrStdout(), line)
			}
			if refused > 0 {
				return fmt.Errorf("%s: %d plugin(s) would be refused for their signatures", args[0], refused)
			}
			return nil
		},
	}
}

// checkSignature is the policy's verdict on a configured source: the
// signing key's ID, "" for an admitted source directory.
func checkSignature(policy *sign.Policy, source string) (string, error) {
	st, err := os.Stat(source)
	if err != nil {
		return "", err
	}
	var wasm []byte
	if !st.IsDir() {
		if wasm, err = os.ReadFile(source); err != nil {
			return "", err
		}
	}
	sig, err := policy.Check(source, st.IsDir(), wasm)
	return sig.Key, err
}
