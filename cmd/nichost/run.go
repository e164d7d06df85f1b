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
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/simnet"
	"github.com/nichost/nichost/simnet/devices"
)

func newRun() *cobra.Command {
	var (
		configPath string
		up         bool
		every      time.Duration
		verbose    bool
		sims       []string
	)
	cmd := &cobra.Command{
		Use:   "run -c CONFIG",
		Short: "Load the configured plugins and keep them running (the daemon)",
		Long: `Load every plugin of the configuration, optionally bring their interfaces
up, and keep them running under supervision until interrupted. SIGHUP
reloads each plugin from its source (rebuilding changed Go and C plugins) without
dropping its interfaces.

--sim NAME=MODEL puts a simulated device on a simulated LAN whose router
serves DHCP, DNS and HTTP (no root, no hardware), and offers its buses to
sim: grants as NAME-port, NAME-mdio, ... (logged at start). Simulators: ` + devices.List() + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configPath == "" {
				return errors.New("run: -c CONFIG is required")
			}
			cfg, err := config.LoadConfig(configPath)
			if err != nil {
				return err
			}
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			buses, closeSims, err := simulate(sims, log)
			if err != nil {
				return err
			}
			defer closeSims()
			h, err := host.New(host.Options{
				Logger: log, Limits: cfg.Limits, Hostname: cfg.Hostname, Country: cfg.Country,
				Progress: func(msg string) { log.Info(msg) }, Buses: buses,
			})
			if err != nil {
				return err
			}
			defer h.Close() // before the simulated devices close
			ctx := cmd.Context()
			for _, pc := range cfg.Plugins {
				p, info, err := h.Load(ctx, pc)
				if err != nil {
					return err
				}
				log.Info("loaded", "plugin", p.Name(), "class", p.Description().Class, "compile", info.Compile.Round(time.Millisecond), "start", info.Start.Round(time.Millisecond))
				if up {
					for _, n := range p.NICs() {
						if err := n.SetActive(ctx, true); err != nil {
							log.Error("active(True) failed", "nic", n.Name(), "err", err)
						}
					}
				}
			}
			return serve(ctx, h, cfg, every, cmd.OutOrStdout(), log)
		},
	}
	cmd.Flags().StringVarP(&configPath, "config", "c", "", "configuration file (YAML)")
	cmd.Flags().BoolVar(&up, "up", false, "bring every interface up after loading")
	cmd.Flags().DurationVar(&every, "status-every", 10*time.Second, "print a status line per NIC this often (0: never)")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "log plugin output and debug lines")
	cmd.Flags().StringArrayVar(&sims, "sim", nil, "NAME=MODEL: a simulated device on a simulated LAN, for sim: grants (repeatable; "+devices.List()+")")
	return cmd
}

// simulate makes the devices of the --sim flags on one simulated LAN and
// returns their buses by name (host.Options.Buses) and what releases them.
func simulate(specs []string, log *slog.Logger) (map[string]any, func(), error) {
	if len(specs) == 0 {
		return nil, func() {}, nil
	}
	lan, err := simnet.NewRouter(simnet.Options{})
	if err != nil {
		return nil, nil, err
	}
	closers := []func(){lan.Close}
	release := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	buses := map[string]any{}
	for _, spec := range specs {
		name, model, ok := strings.Cut(spec, "=")
		m, known := devices.Lookup(model)
		switch {
		case !ok || name == "":
			release()
			return nil, nil, fmt.Errorf("run: --sim %q: want NAME=MODEL, e.g. lan0=lan8720", spec)
		case !known:
			release()
			return nil, nil, fmt.Errorf("run: --sim %q: unknown simulator %q (have: %s)", spec, model, devices.List())
		}
		dev, err := m.New(lan, devices.Options{Name: name})
		if err != nil {
			release()
			return nil, nil, fmt.Errorf("run: --sim %q: %w", spec, err)
		}
		if dev.Close != nil {
			closers = append(closers, dev.Close)
		}
		var grants []string
		for _, g := range slices.Sorted(maps.Keys(dev.Buses)) {
			grants = append(grants, fmt.Sprintf("%s: {kind: %s, sim: %s}", g, dev.Buses[g].Kind, dev.Buses[g].Sim))
		}
		for k, v := range dev.Sims {
			if _, dup := buses[k]; dup {
				release()
				return nil, nil, fmt.Errorf("run: --sim %q: a bus named %s is simulated twice", spec, k)
			}
			buses[k] = v
		}
		log.Info("simulated device", "name", name, "model", model, "class", m.Class, "grants", strings.Join(grants, ", "))
	}
	log.Info("simulated LAN", "subnet", simnet.Subnet, "router", simnet.RouterAddr, "serves", "DHCP, DNS, "+lan.URL())
	return buses, release, nil
}

// serve keeps the host running until ctx ends, printing status and
// reloading plugins on SIGHUP.
func serve(ctx context.Context, h *host.Host, cfg *config.Config, every time.Duration, out io.Writer, log *slog.Logger) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			log.Info("stopping")
			return nil
		case <-hup:
			for _, pc := range cfg.Plugins {
				if p, ok := h.Plugin(pc.Name); ok {
					if _, err := p.Reload(ctx, pc.Source); err != nil {
						log.Error("reload failed", "plugin", pc.Name, "previous_module_running", p.State().Up, "err", err)
					} else {
						log.Info("reloaded", "plugin", pc.Name)
					}
				}
			}
		case <-tick:
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
	line := fmt.Sprintf("%-12s %-9s active=%-5v link=%-22s addr4=%-18s has_dhcp4=%-5s rx=%d/%dB tx=%d/%dB restarts=%d", n.Name(), n.Class(), active, link,
		addr4, lease, s.RxFrames, s.RxBytes, s.TxFrames, s.TxBytes, ps.Restarts)
	if pst := n.Plugin().Stats(); pst.Throttling {
		line += " throttled (over its cpu_share)"
	}
	return line
}
