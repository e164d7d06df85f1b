package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/internal/testenv"
	"github.com/nichost/nichost/internal/wait"
)

// testPlugin is a test plugin's source directory.
func testPlugin(t *testing.T, name string) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "host", "testdata", "plugins", filepath.FromSlash(name))
}

// startDaemon runs `nichost run -c cfg args...` in-process until the test
// ends and returns the daemon once it serves, with its log.
func startDaemon(t *testing.T, cfg string, args ...string) (*daemon, *testenv.Buffer) {
	t.Helper()
	ready := make(chan *daemon, 1)
	daemonReady = func(d *daemon) { ready <- d }
	t.Cleanup(func() { daemonReady = nil })
	var out testenv.Buffer
	cmd := newRoot()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	sock := filepath.Join(t.TempDir(), "control.sock")
	cmd.SetArgs(append([]string{"run", "-c", cfg, "--control-socket", sock}, args...))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		if t.Failed() {
			t.Logf("daemon log:\n%s", out.String())
		}
	})
	select { // no deadline: the first start builds the plugins
	case d := <-ready:
		return d, &out
	case err := <-done:
		t.Fatalf("run ended before serving: %v\n%s", err, out.String())
	}
	return nil, nil
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sighup writes text to the daemon's configuration file cfg, sends the
// daemon (this process) SIGHUP, and waits until its log shows want once
// more than before.
func sighup(t *testing.T, cfg, text string, log *testenv.Buffer, want string) {
	t.Helper()
	writeFile(t, cfg, text)
	before := strings.Count(log.String(), want)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the daemon to log "+want, func() bool { return strings.Count(log.String(), want) > before })
}

// A bad configuration fails the start naming file and line; so does a
// plugin that does not load, and then nothing runs: no socket is left.
func TestDaemon_BadConfigStartsNothing(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "nichost.yaml")
	sock := filepath.Join(dir, "control.sock")
	writeFile(t, cfg, "hostname: ok\nplugins:\n  - name: lan0\n    source: "+testPlugin(t, "full")+"\n    limits: {memory_limit: lots}\n")
	_, err := run(t, "run", "-c", cfg, "--control-socket", sock)
	if err == nil || !strings.Contains(err.Error(), cfg+":5:") || !strings.Contains(err.Error(), "memory_limit") {
		t.Fatalf("run with a bad limit: %v; want file:line and the key", err)
	}
	writeFile(t, cfg, "plugins:\n  - name: lan0\n    source: "+testPlugin(t, "full")+"\n  - name: lan1\n    source: "+filepath.Join(dir, "missing")+"\n")
	_, err = run(t, "run", "-c", cfg, "--control-socket", sock)
	if err == nil || !strings.Contains(err.Error(), `"lan1"`) || !strings.Contains(err.Error(), "nothing was started") {
		t.Fatalf("run with a missing plugin source: %v; want the plugin named and nothing started", err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("the control socket is left behind after a failed start: %v", err)
	}
}

// SIGHUP applies what changed and nothing else; a bad configuration
// changes nothing.
func TestDaemon_SIGHUPAppliesOnlyChanges(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "nichost.yaml")
	full, other := testPlugin(t, "full"), testPlugin(t, "hostile/badhandle")
	plugin := func(name, src, extra string) string {
		return "  - name: " + name + "\n    source: " + src + "\n" + extra
	}
	writeFile(t, cfg, "hostname: first\nplugins:\n"+plugin("lan0", full, ""))
	d, log := startDaemon(t, cfg)
	lan0, _ := d.h.Plugin("lan0")
	applied := 0
	hup := func(text, want string) { t.Helper(); sighup(t, cfg, text, log, want) }

	hup("hostname: [broken\n", "the running one stays")
	if d.h.Hostname() != "first" || lan0.Generation() != 1 || len(d.h.Plugins()) != 1 {
		t.Fatalf("a bad configuration changed something: hostname %q, generation %d", d.h.Hostname(), lan0.Generation())
	}

	hup("hostname: first\nplugins:\n"+plugin("lan0", full, ""), "configuration applied")
	applied++
	if lan0.Generation() != 1 || !strings.Contains(log.String(), "changes=0") {
		t.Fatalf("an unchanged configuration touched the plugin: generation %d", lan0.Generation())
	}

	hup("hostname: second\nplugins:\n"+plugin("lan0", full, "")+plugin("lan1", full, "    interfaces: {eth0: {mac: \"02:00:00:00:00:09\"}}\n"), "configuration applied")
	lan1, ok := d.h.Plugin("lan1")
	if d.h.Hostname() != "second" || !ok || lan0.Generation() != 1 {
		t.Fatalf("after adding lan1: hostname %q, lan1 loaded %v, lan0 generation %d", d.h.Hostname(), ok, lan0.Generation())
	}

	// lan0's module changes: a reload (same NICs, next generation); lan1's
	// settings change: loaded anew.
	hup("hostname: second\nplugins:\n"+plugin("lan0", other, "")+plugin("lan1", full, "    interfaces: {eth0: {mac: \"02:00:00:00:00:0a\"}}\n"), "configuration applied")
	if p, _ := d.h.Plugin("lan0"); p != lan0 || lan0.Generation() != 2 || lan0.Config().Source != other {
		t.Fatalf("lan0 after its module changed: same plugin %v, generation %d, source %s", p == lan0, lan0.Generation(), lan0.Config().Source)
	}
	if p, _ := d.h.Plugin("lan1"); p == lan1 || p == nil || p.NICs()[0].MAC().String() != "02:00:00:00:00:0a" {
		t.Fatalf("lan1 after its settings changed: %v", p)
	}

	// A module that does not build: the running one stays, the rest applies.
	hup("hostname: third\nplugins:\n"+plugin("lan0", filepath.Join(dir, "gone"), ""), "configuration applied")
	if _, ok := d.h.Plugin("lan1"); ok || d.h.Hostname() != "third" || lan0.Generation() != 2 || !lan0.State().Up {
		t.Fatalf("after removing lan1 with lan0's source gone: lan1 there %v, hostname %q, lan0 generation %d", ok, d.h.Hostname(), lan0.Generation())
	}
	if !strings.Contains(log.String(), "the running module stays") {
		t.Fatal("the failed rebuild was not logged")
	}
	_ = config.DefaultControlSocket
}

// The example configuration and the systemd unit shipped in dist/ are
// what the daemon accepts.
func TestDist_ExampleConfigAndUnit(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadConfig(filepath.Join(root, "dist", "nichost.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Control.SocketPath() != config.DefaultControlSocket || len(cfg.Plugins) != 2 {
		t.Fatalf("example config: socket %s, %d plugins", cfg.Control.SocketPath(), len(cfg.Plugins))
	}
	unit, err := os.ReadFile(filepath.Join(root, "dist", "systemd", "nichost.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ExecStart=/usr/bin/nichost run -c /etc/nichost/nichost.yaml", "ExecReload=/bin/kill -HUP $MAINPID",
		"User=nichost", "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW", "RuntimeDirectory=nichost",
	} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
}
