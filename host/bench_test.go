package host

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/host/build"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/internal/engine"
	"github.com/nichost/nichost/host/internal/hostcall"
	"github.com/nichost/nichost/internal/testdriver"
)

// The benchmarks measure the sandbox's costs on the test driver: each
// operation on the WASM build and on the same driver compiled natively, in
// the same run, reported with their ratio (metric "x-native").
//
//	go test -run '^$' -bench . ./host/

// benchPlugins loads the test driver twice: as WASM and natively.
func benchPlugins(b *testing.B) (wasm, native *Plugin) {
	b.Helper()
	h, err := New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	ctx := context.Background()
	wasm, _, err = h.Load(ctx, config.PluginConfig{Name: "wasm", Source: filepath.Join("testdata", "plugins", "full")})
	if err != nil {
		b.Fatal(err)
	}
	native, err = h.LoadNative(ctx, config.PluginConfig{Name: "native"}, func(imp abi.Imports) abi.Exports { return guest.NewModule(testdriver.New(), imp) })
	if err != nil {
		b.Fatal(err)
	}
	return wasm, native
}

// onPlugin runs fn on the plugin's goroutine with its live instance.
func onPlugin(b *testing.B, p *Plugin, fn func(inst engine.Instance)) {
	b.Helper()
	if _, err := p.do(context.Background(), "bench", func() (any, error) { fn(p.sup.Instance()); return nil, nil }); err != nil {
		b.Fatal(err)
	}
}

// compare runs op on both plugins for b.N iterations each and reports
// both times and their ratio.
func compare(b *testing.B, wasm, native *Plugin, op func(b *testing.B, p *Plugin, n int)) {
	op(b, native, 10) // warm up both
	op(b, wasm, 10)
	b.ResetTimer()
	t0 := time.Now()
	op(b, native, b.N)
	tn := time.Since(t0)
	t1 := time.Now()
	op(b, wasm, b.N)
	tw := time.Since(t1)
	b.StopTimer()
	nsN := float64(tn.Nanoseconds()) / float64(b.N)
	nsW := float64(tw.Nanoseconds()) / float64(b.N)
	b.ReportMetric(nsW, "wasm-ns/op")
	b.ReportMetric(nsN, "native-ns/op")
	b.ReportMetric(nsW/nsN, "x-native")
}

func BenchmarkCalls(b *testing.B) {
	wasm, native := benchPlugins(b)
	frame := bytes.Repeat([]byte{0xa5}, 1500)
	ctx := context.Background()
	b.Run("export-call-empty", func(b *testing.B) {
		// nic_abi_version: the bare cost of entering the guest.
		compare(b, wasm, native, func(b *testing.B, p *Plugin, n int) {
			onPlugin(b, p, func(inst engine.Instance) {
				for range n {
					inst.ABIVersion(ctx)
				}
			})
		})
	})
	b.Run("import-call", func(b *testing.B) {
		// The guest calls nic.now n times inside one export.
		compare(b, wasm, native, func(b *testing.B, p *Plugin, n int) {
			if _, err := p.NICs()[0].Call(ctx, "now", n); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("frame-1500-guest-to-host", func(b *testing.B) {
		// rx_push of a 1500-byte frame to an attached core.
		for _, p := range []*Plugin{wasm, native} {
			p.NICs()[0].attach(discardLink{})
		}
		compare(b, wasm, native, func(b *testing.B, p *Plugin, n int) {
			if _, err := p.NICs()[0].Call(ctx, "deliver", frame, n); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("frame-1500-host-to-guest", func(b *testing.B) {
		// nic_transmit: copy into the guest's buffer and call the driver.
		compare(b, wasm, native, func(b *testing.B, p *Plugin, n int) {
			onPlugin(b, p, func(inst engine.Instance) {
				for range n {
					if rc, err := inst.Transmit(ctx, 0, frame); rc != 0 || err != nil {
						b.Fatal(rc, err)
					}
				}
			})
		})
	})
	b.Run("nic-isconnected", func(b *testing.B) {
		// A whole AbstractNIC call: caller goroutine -> plugin goroutine ->
		// CBOR arguments -> driver -> CBOR result -> caller.
		compare(b, wasm, native, func(b *testing.B, p *Plugin, n int) {
			for range n {
				if _, err := p.NICs()[0].IsConnected(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("nic-config-set", func(b *testing.B) {
		compare(b, wasm, native, func(b *testing.B, p *Plugin, n int) {
			// Each plugin sets an address of its own: the host refuses
			// another NIC's.
			kw := KW{"label": "x", "mac": []byte{2, 0, 0, 0, 0, 9}}
			if p == native {
				kw["mac"] = []byte{2, 0, 0, 0, 0, 10}
			}
			for range n {
				if err := p.NICs()[0].SetConfig(ctx, kw); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

type discardLink struct{}

func (discardLink) DeliverFrame([]byte) error { return nil }
func (discardLink) LinkChanged(LinkState)     {}
func (discardLink) Reported(map[string]any)   {}

// benchModule builds the test plugin and returns its bytes.
func benchModule(b *testing.B) []byte {
	b.Helper()
	res, err := (&build.Builder{CacheDir: filepath.Join(build.DefaultCacheDir(), "plugins")}).Build(context.Background(), filepath.Join("testdata", "plugins", "full"))
	if err != nil {
		b.Fatal(err)
	}
	wasm, err := os.ReadFile(res.Path)
	if err != nil {
		b.Fatal(err)
	}
	return wasm
}

func BenchmarkLoad(b *testing.B) {
	wasm := benchModule(b)
	ctx := context.Background()
	// The engine NICHOST_ENGINE names, as Host.New would pick it.
	open := func(b *testing.B, dir string) engine.Engine {
		e, err := engine.Open(os.Getenv(EngineEnv), dir)
		if err != nil {
			b.Fatal(err)
		}
		return e
	}
	compile := func(b *testing.B, e engine.Engine) engine.Module {
		rt, err := e.NewRuntime(ctx, 64<<20)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { rt.Close(ctx) })
		m, err := rt.Compile(ctx, wasm)
		if err != nil {
			b.Fatal(err)
		}
		return m
	}
	b.Run("compile-cold", func(b *testing.B) {
		for range b.N {
			e := open(b, "") // in memory and empty: the engine compiles
			compile(b, e)
			e.Close(ctx)
		}
	})
	b.Run("compile-cached", func(b *testing.B) {
		e := open(b, b.TempDir())
		defer e.Close(ctx)
		compile(b, e) // fill the disk cache
		b.ResetTimer()
		for range b.N {
			if m := compile(b, e); !m.Cached() {
				b.Fatal("the module was compiled again")
			}
		}
	})
	b.Run("instantiate", func(b *testing.B) {
		e := open(b, "")
		defer e.Close(ctx)
		m := compile(b, e)
		p := &Plugin{h: &Host{}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		b.ResetTimer()
		for range b.N {
			inst, err := m.Instantiate(ctx, hostcall.New((*hooks)(p), time.Now()), engine.Output{})
			if err != nil {
				b.Fatal(err)
			}
			inst.Close(ctx)
		}
	})
	b.Run("load-cached", func(b *testing.B) {
		// A whole cached start: build check, compile from the disk cache,
		// instantiate, handshake and nic_start.
		h, err := New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		defer h.Close()
		cfg := config.PluginConfig{Name: "load", Source: filepath.Join("testdata", "plugins", "full")}
		for range b.N {
			p, info, err := h.Load(ctx, cfg)
			if err != nil || !info.Build.Cached {
				b.Fatal(info, err)
			}
			p.Close()
		}
	})
	b.Run("build-cached", func(b *testing.B) {
		// What a second `nichost build` of an unchanged plugin costs:
		// go list and hashing every input.
		bl := &build.Builder{CacheDir: filepath.Join(build.DefaultCacheDir(), "plugins")}
		for range b.N {
			if res, err := bl.Build(ctx, filepath.Join("testdata", "plugins", "full")); err != nil || !res.Cached {
				b.Fatal(res, err)
			}
		}
	})
}

var _ guest.Driver = (*testdriver.Driver)(nil)
