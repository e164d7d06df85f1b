package benchkit

import (
	"context"
	"fmt"
	"time"

	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/native"
	"github.com/nichost/nichost/internal/testdriver"
)

// measureCalls: hostcall_ns and export_call_ns per engine, each against
// the native build in the same host, and wasmtime_vs_wazero.
func measureCalls(ctx context.Context, e *env, rec *recorder) error {
	for _, en := range e.engines {
		if en.Reason != "" {
			rec.null([]string{"hostcall_ns", en.Name}, unavailable("%s", en.Reason))
			rec.null([]string{"export_call_ns", en.Name}, unavailable("%s", en.Reason))
			continue
		}
		if err := callsOn(ctx, e, rec, en.Name); err != nil {
			rec.null([]string{"hostcall_ns", en.Name}, err)
			rec.null([]string{"export_call_ns", en.Name}, err)
		}
	}
	for _, fig := range []string{"hostcall", "export_call"} {
		key := fig + "_ns"
		wt, okT := rec.value([]string{key, "wasmtime"})
		wz, okZ := rec.value([]string{key, "wazero"})
		if okT && okZ {
			rec.set([]string{"wasmtime_vs_wazero", fig}, wt, wz)
			continue
		}
		l := rec.leaf([]string{key, "wasmtime"})
		if !okZ {
			l = rec.leaf([]string{key, "wazero"})
		}
		rec.null([]string{"wasmtime_vs_wazero", fig}, &Unavailable{Reason: "no " + key + ": " + l.Reason})
	}
	return nil
}

// CallPlugins are the test driver (internal/testdriver) loaded twice in
// one host: as WASM on an engine, and compiled into the host.
type CallPlugins struct {
	Host         *host.Host
	WASM, Native *host.Plugin
}

// NewCallPlugins loads the test driver from root's host/testdata/plugins/full
// on engine, and natively.
func NewCallPlugins(ctx context.Context, root, engine string, progress func(string)) (*CallPlugins, error) {
	o := host.Options{Logger: discard, Progress: progress}
	o.Engine = engine
	h, err := host.New(o)
	if err != nil {
		return nil, err
	}
	c := &CallPlugins{Host: h}
	c.WASM, _, err = h.Load(ctx, config.PluginConfig{Name: "wasm", Source: sourceOf(root, "host", "testdata", "plugins", "full")})
	if err == nil {
		c.Native, err = native.Load(ctx, h, config.PluginConfig{Name: "native"}, func() guest.Driver { return testdriver.New() })
	}
	if err != nil {
		h.Close()
		return nil, err
	}
	return c, nil
}

// Close closes the host.
func (c *CallPlugins) Close() { c.Host.Close() }

// HostCalls times n host calls (nic.now) from inside one export of p: the
// driver's "now" method calls it n times.
func HostCalls(ctx context.Context, p *host.Plugin, n int) (time.Duration, error) {
	t0 := time.Now()
	if _, err := p.NICs()[0].Call(ctx, "now", n); err != nil {
		return 0, fmt.Errorf("call(\"now\", %d): %w", n, err)
	}
	return time.Since(t0), nil
}

// ExportCalls times n calls of nic_abi_version (host.Plugin.TimeExportCalls).
func ExportCalls(ctx context.Context, p *host.Plugin, n int) (time.Duration, error) {
	return p.TimeExportCalls(ctx, n)
}

func callsOn(ctx context.Context, e *env, rec *recorder, engine string) error {
	c, err := NewCallPlugins(ctx, e.Root, engine, e.Progress)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, op := range []struct {
		key string
		n   int
		fn  func(context.Context, *host.Plugin, int) (time.Duration, error)
	}{{"hostcall_ns", 20000, HostCalls}, {"export_call_ns", 5000, ExportCalls}} {
		wasm, nat, err := Compare(ctx, e.budget/2, func(native bool) (time.Duration, int, error) {
			p := c.WASM
			if native {
				p = c.Native
			}
			el, err := op.fn(ctx, p, op.n)
			return el, op.n, err
		})
		if err != nil {
			rec.null([]string{op.key, engine}, err)
			continue
		}
		rec.set([]string{op.key, engine}, wasm, nat)
	}
	return nil
}

// Compare runs round on the WASM build and on the native one in turn (one
// warm-up round each first) until budget has passed, and returns each
// build's nanoseconds per operation: round returns the time it took and
// the operations it made.
func Compare(ctx context.Context, budget time.Duration, round func(native bool) (time.Duration, int, error)) (wasm, nat float64, err error) {
	for _, native := range []bool{true, false} {
		if _, _, err := round(native); err != nil {
			return 0, 0, err
		}
	}
	var el [2]time.Duration
	var ops [2]int
	start := time.Now()
	for time.Since(start) < budget || ops[0] == 0 {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		for i, native := range []bool{true, false} {
			d, n, err := round(native)
			if err != nil {
				return 0, 0, err
			}
			el[i] += d
			ops[i] += n
		}
	}
	return float64(el[1].Nanoseconds()) / float64(ops[1]), float64(el[0].Nanoseconds()) / float64(ops[0]), nil
}
