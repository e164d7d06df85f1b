package benchkit

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/build"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/native"
	"github.com/nichost/nichost/plugins/lan/driver"
	"github.com/nichost/nichost/plugins/lan/phy"
)

// lanDevice is a LAN8720A and a port of a segment of their own, as a
// host's simulated buses (named after name) and the grants naming them.
func lanDevice(name string) (map[string]any, map[string]config.BusGrant) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	mdio := sim.NewMDIO()
	mdio.Attach(1, phy.New(phy.Options{Addr: 1}))
	return map[string]any{name + "-port": seg.Attach(name), name + "-mdio": mdio},
		map[string]config.BusGrant{"port": {Kind: "frame", Sim: name + "-port"}, "mdio": {Kind: "mdio", Sim: name + "-mdio"}}
}

// lanHost is a host on engine with n LAN devices, lan0 to lan<n-1>, and
// the plugin configs granting them (source: src).
func lanHost(engine, cacheDir, src string, n int, progress func(string)) (*host.Host, []config.PluginConfig, error) {
	o := host.Options{CacheDir: cacheDir, Logger: discard, Progress: progress, Buses: map[string]any{}}
	var cfgs []config.PluginConfig
	for i := range n {
		name := fmt.Sprintf("lan%d", i)
		sims, grants := lanDevice(name)
		for k, v := range sims {
			o.Buses[k] = v
		}
		cfgs = append(cfgs, config.PluginConfig{Name: name, Source: src, Class: "LAN", Buses: grants})
	}
	o.Engine = engine
	h, err := host.New(o)
	return h, cfgs, err
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// measureLifecycle: building, cold and cached starts and the heap per
// instance, for the Go LAN driver (and the C one's build).
func measureLifecycle(ctx context.Context, e *env, rec *recorder) error {
	reps := 3
	instances := 8
	if e.Quick {
		reps, instances = 1, 4
	}
	lan := e.source("plugins", "lan")
	// plugin_build_ms: a warm-up build first, so that Go's build cache
	// holds the SDK's and the driver's packages for wasip1, then builds
	// into empty nichost caches.
	var wasmPath string
	for _, lang := range []struct{ key, dir string }{{"go", lan}, {"c", e.source("plugins", "lan", "c")}} {
		path, err := measureBuild(ctx, e, rec, lang.key, lang.dir, reps)
		if err != nil {
			rec.null([]string{"plugin_build_ms", lang.key}, err)
		}
		if lang.key == "go" {
			wasmPath = path
		}
	}
	if wasmPath == "" {
		res, err := (&build.Builder{CacheDir: filepath.Join(e.CacheDir, "plugins"), Progress: e.Progress}).Build(ctx, lan)
		if err != nil {
			return err
		}
		wasmPath = res.Path
	}
	if err := measureStarts(ctx, e, rec, wasmPath, reps); err != nil {
		rec.null([]string{"plugin_cold_start_ms"}, err)
		rec.null([]string{"plugin_cached_start_ms"}, err)
	}
	if err := measureInstances(ctx, e, rec, instances); err != nil {
		rec.null([]string{"plugin_instance_kib"}, err)
	}
	return nil
}

// measureBuild builds dir reps times, each into an empty nichost cache,
// and once more from that cache, and returns the module's path.
func measureBuild(ctx context.Context, e *env, rec *recorder, key, dir string, reps int) (string, error) {
	warm := &build.Builder{CacheDir: filepath.Join(e.tmp, "build-warm-"+key)}
	e.progress("building %s once to warm Go's and clang's caches...", dir)
	res, err := warm.Build(ctx, dir)
	if errors.Is(err, build.ErrNoClang) {
		return "", &Unavailable{Reason: "no clang for wasm32-wasi: " + err.Error()}
	}
	if err != nil {
		return "", err
	}
	var cold, cached []time.Duration
	for i := range reps {
		b := &build.Builder{CacheDir: filepath.Join(e.tmp, fmt.Sprintf("build-%s-%d", key, i))}
		t0 := time.Now()
		r, err := b.Build(ctx, dir)
		if err != nil {
			return "", err
		}
		if r.Cached {
			return "", fmt.Errorf("the build into an empty cache %s was taken from a cache", b.CacheDir)
		}
		cold = append(cold, time.Since(t0))
		t0 = time.Now()
		if r, err = b.Build(ctx, dir); err != nil || !r.Cached {
			return "", fmt.Errorf("the second build was not cached (%v)", err)
		}
		cached = append(cached, time.Since(t0))
	}
	rec.set([]string{"plugin_build_ms", key}, ms(median(cold)), ms(median(cached)))
	return res.Path, nil
}

// measureStarts: host.Load of the built module into hosts with empty
// caches (cold), host.LoadNative (its baseline), and host.Load of the
// source with warm caches (cached).
func measureStarts(ctx context.Context, e *env, rec *recorder, wasmPath string, reps int) error {
	var cold, nat, cached []time.Duration
	for i := range reps {
		h, cfgs, err := lanHost("wazero", filepath.Join(e.tmp, fmt.Sprintf("cold-%d", i)), wasmPath, 1, nil)
		if err != nil {
			return err
		}
		t0 := time.Now()
		p, info, err := h.Load(ctx, cfgs[0])
		el := time.Since(t0)
		if err == nil && info.CompileCached {
			err = errors.New("the cold start found the module in an empty compilation cache")
		}
		if err == nil {
			cold = append(cold, el)
			p.Close()
			t0 = time.Now()
			nc := cfgs[0]
			nc.Source = ""
			if p, err = native.Load(ctx, h, nc, driver.New); err == nil {
				nat = append(nat, time.Since(t0))
				p.Close()
			}
		}
		h.Close()
		if err != nil {
			return err
		}
	}
	coldMS := ms(median(cold))
	rec.set([]string{"plugin_cold_start_ms"}, coldMS, ms(median(nat)))

	h, cfgs, err := lanHost("wazero", e.CacheDir, e.source("plugins", "lan"), 1, e.Progress)
	if err != nil {
		return err
	}
	defer h.Close()
	for i := range reps*3 + 1 { // the first fills the caches
		t0 := time.Now()
		p, info, err := h.Load(ctx, cfgs[0])
		if err != nil {
			return err
		}
		el := time.Since(t0)
		p.Close()
		if i == 0 {
			continue
		}
		if !info.Build.Cached || !info.CompileCached {
			return fmt.Errorf("a load of an unchanged source missed a cache (build cached %v, compile cached %v)", info.Build.Cached, info.CompileCached)
		}
		cached = append(cached, el)
	}
	rec.set([]string{"plugin_cached_start_ms"}, ms(median(cached)), coldMS)
	return nil
}

// heap is the Go heap in use after two collections.
func heap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// measureInstances: the heap n loaded plugins take, per plugin, as WASM
// and natively.
func measureInstances(ctx context.Context, e *env, rec *recorder, n int) error {
	var guest uint64 // linear memory of the WASM instances
	per := func(wasm bool) (float64, error) {
		h, cfgs, err := lanHost("wazero", e.CacheDir, e.source("plugins", "lan"), n+1, e.Progress)
		if err != nil {
			return 0, err
		}
		defer h.Close()
		load := func(cfg config.PluginConfig) error {
			if wasm {
				_, _, err := h.Load(ctx, cfg)
				return err
			}
			cfg.Source = ""
			_, err := native.Load(ctx, h, cfg, driver.New)
			return err
		}
		// One plugin first, so that what a first load sets up once (the
		// host's and the engine's lazily made state) is not counted.
		if err := load(cfgs[n]); err != nil {
			return 0, err
		}
		before := heap()
		for _, cfg := range cfgs[:n] {
			if err := load(cfg); err != nil {
				return 0, err
			}
		}
		after := heap()
		if wasm {
			for _, p := range h.Plugins()[:n] {
				guest += p.Stats().Memory
			}
		}
		runtime.KeepAlive(h)
		return (float64(after) - float64(before)) / float64(n) / 1024, nil
	}
	w, err := per(true)
	if err != nil {
		return err
	}
	nt, err := per(false)
	if err != nil {
		return fmt.Errorf("native: %w", err)
	}
	rec.set([]string{"plugin_instance_kib"}, w, nt)
	e.progress("plugin_instance_kib: %.0f KiB per WASM instance, of which %d KiB its linear memory", w, guest/uint64(n)/1024)
	return nil
}
