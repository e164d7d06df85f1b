package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nichost/nichost/internal/benchkit"
)

func newBench() *cobra.Command {
	var quick, asJSON bool
	var htmlFile, cacheDir string
	var only []string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure what the sandbox costs: calls, frames, builds, starts, reloads, TCP",
		Long: fmt.Sprintf(`Measure nichost's figures on this machine, each in the same run as its
baseline (the native build of the same driver, the core without a plugin,
...), and print them as a table: figure, value, unit, baseline, ratio and
what it measures. docs/benchmarks.md lists every figure and the JSON shape.

It builds the plugins from the source tree it runs in (as demo does). Its
measuring loops take %v (--quick: %v); with the rigs' start-up and the
builds and compiles the caches do not hold yet, a run takes about 3
minutes on a 2-core machine (--quick: under a minute). Progress goes to
stderr: a line as each measurement starts, and as it ends a line per
figure. --only picks the measurements that make the figures named; the
others are null.

A figure this build or machine cannot measure is null with the reason: the
wasmtime engine needs a build with -tags wasmtime, the C driver clang for
wasm32-wasi, the TAP figures root. A measurement that fails is null with
its error, and the command then exits 1 after printing the report.`, benchkit.Budget(false).Round(time.Second), benchkit.Budget(true).Round(time.Second)),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			root, err := moduleRoot()
			if err != nil {
				return fmt.Errorf("bench: run it from a nichost source tree (it builds its plugins from source): %w", err)
			}
			stderr := cmd.ErrOrStderr()
			rep, err := benchkit.Run(cmd.Context(), benchkit.Options{
				Root: root, Quick: quick, CacheDir: cacheDir, Only: only,
				Progress: func(msg string) { fmt.Fprintln(stderr, "bench:", msg) },
			})
			if err != nil {
				return err
			}
			if htmlFile != "" {
				var b bytes.Buffer
				if err := rep.WriteHTML(&b); err != nil {
					return err
				}
				if err := os.WriteFile(htmlFile, b.Bytes(), 0o644); err != nil {
					return fmt.Errorf("bench: %w", err)
				}
				fmt.Fprintln(stderr, "bench: wrote", htmlFile)
			}
			if asJSON {
				j, err := rep.JSON()
				if err != nil {
					return err
				}
				cmd.OutOrStdout().Write(j)
			} else if err := rep.WriteTable(cmd.OutOrStdout()); err != nil {
				return err
			}
			if err := cmd.Context().Err(); err != nil {
				return fmt.Errorf("bench: interrupted: %w", err)
			}
			if failed := rep.Failed(); len(failed) > 0 {
				var names []string
				for _, l := range failed {
					names = append(names, l.Name())
				}
				return fmt.Errorf("bench: %d figure(s) failed: %s (the report says why)", len(failed), strings.Join(names, ", "))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&quick, "quick", false, "short budgets (under a minute in all): rougher figures, the same report")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as one JSON object")
	cmd.Flags().StringVar(&htmlFile, "html", "", "also write a self-contained HTML report (inline SVG charts) to `FILE`")
	cmd.Flags().StringSliceVar(&only, "only", nil, "measure only the steps that make these figures (keys, comma-separated); the others are null")
	cmd.Flags().StringVar(&cacheDir, "cache", "", "nichost cache of the warm figures (default: $NICHOST_CACHE or the user cache dir)")
	return cmd
}
