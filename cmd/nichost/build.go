package main

import (
	"fmt"
	"os"

	"github.com/nichost/nichost/host/build"
	"github.com/spf13/cobra"
)

func newBuild() *cobra.Command {
	var cacheDir string
	cmd := &cobra.Command{
		Use:   "build DIR...",
		Short: "Build driver plugins from Go source into WebAssembly (cached by content)",
		Long: `Build each plugin directory (a Go main package using abi/guest) for
wasip1/wasm. Results are cached by a hash of every input, so an unchanged
plugin is not built again; the path of the module is printed.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b := &build.Builder{CacheDir: cacheDir, Progress: func(msg string) { fmt.Fprintln(cmd.ErrOrStderr(), msg) }}
			for _, dir := range args {
				res, err := b.Build(cmd.Context(), dir)
				if err != nil {
					return err
				}
				how := "built"
				if res.Cached {
					how = "cached"
				}
				size := int64(0)
				if st, err := os.Stat(res.Path); err == nil {
					size = st.Size()
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s in %v, %d KiB\t%s\n", dir, how, res.Duration.Round(1e6), size>>10, res.Path)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&cacheDir, "cache", "", "build cache directory (default: $NICHOST_CACHE or the user cache dir)")
	return cmd
}
