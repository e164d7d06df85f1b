package main

import (
	"io"
	"net"
	"os"

	"github.com/spf13/cobra"

	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/internal/control"
)

// newNC is `nichost nc HOST PORT`: a TCP connection made by the daemon
// through nichost's own stack (the plugins' interfaces, not the board's
// kernel), with stdin sent and what comes back written to stdout.
func newNC() *cobra.Command {
	var nic string
	cmd := &cobra.Command{
		Use:   "nc HOST PORT",
		Short: "Connect through the daemon's network stack, like netcat",
		Long: `Ask the running daemon to open a TCP connection through nichost's own
network stack (its plugins' interfaces) and connect stdin and stdout to it:
a way to test a board's network as its drivers see it. --nic sends it
through one NIC. When stdin ends, the sending side is closed; the command
ends when the far end closes.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := control.NewClient(socketFlag(cmd))
			conn, err := c.DialNIC(cmd.Context(), nic, "tcp", net.JoinHostPort(args[0], args[1]))
			if err != nil {
				return err
			}
			defer conn.Close()
			in := cmd.InOrStdin()
			if in == nil {
				in = os.Stdin
			}
			go func() {
				io.Copy(conn, in)
				conn.(interface{ CloseWrite() error }).CloseWrite()
			}()
			_, err = io.Copy(cmd.OutOrStdout(), conn)
			return err
		},
	}
	cmd.Flags().StringVar(&nic, "nic", "", "the NIC to connect through (default: the route the stack picks)")
	return cmd
}

// socketFlag is the daemon's control socket for a client command: the
// --socket flag, else $NICHOST_SOCKET, else the default.
func socketFlag(cmd *cobra.Command) string {
	if f := cmd.Flags().Lookup("socket"); f != nil && f.Changed {
		return f.Value.String()
	}
	if s := os.Getenv("NICHOST_SOCKET"); s != "" {
		return s
	}
	return config.DefaultControlSocket
}
