package benchkit

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/nichost/nichost/host/build"
	"github.com/nichost/nichost/internal/netns"
)

// Options configure a run.
type Options struct {
	// Root is the nichost module's source tree: the plugins are built
	// from it.
	Root string
	// Quick runs every measurement with short budgets (about a minute in
	// all, builds aside): the figures are rougher, the shape the same.
	Quick bool
	// CacheDir is the nichost cache the warm figures use
	// (build.DefaultCacheDir() when empty). The cold figures use empty
	// temporary caches of their own.
	CacheDir string
	// Only, if set, lists the figure keys to measure; the others are null.
	Only []string
	// Progress receives a line as each measurement starts and ends, and
	// before slow steps (a plugin build, a cold compile).
	Progress func(string)
}

// measurement is one step of a run: it fills the leaves of its figures.
type measurement struct {
	name    string
	figures []string
	budget  [2]time.Duration // full, quick: how long its measuring loops run
	run     func(ctx context.Context, e *env, rec *recorder) error
}

// env is what a measurement gets.
type env struct {
	Options
	budget  time.Duration
	engines []engineStatus
	tmp     string // a directory of the run's own, removed at the end
}

// source is a directory of the module (plugins/lan, ...).
func (e *env) source(rel ...string) string { return sourceOf(e.Root, rel...) }

// sourceOf is a directory of the module whose tree is root.
func sourceOf(root string, rel ...string) string {
	return filepath.Join(append([]string{root}, rel...)...)
}

// progress reports a line if anyone listens.
func (e *env) progress(format string, args ...any) {
	if e.Progress != nil {
		e.Progress(fmt.Sprintf(format, args...))
	}
}

// measurements are the steps of a run, in order.
var measurements = []measurement{
	{"calls", []string{"hostcall_ns", "export_call_ns", "wasmtime_vs_wazero"}, [2]time.Duration{6 * time.Second, 500 * time.Millisecond}, measureCalls},
	{"control", []string{"control_call_us"}, [2]time.Duration{4 * time.Second, 300 * time.Millisecond}, measureControl},
	{"wiznet", []string{"wiznet_wasm_vs_native", "spi_transactions_per_frame", "bus_bytes_per_frame", "host_calls_per_frame"}, [2]time.Duration{30 * time.Second, 2 * time.Second}, measureWiznet},
	// lifecycle counts repetitions, not time: 3 builds and cold starts,
	// 9 cached starts, 8 instances (--quick: 1, 3, 4); its budget is what
	// they take here.
	{"lifecycle", []string{"plugin_build_ms", "plugin_cold_start_ms", "plugin_cached_start_ms", "plugin_instance_kib"}, [2]time.Duration{20 * time.Second, 7 * time.Second}, measureLifecycle},
	{"reload", []string{"reload_pause_ms", "reload_frames_lost"}, [2]time.Duration{40 * time.Second, 3 * time.Second}, measureReload},
	{"tcp", []string{"tcp_plugin_vs_direct", "tcp_mbps"}, [2]time.Duration{60 * time.Second, 4 * time.Second}, measureTCP},
	{"c_vs_go", []string{"c_vs_go_driver"}, [2]time.Duration{15 * time.Second, 1500 * time.Millisecond}, measureCvsGo},
}

// Budget is how long a run's measuring loops take in all (builds,
// compiles and the rigs' start aside).
func Budget(quick bool) time.Duration {
	var d time.Duration
	for _, m := range measurements {
		d += m.budget[b2i(quick)]
	}
	return d
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Run measures every figure (or those of Options.Only) and returns the
// report. A measurement that fails leaves its figures null with the error
// as the reason (Report.Failed lists them); Run itself fails only when it
// cannot start.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Root == "" {
		return nil, errors.New("bench: no source tree (Options.Root)")
	}
	if _, err := os.Stat(filepath.Join(opts.Root, "plugins", "lan")); err != nil {
		return nil, fmt.Errorf("bench: %s is not a nichost source tree: %w", opts.Root, err)
	}
	if opts.CacheDir == "" {
		opts.CacheDir = build.DefaultCacheDir()
	}
	for _, k := range opts.Only {
		if _, ok := figure(k); !ok {
			return nil, fmt.Errorf("bench: no figure %q (the figures: %s)", k, strings.Join(Keys(), ", "))
		}
	}
	tmp, err := os.MkdirTemp("", "nichost-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(tmp)
	rep := newReport()
	rep.Run = RunInfo{Version: 1, Quick: opts.Quick, Started: time.Now(), CPU: cpuModel(), Cores: runtime.NumCPU(),
		Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, Root: os.Geteuid() == 0, Engines: []string{}, Failed: []string{}}
	e := &env{Options: opts, tmp: tmp, engines: engines(opts.CacheDir)}
	for _, en := range e.engines {
		if en.Reason == "" {
			rep.Run.Engines = append(rep.Run.Engines, en.Name)
		}
	}
	rec := &recorder{r: rep}
	for i, m := range measurements {
		figs := m.figures
		if opts.Only != nil {
			figs = slices.DeleteFunc(slices.Clone(figs), func(k string) bool { return !slices.Contains(opts.Only, k) })
			if len(figs) == 0 {
				for _, k := range m.figures {
					rec.null([]string{k}, unavailable("not measured: not in --only"))
				}
				continue
			}
		}
		e.budget = m.budget[b2i(opts.Quick)]
		e.progress("[%d/%d] %s (%s): started, budget %v", i+1, len(measurements), m.name, strings.Join(figs, ", "), e.budget)
		t0 := time.Now()
		err := runOne(ctx, m, e, rec)
		for _, k := range m.figures {
			switch {
			case err != nil:
				rec.null([]string{k}, err)
			case ctx.Err() != nil:
				rec.null([]string{k}, ctx.Err())
			default:
				rec.null([]string{k}, errors.New("the measurement recorded nothing (a bug in nichost bench)"))
			}
		}
		status := "done"
		if err != nil {
			reason, failed := reasonOf(err)
			status = "n/a: " + reason
			if failed {
				status = reason
			}
		}
		e.progress("[%d/%d] %s: %s in %.1fs", i+1, len(measurements), m.name, status, time.Since(t0).Seconds())
		for _, k := range figs {
			e.progress("  %s", rep.summary(k))
		}
		if ctx.Err() != nil {
			break
		}
	}
	rep.Run.Seconds = time.Since(rep.Run.Started).Seconds()
	for _, l := range rep.Failed() {
		rep.Run.Failed = append(rep.Run.Failed, l.Name())
	}
	return rep, nil
}

// runOne runs m, turning a panic into its error so that one broken
// measurement leaves the others' figures.
func runOne(ctx context.Context, m measurement, e *env, rec *recorder) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return m.run(ctx, e, rec)
}

// summary is one line of figure key's leaves: value, unit and ratio, or
// n/a.
func (r *Report) summary(key string) string {
	f, _ := figure(key)
	var parts []string
	for _, p := range f.Paths() {
		l := r.leaves[strings.Join(p, ".")]
		name := strings.Join(p[1:], ".")
		if name != "" {
			name += " "
		}
		switch {
		case l.Value == nil:
			parts = append(parts, name+"n/a")
		case l.Ratio != nil:
			parts = append(parts, fmt.Sprintf("%s%s %s (%s %s)", name, Format(l.Value), l.Unit, formatRatio(l.Ratio), f.Baseline))
		default:
			parts = append(parts, fmt.Sprintf("%s%s %s", name, Format(l.Value), l.Unit))
		}
	}
	return key + ": " + strings.Join(parts, ", ")
}

// Keys lists the figures' keys in report order.
func Keys() []string {
	var out []string
	for _, f := range Figures {
		out = append(out, f.Key)
	}
	return out
}

// cpuModel is the first "model name" of /proc/cpuinfo ("" elsewhere).
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// discard is the logger of the hosts a run makes.
var discard = slog.New(slog.DiscardHandler)

// needTAP returns an Unavailable error when this machine cannot make
// network namespaces and TAP devices.
func needTAP() error {
	if err := netns.Available(); err != nil {
		return unavailable("%v", err)
	}
	return nil
}
