package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nichost/nichost/internal/wait"
)

// run runs the CLI in-process with args and returns its output.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := newRoot()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestDemo_JSON(t *testing.T) {
	out, err := run(t, "demo", "--json")
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	var nics []nicResult
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var r nicResult
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("bad JSON %q: %v", out, err)
		}
		nics = append(nics, r)
	}
	classes := map[string]bool{}
	for _, n := range nics {
		classes[n.Class] = true
		if !n.Active || !n.IsConnected || !strings.HasPrefix(n.Addr4, "10.64.0.") || n.Gw4 != "10.64.0.1" ||
			len(n.DNS) == 0 || n.HTTPStatus != 200 || n.HTTPBytes == 0 || n.Error != "" {
			t.Errorf("NIC %+v did not make it through the network", n)
		}
	}
	if !classes["LAN"] || !classes["WIZNET5K"] {
		t.Fatalf("the demo lacks the LAN or the WIZNET5K NIC:\n%s", out)
	}
}

func TestDemo_Contain(t *testing.T) {
	out, err := run(t, "demo", "--once", "--contain")
	if err != nil {
		t.Fatalf("demo --contain: %v\n%s", err, out)
	}
	for _, want := range []string{"interrupted after 300 ms", "restarted 1 time(s)", "the other NICs kept their links"} {
		if !strings.Contains(out, want) {
			t.Fatalf("demo output lacks %q:\n%s", want, out)
		}
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("plugins:\n  - {name: eth0, source: drv, buses: {spi: {kind: spi, sim: w5500}}}\n"), 0o644)
	if out, err := run(t, "check", good); err != nil || !strings.Contains(out, "eth0: "+filepath.Join(dir, "drv")+", 1 bus grant(s)") {
		t.Fatalf("check good: %v\n%s", err, out)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("hostname: "+strings.Repeat("x", 40)+"\n"), 0o644)
	if _, err := run(t, "check", bad); err == nil || !strings.Contains(err.Error(), "at most 32") {
		t.Fatalf("check bad: %v", err)
	}
}

func TestBuildAndVersion(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "build", filepath.Join(root, "host", "testdata", "plugins", "full"))
	if err != nil || !strings.Contains(out, ".wasm") {
		t.Fatalf("build: %v\n%s", err, out)
	}
	if out, err := run(t, "build", filepath.Join(root, "no-such-dir")); err == nil {
		t.Fatalf("build of a missing dir succeeded: %s", out)
	}
	if out, _ := run(t, "version"); !strings.Contains(out, "plugin ABI 1.0") {
		t.Fatalf("version: %s", out)
	}
}

func TestRun_LoadsAndReportsStatus(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "nichost.yaml")
	os.WriteFile(cfg, []byte("hostname: runner\nplugins:\n  - name: lan0\n    source: "+
		filepath.Join(root, "host", "testdata", "plugins", "full")+"\n"), 0o644)
	var out lockedBuffer // plugin goroutines log while the status loop prints
	cmd := newRoot()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{"run", "-c", cfg, "--up", "--status-every", "100ms"})
	// The daemon runs until a status line shows the NIC up, however long a
	// cold build and compile take on this machine; then it is interrupted.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	statusLine := func() bool {
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.Contains(l, "lan0.eth0") && strings.Contains(l, "active=true") && strings.Contains(l, "link=up (ethernet, mtu 1500)") {
				return true
			}
		}
		return false
	}
	if !wait.Until(context.Background(), wait.Limit, func() bool { return statusLine() || len(done) > 0 }) || !statusLine() {
		cancel()
		t.Fatalf("no status line for the active NIC:\n%s", out.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if _, err := run(t, "run"); err == nil || !strings.Contains(err.Error(), "-c CONFIG is required") {
		t.Fatalf("run without config: %v", err)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestTestCommand(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	for dir, sim := range map[string]string{"lan": "lan8720", "wiznet": "w5500"} {
		out, err := run(t, "test", filepath.Join(root, "plugins", dir), "--sim", sim)
		if err != nil || !strings.Contains(out, "PASS  DHCP lease and HTTP through the NIC") || !strings.Contains(out, " passed, 0 failed") {
			t.Fatalf("nichost test plugins/%s --sim %s: %v\n%s", dir, sim, err, out)
		}
	}
	// A driver of another class fails the suite, saying why.
	out, err := run(t, "test", filepath.Join(root, "host", "testdata", "plugins", "needy"), "--sim", "lan8720")
	if err == nil || !strings.Contains(out, "FAIL  load") {
		t.Fatalf("the needy test plugin passed the LAN suite: %v\n%s", err, out)
	}
	if _, err := run(t, "test", ".", "--sim", "nope"); err == nil || !strings.Contains(err.Error(), "unknown simulator") {
		t.Fatalf("unknown simulator: %v", err)
	}
}
