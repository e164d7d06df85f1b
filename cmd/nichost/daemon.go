package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/sign"
	"github.com/nichost/nichost/internal/control"
	"github.com/nichost/nichost/internal/metrics"
)

// shutdownTimeout bounds the orderly part of a shutdown (leases released,
// interfaces down); what it leaves undone, closing does anyway.
const shutdownTimeout = 10 * time.Second

// logLines is how many of the daemon's recent log lines `nichost logs`
// can show.
const logLines = 2000

// daemon is a running `nichost run`: the host, the configuration it was
// last given, and the listeners.
type daemon struct {
	path  string
	flags runFlags
	log   *slog.Logger
	level *slog.LevelVar
	h     *host.Host
	sock  string // the control socket

	mu  sync.Mutex // serialises SIGHUPs and the control API's reloads
	cfg *config.Config
}

// daemonReady, when set (by tests), is called once the daemon serves.
var daemonReady func(*daemon)

// runDaemon is `nichost run`: it starts everything or nothing, serves until
// ctx ends, then shuts down in order.
func runDaemon(ctx context.Context, f runFlags, out, errOut io.Writer) error {
	cfg, err := config.LoadConfig(f.configPath)
	if err != nil {
		return err
	}
	ring := control.NewLogRing(logLines)
	log, level := newLogger(cfg.Log, f.verbose, io.MultiWriter(errOut, ring))
	buses, closeSims, err := simulate(f.sims, f.simPHYs, log)
	if err != nil {
		return err
	}
	defer closeSims()

	// The listeners first: a socket another daemon holds or a busy metrics
	// port fails the start before any plugin runs.
	socket := cfg.Control.SocketPath()
	if f.socket != "" {
		socket = f.socket
	}
	ctl, err := control.Listen(socket, cfg.Control.FileMode(), cfg.Control.Group)
	if err != nil {
		return fmt.Errorf("run: control socket: %w", err)
	}
	defer ctl.Close()
	var metricsLn net.Listener
	if addr := cfg.Metrics.Listen; addr != "" {
		if metricsLn, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("run: metrics: %w", err)
		}
		defer metricsLn.Close()
	}

	eng := cfg.Engine
	if f.engine != "" {
		eng = f.engine
	}
	policy, err := signaturePolicy(cfg.Signatures)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	h, err := host.New(host.Options{
		Logger: log, Limits: cfg.Limits, Hostname: cfg.Hostname, Country: cfg.Country,
		Progress: func(msg string) { log.Info(msg) }, Buses: buses, Engine: eng, Signatures: policy,
	})
	if err != nil {
		return err
	}
	defer h.Close() // before the simulated devices close; after Shutdown it does nothing
	d := &daemon{path: f.configPath, flags: f, log: log, level: level, h: h, sock: socket, cfg: cfg}
	for _, pc := range cfg.Plugins {
		if err := d.load(ctx, pc); err != nil {
			h.Close()
			return fmt.Errorf("run: %w (nothing was started)", err)
		}
	}

	srv := control.NewServer(h, control.ServerOptions{
		Logger: log, Logs: ring, Version: nichostVersion(), Reload: d.reloadPlugin,
	})
	serveErr := make(chan error, 2)
	go func() { serveErr <- srv.Serve(ctl) }()
	var msrv *http.Server
	if metricsLn != nil {
		mux := http.NewServeMux()
		mux.Handle("/metrics", metrics.Handler(h, nichostVersion()))
		msrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { serveErr <- msrv.Serve(metricsLn) }()
		log.Info("metrics", "url", "http://"+metricsLn.Addr().String()+"/metrics")
	}
	hup := signals(ctx) // before anyone is told the daemon runs
	log.Info("nichost running", "config", f.configPath, "control", socket, "plugins", len(cfg.Plugins), "engine", h.Engine(), "pid", os.Getpid())
	if daemonReady != nil {
		daemonReady(d)
	}

	tick, stopTick := context.WithCancel(ctx)
	defer stopTick()
	go statusTicker(tick, h, f.every, out)
	var failed error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-hup:
			d.reconfigure(ctx)
		case err := <-serveErr:
			if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
				failed = fmt.Errorf("run: serving: %w", err)
				log.Error("a listener failed; shutting down", "err", err)
				break loop
			}
		}
	}
	log.Info("shutting down: releasing leases, interfaces down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	srv.Shutdown(sctx) // no new calls while the interfaces go down
	if msrv != nil {
		msrv.Shutdown(sctx)
	}
	if err := h.Shutdown(sctx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	log.Info("stopped")
	return failed
}

// load loads one plugin of the configuration and, with --up, brings its
// interfaces up.
func (d *daemon) load(ctx context.Context, pc config.PluginConfig) error {
	p, info, err := d.h.Load(ctx, pc)
	if err != nil {
		return err
	}
	d.log.Info("loaded", "plugin", p.Name(), "class", p.Description().Class, "digest", short(info.Digest),
		"compile", info.Compile.Round(time.Millisecond), "start", info.Start.Round(time.Millisecond))
	if d.flags.up {
		for _, n := range p.NICs() {
			if n.Class() == abi.ClassWLAN && n.Interface() == "ap" {
				// A radio network is not put on the air unasked: the
				// access point starts with active(True) once configured.
				d.log.Info("--up leaves the access point down; start it with: nic "+n.Name()+" active on", "nic", n.Name())
				continue
			}
			if err := n.SetActive(ctx, true); err != nil {
				d.log.Error("active(True) failed", "nic", n.Name(), "err", err)
			}
		}
	}
	return nil
}

// reloadPlugin is the control API's reload: the plugin's module is built
// again from its configured source and swapped in.
func (d *daemon) reloadPlugin(ctx context.Context, name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	p, ok := d.h.Plugin(name)
	if !ok {
		return fmt.Errorf("no plugin %q", name)
	}
	_, err := p.Reload(ctx, p.Config().Source)
	return err
}

// reconfigure is SIGHUP: it re-reads the configuration and applies what
// changed, leaving everything else alone. A configuration that does not
// load changes nothing.
func (d *daemon) reconfigure(ctx context.Context) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.log.Info("SIGHUP: reading the configuration", "config", d.path)
	next, err := config.LoadConfig(d.path)
	var policy *sign.Policy
	if err == nil {
		// The keys are read again even if the section is unchanged: a
		// key file replaced in place takes effect too.
		policy, err = signaturePolicy(next.Signatures)
	}
	if err != nil {
		d.log.Error("SIGHUP: the configuration has an error; the running one stays", "err", err)
		d.h.Publish(host.Event{Kind: host.EventConfig, Message: "not applied: " + err.Error()})
		return
	}
	d.h.SetSignatures(policy)
	prev := d.cfg
	var changes []string
	note := func(format string, a ...any) {
		msg := fmt.Sprintf(format, a...)
		changes = append(changes, msg)
		d.log.Info("SIGHUP: " + msg)
	}
	fail := func(format string, a ...any) {
		msg := fmt.Sprintf(format, a...)
		changes = append(changes, msg)
		d.log.Error("SIGHUP: " + msg)
	}
	for _, what := range restartOnly(prev, next) {
		d.log.Warn("SIGHUP: " + what + " changed; it takes effect when the daemon restarts")
	}
	if next.Log.Level != prev.Log.Level && !d.flags.verbose {
		n, _ := config.ParseLogLevel(next.Log.Level)
		d.level.Set(slog.Level(n))
		note("log level %s", levelName(next.Log.Level))
	}
	if next.Hostname != prev.Hostname {
		name := next.Hostname
		if name == "" {
			name = "nichost"
		}
		if err := d.h.SetHostname(name); err != nil {
			fail("hostname %q: %v", name, err)
		} else {
			note("hostname %q", name)
		}
	}
	if next.Country != prev.Country {
		code := next.Country
		if code == "" {
			code = "XX"
		}
		if err := d.h.SetCountry(ctx, code); err != nil {
			fail("country %q: %v", code, err)
		} else {
			note("country %q", code)
		}
	}

	old := map[string]config.PluginConfig{}
	for _, pc := range prev.Plugins {
		old[pc.Name] = pc
	}
	wanted := map[string]bool{}
	for _, pc := range next.Plugins {
		wanted[pc.Name] = true
	}
	for _, pc := range prev.Plugins { // removed first: they may free buses the others need
		if !wanted[pc.Name] {
			if p, ok := d.h.Plugin(pc.Name); ok {
				p.Close()
			}
			note("plugin %s removed", pc.Name)
		}
	}
	applied := &config.Config{}
	*applied = *next
	applied.Plugins = nil
	for _, pc := range next.Plugins {
		was, existed := old[pc.Name]
		p, running := d.h.Plugin(pc.Name)
		switch {
		case !existed || !running:
			if err := d.load(ctx, pc); err != nil {
				fail("plugin %s not loaded: %v", pc.Name, err)
				continue
			}
			note("plugin %s loaded", pc.Name)
		case !sameSettings(was, pc):
			// Grants, interfaces, options or limits: a fresh plugin, with
			// fresh NICs (their connections end).
			p.Close()
			if err := d.load(ctx, pc); err != nil {
				fail("plugin %s: the new settings did not load (%v); restoring the old ones", pc.Name, err)
				if err := d.load(ctx, was); err != nil {
					fail("plugin %s: the old settings did not load again either: %v", pc.Name, err)
					continue
				}
				applied.Plugins = append(applied.Plugins, was)
				continue
			}
			note("plugin %s loaded with its new settings", pc.Name)
		default:
			digest, err := d.h.ModuleDigest(ctx, pc.Source)
			if err != nil {
				fail("plugin %s: %v; the running module stays", pc.Name, err)
				applied.Plugins = append(applied.Plugins, was)
				continue
			}
			if digest == p.Digest() && pc.Source == was.Source {
				break // unchanged: not touched
			}
			if _, err := p.Reload(ctx, pc.Source); err != nil {
				fail("plugin %s: reload failed, the previous module runs on: %v", pc.Name, err)
				applied.Plugins = append(applied.Plugins, was)
				continue
			}
			note("plugin %s reloaded (%s, generation %d)", pc.Name, short(digest), p.Generation())
		}
		applied.Plugins = append(applied.Plugins, pc)
	}
	d.cfg = applied
	msg := "no change"
	if len(changes) > 0 {
		msg = strings.Join(changes, "; ")
	}
	d.log.Info("SIGHUP: configuration applied", "changes", len(changes))
	d.h.Publish(host.Event{Kind: host.EventConfig, Message: msg})
}

// signaturePolicy is the host's policy for the signatures: section: nil
// when signatures are not required.
func signaturePolicy(c config.SignaturesConfig) (*sign.Policy, error) {
	if !c.Require {
		return nil, nil
	}
	keys, err := sign.ReadKeys(c.Keys)
	if err != nil {
		return nil, fmt.Errorf("signatures.keys: %w", err)
	}
	return &sign.Policy{Keys: keys, AllowSource: c.AllowSource}, nil
}

// sameSettings reports whether two configurations of a plugin differ in
// nothing but the module's source.
func sameSettings(a, b config.PluginConfig) bool {
	a.Source, b.Source = "", ""
	return reflect.DeepEqual(a, b)
}

// restartOnly names the settings that differ between two configurations
// and that only a restart of the daemon applies.
func restartOnly(a, b *config.Config) []string {
	var out []string
	if !reflect.DeepEqual(a.Limits, b.Limits) {
		out = append(out, "limits")
	}
	if !reflect.DeepEqual(a.Control, b.Control) {
		out = append(out, "control")
	}
	if a.Metrics != b.Metrics {
		out = append(out, "metrics")
	}
	if a.Log.Format != b.Log.Format {
		out = append(out, "log.format")
	}
	if a.Engine != b.Engine { // the host's, for every plugin
		out = append(out, "engine")
	}
	return out
}

func levelName(s string) string {
	if s == "" {
		return "info"
	}
	return s
}

// short is a digest cut for logs: "sha256:" and 12 hex digits.
func short(digest string) string {
	if len(digest) > len("sha256:")+12 {
		return digest[:len("sha256:")+12]
	}
	return digest
}
