// Command nichost runs network interface drivers as sandboxed WebAssembly
// plugins: it builds them, checks configurations, runs them as a daemon and
// shows what they do on simulated hardware.
//
//	nichost demo              the plugin host on simulated hardware
//	nichost build DIR...      build plugins from Go or C source (cached)
//	nichost test DIR --sim S  run the conformance suite on a simulated device
//	nichost check CONFIG      validate a configuration file
//	nichost run -c CONFIG     the daemon: run the configured plugins, serve the control API
//	nichost nc HOST PORT      a TCP connection through the daemon's network stack
//	nichost nic ls | nic NAME METHOD [ARGS]   AbstractNIC calls on the daemon's NICs
//	nichost hostname|country|ipconfig|phy-mode [VALUE]   the network module's functions
//	nichost plugin ls|reload|restart, events, logs [-f], shell
//	nichost completion bash|zsh|fish   shell completion scripts
//	nichost bench [--quick]   measure the sandbox's costs (docs/benchmarks.md)
//	nichost version           versions of nichost, its ABI and Go
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/nichost/nichost/host/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot().ExecuteContext(ctx); err != nil {
		if ee, ok := err.(*exitError); !ok || !ee.quiet {
			fmt.Fprintln(os.Stderr, "nichost:", err)
		}
		stop()
		os.Exit(exitCode(err))
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "nichost",
		Short:         "Run network interface drivers as sandboxed WebAssembly plugins",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("socket", "", "the daemon's control socket (default $NICHOST_SOCKET, else "+config.DefaultControlSocket+")")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: exitUsage, err: err} })
	root.AddCommand(newDemo(), newBuild(), newTest(), newCheck(), newRun(), newVersion(), newNC(), newBench(), newRelease())
	root.AddCommand(clientCommands()...)
	return root
}
