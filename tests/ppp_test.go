package tests

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/plugins/ppp/peer"
	"github.com/nichost/nichost/plugins/ppp/session"
)

// The whole nichost path on an IP-only link: the core, the PPP plugin in
// WASM, a simulated serial line paced at 921600 baud that corrupts and
// loses octets, and the simulated access server, whose routed side is a
// second core. IPCP's address, peer and DNS server become the NIC's IP
// configuration (no DHCP, no ARP, no Ethernet header), a ping crosses, and
// 256 KiB each way over TCP arrive intact.
func TestPPP_NoisyPacedLineTCP(t *testing.T) {
	ours, theirs := sim.NewUARTPair()
	far := core.New(core.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer far.Close()
	var fn *core.NIC
	srv := peer.New(theirs, peer.Options{
		Baud: 921600, Corrupt: 2e-5, Loss: 1e-5, Seed: 5,
		Security: session.SecCHAP, User: "nic", Key: "k",
		DNS: []netip.Addr{netip.MustParseAddr("10.64.0.53")},
		IP: func(pkt []byte) {
			if fn != nil {
				fn.DeliverFrame(pkt)
			}
		},
	})
	defer srv.Close()
	var err error
	fn, err = far.AddNIC("ppp0", nil, core.LinkIP, func(pkt []byte) error { return srv.SendIP(pkt) })
	if err != nil {
		t.Fatal(err)
	}
	fn.LinkChanged(core.LinkState{Up: true, Type: core.LinkIP, MTU: 1500})
	if err := fn.SetIPConfig(map[string]any{"addr4": "10.64.0.1/24"}); err != nil {
		t.Fatal(err)
	}

	h, err := host.New(host.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Buses:  map[string]any{"serial0": ours},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx := t.Context() // no deadline: the load may include a cold build
	p, _, err := h.Load(ctx, config.PluginConfig{
		Name: "ppp0", Source: filepath.Join("..", "plugins", "ppp"),
		Buses: map[string]config.BusGrant{"uart": {Kind: "uart", Sim: "serial0"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	nic := p.NICs()[0]
	if err := nic.SetIPConfig(ctx, host.KW{"dhcp4": true}); !errors.Is(err, abi.ErrValue) || !strings.Contains(err.Error(), "IP-only") {
		t.Errorf("ipconfig(dhcp4=True) on an IP-only NIC = %v, want a ValueError naming the link type", err)
	}
	if err := nic.Connect(ctx, int64(2), "nic", "k"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "connected", func() bool { ok, _ := nic.IsConnected(ctx); return ok })
	if a, err := nic.IPConfig(ctx, "addr4"); err != nil || !slices.Contains([]any{"10.64.0.2/32", "10.64.0.2"}, firstOf(a)) {
		t.Errorf("ipconfig('addr4') = %v, %v; want 10.64.0.2 from IPCP", a, err)
	}
	if d, err := h.IPConfig("dns"); err != nil || d != "10.64.0.53" {
		t.Errorf("network.ipconfig('dns') = %v, %v; want 10.64.0.53 from IPCP", d, err)
	}
	if _, err := nic.Ping(ctx, netip.MustParseAddr("10.64.0.1"), 56); err != nil {
		t.Fatalf("ping the peer: %v", err)
	}

	took := exchangeVia(t, func() (net.Listener, error) { return far.Listen("tcp", ":9200") },
		func() (net.Conn, error) { return nic.Dial(ctx, "tcp", "10.64.0.1:9200") }, randomPayload(256<<10, 7))
	st := srv.Stats()
	t.Logf("256 KiB each way in %v at 921600 baud; the line corrupted %d and lost %d octets", took, st.Corrupted, st.Lost)
	if st.Corrupted == 0 || st.Lost == 0 {
		t.Errorf("the line did not misbehave: %+v", st)
	}
	if err := nic.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the peer to see the terminate", func() bool { return srv.Phase() == session.Dead })
	if f := srv.Failure(); f != "peer terminated" {
		t.Errorf("the peer's view of the disconnect: %q", f)
	}
}

// firstOf is a tuple's first item, or the value itself.
func firstOf(v any) any {
	switch t := v.(type) {
	case []any:
		if len(t) > 0 {
			return t[0]
		}
	case abi.Tuple:
		if len(t) > 0 {
			return t[0]
		}
	}
	return v
}
