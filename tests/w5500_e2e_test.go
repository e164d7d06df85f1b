package tests

import (
	"crypto/sha256"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/nichost/nichost/host/bus/linux"
	"github.com/nichost/nichost/plugins/wiznet/wdev"
)

// w5500DUT is the WIZNET5K plugin driving a simulated W5500 whose wire is
// the TAP: the driver meets the kernel's stack and dnsmasq, not only ours.
func w5500DUT(t testing.TB) func(*linux.TAP) dut {
	return func(tap *linux.TAP) dut {
		d := wdev.New(tap, "w", true)
		t.Cleanup(func() {
			d.Close()
			for _, err := range d.Chip.Errors() {
				t.Errorf("the simulated W5500 saw a misuse: %v", err)
			}
		})
		return dut{class: "WIZNET5K", plugin: "wiznet", buses: d.Buses, sims: d.Sims}
	}
}

func TestW5500_DHCPPingTCP(t *testing.T) {
	r := newRig(t, "w5500-e2e", w5500DUT(t))
	addr := r.up(t)
	if l := r.leases(); !strings.Contains(l, "w5500-e2e") || !strings.Contains(l, addr) {
		t.Fatalf("dnsmasq's lease file does not show our hostname and address:\n%s", l)
	}
	if out, err := r.ns.exec("ping", "-c", "2", "-W", "2", addr); err != nil {
		t.Fatalf("kernel ping %s: %v\n%s", addr, err, out)
	}
	if _, err := r.h.Ping(ctxT(t), netip.MustParseAddr(kernelAddr4), 56); err != nil {
		t.Fatalf("nichost ping: %v", err)
	}
	var ln net.Listener
	var err error
	r.ns.do(t, func() { ln, err = net.Listen("tcp", net.JoinHostPort(kernelAddr4, "9400")) })
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	payload := randomPayload(bulk, 5)
	served := serveExchange(ln, payload)
	c, err := r.nic.Dial(ctxT(t), "tcp", net.JoinHostPort(kernelAddr4, "9400"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, n, err := exchange(c, payload)
	if err != nil || got != sha256.Sum256(payload) {
		t.Fatalf("nichost received %d bytes, err %v", n, err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}
