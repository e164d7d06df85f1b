package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/internal/testenv"
	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/simnet"
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
	ap := false
	wantEngine := os.Getenv(host.EngineEnv)
	if wantEngine == "" {
		wantEngine = "wazero"
	}
	for _, n := range nics {
		classes[n.Class] = true
		if n.Engine != wantEngine {
			t.Errorf("NIC %s's plugin ran on %q, want %q", n.Name, n.Engine, wantEngine)
		}
		if n.SSID != "" { // the access point: its own subnet, one station with a lease from it
			ap = true
			if !n.Active || !n.IsConnected || n.Addr4 != "192.168.4.1" || len(n.Stations) != 1 ||
				!strings.HasPrefix(n.Stations[0].Addr4, "192.168.4.") || n.Stations[0].RSSI >= 0 || n.Error != "" {
				t.Errorf("access point %+v: want active, 192.168.4.1, one station with a lease", n)
			}
			continue
		}
		if !n.Active || !n.IsConnected || !strings.HasPrefix(n.Addr4, "10.64.0.") || n.Gw4 != "10.64.0.1" ||
			len(n.DNS) == 0 || n.HTTPStatus != 200 || n.HTTPBytes == 0 || n.Error != "" {
			t.Errorf("NIC %+v did not make it through the network", n)
		}
	}
	if !classes["LAN"] || !classes["WIZNET5K"] || !classes["PPP"] || !classes["WLAN"] || !ap {
		t.Fatalf("the demo lacks the LAN, the WIZNET5K, the PPP, the WLAN station or the access point NIC:\n%s", out)
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
	if out, _ := run(t, "version"); !strings.Contains(out, "plugin ABI "+abi.VersionString(abi.Version)) {
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
	// The test plugin reports its links up without a network: no address.
	runUntil(t, []string{"run", "-c", cfg, "--up", "--status-every", "100ms"}, "lan0.eth0", "the NIC up", func(l string) bool {
		return strings.Contains(l, "active=true") && strings.Contains(l, "link=up (ethernet, mtu 1500)") && strings.Contains(l, "addr4=none")
	})
	if _, err := run(t, "run"); err == nil || !strings.Contains(err.Error(), "-c CONFIG is required") {
		t.Fatalf("run without config: %v", err)
	}
}

// TestRun_UpGetsAddress runs `nichost run --up` with the LAN plugin on a
// simulated LAN (--sim) until a status line shows the NIC's IPv4 address.
func TestRun_UpGetsAddress(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	plugin := "plugins:\n  - name: lan0\n    source: " + filepath.Join(root, "plugins", "lan") + "\n" +
		"    buses: {port: {kind: frame, sim: lan0-port}, mdio: {kind: mdio, sim: lan0-mdio}}\n"
	leased := func(l string) bool {
		f := statusFields(l)
		p, err := netip.ParsePrefix(f["addr4"])
		return err == nil && f["has_dhcp4"] == "true" && p.Bits() == simnet.Subnet.Bits() &&
			simnet.Subnet.Contains(p.Addr()) && p.Addr() != simnet.RouterAddr
	}
	tests := []struct {
		name, interfaces string
		want             string // what the awaited line shows
		ok               func(line string) bool
	}{
		// What the issue asks for: plugins and grants only, DHCP by default.
		{"no ipconfig: DHCP by default", "", "a DHCP lease from the simulated router", leased},
		{"ipconfig dhcp4: true", "    interfaces: {eth: {ipconfig: {dhcp4: true}}}\n", "a DHCP lease from the simulated router", leased},
		{"static ipconfig", "    interfaces: {eth: {ipconfig: {addr4: 192.168.7.2/24, gw4: 192.168.7.1}}}\n", "addr4=192.168.7.2/24 has_dhcp4=false",
			func(l string) bool {
				f := statusFields(l)
				return f["addr4"] == "192.168.7.2/24" && f["has_dhcp4"] == "false"
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "nichost.yaml")
			os.WriteFile(cfg, []byte(plugin+tt.interfaces), 0o644)
			line := runUntil(t, []string{"run", "-c", cfg, "--sim", "lan0=lan8720", "--up", "--status-every", "50ms"}, "lan0", tt.want,
				func(l string) bool {
					return strings.Contains(l, "active=true") && strings.Contains(l, "link=up") && tt.ok(l)
				})
			t.Logf("%s", line)
		})
	}
}

func TestRun_SimFlag(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "nichost.yaml")
	os.WriteFile(cfg, []byte("hostname: runner\n"), 0o644)
	for _, tt := range []struct{ sim, want string }{
		{"lan8720", "want NAME=MODEL"},
		{"lan0=nope", `unknown simulator "nope"`},
	} {
		if _, err := run(t, "run", "-c", cfg, "--sim", tt.sim); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run --sim %s: %v, want %q", tt.sim, err, tt.want)
		}
	}
	if _, err := run(t, "run", "-c", cfg, "--sim", "a=w5500", "--sim", "a=w5500"); err == nil || !strings.Contains(err.Error(), "simulated twice") {
		t.Errorf("run with one device name twice: %v", err)
	}
}

// runUntil runs the CLI with args in-process, as the daemon, until a
// status line of nic satisfies ok, however long a cold build and compile
// take on this machine; then it interrupts it and returns that line. want
// says what the line should show, for the failure message.
func runUntil(t *testing.T, args []string, nic, want string, ok func(line string) bool) string {
	t.Helper()
	var out testenv.Buffer // plugin goroutines log while the status loop prints
	if args[0] == "run" {  // a socket of its own, not the system daemon's
		args = append(args, "--control-socket", filepath.Join(t.TempDir(), "control.sock"))
	}
	cmd := newRoot()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	found := func() string {
		for _, l := range strings.Split(out.String(), "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] == nic && ok(l) {
				return l
			}
		}
		return ""
	}
	if !wait.Until(context.Background(), wait.Limit, func() bool { return found() != "" || len(done) > 0 }) || found() == "" {
		cancel()
		<-done
		t.Fatalf("no status line of %s showing %s:\n%s", nic, want, out.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	return found()
}

// statusFields are the key=value fields of a status line.
func statusFields(line string) map[string]string {
	f := map[string]string{}
	for _, w := range strings.Fields(line) {
		if k, v, ok := strings.Cut(w, "="); ok {
			f[k] = v
		}
	}
	return f
}

func TestTestCommand(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ dir, sim string }{{"lan", "lan8720"}, {"lan", "ksz8081"}, {"wiznet", "w5500"}, {"wlan", "cyw43439"}}
	if _, err := exec.LookPath(cmp.Or(os.Getenv("NICHOST_CLANG"), "clang")); err == nil || testenv.Required() {
		// The C driver, a C plugin directory, on the same devices.
		cases = append(cases, struct{ dir, sim string }{"lan/c", "lan8720"}, struct{ dir, sim string }{"lan/c", "ksz8081"})
	}
	for _, c := range cases {
		dir, sim := c.dir, c.sim
		out, err := run(t, "test", filepath.Join(root, "plugins", filepath.FromSlash(dir)), "--sim", sim)
		// A passing run shows no log lines (they follow failures only).
		http := "PASS  DHCP lease and HTTP through the NIC"
		if sim == "cyw43439" { // a station joins first (a check of its own)
			http = "PASS  DNS and HTTP through the NIC"
		}
		if err != nil || !strings.Contains(out, http) || !strings.Contains(out, " passed, 0 failed") ||
			strings.Contains(out, "the plugin's log") {
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
