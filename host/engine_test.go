package host_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/native"
	"github.com/nichost/nichost/internal/testdriver"
)

// wantEngine is the engine a Host with no Options.Engine runs on: what
// NICHOST_ENGINE says, else wazero.
func wantEngine() string {
	if e := os.Getenv(host.EngineEnv); e != "" {
		return e
	}
	return "wazero"
}

// The plugins of a test pass run on the engine the pass asked for: a
// second pass with NICHOST_ENGINE=wasmtime cannot silently run wazero
// again.
func TestEngine_AsAsked(t *testing.T) {
	want := wantEngine()
	r := newRig(t, config.Limits{})
	if got := r.h.Engine(); got != want {
		t.Fatalf("Host.Engine() = %q, want %q ($%s=%q)", got, want, host.EngineEnv, os.Getenv(host.EngineEnv))
	}
	p, info, err := r.loadErr(t, "full", plugin("full"), noBuses)
	if err != nil {
		t.Fatal(err)
	}
	if p.Engine() != want || info.Engine != want {
		t.Fatalf("plugin runs on %q (LoadInfo %q), want %q", p.Engine(), info.Engine, want)
	}
	if _, err := p.NICs()[0].Active(ctxT(t)); err != nil {
		t.Fatalf("active() on %s: %v", want, err)
	}
	n, err := native.Load(ctxT(t), r.h, config.PluginConfig{Name: "native"}, testdriver.New)
	if err != nil {
		t.Fatal(err)
	}
	if n.Engine() != host.EngineNative {
		t.Fatalf("a native plugin runs on %q, want %q", n.Engine(), host.EngineNative)
	}
}

// The engine's compiled modules persist in the cache directory: a second
// host (a second start of nichost) takes the module from there instead of
// compiling it, and says so.
func TestEngine_CompileCached(t *testing.T) {
	r := newRig(t, config.Limits{})
	res, err := r.h.Builder().Build(ctxT(t), plugin("full"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	load := func() host.LoadInfo {
		t.Helper()
		h, err := host.New(host.Options{CacheDir: dir, Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		_, info, err := h.Load(ctxT(t), config.PluginConfig{Name: "full", Source: res.Path})
		if err != nil {
			t.Fatal(err)
		}
		return info
	}
	cold := load()
	if cold.CompileCached {
		t.Fatalf("the first load in an empty cache says its module was cached: %+v", cold)
	}
	files, _ := os.ReadDir(filepath.Join(dir, cold.Engine))
	if len(files) == 0 {
		t.Fatalf("nothing was cached in %s", filepath.Join(dir, cold.Engine))
	}
	warm := load()
	if !warm.CompileCached {
		t.Fatalf("the second load compiled the module again: %+v", warm)
	}
	t.Logf("%s: compile %v cold, %v from the cache", cold.Engine, cold.Compile, warm.Compile)
}

// An engine name the host does not know is refused, with the names it
// does.
func TestEngine_Unknown(t *testing.T) {
	_, err := host.New(host.Options{Engine: "wasmer", CacheDir: t.TempDir(), Logger: quiet()})
	if err == nil || !contains(err.Error(), `engine "wasmer": unknown; the engines are wazero, wasmtime`) {
		t.Fatalf("New(Engine: wasmer) = %v, want the known engines listed", err)
	}
	if got := host.Engines(); len(got) != 2 || got[0] != "wazero" || got[1] != "wasmtime" {
		t.Fatalf("Engines() = %v", got)
	}
	if got := config.Engines(); len(got) != len(host.Engines()) || got[0] != host.Engines()[0] || got[1] != host.Engines()[1] {
		t.Fatalf("the config accepts engines %v, the host has %v", got, host.Engines())
	}
}

// A host keeps a compiled module after its plugin closes: the next load of
// the same module with the same memory limit takes it without compiling,
// and the plugin it starts works. A module still in use by a running
// plugin is never handed to another (each plugin has a runtime of its
// own), and another memory limit compiles anew.
func TestEngine_KeepsModulesWarm(t *testing.T) {
	r := newRig(t, config.Limits{})
	res, err := r.h.Builder().Build(ctxT(t), plugin("full"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := host.New(host.Options{CacheDir: t.TempDir(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	load := func(name string, limits config.Limits) (*host.Plugin, host.LoadInfo) {
		t.Helper()
		p, info, err := h.Load(ctxT(t), config.PluginConfig{Name: name, Source: res.Path, Limits: limits})
		if err != nil {
			t.Fatal(err)
		}
		return p, info
	}
	a, ia := load("a", config.Limits{})
	b, ib := load("b", config.Limits{})
	if ia.Compile == 0 || ib.Compile == 0 {
		t.Fatalf("two plugins running at once shared a compiled module (compile %v, %v); each needs a runtime of its own", ia.Compile, ib.Compile)
	}
	a.Close()
	b.Close()
	c, ic := load("c", config.Limits{})
	if !ic.CompileCached || ic.Compile != 0 {
		t.Fatalf("a load after the module's plugins closed compiled it again: %+v", ic)
	}
	if up, err := c.NICs()[0].Active(ctxT(t)); err != nil || up {
		t.Fatalf("the plugin started from a kept module: active() = %v, %v; want False", up, err)
	}
	_, id := load("d", config.Limits{MemoryLimit: 32 << 20})
	if id.Compile == 0 {
		t.Fatalf("a load with another memory limit took a module kept for the default: %+v", id)
	}
}
