package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nichost/nichost/internal/testenv"
	"github.com/nichost/nichost/internal/wait"
)

// build --watch rebuilds a plugin when its source changes and reloads it
// into the running daemon; a broken edit is reported and changes nothing.
func TestBuild_WatchRebuildsAndReloads(t *testing.T) {
	testenv.NeedTool(t, "clang", "clang lld wasi-libc libclang-rt-14-dev-wasm32")
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "lanc")
	os.MkdirAll(src, 0o755)
	for _, f := range []string{"lan.c", "nichost-plugin.yaml"} {
		b, err := os.ReadFile(filepath.Join(root, "plugins", "lan", "c", f))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(src, f), string(b))
	}
	cfg := filepath.Join(t.TempDir(), "nichost.yaml")
	writeFile(t, cfg, "plugins:\n  - name: eth0\n    source: "+src+
		"\n    buses: {port: {kind: frame, sim: lan0-port}, mdio: {kind: mdio, sim: lan0-mdio}}\n")
	d, _ := startDaemon(t, cfg, "--sim", "lan0=lan8720")
	p, _ := d.h.Plugin("eth0")

	var out testenv.Buffer
	cmd := newRoot()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{"--socket", d.sock, "build", src, "--watch"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("build --watch: %v", err)
		}
	}()
	wait.For(t, "the first build", func() bool { return strings.Contains(out.String(), "built in") })

	lan := filepath.Join(src, "lan.c")
	b, _ := os.ReadFile(lan)
	writeFile(t, lan, string(b)+"\n/* an edit */\nint nichost_watch_test_marker = 1;\n")
	wait.For(t, "a rebuild and a reload", func() bool { return strings.Contains(out.String(), "eth0\treloaded, generation 2") })
	if p.Generation() != 2 || !p.State().Up {
		t.Fatalf("after the reload: generation %d, up %v", p.Generation(), p.State().Up)
	}

	writeFile(t, lan, string(b)+"\nthis is not C\n")
	wait.For(t, "the failed build reported", func() bool { return strings.Contains(out.String(), "build failed") })
	if p.Generation() != 2 || !p.State().Up {
		t.Fatalf("a failed build touched the plugin: generation %d", p.Generation())
	}
}
