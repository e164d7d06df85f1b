package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nichost/nichost/internal/wait"
)

// cli runs a client command against sock and returns stdout and the exit
// code main would give.
func cli(t *testing.T, sock, stdin string, args ...string) (string, int, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := newRoot()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(append([]string{"--socket", sock}, args...))
	err := cmd.ExecuteContext(context.Background())
	code := 0
	if err != nil {
		code = exitCode(err)
	}
	return out.String(), code, err
}

// The client commands and the shell against a daemon running the LAN
// plugin on a simulated LAN: outputs as MicroPython prints them, --json
// for scripts, exit codes that say what went wrong.
func TestCLI_AgainstTheDaemon(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "nichost.yaml")
	writeFile(t, cfg, "hostname: board-7\nplugins:\n  - name: eth0\n    source: "+filepath.Join(root, "plugins", "lan")+
		"\n    buses: {port: {kind: frame, sim: lan0-port}, mdio: {kind: mdio, sim: lan0-mdio}}\n    interfaces: {eth: {mac: \"02:00:00:00:00:01\"}}\n")
	d, _ := startDaemon(t, cfg, "--sim", "lan0=lan8720")
	sock := d.sock
	ok := func(stdin string, args ...string) string {
		t.Helper()
		out, code, err := cli(t, sock, stdin, args...)
		if code != 0 {
			t.Fatalf("nichost %s: exit %d: %v\n%s", strings.Join(args, " "), code, err, out)
		}
		return out
	}
	fails := func(code int, want string, args ...string) {
		t.Helper()
		out, got, err := cli(t, sock, "", args...)
		if got != code || err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("nichost %s: exit %d, %v (%s); want exit %d and %q", strings.Join(args, " "), got, err, out, code, want)
		}
	}

	if out := ok("", "nic", "ls"); !strings.Contains(out, "NAME") || !strings.Contains(out, "eth0") || !strings.Contains(out, "LAN") {
		t.Fatalf("nic ls:\n%s", out)
	}
	if out := ok("", "nic", "eth0", "active"); out != "False\n" {
		t.Fatalf("active before: %q", out)
	}
	ok("", "nic", "eth0", "active", "on")
	wait.For(t, "isconnected()", func() bool {
		out, _, _ := cli(t, sock, "", "nic", "eth0", "isconnected", "--json")
		return out == "true\n"
	})
	if out := ok("", "nic", "eth0", "config", "mac"); out != "b'\\x02\\x00\\x00\\x00\\x00\\x01'\n" {
		t.Fatalf("config mac: %q", out)
	}
	if out := ok("", "nic", "eth0", "ipconfig", "addr4"); !strings.HasPrefix(out, "('10.64.0.") || !strings.Contains(out, "'255.255.255.0')") {
		t.Fatalf("ipconfig addr4: %q", out)
	}
	if out := ok("", "nic", "eth0", "status"); out == "" {
		t.Fatal("status printed nothing")
	}
	fails(1, "NotImplementedError", "nic", "eth0", "connect", "x")
	fails(1, "eth9", "nic", "eth9", "isconnected")
	fails(2, "want on or off", "nic", "eth0", "active", "maybe")
	fails(2, "KEY=VALUE", "nic", "eth0", "config", "a=1", "b")
	fails(1, "TypeError", "nic", "eth0", "config", "mac=7")

	if out := ok("", "hostname"); out != "'board-7'\n" {
		t.Fatalf("hostname: %q", out)
	}
	fails(1, "ValueError", "hostname", strings.Repeat("a", 33))
	if out := ok("", "hostname"); out != "'board-7'\n" {
		t.Fatalf("hostname after a refused one: %q", out)
	}
	ok("", "country", "DE")
	if out := ok("", "country"); out != "'DE'\n" {
		t.Fatalf("country: %q", out)
	}
	ok("", "ipconfig", "dns=10.64.0.1,9.9.9.9")
	if out := ok("", "ipconfig", "dns"); !strings.Contains(out, "10.64.0.1") {
		t.Fatalf("ipconfig dns: %q", out)
	}

	var ps []struct {
		Name       string `json:"name"`
		Generation int    `json:"generation"`
	}
	if err := json.Unmarshal([]byte(ok("", "plugin", "ls", "--json")), &ps); err != nil || len(ps) != 1 || ps[0].Generation != 1 {
		t.Fatalf("plugin ls --json: %+v, %v", ps, err)
	}
	if out := ok("", "plugin", "restart", "eth0"); !strings.Contains(out, "generation 2") {
		t.Fatalf("plugin restart: %q", out)
	}
	if out := ok("", "plugin", "ls"); !strings.Contains(out, "GEN") || !strings.Contains(out, "eth0") {
		t.Fatalf("plugin ls:\n%s", out)
	}
	if out := ok("", "logs", "-n", "5"); strings.Count(out, "\n") != 5 {
		t.Fatalf("logs -n 5 printed %d lines", strings.Count(out, "\n"))
	}

	// The shell, fed a script.
	out, code, _ := cli(t, sock, "network.hostname()\neth0.config('mac')\n# a comment\neth9.active()\nnetwork.hostname('"+strings.Repeat("a", 33)+"')\nnetwork.hostname()\n", "shell")
	want := []string{"'board-7'", `b'\x02\x00\x00\x00\x00\x01'`, "NameError: name 'eth9' isn't defined", "ValueError: hostname", "'board-7'"}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 1 || len(lines) != len(want) {
		t.Fatalf("shell: exit %d, output:\n%s", code, out)
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("shell line %d = %q, want %q...", i+1, lines[i], want[i])
		}
	}
}

func TestCLI_UnreachableAndCompletion(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	_, code, err := cli(t, sock, "", "nic", "ls")
	if code != exitUnreachable || err == nil || !strings.Contains(err.Error(), "is `nichost run` running?") {
		t.Fatalf("no daemon: exit %d, %v", code, err)
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, code, err := cli(t, sock, "", "completion", sh)
		if code != 0 || !strings.Contains(out, "nichost") || len(out) < 500 {
			t.Errorf("completion %s: exit %d, %v, %d bytes", sh, code, err, len(out))
		}
	}
	if _, code, err := cli(t, sock, "", "nic", "ls", "--no-such-flag"); code != exitUsage {
		t.Errorf("a bad flag: exit %d, %v; want %d", code, err, exitUsage)
	}
	var ee *exitError
	if !errors.As(usage("x"), &ee) || os.Getenv("X") != "" {
		t.Fatal("usage is not an exitError")
	}
}
