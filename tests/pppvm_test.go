package tests

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/linux"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/internal/testenv"
	"github.com/nichost/nichost/internal/wait"
)

// How long the VM may take: booting under TCG on a busy 2-core machine,
// and pppd's exit once the link is terminated. Bounds against hanging
// only; no assertion depends on them.
const (
	vmBootLimit = 90 * time.Second
	vmExitLimit = 60 * time.Second
)

// pppvmCache is where .ci/pppvm-prepare puts the kernel and initramfs.
func pppvmCache() string {
	if d := os.Getenv("NICHOST_PPPVM_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "nichost", "pppvm")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "nichost", "pppvm")
}

// pppVM is a QEMU guest (TCG, no network device) booted from the prepared
// kernel and initramfs. Its console, ttyS0 on qemu's stdin and stdout,
// runs each line written to it as a shell command (the initramfs's init);
// its virtio console, /dev/hvc0, is the PPP line: a unix socket that
// nichost's UART grant connects to.
type pppVM struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	console *testenv.Buffer
	sock    string
	exited  chan struct{}
}

// bootPPPVM starts qemu; the VM is killed when the test ends.
func bootPPPVM(t *testing.T, qemu, cache string) *pppVM {
	t.Helper()
	dir, err := os.MkdirTemp("", "pppvm") // short: a socket path holds 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	vm := &pppVM{console: &testenv.Buffer{}, sock: filepath.Join(dir, "hvc0.sock"), exited: make(chan struct{})}
	vm.cmd = exec.Command(qemu,
		"-accel", "tcg", "-m", "256", "-smp", "1", "-nodefaults", "-nic", "none",
		"-display", "none", "-monitor", "none", "-no-reboot", "-serial", "stdio",
		"-kernel", filepath.Join(cache, "vmlinuz"), "-initrd", filepath.Join(cache, "initrd.img"),
		"-append", "console=ttyS0 panic=-1 loglevel=4",
		"-device", "virtio-serial-pci",
		"-chardev", "socket,id=ppp,path="+vm.sock+",server=on,wait=off",
		"-device", "virtconsole,chardev=ppp")
	vm.cmd.Stdout, vm.cmd.Stderr = vm.console, vm.console
	// qemu dies with the test binary too (a test timeout's panic runs no
	// cleanup), not only by the cleanup's kill.
	vm.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if vm.in, err = vm.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := vm.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = vm.cmd.Wait(); close(vm.exited) }()
	t.Cleanup(func() {
		_ = vm.cmd.Process.Kill()
		<-vm.exited
		if t.Failed() {
			t.Logf("the VM's console:\n%s", vm.console.String())
		}
	})
	return vm
}

// run sends one shell command line to the VM's console.
func (vm *pppVM) run(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(vm.in, line+"\n"); err != nil {
		t.Fatalf("writing to the VM's console: %v", err)
	}
}

// until polls cond until it holds, failing t if limit passes first or
// at once if qemu exits.
func (vm *pppVM) until(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	held, gone := false, false
	ok := wait.Until(t.Context(), limit, func() bool {
		if held = cond(); held {
			return true
		}
		select {
		case <-vm.exited:
			gone = true
		default:
		}
		return gone
	})
	switch {
	case held:
	case gone:
		t.Fatalf("qemu exited (%v) while waiting for %s", vm.cmd.ProcessState, what)
	case !ok:
		t.Fatalf("timed out after %v waiting for %s", limit, what)
	}
}

// await waits until the console, from offset from on, matches re, and
// returns the match's groups.
func (vm *pppVM) await(t *testing.T, what string, from int, re *regexp.Regexp, limit time.Duration) []string {
	t.Helper()
	var m []string
	vm.until(t, what, limit, func() bool {
		m = re.FindStringSubmatch(vm.console.String()[from:])
		return m != nil
	})
	return m
}

// pppvmSetup is one pppd run in the VM and nichost's connect() to it.
type pppvmSetup struct {
	name    string
	pppd    string // pppd's options beyond the line, addresses, DNS and logging
	secrets string // the line written to pap-secrets and chap-secrets, if any
	sec     int64  // connect()'s security
	user    string
	key     string
	addr4   string           // nichost's config(addr4=...), asked for in IPCP
	bulk    bool             // send 4 MiB over TCP to the VM
	early   bool             // connect() before pppd has the line, not once it logs it has
	log     []*regexp.Regexp // what pppd's debug log must show
}

// A real Linux pppd (this machine's, 2.4.9 on Debian 12) in a QEMU VM on
// a Debian kernel, the PPP line a virtio console that nichost reaches
// through a unix: UART grant, as an operator's config would grant it. One
// boot; pppd runs four times, and each time nichost connects, takes its
// address and DNS server from IPCP, pings pppd's end and disconnects,
// which pppd must log as a terminate requested by the peer, not as a
// timeout:
//
//   - noauth, with IPV6CP offered (nichost Protocol-Rejects it), and 4 MiB
//     over TCP to busybox nc in the VM, checked by hash;
//   - require-pap;
//   - require-chap;
//   - pppd asking for CHAP where nichost was told PAP (nichost Naks the
//     Authentication-Protocol with PAP, and pppd falls back to it), and
//     nichost asking for a static address pppd does not give (pppd Naks
//     it with the one it assigns, which nichost takes).
//
// Needs qemu-system-x86_64 and the kernel and initramfs .ci/pppvm-prepare
// builds into its cache (see pppvmCache).
func TestPPP_PppdInVM(t *testing.T) {
	qemu := testenv.NeedTool(t, "qemu-system-x86_64", "qemu-system-x86")
	cache := pppvmCache()
	for _, f := range []string{"vmlinuz", "initrd.img"} {
		_, err := os.Stat(filepath.Join(cache, f))
		testenv.Need(t, err == nil, "the PPP VM's "+f+" is not in "+cache+" (run .ci/pppvm-prepare, which builds it there)")
	}
	start := time.Now()
	vm := bootPPPVM(t, qemu, cache)
	vm.until(t, "qemu's socket for the PPP line", vmBootLimit, func() bool { _, err := os.Stat(vm.sock); return err == nil })

	logs := &testenv.Buffer{}
	h, err := host.New(host.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("nichost's log:\n%s", logs.String())
		}
	})
	ctx := t.Context() // no deadline: the load may include a cold build
	p, _, err := h.Load(ctx, config.PluginConfig{
		Name: "ppp0", Source: filepath.Join("..", "plugins", "ppp"),
		Buses: map[string]config.BusGrant{"uart": {Kind: "uart", UART: &linux.UARTConfig{Unix: vm.sock}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	nic := p.NICs()[0]

	vm.await(t, "the VM to boot", 0, regexp.MustCompile(`pppvm: ready`), vmBootLimit)
	t.Logf("the VM booted in %v (the plugin loaded meanwhile)", time.Since(start).Round(time.Millisecond))

	setups := []pppvmSetup{
		{name: "noauth", pppd: "noauth +ipv6", bulk: true, early: true, log: []*regexp.Regexp{
			regexp.MustCompile(`Protocol-Reject for 'IPv6 Control Protocol' \(0x8057\) received`),
		}},
		{name: "require-pap", pppd: "require-pap", secrets: "nic * pw-pap *", sec: 1, user: "nic", key: "pw-pap", log: []*regexp.Regexp{
			regexp.MustCompile(`PAP peer authentication succeeded for nic`),
		}},
		{name: "require-chap", pppd: "require-chap", secrets: "nic * pw-chap *", sec: 2, user: "nic", key: "pw-chap", log: []*regexp.Regexp{
			regexp.MustCompile(`rcvd \[CHAP Response id=0x[0-9a-f]+ <[0-9a-f]{32}>, name = "nic"\]`),
			regexp.MustCompile(`sent \[CHAP Success id=0x[0-9a-f]+ "Access granted"\]`),
		}},
		{name: "naks", pppd: "require-chap require-pap", secrets: "nic * pw-nak *", sec: 1, user: "nic", key: "pw-nak", addr4: "10.77.4.99", log: []*regexp.Regexp{
			regexp.MustCompile(`sent \[LCP ConfReq id=0x[0-9a-f]+ [^\]]*<auth chap MD5>`),
			regexp.MustCompile(`rcvd \[LCP ConfNak id=0x[0-9a-f]+ <auth pap>\]`),
			regexp.MustCompile(`PAP peer authentication succeeded for nic`),
			regexp.MustCompile(`rcvd \[IPCP ConfReq id=0x[0-9a-f]+ <addr 10\.77\.4\.99>`),
			regexp.MustCompile(`sent \[IPCP ConfNak id=0x[0-9a-f]+ <addr 10\.77\.4\.2>`),
		}},
	}
	for i, s := range setups {
		took := time.Now()
		runPPPVMSetup(t, h, nic, vm, i+1, s)
		t.Logf("setup %d (%s) took %v", i+1, s.name, time.Since(took).Round(time.Millisecond))
	}
	t.Logf("the whole test took %v", time.Since(start).Round(time.Millisecond))
}

func runPPPVMSetup(t *testing.T, h *host.Host, nic *host.NIC, vm *pppVM, n int, s pppvmSetup) {
	t.Helper()
	ctx := ctxT(t) // bounded: a lost reply fails, not hangs
	local, remote, dns := fmt.Sprintf("10.77.%d.1", n), fmt.Sprintf("10.77.%d.2", n), fmt.Sprintf("10.77.%d.53", n)
	from := len(vm.console.String())
	if s.secrets != "" {
		vm.run(t, fmt.Sprintf("echo '%s' >/etc/ppp/pap-secrets; echo '%s' >/etc/ppp/chap-secrets", s.secrets, s.secrets))
	}
	if s.bulk {
		// nc's input is a pipe that stays open: at its end of input nc
		// would stop. It exits when nichost closes the connection.
		vm.run(t, `(sleep 600 | nc -l -p 9000 | sha256sum | sed 's/^/@@sha256 /') &`)
	}
	// In the background, so that the console takes commands meanwhile.
	vm.run(t, fmt.Sprintf(`(pppd /dev/hvc0 nodetach debug logfd 1 local %s %s:%s ms-dns %s; echo "@@pppd-exit $?") &`, s.pppd, local, remote, dns))

	var addr any
	if s.addr4 != "" {
		addr = s.addr4
	}
	if err := nic.SetConfig(ctx, host.KW{"addr4": addr}); err != nil {
		t.Fatal(err)
	}
	if !s.early {
		vm.await(t, s.name+": pppd to open the line", from, regexp.MustCompile(`Connect: ppp0 <--> /dev/hvc0`), vmExitLimit)
	}
	if err := nic.Connect(ctx, s.sec, s.user, s.key); err != nil {
		t.Fatal(err)
	}
	connecting := time.Now()
	eventually(t, s.name+": connected", func() bool { ok, _ := nic.IsConnected(ctx); return ok })
	t.Logf("%s: connected in %v", s.name, time.Since(connecting).Round(time.Millisecond))
	if m := regexp.MustCompile(`rcvd \[LCP ConfReq id=(0x[0-9a-f]+)`).FindStringSubmatch(vm.console.String()[from:]); m != nil {
		t.Logf("%s: the first of nichost's LCP Configure-Requests pppd received had id %s", s.name, m[1])
	}
	if a, err := nic.IPConfig(ctx, "addr4"); err != nil || !slices.Contains([]any{remote + "/32", remote}, firstOf(a)) {
		t.Errorf("%s: ipconfig('addr4') = %v, %v; want %s, pppd's remote address", s.name, a, err, remote)
	}
	if d, err := h.IPConfig("dns"); err != nil || d != dns {
		t.Errorf("%s: network.ipconfig('dns') = %v, %v; want %s from pppd's ms-dns", s.name, d, err, dns)
	}
	// pppd Naks both DNS options with its one ms-dns: one server, not two.
	if got := fmt.Sprint(nic.Reported()["dns"]); got != "["+dns+"]" {
		t.Errorf("%s: the driver reported DNS servers %s, want [%s]", s.name, got, dns)
	}
	// pppd's interface passes IP only once pppd has taken nichost's last
	// IPCP Configure-Ack, after nichost's side opened; pppd logs the
	// addresses once it does.
	vm.await(t, s.name+": pppd's interface up", from, regexp.MustCompile(`remote IP address `+regexp.QuoteMeta(remote)), vmExitLimit)
	rtt, err := nic.Ping(ctx, netip.MustParseAddr(local), 56)
	if err != nil {
		t.Fatalf("%s: ping pppd's end %s: %v", s.name, local, err)
	}
	t.Logf("%s: ping %s: %v", s.name, local, rtt.Round(time.Microsecond))
	if s.bulk {
		sendBulkToVM(t, nic, vm, local+":9000", from)
	}

	if err := nic.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	m := vm.await(t, s.name+": pppd to exit", from, regexp.MustCompile(`@@pppd-exit (\d+)`), vmExitLimit)
	eventually(t, s.name+": nichost's link down", func() bool { ok, _ := nic.IsConnected(ctx); return !ok })
	// pppd logs a peer's Terminate-Request as "LCP terminated by peer",
	// then "Connection terminated." once LCP finished. On this line it
	// then logs "Modem hangup" and exits with 16: after the terminate, so
	// not a timeout.
	log := vm.console.String()[from:]
	if i, j := strings.Index(log, "LCP terminated by peer"), strings.Index(log, "Connection terminated."); i < 0 || j < i {
		t.Errorf("%s: pppd did not log \"LCP terminated by peer\" and then \"Connection terminated.\"", s.name)
	}
	for _, re := range s.log {
		if !re.MatchString(log) {
			t.Errorf("%s: pppd's log lacks %q", s.name, re)
		}
	}
	for _, bad := range []string{"No response to", "timeout sending Config-Requests", "Terminating on signal"} {
		if strings.Contains(log, bad) {
			t.Errorf("%s: pppd's log says %q: the link did not end by nichost's terminate", s.name, bad)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("%s: pppd exited with %s", s.name, m[1])
}

// sendBulkToVM sends 4 MiB over TCP to the nc listening in the VM and
// compares the sha256 the VM prints with the payload's.
func sendBulkToVM(t *testing.T, nic *host.NIC, vm *pppVM, addr string, from int) {
	t.Helper()
	const size = 4 << 20
	payload := randomPayload(size, 14)
	start := time.Now()
	c, err := nic.Dial(ctxT(t), "tcp", addr)
	if err != nil {
		t.Fatalf("dial nc in the VM at %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Minute)) // a stall fails, not hangs
	if _, err := c.Write(payload); err != nil {
		t.Fatalf("sending to the VM: %v", err)
	}
	if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	// nc sends nothing back; its close ends the read.
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Fatalf("waiting for nc to close: %v", err)
	}
	m := vm.await(t, "the VM's sha256 of the 4 MiB", from, regexp.MustCompile(`@@sha256 ([0-9a-f]{64})`), vmExitLimit)
	took := time.Since(start)
	sum := sha256.Sum256(payload)
	if m[1] != hex.EncodeToString(sum[:]) {
		t.Fatalf("the VM received 4 MiB with sha256 %s, sent %x", m[1], sum)
	}
	t.Logf("4 MiB to the VM over TCP in %v: %.0f KiB/s", took.Round(time.Millisecond), float64(size)/1024/took.Seconds())
}
