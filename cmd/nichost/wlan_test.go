package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nichost/nichost/internal/wait"
)

// A Wi-Fi station under the daemon, named wlan0 by its configuration:
// `nic wlan0 scan` prints the networks as a table (filters as K=V), `nic
// wlan0 connect NET --key K` joins, and the shell's wlan0.connect(...)
// does the same; the station's hostname is network.hostname().
func TestCLI_WiFi(t *testing.T) {
	d := wifiDaemon(t, "hostname: board-7\n", "{sta: {name: wlan0}, ap: {name: ap0}}")
	ok := func(stdin string, args ...string) string {
		t.Helper()
		out, code, err := cli(t, d.sock, stdin, args...)
		if code != 0 {
			t.Fatalf("nichost %s: exit %d: %v\n%s", strings.Join(args, " "), code, err, out)
		}
		return out
	}
	if out := ok("", "nic", "ls"); !strings.Contains(out, "wlan0") || !strings.Contains(out, "ap0") || !strings.Contains(out, "WLAN") {
		t.Fatalf("nic ls:\n%s", out)
	}
	out := ok("", "nic", "wlan0", "scan")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "SSID") || !strings.Contains(lines[1], "nichost-sim") ||
		!strings.Contains(lines[1], "02:4e:48:00:00:06") || !strings.Contains(lines[1], "WPA2") || !strings.Contains(out, "(hidden)") {
		t.Fatalf("nic wlan0 scan: want a header and the 4 networks, strongest first:\n%s", out)
	}
	if out := ok("", "nic", "wlan0", "scan", "ssid=nichost-hidden"); !strings.Contains(out, "nichost-hidden") || strings.Count(out, "\n") != 2 {
		t.Fatalf("nic wlan0 scan ssid=nichost-hidden:\n%s", out)
	}
	if out := ok("", "nic", "wlan0", "scan", "channel=1", "--json"); !strings.Contains(out, "nichost-open") || strings.Contains(out, "nichost-sim") {
		t.Fatalf("nic wlan0 scan channel=1 --json:\n%s", out)
	}
	if out, code, err := cli(t, d.sock, "", "nic", "wlan0", "scan", "channel=13"); code == 0 || !strings.Contains(err.Error(), "XX") {
		t.Fatalf("scan channel=13 under XX: exit %d, %v\n%s", code, err, out)
	}
	ok("", "nic", "wlan0", "connect", "nichost-sim", "--key", "conformance")
	wait.For(t, "wlan0 joined with a lease", func() bool {
		out, _, _ := cli(t, d.sock, "", "nic", "wlan0", "status")
		return out == "3\n"
	})
	if out := ok("", "nic", "wlan0", "config", "hostname"); out != "'board-7'\n" {
		t.Fatalf("config hostname = %q, want network.hostname()", out)
	}
	out = ok("wlan0.disconnect()\nwlan0.status()\nwlan0.connect('nichost-open')\n", "shell")
	if !strings.Contains(out, "0") {
		t.Fatalf("shell:\n%s", out)
	}
	wait.For(t, "wlan0 joined to the open network", func() bool {
		out, _, _ := cli(t, d.sock, "", "nic", "wlan0", "config", "ssid")
		st, _, _ := cli(t, d.sock, "", "nic", "wlan0", "status")
		return out == "'nichost-open'\n" && st == "3\n"
	})
}

// The WLANWiPy profile under the daemon: a station NIC configured with
// profile wipy answers the WiPy's API in the shell (WLAN.* constants,
// init with each mode, the scan tuple order, connect with auth= and
// timeout=, the getter/setters, bad auth tuples) and through `nic NAME
// call`.
func TestShell_WiPy(t *testing.T) {
	d := wifiDaemon(t, "", "{sta: {name: wlan, profile: wipy}, ap: {name: ap0}}")
	script := []struct{ line, want string }{
		{"wlan.mode()", "1"},
		{"wlan.init(mode=WLAN.STA, antenna=WLAN.INT_ANT)", ""},
		{"wlan.connect('nichost-sim', auth=(WLAN.WPA2, 'conformance'), timeout=9000)", ""},
		{"wlan.isconnected()", "True"},
		{"wlan.ssid()", "'nichost-sim'"},
		{"wlan.auth()", "(3, None)"},
		{"wlan.channel()", "6"},
		{"wlan.antenna(WLAN.EXT_ANT)", ""},
		{"wlan.antenna()", "1"},
		{"wlan.ssid('x')", "ValueError: ssid(...) sets the access point's (mode WLAN.AP); in WLAN.STA mode connect() takes the network"},
		{"wlan.init(mode=WLAN.AP, ssid='wipy-ap', auth=(WLAN.WPA2,), channel=6)", "ValueError: auth: expected 2 items (sec, key), got 1"},
		{"wlan.init(mode=WLAN.AP, ssid='wipy-ap', auth=(9, 'wipy-secret'))", "ValueError: auth: sec 9: expected WLAN.WEP (1), WLAN.WPA (2) or WLAN.WPA2 (3)"},
		{"wlan.init(mode=WLAN.AP, auth=WLAN.WPA2)", "TypeError: auth: expected a (sec, key) tuple such as (WLAN.WPA2, 'passphrase'), or None for an open network; got int"},
		{"wlan.init(mode=WLAN.AP, auth=(WLAN.WPA2, 7))", "TypeError: auth: key must be a str, not int"},
		{"wlan.init(mode=5)", "ValueError: mode 5: expected WLAN.STA (1) or WLAN.AP (2)"},
		{"wlan.mode()", "1"},
		{"wlan.init(mode=WLAN.AP, ssid='wipy-ap', auth=(WLAN.WPA2, 'wipy-secret'), channel=6)", ""},
		{"wlan.mode()", "2"},
		{"wlan.ssid()", "'wipy-ap'"},
		{"wlan.auth()", "(3, None)"},
		{"wlan.channel()", "6"},
		{"wlan.isconnected()", "False"},
		{"ap0.active()", "True"},
		{"wlan.channel(11)", ""},
		{"wlan.channel()", "11"},
		{"wlan.init(mode=WLAN.STA)", ""},
		{"wlan.mode()", "1"},
		{"ap0.active()", "False"},
	}
	var in strings.Builder
	for _, l := range script {
		in.WriteString(l.line + "\n")
	}
	out, _, _ := cli(t, d.sock, in.String(), "shell")
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var want []string
	for _, l := range script {
		if l.want != "" {
			want = append(want, l.want)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the shell printed:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
	// scan() in the WiPy's order: (ssid, bssid, sec, channel, rssi).
	out, _, _ = cli(t, d.sock, "wlan.scan()\n", "shell")
	if !strings.HasPrefix(out, `[('nichost-sim', b'\x02NH\x00\x00\x06', 3, 6, -`) {
		t.Fatalf("wlan.scan() = %s, want the WiPy's (ssid, bssid, sec, channel, rssi) tuples, strongest first", out)
	}
	// The CLI reaches the profile with nic NAME call.
	if out, code, err := cli(t, d.sock, "", "nic", "wlan", "call", "init", "mode=WLAN.AP", "ssid=cli-ap", "auth=(WLAN.WPA2,'cli-secret')"); code != 0 {
		t.Fatalf("nic wlan call init: exit %d: %v\n%s", code, err, out)
	}
	if out, _, _ := cli(t, d.sock, "", "nic", "wlan", "call", "ssid"); out != "'cli-ap'\n" {
		t.Fatalf("nic wlan call ssid = %q, want 'cli-ap'", out)
	}
}

// wifiDaemon starts the daemon with the WLAN plugin on a simulated
// CYW43439 (w0), the configuration's head (top-level settings) before its
// plugins, and the plugin's interfaces (YAML flow).
func wifiDaemon(t *testing.T, head, interfaces string) *daemon {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "nichost.yaml")
	writeFile(t, cfg, head+"plugins:\n  - name: wifi\n    source: "+filepath.Join(root, "plugins", "wlan")+`
    buses:
      spi: {kind: spi, sim: w0-spi}
      on: {kind: gpio, sim: w0-on}
      irq: {kind: gpio, sim: w0-irq}
      firmware: {kind: blob, sim: w0-firmware}
      clm: {kind: blob, sim: w0-clm}
    interfaces: `+interfaces+"\n")
	d, _ := startDaemon(t, cfg, "--sim", "w0=cyw43439")
	return d
}
