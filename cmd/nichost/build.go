package main

import (
	"fmt"
	"os"

	"github.com/nichost/nichost/host/build"
	"github.com/spf13/cobra"
)

func newBuild() *cobra.Command {
	var cacheDir, reload string
	var watching bool
	cmd := &cobra.Command{
		Use:   "build DIR...",
		Short: "Build driver plugins from Go or C source into WebAssembly (cached by content)",
		Long: `Build each plugin directory into a WebAssembly reactor module. A directory
is a Go plugin (a main package using abi/guest, built for wasip1/wasm) unless
it holds a build manifest, nichost-plugin.yaml, which makes it a C plugin
built with clang for wasm32-wasi together with nichost's C SDK (nic.h, nic.c,
built into nichost):

  language: c             # required; only "c" for now
  sources: [lan.c, phy.c] # default: every *.c file in the directory
  cflags: [-DFOO=1]       # extra compiler flags
  sdk: true               # default true: compile and link the C SDK

A C plugin needs clang, lld, wasi-libc and the wasm32 compiler runtime
(Debian: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32);
$NICHOST_CLANG names another clang. Results are cached by a hash of every
input, so an unchanged plugin is not built again; the path of the module is
printed.

--watch (one DIR) builds again after every change to the directory and asks
the running daemon to reload the plugin built from it (--reload NAME, or
every plugin whose configured source is DIR), printing the new generation.
A build that fails is printed and the running plugin is left alone.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b := &build.Builder{CacheDir: cacheDir, Progress: func(msg string) { fmt.Fprintln(cmd.ErrOrStderr(), msg) }}
			if watching {
				if len(args) != 1 {
					return usage("build --watch takes one directory")
				}
				return watch(cmd.Context(), cmd, b, args[0], reload)
			}
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
	cmd.Flags().BoolVar(&watching, "watch", false, "rebuild on every change and reload the plugin into the running daemon")
	cmd.Flags().StringVar(&reload, "reload", "", "with --watch: the daemon's plugin to reload (default: those whose source is DIR)")
	return cmd
}
