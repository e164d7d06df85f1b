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
