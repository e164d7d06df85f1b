package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/nichost/nichost/internal/control"
	"github.com/nichost/nichost/internal/pyval"
)

// Exit codes of the client commands (docs/cli.md).
const (
	exitRaised      = 1 // the call raised (ValueError, OSError, ...) or failed
	exitUsage       = 2 // bad flags or arguments, a value that does not parse
	exitUnreachable = 3 // no daemon at the socket, or no permission on it
)

// exitError carries an exit code to main; quiet ones were reported
// already (the shell printed what raised).
type exitError struct {
	code  int
	err   error
	quiet bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usage(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

// exitCode is the process's exit status for err.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, control.ErrUnreachable):
		return exitUnreachable
	}
	return exitRaised
}

// clientFlags are the flags every client command takes.
type clientFlags struct {
	json bool
}

// client is the control API client of cmd, on --socket or $NICHOST_SOCKET.
func client(cmd *cobra.Command) *control.Client { return control.NewClient(socketFlag(cmd)) }

// callTimeout bounds a client command's call (the daemon bounds it too).
const callTimeout = 30 * time.Second

func callCtx(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return context.WithTimeout(cmd.Context(), callTimeout)
}

// printValue prints a call's result: as MicroPython's REPL would, or as
// the API's JSON with --json. None prints nothing for people.
func printValue(w io.Writer, v any, asJSON bool) error {
	if asJSON {
		b, err := control.EncodeValue(v)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, string(b))
		return nil
	}
	if v != nil {
		fmt.Fprintln(w, pyval.Repr(v))
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, string(b))
	return nil
}

var macRE = regexp.MustCompile(`^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$`)

// identRE is a Python identifier: the K of a K=V keyword argument.
var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// cliValue reads a value as MicroPython users write one on a command
// line: true/false, None, numbers, 02:00:00:00:00:01 (bytes, for MAC
// addresses), Python literals ('x', b'\x02', (1, 2), [..], {..}); anything
// else is the string itself (addr4=192.168.0.4/24).
func cliValue(s string) (any, error) {
	switch s {
	case "true", "True", "on":
		return true, nil
	case "false", "False", "off":
		return false, nil
	case "None", "none":
		return nil, nil
	}
	if v, ok := pyval.Names[s]; ok { // WLAN.AP, network.WLAN.SEC_WPA2, ...
		return v, nil
	}
	if macRE.MatchString(s) {
		hw, _ := net.ParseMAC(s)
		return []byte(hw), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && strings.ContainsAny(s, ".eE") && !strings.ContainsAny(s, "/:") {
		return f, nil
	}
	if s != "" && strings.ContainsRune(`'"([{`, rune(s[0])) || strings.HasPrefix(s, "b'") || strings.HasPrefix(s, `b"`) {
		v, err := pyval.Parse(s)
		if err != nil {
			return nil, usage("%q: %v", s, err)
		}
		return v, nil
	}
	return s, nil
}

// getOrSet reads [PARAM | K=V ...]: one name is a getter's argument,
// K=V pairs are keywords.
func getOrSet(args []string) ([]any, map[string]any, error) {
	if len(args) == 0 {
		return nil, nil, nil
	}
	if len(args) == 1 && !strings.Contains(args[0], "=") {
		return []any{args[0]}, nil, nil
	}
	kw := map[string]any{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, nil, usage("%q: want KEY=VALUE (or one parameter name alone)", a)
		}
		val, err := cliValue(v)
		if err != nil {
			return nil, nil, err
		}
		if s, ok := val.(string); ok && k == "dns" && strings.Contains(s, ",") {
			var list []any // dns=1.1.1.1,9.9.9.9
			for _, a := range strings.Split(s, ",") {
				list = append(list, a)
			}
			val = list
		}
		kw[k] = val
	}
	return nil, kw, nil
}

func newNICCmd() *cobra.Command {
	var f clientFlags
	var key, bssid, security, user string
	cmd := &cobra.Command{
		Use:   "nic ls | nic NAME METHOD [ARGS]",
		Short: "Call a NIC's AbstractNIC methods on the running daemon",
		Long: `nichost nic ls lists the daemon's NICs. nichost nic NAME METHOD calls one
of MicroPython's AbstractNIC methods on NIC NAME:

  active [on|off]                      get, or bring the interface up or down
  connect [SERVICE] [--key K] [--bssid B] [--security S --user U]
  scan [K=V ...]                       e.g. ssid=net channel=6 passive=true;
                                       a table unless --json
  disconnect | isconnected | ifconfig
  status [PARAM]
  ipconfig [PARAM | K=V ...]           e.g. addr4=192.168.0.4/24 gw4=192.168.0.1;
                                       nothing: every parameter
  config [PARAM | K=V ...]             e.g. mac=02:00:00:00:00:01 hidden=true
  call METHOD [ARG ...] [K=V ...]      a class-specific method (Python literals),
                                       or the WLANWiPy profile's: call init
                                       mode=WLAN.AP ssid=x "auth=(WLAN.WPA2,'key')"

Values are written as MicroPython users write them: true/false, None,
numbers, 02:00:00:00:00:01 for bytes of a MAC address, Python literals
('x', b'\x02', (1, 2)); anything else is a string. Results print as
MicroPython's REPL prints them; --json prints the API's JSON form.`,
		Args: cobra.MinimumNArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			switch {
			case len(args) == 0:
				return append([]string{"ls"}, nicNames(cmd)...), cobra.ShellCompDirectiveNoFileComp
			case args[0] == "ls":
				return nil, cobra.ShellCompDirectiveNoFileComp
			case len(args) == 1:
				return []string{"active", "connect", "disconnect", "isconnected", "scan", "status", "ipconfig", "ifconfig", "config", "call"}, cobra.ShellCompDirectiveNoFileComp
			case args[1] == "active" && len(args) == 2:
				return []string{"on", "off"}, cobra.ShellCompDirectiveNoFileComp
			case args[1] == "ipconfig":
				return nicIPConfigParams, cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := callCtx(cmd)
			defer cancel()
			c, out := client(cmd), cmd.OutOrStdout()
			if args[0] == "ls" && len(args) == 1 {
				nics, err := c.NICs(ctx)
				if err != nil {
					return err
				}
				if f.json {
					return printJSON(out, nics)
				}
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tCLASS\tPLUGIN\tACTIVE\tLINK\tADDR4\tMAC\tGEN")
				for _, n := range nics {
					active, link, addr := "?", "down", n.Addr4
					if n.Active != nil {
						active = strconv.FormatBool(*n.Active)
					}
					if n.Link.Up {
						link = fmt.Sprintf("up/%s/%d", n.Link.Type, n.Link.MTU)
					}
					if addr == "" {
						addr = "-"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", n.Name, n.Class, n.Plugin, active, link, addr, n.MAC, n.Generation)
				}
				return tw.Flush()
			}
			if len(args) < 2 {
				return usage("nic %s: want a method: active, connect, disconnect, isconnected, scan, status, ipconfig, ifconfig, config or call", args[0])
			}
			name, method, rest := args[0], args[1], args[2:]
			var pos []any
			var kw map[string]any
			var err error
			switch method {
			case "active":
				if len(rest) > 1 {
					return usage("nic %s active: want on or off, or nothing", name)
				}
				if len(rest) == 1 {
					v, err := cliValue(rest[0])
					if err != nil {
						return err
					}
					if _, ok := v.(bool); !ok {
						return usage("nic %s active %s: want on or off", name, rest[0])
					}
					pos = []any{v}
				}
			case "connect":
				if len(rest) > 1 {
					return usage("nic %s connect: want at most one SERVICE (an SSID, say); the rest as --key, --bssid, --security, --user", name)
				}
				for _, r := range rest {
					pos = append(pos, r)
				}
				kw = map[string]any{}
				for k, v := range map[string]string{"key": key, "bssid": bssid, "security": security, "user": user} {
					if v == "" {
						continue
					}
					if kw[k], err = cliValue(v); err != nil {
						return err
					}
				}
			case "scan":
				// scan [K=V ...]: the class's filters, e.g. ssid=net
				// channel=6 passive=true; a table unless --json.
				if pos, kw, err = getOrSet(rest); err != nil {
					return err
				}
				if len(pos) > 0 {
					return usage("nic %s scan: want K=V filters (ssid=NET channel=6 passive=true duration=50), not %q", name, rest[0])
				}
				l, err := c.Call(ctx, name, method, nil, kw)
				if err != nil {
					return err
				}
				if list, ok := l.([]any); ok && !f.json {
					return printScan(out, list)
				}
				return printValue(out, l, f.json)
			case "disconnect", "isconnected", "ifconfig":
				if len(rest) > 0 {
					return usage("nic %s %s takes no arguments", name, method)
				}
			case "status":
				if len(rest) > 1 {
					return usage("nic %s status: want at most one PARAM", name)
				}
				for _, r := range rest {
					pos = append(pos, r)
				}
			case "ipconfig", "config":
				if method == "ipconfig" && len(rest) == 0 {
					return printParams(out, nicIPConfigParams, f.json, func(p string) (any, error) {
						return c.Call(ctx, name, "ipconfig", []any{p}, nil)
					})
				}
				if pos, kw, err = getOrSet(rest); err != nil {
					return err
				}
			case "call":
				if len(rest) == 0 {
					return usage("nic %s call: want METHOD [ARG ...]", name)
				}
				method = rest[0]
				for _, a := range rest[1:] {
					// K=V is a keyword argument (the WLANWiPy profile's
					// init mode=WLAN.AP ssid=x), anything else positional.
					if k, val, ok := strings.Cut(a, "="); ok && identRE.MatchString(k) {
						v, err := cliValue(val)
						if err != nil {
							return err
						}
						if kw == nil {
							kw = map[string]any{}
						}
						kw[k] = v
						continue
					}
					if len(kw) > 0 {
						return usage("nic %s call %s: %q: a positional argument after a keyword one", name, method, a)
					}
					v, err := cliValue(a)
					if err != nil {
						return err
					}
					pos = append(pos, v)
				}
			default:
				return usage("nic %s: unknown method %q (active, connect, disconnect, isconnected, scan, status, ipconfig, ifconfig, config; call METHOD for others)", name, method)
			}
			v, err := c.Call(ctx, name, method, pos, kw)
			if err != nil {
				return err
			}
			return printValue(out, v, f.json)
		},
	}
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON")
	cmd.Flags().StringVar(&key, "key", "", "connect: the key or password")
	cmd.Flags().StringVar(&bssid, "bssid", "", "connect: the access point's BSSID")
	cmd.Flags().StringVar(&security, "security", "", "connect: the security (an integer, as the class's SEC_ constants)")
	cmd.Flags().StringVar(&user, "user", "", "connect: the user (PPP's PAP or CHAP)")
	return cmd
}

// nicIPConfigParams are the parameters of a NIC's ipconfig(), which the
// core answers the same way for every NIC (core/ipconfig.go).
var nicIPConfigParams = []string{"addr4", "gw4", "dhcp4", "has_dhcp4", "addr6", "autoconf6", "has_autoconf6", "dhcp6"}

// printParams prints every parameter of an ipconfig() for a bare
// `ipconfig`, where MicroPython would raise TypeError (it wants one
// parameter or keywords): one "name  repr" line each, or one JSON object.
// The first parameter that raises ends it with that error.
func printParams(w io.Writer, params []string, asJSON bool, get func(string) (any, error)) error {
	vals := make(map[string]any, len(params))
	for _, p := range params {
		v, err := get(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		vals[p] = v
	}
	if asJSON {
		return printValue(w, vals, true)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, p := range params {
		fmt.Fprintf(tw, "%s\t%s\n", p, pyval.Repr(vals[p]))
	}
	return tw.Flush()
}

// nicNames lists the daemon's NICs for completion; nothing if it is down.
func nicNames(cmd *cobra.Command) []string {
	ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Second)
	defer cancel()
	nics, err := client(cmd).NICs(ctx)
	if err != nil {
		return nil
	}
	var names []string
	for _, n := range nics {
		names = append(names, n.Name)
	}
	return names
}

func pluginNames(cmd *cobra.Command) []string {
	ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Second)
	defer cancel()
	ps, err := client(cmd).Plugins(ctx)
	if err != nil {
		return nil
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	return names
}

// newNetworkCmd is one of the network module's functions as a command:
// hostname [NAME], country [CODE], phy-mode [MODE], ipconfig [K=V ...].
func newNetworkCmd(use, fn, short string, kv bool) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := callCtx(cmd)
			defer cancel()
			var pos []any
			var kw map[string]any
			switch {
			case kv && len(args) == 0:
				return printParams(cmd.OutOrStdout(), []string{"dns", "prefer"}, f.json, func(p string) (any, error) {
					return client(cmd).Network(ctx, fn, []any{p}, nil)
				})
			case kv:
				var err error
				if pos, kw, err = getOrSet(args); err != nil {
					return err
				}
			case len(args) > 1:
				return usage("%s: want at most one argument", fn)
			case len(args) == 1:
				v, err := cliValue(args[0])
				if err != nil {
					return err
				}
				if fn == "hostname" || fn == "country" {
					v = args[0] // a name, even one that looks like a number
				}
				pos = []any{v}
			}
			v, err := client(cmd).Network(ctx, fn, pos, kw)
			if err != nil {
				return err
			}
			return printValue(cmd.OutOrStdout(), v, f.json)
		},
	}
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON")
	return cmd
}

func newPluginCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "plugin ls | plugin reload NAME | plugin restart NAME | plugin keygen|sign|verify ...",
		Short: "List, reload or restart the daemon's plugins; sign and verify modules",
		Long: `plugin ls lists the plugins: class, driver, engine, where the module came
from (ORIGIN: build, a source directory the daemon built; file, a .wasm),
its digest, the key that signed it (when the configuration requires
signatures), its source, whether an instance is up, its generation,
restarts, reloads and faults. plugin reload NAME builds the plugin again
from its configured source and swaps the new module in without dropping
its NICs; plugin restart NAME starts a fresh instance of the same module
(clearing a restart back-off).

plugin keygen, plugin sign and plugin verify need no daemon: they make an
Ed25519 key pair, sign .wasm modules and check signatures (see their
--help).`,
		Args: cobra.RangeArgs(1, 2),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return []string{"ls", "reload", "restart", "keygen", "sign", "verify"}, cobra.ShellCompDirectiveNoFileComp
			}
			if len(args) == 1 && args[0] != "ls" {
				return pluginNames(cmd), cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, out := client(cmd), cmd.OutOrStdout()
			ctx := cmd.Context()
			var p control.PluginInfo
			var err error
			switch {
			case args[0] == "ls" && len(args) == 1:
				ctx, cancel := callCtx(cmd)
				defer cancel()
				ps, err := c.Plugins(ctx)
				if err != nil {
					return err
				}
				if f.json {
					return printJSON(out, ps)
				}
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tCLASS\tDRIVER\tUP\tGEN\tRESTARTS\tRELOADS\tFAULTS\tENGINE\tORIGIN\tDIGEST\tSIGNED BY\tSOURCE")
				for _, p := range ps {
					fmt.Fprintf(tw, "%s\t%s\t%s %s\t%v\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Class, p.Driver.Name, p.Driver.Version,
						p.Up, p.Generation, p.Restarts, p.Reloads, p.Faults, p.Engine, orDash(p.Origin), short(p.Digest), orDash(p.SignedBy), p.Source)
				}
				return tw.Flush()
			case args[0] == "reload" && len(args) == 2:
				p, err = c.ReloadPlugin(ctx, args[1])
			case args[0] == "restart" && len(args) == 2:
				p, err = c.RestartPlugin(ctx, args[1])
			default:
				return usage("plugin: want ls, reload NAME or restart NAME")
			}
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(out, p)
			}
			fmt.Fprintf(out, "%s: %sed, generation %d (%s)\n", p.Name, args[0], p.Generation, short(p.Digest))
			return nil
		},
	}
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON")
	cmd.AddCommand(newSigningCmds()...)
	return cmd
}

// orDash is s, or "-" for an empty column.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newEventsCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Follow the daemon's events: link, lease, fault, restart, reload, config",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			return client(cmd).Events(cmd.Context(), func(ev control.Event) error {
				if ev.Kind == control.EventOpen {
					return nil
				}
				if f.json {
					b, err := json.Marshal(ev)
					if err != nil {
						return err
					}
					_, err = fmt.Fprintln(out, string(b))
					return err
				}
				if ev.Missed > 0 {
					fmt.Fprintf(out, "(%d events missed: this client read too slowly)\n", ev.Missed)
				}
				where := ev.Plugin
				if ev.NIC != "" {
					where = ev.NIC
				}
				_, err := fmt.Fprintf(out, "%s %-8s %-10s gen=%d %s\n", ev.Time.Format("15:04:05.000"), ev.Kind, where, ev.Generation, ev.Message)
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&f.json, "json", false, "print one JSON object per event")
	return cmd
}

func newLogsCmd() *cobra.Command {
	var follow bool
	var lines int
	cmd := &cobra.Command{
		Use:   "logs [-f] [-n LINES]",
		Short: "Print the daemon's recent log lines; -f follows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			return client(cmd).Logs(cmd.Context(), lines, follow, func(line string) error {
				_, err := fmt.Fprintln(out, line)
				return err
			})
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines")
	cmd.Flags().IntVarP(&lines, "lines", "n", 50, "how many recent lines")
	return cmd
}

// clientCommands are the commands that talk to the daemon.
func clientCommands() []*cobra.Command {
	return []*cobra.Command{
		newNICCmd(),
		newNetworkCmd("hostname [NAME]", "hostname", "Get or set network.hostname()", false),
		newNetworkCmd("country [CODE]", "country", "Get or set network.country()", false),
		newNetworkCmd("phy-mode [MODE]", "phy_mode", "Get or set network.phy_mode()", false),
		newNetworkCmd("ipconfig [PARAM | dns=.. prefer=..]", "ipconfig", "Get or set network.ipconfig(): DNS servers and the preferred IP version", true),
		newPluginCmd(), newEventsCmd(), newLogsCmd(), newShell(),
	}
}
