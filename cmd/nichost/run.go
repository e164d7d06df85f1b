package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/plugins/lan/landev"
	"github.com/nichost/nichost/plugins/lan/phy"
	"github.com/nichost/nichost/simnet"
	"github.com/nichost/nichost/simnet/devices"
)

// runFlags are `nichost run`'s flags.
type runFlags struct {
	configPath string
	up         bool
	every      time.Duration
	verbose    bool
	sims       []string
	simPHYs    []string
	socket     string
	engine     string
}

func newRun() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run -c CONFIG",
		Short: "Run the configured plugins as a daemon, with the control API",
		Long: `Load every plugin of the configuration and keep them running under
supervision, serving the control API (docs/control-api.md) on a unix
socket and, if configured, Prometheus metrics on a TCP listener.

A bad configuration fails at start, naming file, line and problem, and
nothing starts. SIGHUP re-reads the configuration and applies what changed:
plugins added or removed, a plugin whose settings changed is loaded anew,
a plugin whose module changed (its source rebuilt to something else) is
reloaded without dropping its interfaces, the hostname and country are
set; a SIGHUP with a bad configuration keeps the running one and logs why.
SIGTERM or SIGINT shut down in order: DHCP leases released, interfaces
down, plugins closed.

--sim NAME=MODEL puts a simulated device on a simulated LAN whose router
serves DHCP, DNS and HTTP (no root, no hardware), and offers its buses to
sim: grants as NAME-port, NAME-mdio, ... (logged at start). Simulators: ` + devices.List() + `.

--sim-phy NAME=MODEL is a simulated PHY alone on a simulated MDIO bus,
offered as NAME-mdio: the LAN driver then runs on a real frame port (a tap:
or packet: grant) with a PHY to bring up. Models: lan8720, ksz8081.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.configPath == "" {
				return errors.New("run: -c CONFIG is required")
			}
			return runDaemon(cmd.Context(), f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVarP(&f.configPath, "config", "c", "", "configuration file (YAML)")
	cmd.Flags().BoolVar(&f.up, "up", false, "bring every interface up after loading (except Wi-Fi access points)")
	cmd.Flags().DurationVar(&f.every, "status-every", 0, "print a status line per NIC this often (0: never)")
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "log at debug level (plugin output included), whatever the config says")
	cmd.Flags().StringArrayVar(&f.sims, "sim", nil, "NAME=MODEL: a simulated device on a simulated LAN, for sim: grants (repeatable; "+devices.List()+")")
	cmd.Flags().StringArrayVar(&f.simPHYs, "sim-phy", nil, "NAME=MODEL: a simulated PHY on a simulated MDIO bus NAME-mdio (repeatable; lan8720, ksz8081)")
	cmd.Flags().StringVar(&f.socket, "control-socket", "", "the control API's socket (overrides control.socket of the config)")
	engineFlag(cmd, &f.engine, ", else engine: of the config")
	return cmd
}

// newLogger makes the daemon's logger from the config's log: section,
// writing to w.
func newLogger(c config.LogConfig, verbose bool, w io.Writer) (*slog.Logger, *slog.LevelVar) {
	level := new(slog.LevelVar)
	n, _ := config.ParseLogLevel(c.Level) // checked with the config
	level.Set(slog.Level(n))
	if verbose {
		level.Set(slog.LevelDebug)
	}
	o := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, o)), level
	}
	return slog.New(slog.NewTextHandler(w, o)), level
}

// simulate makes the devices of the --sim and --sim-phy flags (the former
// on one simulated LAN) and returns their buses by name
// (host.Options.Buses) and what releases them.
func simulate(specs, phys []string, log *slog.Logger) (map[string]any, func(), error) {
	buses := map[string]any{}
	var closers []func()
	release := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	add := func(spec string, sims map[string]any) error {
		for k, v := range sims {
			if _, dup := buses[k]; dup {
				return fmt.Errorf("run: --sim %q: a bus named %s is simulated twice", spec, k)
			}
			buses[k] = v
		}
		return nil
	}
	fail := func(err error) (map[string]any, func(), error) {
		release()
		return nil, nil, err
	}
	for _, spec := range phys {
		name, model, ok := strings.Cut(spec, "=")
		if !ok || name == "" {
			return fail(fmt.Errorf("run: --sim-phy %q: want NAME=MODEL, e.g. eth=lan8720", spec))
		}
		var o phy.Options
		switch model {
		case "lan8720":
			o = phy.Options{Model: phy.LAN8720A, Addr: landev.LAN8720Addr}
		case "ksz8081":
			o = phy.Options{Model: phy.KSZ8081, Addr: landev.KSZ8081Addr}
		default:
			return fail(fmt.Errorf("run: --sim-phy %q: unknown PHY %q (have: lan8720, ksz8081)", spec, model))
		}
		mdio := sim.NewMDIO()
		phy.New(o).Attach(mdio, nil)
		if err := add(spec, map[string]any{name + "-mdio": mdio}); err != nil {
			return fail(err)
		}
		log.Info("simulated PHY", "name", name, "model", model, "grant", fmt.Sprintf("mdio: {kind: mdio, sim: %s-mdio}", name), "phy_addr", o.Addr)
	}
	if len(specs) == 0 {
		return buses, release, nil
	}
	lan, err := simnet.NewRouter(simnet.Options{})
	if err != nil {
		return fail(err)
	}
	closers = append(closers, lan.Close)
	for _, spec := range specs {
		name, model, ok := strings.Cut(spec, "=")
		m, known := devices.Lookup(model)
		switch {
		case !ok || name == "":
			return fail(fmt.Errorf("run: --sim %q: want NAME=MODEL, e.g. lan0=lan8720", spec))
		case !known:
			return fail(fmt.Errorf("run: --sim %q: unknown simulator %q (have: %s)", spec, model, devices.List()))
		}
		dev, err := m.New(lan, devices.Options{Name: name})
		if err != nil {
			return fail(fmt.Errorf("run: --sim %q: %w", spec, err))
		}
		if dev.Close != nil {
			closers = append(closers, dev.Close)
		}
		var grants []string
		for _, g := range slices.Sorted(maps.Keys(dev.Buses)) {
			grants = append(grants, fmt.Sprintf("%s: {kind: %s, sim: %s}", g, dev.Buses[g].Kind, dev.Buses[g].Sim))
		}
		if err := add(spec, dev.Sims); err != nil {
			return fail(err)
		}
		log.Info("simulated device", "name", name, "model", model, "class", m.Class, "grants", strings.Join(grants, ", "))
	}
	log.Info("simulated LAN", "subnet", simnet.Subnet, "router", simnet.RouterAddr, "serves", "DHCP, DNS, "+lan.URL())
	return buses, release, nil
}

// statusTicker prints a status line per NIC every `every` until ctx ends.
func statusTicker(ctx context.Context, h *host.Host, every time.Duration, out io.Writer) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, n := range h.NICs() {
				fmt.Fprintln(out, statusLine(ctx, n))
			}
		}
	}
}

// statusLine is one line about a NIC: up, link, IPv4 address and whether
// DHCP holds its lease, frames, plugin health.
func statusLine(ctx context.Context, n *host.NIC) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	active, err := n.Active(ctx)
	if err != nil {
		return fmt.Sprintf("%-12s error: %v", n.Name(), err)
	}
	st, s, ps := n.LinkState(), n.Stats(), n.Plugin().State()
	link := "down"
	if st.Up {
		link = fmt.Sprintf("up (%s, mtu %d)", st.Type, st.MTU)
	}
	addr4, lease := "?", "?"
	if p, err := n.Addr4(); err == nil {
		addr4 = "none"
		if p.IsValid() {
			addr4 = p.String()
		}
	}
	if _, leased, err := n.DHCP4(); err == nil {
		lease = fmt.Sprint(leased)
	}
	line := fmt.Sprintf("%-12s %-9s active=%-5v link=%-22s addr4=%-18s has_dhcp4=%-5s rx=%d/%dB tx=%d/%dB restarts=%d generation=%d", n.Name(), n.Class(), active, link,
		addr4, lease, s.RxFrames, s.RxBytes, s.TxFrames, s.TxBytes, ps.Restarts, n.Plugin().Generation())
	if pst := n.Plugin().Stats(); pst.Throttling {
		line += " throttled (over its cpu_share)"
	}
	return line
}

// signals delivers SIGHUP to hup for as long as ctx lasts.
func signals(ctx context.Context) <-chan os.Signal {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		<-ctx.Done()
		signal.Stop(hup)
	}()
	return hup
}
