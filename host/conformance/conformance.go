// Package conformance is the AbstractNIC conformance suite: the checks a
// driver plugin of a class must pass on its simulated device, attached to
// a simulated LAN with a router. `nichost test DIR --sim NAME` runs it and
// prints a line per check; a plugin's own tests run it with Test.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/internal/simnet"
)

// Device is one simulated device a plugin drives.
type Device struct {
	// Buses are the grants the plugin gets, naming buses in Sims.
	Buses map[string]config.BusGrant
	// Sims are the simulated buses (host.Options.Buses).
	Sims map[string]any
	// Options are the driver options of the plugin config.
	Options map[string]any
	// SetLink plugs (true) or unplugs (false) the cable.
	SetLink func(up bool)
	// Close releases the device.
	Close func()
}

// NewDevice makes a device whose wire is a port on the simulated LAN.
type NewDevice func(lan *simnet.Router) (*Device, error)

// Config says what to test.
type Config struct {
	Source string    // the plugin: a Go source directory or a .wasm file
	Class  string    // its class
	Device NewDevice // its simulated device
	// Timeout bounds each check that waits for the device (default 20 s).
	Timeout time.Duration
	Logger  *slog.Logger
}

// Result is the outcome of one check.
type Result struct {
	Name     string
	Err      error // nil: passed
	Skipped  string
	Duration time.Duration
}

// env is what checks work with.
type env struct {
	cfg    Config
	lan    *simnet.Router
	dev    *Device
	h      *host.Host
	plugin *host.Plugin
	nic    *host.NIC
}

// Run runs the suite for cfg.Class, calling report after each check.
func Run(ctx context.Context, cfg Config, report func(Result)) ([]Result, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 20 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	checks, ok := suites[cfg.Class]
	if !ok {
		return nil, fmt.Errorf("conformance: no suite for class %q yet", cfg.Class)
	}
	lan, err := simnet.NewRouter(simnet.Options{Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	defer lan.Close()
	dev, err := cfg.Device(lan)
	if err != nil {
		return nil, fmt.Errorf("conformance: simulated device: %w", err)
	}
	if dev.Close != nil {
		defer dev.Close()
	}
	h, err := host.New(host.Options{Logger: cfg.Logger, Hostname: "conformance", Buses: dev.Sims})
	if err != nil {
		return nil, err
	}
	defer h.Close()
	e := &env{cfg: cfg, lan: lan, dev: dev, h: h}
	var results []Result
	for _, c := range checks {
		start := time.Now()
		r := Result{Name: c.name}
		if e.nic == nil && c.name != "load" {
			r.Skipped = "the plugin did not load"
		} else {
			cctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
			r.Err = c.run(cctx, e)
			cancel()
		}
		r.Duration = time.Since(start)
		results = append(results, r)
		if report != nil {
			report(r)
		}
	}
	return results, nil
}

// Failed reports whether any check failed.
func Failed(rs []Result) bool {
	for _, r := range rs {
		if r.Err != nil {
			return true
		}
	}
	return false
}

// Test runs the suite as subtests of t, one per check.
func Test(t *testing.T, cfg Config) {
	t.Helper()
	results, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		t.Run(r.Name, func(t *testing.T) {
			switch {
			case r.Skipped != "":
				t.Skip(r.Skipped)
			case r.Err != nil:
				t.Fatal(r.Err)
			}
		})
	}
}

var errTimeout = errors.New("timed out")
