package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"

	"github.com/nichost/nichost/internal/testenv"
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
	sock := startLANDaemon(t).sock
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

// stream runs a client command that does not end by itself (events, logs
// -f) until the test ends; its output grows in the returned buffer.
func stream(t *testing.T, sock string, args ...string) *testenv.Buffer {
	t.Helper()
	var out testenv.Buffer
	cmd := newRoot()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append([]string{"--socket", sock}, args...))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("nichost %s: %v", strings.Join(args, " "), err)
		}
	})
	return &out
}

// The rest of the commands: results and their --json forms, refused
// values that change nothing, plugin reload, the event and log streams,
// and completion of NIC and plugin names from the daemon.
func TestCLI_ValuesStreamsAndCompletion(t *testing.T) {
	d := startLAN(t)
	ok := func(args ...string) string {
		t.Helper()
		out, code, err := cli(t, d.sock, "", args...)
		if code != 0 {
			t.Fatalf("nichost %s: exit %d: %v\n%s", strings.Join(args, " "), code, err, out)
		}
		return out
	}
	fails := func(code int, want string, args ...string) {
		t.Helper()
		out, got, err := cli(t, d.sock, "", args...)
		if got != code || err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("nichost %s: exit %d, %v (%s); want exit %d and %q", strings.Join(args, " "), got, err, out, code, want)
		}
	}

	// ifconfig() is MicroPython's 4-tuple; --json is the API's tagged form.
	if out := ok("nic", "eth0", "ifconfig"); !strings.HasPrefix(out, "('10.64.0.") || strings.Count(out, "', '") != 3 {
		t.Errorf("ifconfig: %q", out)
	}
	var tuple struct {
		T []string `json:"$tuple"`
	}
	if err := json.Unmarshal([]byte(ok("nic", "eth0", "ifconfig", "--json")), &tuple); err != nil || len(tuple.T) != 4 || tuple.T[1] != "255.255.255.0" {
		t.Errorf("ifconfig --json: %+v, %v", tuple, err)
	}
	if out := ok("nic", "eth0", "config", "mac", "--json"); out != `{"$bytes":"020000000001"}`+"\n" {
		t.Errorf("config mac --json: %q", out)
	}
	if out := ok("nic", "eth0", "active", "--json"); out != "true\n" {
		t.Errorf("active --json: %q", out)
	}
	fails(1, "NotImplementedError", "nic", "eth0", "scan")
	// A bare ipconfig, a TypeError in MicroPython, lists every parameter.
	if out := ok("nic", "eth0", "ipconfig"); !strings.Contains(out, "addr4          ('10.64.0.") || !strings.Contains(out, "\ndhcp4          True\n") {
		t.Errorf("nic eth0 ipconfig:\n%s", out)
	}
	var all map[string]any
	if err := json.Unmarshal([]byte(ok("ipconfig", "--json")), &all); err != nil || all["prefer"] != 4.0 || len(all) != 2 {
		t.Errorf("ipconfig --json: %v, %v", all, err)
	}

	// A value of the wrong type is refused by the driver and nothing changes.
	fails(1, "TypeError", "nic", "eth0", "config", "mac=on")
	fails(2, "not closed", "nic", "eth0", "config", "mac=b'\\x02")
	if out := ok("nic", "eth0", "config", "mac"); out != "b'\\x02\\x00\\x00\\x00\\x00\\x01'\n" {
		t.Errorf("mac after refused sets: %q", out)
	}

	ok("ipconfig", "prefer=6")
	if out := ok("ipconfig", "prefer"); out != "6\n" {
		t.Errorf("ipconfig prefer after prefer=6: %q", out)
	}
	fails(1, "ValueError", "ipconfig", "prefer=5")
	if out := ok("ipconfig", "prefer", "--json"); out != "6\n" {
		t.Errorf("ipconfig prefer after a refused prefer=5: %q", out)
	}
	if out := ok("phy-mode"); strings.TrimSpace(out) == "" {
		t.Error("phy-mode printed nothing")
	}

	events := stream(t, d.sock, "events", "--json")
	logs := stream(t, d.sock, "logs", "-f", "-n", "0")
	// Each stream is live some time after its command starts, and not
	// necessarily both at once: restart until a restart event and the
	// restart's log line have arrived, then check what the event says.
	wait.For(t, "a restart event, and the restart in logs -f", func() bool {
		if strings.Contains(events.String(), `"kind":"restart"`) && strings.Contains(logs.String(), "restarted by the operator") {
			return true
		}
		ok("plugin", "restart", "eth0")
		return false
	})
	var ev struct {
		Kind, Plugin string
		Generation   int
	}
	for _, line := range strings.Split(strings.TrimSpace(events.String()), "\n") {
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("events --json printed %q: %v", line, err)
		}
		if ev.Kind == "restart" {
			break
		}
	}
	if ev.Plugin != "eth0" || ev.Generation < 2 {
		t.Errorf("restart event: %+v", ev)
	}

	p, _ := d.h.Plugin("eth0")
	before := p.Generation()
	if out := ok("plugin", "reload", "eth0"); !strings.Contains(out, "eth0: reloaded, generation "+strconv.Itoa(before+1)) {
		t.Errorf("plugin reload: %q (generation was %d)", out, before)
	}
	fails(1, `"nope"`, "plugin", "restart", "nope")
	fails(2, "want ls, reload NAME or restart NAME", "plugin", "reload")

	// Completion asks the daemon for names; without one it offers the
	// fixed words and no error.
	if out := ok("__complete", "nic", ""); !strings.Contains(out, "ls\neth0\n") {
		t.Errorf("completing nic: %q", out)
	}
	if out := ok("__complete", "plugin", "restart", ""); !strings.HasPrefix(out, "eth0\n") {
		t.Errorf("completing plugin restart: %q", out)
	}
	if out := ok("__complete", "nic", "ls", ""); strings.Contains(out, "active") {
		t.Errorf("completing after nic ls offered methods: %q", out)
	}
	out, code, err := cli(t, filepath.Join(t.TempDir(), "none.sock"), "", "__complete", "nic", "")
	if code != 0 || !strings.HasPrefix(out, "ls\n:") {
		t.Errorf("completing nic without a daemon: exit %d, %v, %q", code, err, out)
	}
}

// Command-line values read as MicroPython users write them.
func TestCLIValue(t *testing.T) {
	for _, c := range []struct {
		in   string
		want any
	}{
		{"true", true}, {"False", false}, {"on", true}, {"None", nil},
		{"42", int64(42)}, {"-3", int64(-3)}, {"1.5", 1.5}, {"1e3", 1000.0},
		{"02:00:00:00:00:01", []byte{2, 0, 0, 0, 0, 1}},
		{"192.168.0.4/24", "192.168.0.4/24"}, {"10.0.0.1", "10.0.0.1"}, {"0x10", "0x10"},
		{"board-7", "board-7"}, {"", ""},
		{"'42'", "42"}, {`b'\x02\x00'`, []byte{2, 0}}, {"(1, 'a')", abi.Tuple{int64(1), "a"}},
		{"['a', 'b']", []any{"a", "b"}}, {"{'k': None}", map[string]any{"k": nil}},
	} {
		got, err := cliValue(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("cliValue(%q) = %#v, %v; want %#v", c.in, got, err, c.want)
		}
	}
	if _, err := cliValue("(1,"); exitCode(err) != exitUsage {
		t.Errorf("cliValue of a broken literal: %v, exit %d; want a usage error", err, exitCode(err))
	}
	pos, kw, err := getOrSet([]string{"dns=1.1.1.1,9.9.9.9", "prefer=4"})
	if err != nil || pos != nil || !reflect.DeepEqual(kw, map[string]any{"dns": []any{"1.1.1.1", "9.9.9.9"}, "prefer": int64(4)}) {
		t.Errorf("getOrSet(dns=.., prefer=4) = %v, %v, %v", pos, kw, err)
	}
	if pos, kw, err := getOrSet([]string{"addr4"}); err != nil || kw != nil || !reflect.DeepEqual(pos, []any{"addr4"}) {
		t.Errorf("getOrSet(addr4) = %v, %v, %v", pos, kw, err)
	}
}
