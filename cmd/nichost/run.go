package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
)

func newRun() *cobra.Command {
	var (
		configPath string
		up         bool
		every      time.Duration
		verbose    bool
	)
	cmd := &cobra.Command{
		Use:   "run -c CONFIG",
		Short: "Load the configured plugins and keep them running (the daemon)",
		Long: `Load every plugin of the configuration, optionally bring their interfaces
up, and keep them running under supervision until interrupted. SIGHUP
reloads each plugin from its source (rebuilding changed Go plugins) without
dropping its interfaces.`,
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
			h, err := host.New(host.Options{
				Logger: log, Limits: cfg.Limits, Hostname: cfg.Hostname, Country: cfg.Country,
				Progress: func(msg string) { log.Info(msg) },
			})
			if err != nil {
				return err
			}
			defer h.Close()
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
	return cmd
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

// statusLine is one line about a NIC: up, link, frames, plugin health.
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
	return fmt.Sprintf("%-12s %-9s active=%-5v link=%-22s rx=%d/%dB tx=%d/%dB restarts=%d", n.Name(), n.Class(), active, link,
		s.RxFrames, s.RxBytes, s.TxFrames, s.TxBytes, ps.Restarts)
}
