package tests

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/linux"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
	"github.com/nichost/nichost/internal/testenv"
	"github.com/nichost/nichost/plugins/lan/phy"
)

// The kernel side of the link: a namespace whose TAP device is nichost's
// wire, with dnsmasq serving DHCP, DNS and router advertisements on it.
const (
	kernelAddr4 = "10.213.7.1"
	kernelAddr6 = "fd00:213::1"
	testName    = "www.nichost.test"
)

// lanRig is nichost running the LAN plugin on a TAP whose other side is
// the Linux kernel in a namespace.
type lanRig struct {
	ns     *netns
	tapDev string
	dir    string
	h      *host.Host
	nic    *host.NIC
}

// kernelTAP makes a namespace holding a TAP device with the kernel's
// addresses on it, and returns the TAP (whose file descriptor stays with
// this process: its frames are the wire between nichost and the kernel).
func kernelTAP(t testing.TB) (*netns, *linux.TAP) {
	t.Helper()
	ns := newNetns(t)
	testenv.Need(t, fileExists("/dev/net/tun"), "no /dev/net/tun (TUN/TAP support)")
	tap, err := ns.KernelTAP("nhtap", kernelAddr4+"/24", kernelAddr6+"/64")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tap.Close() })
	return ns, tap
}

// dut is the NIC under test: its plugin and the simulated device that puts
// the plugin's frames on the TAP.
type dut struct {
	class, plugin string
	buses         map[string]config.BusGrant
	sims          map[string]any
}

// lanDUT is the LAN plugin with a simulated PHY, its MAC on the TAP.
func lanDUT(tap *linux.TAP) dut {
	mdio := sim.NewMDIO()
	mdio.Attach(1, phy.New(phy.Options{Addr: 1, ResetTime: time.Millisecond, AutoNegTime: 50 * time.Millisecond}))
	return dut{class: "LAN", plugin: "lan",
		buses: map[string]config.BusGrant{"port": {Kind: "frame", Sim: "tap"}, "mdio": {Kind: "mdio", Sim: "mdio"}},
		sims:  map[string]any{"tap": tap, "mdio": mdio}}
}

func newLANRig(t testing.TB, hostname string) *lanRig { return newRig(t, hostname, lanDUT) }

// newRig starts the kernel side (namespace, TAP, dnsmasq) and nichost with
// the device makeDUT builds on the TAP.
func newRig(t testing.TB, hostname string, makeDUT func(*linux.TAP) dut) *lanRig {
	t.Helper()
	testenv.NeedTool(t, "dnsmasq", "dnsmasq-base")
	ns, tap := kernelTAP(t)
	r := &lanRig{ns: ns, tapDev: tap.Name(), dir: t.TempDir()}
	r.startDnsmasq(t)
	d := makeDUT(tap)
	h, err := host.New(host.Options{
		Hostname: hostname,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Buses:    d.sims,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	r.h = h
	// No deadline: a cold build takes what it takes on this machine.
	p, _, err := h.Load(t.Context(), config.PluginConfig{
		Name: "eth0", Source: filepath.Join("..", "plugins", d.plugin), Class: d.class, Buses: d.buses,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.nic = p.NICs()[0]
	return r
}

func (r *lanRig) startDnsmasq(t testing.TB) {
	t.Helper()
	args := []string{"netns", "exec", r.ns.name, "dnsmasq",
		"--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--user=root",
		"--bind-interfaces", "--interface=" + r.tapDev, "--except-interface=lo",
		"--dhcp-range=10.213.7.100,10.213.7.150,255.255.255.0,1h",
		"--dhcp-range=fd00:213::,ra-stateless,64,1h", "--enable-ra", "--ra-param=" + r.tapDev + ",4",
		"--dhcp-option=option6:dns-server,[" + kernelAddr6 + "]",
		"--dhcp-option=option:router," + kernelAddr4,
		"--host-record=" + testName + "," + kernelAddr4 + "," + kernelAddr6,
		"--dhcp-leasefile=" + filepath.Join(r.dir, "leases"),
		"--pid-file=" + filepath.Join(r.dir, "pid"),
		"--log-facility=" + filepath.Join(r.dir, "log"),
	}
	cmd := exec.Command("ip", args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("dnsmasq: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(r.dir, "log"))
			t.Logf("dnsmasq log:\n%s", b)
		}
	})
}

// up brings the NIC up with DHCP and waits for the lease.
func (r *lanRig) up(t testing.TB) string {
	t.Helper()
	ctx := ctxT(t)
	if err := r.nic.SetIPConfig(ctx, host.KW{"dhcp4": true}); err != nil {
		t.Fatal(err)
	}
	if err := r.nic.SetActive(ctx, true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a DHCP lease from dnsmasq", func() bool {
		v, _ := r.nic.IPConfig(ctx, "has_dhcp4")
		return v == true
	})
	a, _ := r.nic.IPConfig(ctx, "addr4")
	return a.(abi.Tuple)[0].(string)
}

// leases is dnsmasq's lease file.
func (r *lanRig) leases() string {
	b, _ := os.ReadFile(filepath.Join(r.dir, "leases"))
	return string(b)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func ctxT(t testing.TB) context.Context { return hosttest.Context(t) }

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	hosttest.Eventually(t, what, cond)
}
