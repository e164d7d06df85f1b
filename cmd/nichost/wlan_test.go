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
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "nichost.yaml")
	writeFile(t, cfg, "hostname: board-7\nplugins:\n  - name: wifi\n    source: "+filepath.Join(root, "plugins", "wlan")+`
    buses:
      spi: {kind: spi, sim: w0-spi}
      on: {kind: gpio, sim: w0-on}
      irq: {kind: gpio, sim: w0-irq}
      firmware: {kind: blob, sim: w0-firmware}
      clm: {kind: blob, sim: w0-clm}
    interfaces: {sta: {name: wlan0}, ap: {name: ap0}}
`)
	d, _ := startDaemon(t, cfg, "--sim", "w0=cyw43439")
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
