package tests

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/internal/control"
	"github.com/nichost/nichost/internal/testenv"
)

// daemonRig is `nichost run` as a separate process in a namespace whose
// kernel side of a TAP device is the daemon's LAN, with dnsmasq serving
// DHCP on it: the daemon as it runs on a board, driven from outside by the
// CLI, the control socket and the metrics listener.
type daemonRig struct {
	*lanRig
	bin, cfgPath, socket string
	metrics              string // host:port inside the namespace
	cmd                  *exec.Cmd
	out                  *lockedBuf
	exited               chan error
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// buildNichost builds the nichost binary once per test binary.
var buildNichost = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "nichost-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "nichost")
	args := append(append([]string{"build"}, testenv.BuildFlags()...), "-o", bin, "../cmd/nichost")
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/nichost: %v\n%s", err, out)
	}
	return bin, nil
})

// daemonConfig is the test's configuration: the LAN plugin (source) on the
// TAP, its PHY simulated, hostname board-7, the fault option on.
func (r *daemonRig) writeConfig(t *testing.T, source string) {
	t.Helper()
	cfg := fmt.Sprintf(`hostname: board-7
control: {socket: %s}
metrics: {listen: "%s"}
log: {format: json, level: debug}
plugins:
  - name: eth0
    source: %s
    class: LAN
    buses:
      port: {kind: frame, tap: {name: %s}}
      mdio: {kind: mdio, sim: phy-mdio}
    interfaces: {eth: {mac: "02:00:00:00:00:01"}}
    options: {fault_injection: true}
`, r.socket, r.metrics, source, r.tapDev)
	if err := os.WriteFile(r.cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
}

func newDaemonRig(t *testing.T) *daemonRig {
	t.Helper()
	testenv.NeedTool(t, "dnsmasq", "dnsmasq-base")
	ns := newNetns(t)
	testenv.Need(t, fileExists("/dev/net/tun"), "no /dev/net/tun (TUN/TAP support)")
	b := make([]byte, 3)
	rand.Read(b)
	tap := "nhd" + hex.EncodeToString(b)
	ns.ip(t, "tuntap", "add", "dev", tap, "mode", "tap")
	ns.ip(t, "addr", "add", kernelAddr4+"/24", "dev", tap)
	ns.ip(t, "link", "set", tap, "up")
	r := &daemonRig{lanRig: &lanRig{ns: ns, tapDev: tap, dir: t.TempDir()}, out: &lockedBuf{}}
	r.startDnsmasq(t)
	bin, err := buildNichost()
	if err != nil {
		t.Fatal(err)
	}
	r.bin = bin
	r.cfgPath = filepath.Join(r.dir, "nichost.yaml")
	r.socket = filepath.Join(r.dir, "control.sock")
	var port int
	ns.do(t, func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err == nil {
			port = l.Addr().(*net.TCPAddr).Port
			l.Close()
		}
	})
	r.metrics = fmt.Sprintf("127.0.0.1:%d", port)
	return r
}

// start runs the daemon in the namespace and waits for its socket.
func (r *daemonRig) start(t *testing.T) {
	t.Helper()
	r.cmd = exec.Command("ip", "netns", "exec", r.ns.name, r.bin, "run", "-c", r.cfgPath, "--sim-phy", "phy=lan8720", "--up")
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	r.cmd.Env = append(os.Environ(), "NICHOST_CACHE="+cacheDir())
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.exited = make(chan error, 1)
	go func() { r.exited <- r.cmd.Wait() }()
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			r.cmd.Process.Kill()
			<-r.exited
		}
		if t.Failed() {
			t.Logf("daemon output:\n%s", r.out)
		}
	})
	// No deadline: the first start builds the plugin.
	for {
		if _, err := os.Stat(r.socket); err == nil {
			return
		}
		select {
		case err := <-r.exited:
			t.Fatalf("the daemon exited: %v\n%s", err, r.out)
		case <-time.After(10 * time.Millisecond): // a poll, not a deadline
		}
	}
}

// cacheDir is the build cache the daemon shares with the test binary's
// host, so that a plugin built once is not built again.
func cacheDir() string {
	if d := os.Getenv("NICHOST_CACHE"); d != "" {
		return d
	}
	d, _ := os.UserCacheDir()
	return filepath.Join(d, "nichost")
}

// cli runs a nichost command against the daemon and returns its stdout,
// its stderr and its exit code.
func (r *daemonRig) cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(r.bin, append([]string{"--socket", r.socket}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("nichost %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// ok runs a command that must succeed and returns its output.
func (r *daemonRig) ok(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := r.cli(t, args...)
	if code != 0 {
		t.Fatalf("nichost %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// stream runs a client command that does not end by itself (events, logs
// -f) until the test ends; its output grows in the returned buffer.
func (r *daemonRig) stream(t *testing.T, args ...string) *testenv.Buffer {
	t.Helper()
	var out testenv.Buffer
	cmd := exec.Command(r.bin, append([]string{"--socket", r.socket}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("nichost %s: %v", strings.Join(args, " "), err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return &out
}

// checkOperatorCommands runs what an operator runs on a plugin, with the
// event and log streams following: plugin restart and plugin reload, each
// a new generation, seen in `nichost events` and `nichost logs -f`.
func (r *daemonRig) checkOperatorCommands(t *testing.T) {
	t.Helper()
	events := r.stream(t, "events", "--json")
	logs := r.stream(t, "logs", "-f", "-n", "0")
	// The stream is live some time after the command starts: restart until
	// a restart event arrives.
	eventually(t, "a restart event in nichost events", func() bool {
		if strings.Contains(events.String(), `"kind":"restart"`) {
			return true
		}
		r.ok(t, "plugin", "restart", "eth0")
		return false
	})
	eventually(t, "the restart in nichost logs -f", func() bool { return strings.Contains(logs.String(), "restarted by the operator") })
	gen := r.generation(t)
	if out := r.ok(t, "plugin", "reload", "eth0"); !strings.Contains(out, fmt.Sprintf("eth0: reloaded, generation %d", gen+1)) {
		t.Errorf("plugin reload: %q (generation was %d)", out, gen)
	}
	eventually(t, "the reload in nichost events", func() bool {
		return strings.Contains(events.String(), fmt.Sprintf(`"kind":"reload","plugin":"eth0","generation":%d`, gen+1))
	})
	eventually(t, "the link and the lease after the reload", func() bool {
		out, _, code := r.cli(t, "nic", "eth0", "isconnected")
		return code == 0 && strings.TrimSpace(out) == "True"
	})
}

// scrape fetches /metrics from inside the namespace.
func (r *daemonRig) scrape(t *testing.T) string {
	t.Helper()
	var conn net.Conn
	var err error
	r.ns.do(t, func() { conn, err = net.Dial("tcp", r.metrics) })
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /metrics HTTP/1.1\r\nHost: nichost\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("metrics: %s\n%s", resp.Status, b)
	}
	return string(b)
}

// generation is the plugin's generation as `nichost plugin ls --json`
// shows it.
func (r *daemonRig) generation(t *testing.T) int {
	t.Helper()
	var ps []struct {
		Name       string `json:"name"`
		Generation int    `json:"generation"`
	}
	out := r.ok(t, "plugin", "ls", "--json")
	if err := json.Unmarshal([]byte(out), &ps); err != nil || len(ps) != 1 {
		t.Fatalf("plugin ls --json: %v\n%s", err, out)
	}
	return ps[0].Generation
}

// stop sends SIGTERM and waits for the daemon to exit.
func (r *daemonRig) stop(t *testing.T) {
	t.Helper()
	r.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-r.exited; err != nil {
		t.Fatalf("the daemon exited with %v after SIGTERM\n%s", err, r.out)
	}
}

// hashPipe writes n random bytes to w in chunks, calling between(i) after
// chunk i, and returns their SHA-256.
func hashPipe(w io.Writer, n, chunk int, between func(i int)) ([32]byte, error) {
	h := sha256.New()
	buf := make([]byte, chunk)
	for i := 0; i*chunk < n; i++ {
		rand.Read(buf)
		h.Write(buf)
		if _, err := w.Write(buf); err != nil {
			return [32]byte{}, fmt.Errorf("after %d bytes: %w", i*chunk, err)
		}
		between(i)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// shell runs `nichost shell` with script on its stdin and returns its
// output and exit code.
func (r *daemonRig) shell(t *testing.T, script string) (string, int) {
	t.Helper()
	cmd := exec.Command(r.bin, "--socket", r.socket, "shell")
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("nichost shell: %v", err)
	}
	return string(out), code
}

// checkShell plays the script: MicroPython's REPL habits against
// the daemon, printed back as MicroPython prints them.
func (r *daemonRig) checkShell(t *testing.T) {
	t.Helper()
	script := `network.hostname()
network.country()
eth0.isconnected()
eth0.config('mac')
network.hostname('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')
network.hostname()
eth0.ipconfig('addr4')
`
	out, code := r.shell(t, script)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	want := []string{`'board-7'`, `'XX'`, `True`, `b'\x02\x00\x00\x00\x00\x01'`, "ValueError: ", `'board-7'`, "('10.213.7."}
	if len(lines) != len(want) || code != 1 {
		t.Fatalf("shell printed %d lines, exit %d; want %d lines and exit 1 (a line raised):\n%s", len(lines), code, len(want), out)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("shell line %d = %q, want %q...", i+1, lines[i], w)
		}
	}
	if !strings.Contains(lines[4], "32") {
		t.Errorf("the ValueError does not carry nichost's message about the 32-character limit: %q", lines[4])
	}
	// The lease as a tuple of two strings: ('10.213.7.1xx', '255.255.255.0').
	var addr, mask string
	if _, err := fmt.Sscanf(strings.NewReplacer("(", "", ")", "", ",", "", "'", " ").Replace(lines[6]), "%s %s", &addr, &mask); err != nil || net.ParseIP(addr) == nil || mask != "255.255.255.0" {
		t.Errorf("eth0.ipconfig('addr4') printed %q; want the lease as (address, netmask)", lines[6])
	}
}

// TestDaemon_EndToEnd is the daemon as an operator runs it: `nichost run`
// with the LAN plugin on a TAP whose far side is the kernel with dnsmasq,
// driven by the CLI, the shell, the event stream and the metrics, while a
// 64 MiB TCP stream runs both ways through the plugin across 3 forced
// traps and 20 reloads alternating the Go and the C build of the driver.
func TestDaemon_EndToEnd(t *testing.T) {
	r := newDaemonRig(t)
	testenv.NeedTool(t, "clang", "clang lld wasi-libc libclang-rt-14-dev-wasm32")
	goSrc, _ := filepath.Abs("../plugins/lan")
	cSrc, _ := filepath.Abs("../plugins/lan/c")
	r.writeConfig(t, goSrc)
	r.start(t)
	c := control.NewClient(r.socket)
	ctx := ctxT(t)

	events := make(chan control.Event, 1024)
	evCtx, stopEvents := context.WithCancel(context.Background())
	defer stopEvents()
	go c.Events(evCtx, func(ev control.Event) error {
		if ev.Kind != control.EventOpen {
			events <- ev
		}
		return nil
	})

	eventually(t, "a DHCP lease from dnsmasq", func() bool {
		v, err := c.Call(ctx, "eth0", "ipconfig", []any{"has_dhcp4"}, nil)
		return err == nil && v == true
	})
	r.checkCLI(t)
	r.checkShell(t)

	// The stream: the kernel echoes what it receives.
	var ln net.Listener
	var err error
	r.ns.do(t, func() { ln, err = net.Listen("tcp", kernelAddr4+":5001") })
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		s, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(s, s)
		s.(*net.TCPConn).CloseWrite()
	}()
	conn, err := c.Dial(ctx, "tcp", kernelAddr4+":5001")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	type echoed struct {
		n   int64
		sum [32]byte
		err error
	}
	back := make(chan echoed, 1)
	go func() {
		h := sha256.New()
		n, err := io.Copy(h, conn)
		var e echoed
		e.n, e.err = n, err
		copy(e.sum[:], h.Sum(nil))
		back <- e
	}()

	const total, chunk = 64 << 20, 256 << 10
	gen := r.generation(t)
	start := gen
	traps, reloads := 0, 0
	source := goSrc
	step := func(i int) {
		if i%8 != 7 || reloads == 20 {
			return
		}
		if traps < 3 { // the Go build answers _fault
			out, _ := r.shell(t, "eth0._fault('trap')\n")
			traps++
			t.Logf("trap %d: %s", traps, strings.TrimSpace(out))
		} else {
			source = map[string]string{goSrc: cSrc, cSrc: goSrc}[source]
			r.writeConfig(t, source)
			r.cmd.Process.Signal(syscall.SIGHUP)
			reloads++
		}
		gen++
		eventually(t, fmt.Sprintf("generation %d", gen), func() bool { return r.generation(t) >= gen })
	}
	sent, err := hashPipe(conn, total, chunk, step)
	if err != nil {
		t.Fatalf("sending: %v (traps %d, reloads %d)", err, traps, reloads)
	}
	conn.(interface{ CloseWrite() error }).CloseWrite()
	e := <-back
	if e.err != nil || e.n != total || e.sum != sent {
		t.Fatalf("echo: %d of %d bytes, error %v, same bytes %v", e.n, total, e.err, e.sum == sent)
	}
	if traps != 3 || reloads != 20 || r.generation(t) != start+23 {
		t.Fatalf("%d traps and %d reloads during the transfer; generation %d -> %d, want +23", traps, reloads, start, r.generation(t))
	}

	r.checkMetrics(t)
	r.checkEvents(t, events)
	r.checkOperatorCommands(t)

	r.stop(t)
	eventually(t, "dnsmasq to log the release", func() bool {
		b, _ := os.ReadFile(filepath.Join(r.dir, "log"))
		return strings.Contains(string(b), "DHCPRELEASE")
	})
}

// checkMetrics scrapes the daemon and looks for every family an operator's
// dashboards use, with values that say traffic and faults happened.
func (r *daemonRig) checkMetrics(t *testing.T) {
	t.Helper()
	text := r.scrape(t)
	value := func(prefix string) (float64, bool) {
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, prefix) {
				var v float64
				f := strings.Fields(l)
				if _, err := fmt.Sscan(f[len(f)-1], &v); err == nil {
					return v, true
				}
			}
		}
		return 0, false
	}
	for _, c := range []struct {
		family string
		min    float64 // the first sample is at least this
	}{
		{"nichost_nic_rx_frames_total", 10000}, {"nichost_nic_tx_frames_total", 10000},
		{"nichost_nic_rx_bytes_total", 64 << 20}, {"nichost_nic_tx_bytes_total", 64 << 20},
		{"nichost_plugin_restarts_total", 3}, {"nichost_plugin_faults_total", 3},
		{"nichost_plugin_reloads_total", 20}, {"nichost_plugin_generation", 24},
		{"nichost_plugin_host_calls_total", 1}, {"nichost_plugin_memory_bytes", 1},
		{"nichost_plugin_cpu_seconds_total", 0}, {"nichost_plugin_call_duration_seconds_count", 1},
	} {
		v, ok := value(c.family)
		if !ok || v < c.min {
			t.Errorf("metric %s = %v (present %v), want at least %v", c.family, v, ok, c.min)
		}
	}
	// Drops are counted by reason; a family without samples is not
	// written, so it shows only once a frame was dropped. None were: the
	// reloads and restarts lost nothing the host could count.
	if strings.Contains(text, "nichost_nic_drops_total{") {
		t.Logf("drops during the run:\n%s", grepLines(text, "nichost_nic_drops_total{"))
	}
}

func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// checkEvents reads the events seen so far and checks the story they
// tell, in order: the link came up, a lease was bound, faults were each
// followed by a restart, reloads happened.
func (r *daemonRig) checkEvents(t *testing.T, events <-chan control.Event) {
	t.Helper()
	var kinds []string
	var last uint64
	for len(events) > 0 {
		ev := <-events
		if ev.Seq <= last {
			t.Errorf("event %d after %d: out of order", ev.Seq, last)
		}
		last = ev.Seq
		kinds = append(kinds, ev.Kind)
	}
	seq := strings.Join(kinds, " ")
	first := func(k string) int { return slices.Index(kinds, k) }
	if first(host.EventLink) < 0 || first(host.EventLease) < first(host.EventLink) ||
		first(host.EventFault) < first(host.EventLease) || first(host.EventRestart) < first(host.EventFault) ||
		first(host.EventReload) < first(host.EventRestart) {
		t.Fatalf("events out of the expected order (link, lease, fault, restart, reload): %s", seq)
	}
	count := func(k string) int {
		n := 0
		for _, x := range kinds {
			if x == k {
				n++
			}
		}
		return n
	}
	if count(host.EventFault) != 3 || count(host.EventRestart) < 3 || count(host.EventReload) != 20 {
		t.Fatalf("%d faults, %d restarts, %d reloads in the stream; want 3, at least 3, 20: %s",
			count(host.EventFault), count(host.EventRestart), count(host.EventReload), seq)
	}
}

// checkCLI runs every client command against the daemon and checks what
// it prints and its exit code.
func (r *daemonRig) checkCLI(t *testing.T) {
	t.Helper()
	has := func(out, want, what string) {
		t.Helper()
		if !strings.Contains(out, want) {
			t.Errorf("%s printed %q, want %q in it", what, out, want)
		}
	}
	has(r.ok(t, "nic", "ls"), "eth0", "nic ls")
	has(r.ok(t, "nic", "eth0", "active"), "True", "nic eth0 active")
	r.ok(t, "nic", "eth0", "active", "on")
	has(r.ok(t, "nic", "eth0", "isconnected", "--json"), "true", "nic eth0 isconnected --json")
	if out := r.ok(t, "nic", "eth0", "status"); strings.TrimSpace(out) == "" {
		t.Errorf("nic eth0 status printed nothing")
	}
	has(r.ok(t, "nic", "eth0", "ipconfig", "addr4"), "('10.213.7.", "nic eth0 ipconfig addr4")
	has(r.ok(t, "nic", "eth0", "ipconfig", "gw4"), "'"+kernelAddr4+"'", "nic eth0 ipconfig gw4")
	r.ok(t, "nic", "eth0", "ipconfig", "autoconf6=true")
	has(r.ok(t, "nic", "eth0", "ifconfig"), "'255.255.255.0', '"+kernelAddr4+"'", "nic eth0 ifconfig")
	has(r.ok(t, "nic", "eth0", "config", "mac"), `b'\x02\x00\x00\x00\x00\x01'`, "nic eth0 config mac")
	for _, m := range [][]string{{"connect", "net"}, {"disconnect"}, {"scan"}} { // LAN has none of these
		if out, errOut, code := r.cli(t, append([]string{"nic", "eth0"}, m...)...); code != 1 || !strings.Contains(errOut, "NotImplementedError") {
			t.Errorf("nic eth0 %s: exit %d, %s%s; want 1 and NotImplementedError", m[0], code, out, errOut)
		}
	}
	has(r.ok(t, "hostname"), "'board-7'", "hostname")
	if _, errOut, code := r.cli(t, "hostname", strings.Repeat("a", 33)); code != 1 || !strings.Contains(errOut, "ValueError") {
		t.Errorf("hostname of 33 characters: exit %d, %s", code, errOut)
	}
	has(r.ok(t, "hostname"), "'board-7'", "hostname after a refused one")
	has(r.ok(t, "country"), "'XX'", "country")
	r.ok(t, "ipconfig", "prefer=4")
	has(r.ok(t, "ipconfig", "dns"), "'"+kernelAddr4+"'", "ipconfig dns")
	has(r.ok(t, "phy-mode"), "0", "phy-mode")
	has(r.ok(t, "plugin", "ls"), "eth0", "plugin ls")
	has(r.ok(t, "logs", "-n", "3"), "\n", "logs -n 3")
	if _, errOut, code := r.cli(t, "nic", "eth9", "isconnected"); code != 1 || !strings.Contains(errOut, "eth9") {
		t.Errorf("an unknown NIC: exit %d, %s", code, errOut)
	}
	if _, errOut, code := r.cli(t, "nic", "eth0", "config", "mac=7"); code != 1 || !strings.Contains(errOut, "TypeError") {
		t.Errorf("a wrong value type: exit %d, %s", code, errOut)
	}
	has(r.ok(t, "nic", "eth0", "config", "mac"), `b'\x02\x00\x00\x00\x00\x01'`, "the MAC after a refused change")
}
