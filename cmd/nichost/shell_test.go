package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/internal/pyval"
	"github.com/nichost/nichost/internal/wait"
)

// startLANDaemon runs the daemon with the LAN plugin as eth0 (MAC
// 02:00:00:00:00:01, hostname board-7) on a simulated LAN with a DHCP
// server.
func startLANDaemon(t *testing.T) *daemon {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "nichost.yaml")
	writeFile(t, cfg, "hostname: board-7\nplugins:\n  - name: eth0\n    source: "+filepath.Join(root, "plugins", "lan")+
		"\n    buses: {port: {kind: frame, sim: lan0-port}, mdio: {kind: mdio, sim: lan0-mdio}}\n    interfaces: {eth: {mac: \"02:00:00:00:00:01\"}}\n")
	d, _ := startDaemon(t, cfg, "--sim", "lan0=lan8720")
	return d
}

// startLAN is startLANDaemon with eth0 brought up and its lease bound.
func startLAN(t *testing.T) *daemon {
	t.Helper()
	d := startLANDaemon(t)
	if out, code, err := cli(t, d.sock, "", "nic", "eth0", "active", "on"); code != 0 {
		t.Fatalf("nic eth0 active on: exit %d, %v\n%s", code, err, out)
	}
	wait.For(t, "eth0's lease", func() bool {
		out, _, _ := cli(t, d.sock, "", "nic", "eth0", "isconnected", "--json")
		return out == "true\n"
	})
	return d
}

// The issue's script, fed to `nichost shell` on stdin, prints exactly the
// lines a MicroPython REPL would show after each >>>, and the shell exits 1
// because a line raised.
func TestShell_IssueScript(t *testing.T) {
	d := startLAN(t)
	nic, _ := d.h.NIC("eth0")
	lease, err := nic.IPConfig(context.Background(), "addr4")
	if err != nil {
		t.Fatal(err)
	}
	script := `network.hostname()
network.country()
eth0.isconnected()
eth0.config('mac')
network.hostname('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')
network.hostname()
eth0.ipconfig('addr4')
`
	out, code, _ := cli(t, d.sock, script, "shell")
	want := []string{
		`'board-7'`,
		`'XX'`,
		`True`,
		`b'\x02\x00\x00\x00\x00\x01'`,
		"ValueError: ", // nichost's message follows
		`'board-7'`,
		pyval.Repr(lease),
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != exitRaised || len(lines) != len(want) {
		t.Fatalf("shell: exit %d, %d lines:\n%s\nwant exit %d and %d lines", code, len(lines), out, exitRaised, len(want))
	}
	for i, w := range want {
		if w == "ValueError: " {
			if !strings.HasPrefix(lines[i], w) || len(lines[i]) == len(w) {
				t.Errorf("line %d = %q, want a ValueError with nichost's message", i+1, lines[i])
			}
			continue
		}
		if lines[i] != w {
			t.Errorf("line %d = %q, want %q", i+1, lines[i], w)
		}
	}
	// The lease prints as MicroPython's ipconfig('addr4'): a tuple of the
	// address and the netmask, both str.
	if !strings.HasPrefix(lines[6], "('10.") || !strings.HasSuffix(lines[6], "', '255.255.255.0')") {
		t.Errorf("ipconfig('addr4') = %s, want ('10.x.y.z', '255.255.255.0')", lines[6])
	}
}

// Lines that are not calls, keywords, wrong types and unknown names: each
// prints one line as MicroPython would, and a refused call changes nothing.
func TestShell_LinesAndErrors(t *testing.T) {
	d := startLAN(t)
	for _, c := range []struct{ line, want string }{
		{"", ""},
		{"   # a comment", ""},
		{"eth0", "<NIC eth0>"},
		{"network", "<module 'network'>"},
		{"eth0.active()", "True"},
		{"eth0.config(mac=b'\\x02\\x00\\x00\\x00\\x00\\x01')", ""},
		{"eth0.config('mac')", `b'\x02\x00\x00\x00\x00\x01'`},
		{"eth0.config(mac=7)", "TypeError: "},
		{"eth0.config('mac')", `b'\x02\x00\x00\x00\x00\x01'`},
		{"eth9.active()", "NameError: name 'eth9' isn't defined"},
		{"eth9.active(", "NameError: name 'eth9' isn't defined"},
		{"network.nosuch()", "AttributeError: 'module' object has no attribute 'nosuch'"},
		{"eth0.config(mac=1, 2)", "SyntaxError: positional argument follows keyword argument"},
		{"eth0.config({1: 2})", "TypeError: dict keys must be str"},
		{"eth0.ipconfig('addr4'", "SyntaxError: "},
		{"network.hostname('x', 'y')", "TypeError: "},
		{"network.country('DE')", ""},
		{"network.country()", "'DE'"},
	} {
		out, code, _ := cli(t, d.sock, c.line+"\n", "shell")
		got := strings.TrimSuffix(out, "\n")
		raised := strings.Contains(c.want, "Error: ")
		if raised && !strings.HasPrefix(got, c.want) || !raised && got != c.want {
			t.Errorf("%s printed %q, want %q", c.line, got, c.want)
		}
		if wantCode := map[bool]int{true: exitRaised, false: 0}[raised]; code != wantCode {
			t.Errorf("%s: exit %d, want %d", c.line, code, wantCode)
		}
	}
	if out, code, err := cli(t, filepath.Join(t.TempDir(), "none.sock"), "network.hostname()\n", "shell"); code != exitUnreachable {
		t.Errorf("shell without a daemon: exit %d, %v, %q; want %d", code, err, out, exitUnreachable)
	}
}

// Tab completes the one NIC, network function or method a prefix names,
// and nothing when the prefix is ambiguous.
func TestShell_Complete(t *testing.T) {
	s := &shell{nics: []string{"eth0", "wlan0", "wlan1"}}
	for _, c := range []struct {
		head, want string
		ok         bool
	}{
		{"e", "eth0", true},
		{"n", "network", true},
		{"wlan", "", false},
		{"wlan1.isc", "wlan1.isconnected(", true},
		{"eth0.i", "", false}, // ipconfig, ifconfig, isconnected
		{"eth0.if", "eth0.ifconfig(", true},
		{"network.p", "network.phy_mode(", true},
		{"network.x", "", false},
	} {
		got, ok := s.complete(c.head)
		if got != c.want || ok != c.ok {
			t.Errorf("complete(%q) = %q, %v; want %q, %v", c.head, got, ok, c.want, c.ok)
		}
	}
}

// The shell's constants are the host's.
func TestShell_ConstantsAreTheHosts(t *testing.T) {
	for name, want := range map[string]int{
		"WLAN.SEC_OPEN": host.SecOpen, "WLAN.SEC_WEP": host.SecWEP, "WLAN.SEC_WPA": host.SecWPA, "WLAN.SEC_WPA2": host.SecWPA2,
		"WLAN.SEC_WPA_WPA2": host.SecWPAWPA2, "WLAN.SEC_WPA3": host.SecWPA3, "WLAN.SEC_WPA2_WPA3": host.SecWPA2WPA3,
		"WLAN.PM_NONE": host.PMNone, "WLAN.PM_PERFORMANCE": host.PMPerformance, "WLAN.PM_POWERSAVE": host.PMPowerSave,
		"WLAN.STA": host.WiPySTA, "WLAN.AP": host.WiPyAP, "WLAN.WEP": host.WiPyWEP, "WLAN.WPA": host.WiPyWPA, "WLAN.WPA2": host.WiPyWPA2,
		"WLAN.INT_ANT": host.WiPyIntAnt, "WLAN.EXT_ANT": host.WiPyExtAnt, "network.WLAN.AP": host.WiPyAP,
	} {
		if got := pyval.Names[name]; got != int64(want) {
			t.Errorf("%s = %v in the shell, %d in package host", name, got, want)
		}
	}
}
