package tests

import (
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/plugins/lan/phy"
)

// The whole nichost path (core, LAN plugin in WASM, frame port) over a
// simulated segment that loses, duplicates and reorders 5% of frames each,
// to a peer that is a second core: 8 MiB each way must arrive intact.
func TestLAN_LossySegment8MiB(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 11, Loss: 0.05, Duplicate: 0.05, Reorder: 0.05, QueueLen: 4096})
	mdio := sim.NewMDIO()
	mdio.Attach(1, phy.New(phy.Options{Addr: 1, ResetTime: time.Millisecond, AutoNegTime: 20 * time.Millisecond}))
	h, err := host.New(host.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Buses:  map[string]any{"seg": seg.Attach("nichost"), "mdio": mdio},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx := t.Context() // no deadline: the load may include a cold build
	p, _, err := h.Load(ctx, config.PluginConfig{
		Name: "eth0", Source: filepath.Join("..", "plugins", "lan"),
		Buses: map[string]config.BusGrant{"port": {Kind: "frame", Sim: "seg"}, "mdio": {Kind: "mdio", Sim: "mdio"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	nic := p.NICs()[0]
	if err := nic.SetIPConfig(ctx, host.KW{"addr4": "192.0.2.1/24"}); err != nil {
		t.Fatal(err)
	}
	if err := nic.SetActive(ctx, true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "link up", func() bool { ok, _ := nic.IsConnected(ctx); return ok })

	peer := core.New(core.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer peer.Close()
	port := seg.Attach("peer")
	pn, err := peer.AddNIC("eth0", net.HardwareAddr{2, 0, 0, 0, 0, 0x99}, core.LinkEthernet, port.WriteFrame)
	if err != nil {
		t.Fatal(err)
	}
	stop := bus.Forward(port, func(f []byte) { pn.DeliverFrame(f) })
	defer stop()
	pn.LinkChanged(core.LinkState{Up: true, Type: core.LinkEthernet})
	if err := pn.SetIPConfig(map[string]any{"addr4": "192.0.2.2/24"}); err != nil {
		t.Fatal(err)
	}
	if _, err := nic.Ping(ctx, netip.MustParseAddr("192.0.2.2"), 8); err != nil {
		t.Fatalf("ping across the lossy segment: %v", err)
	}

	took := exchangeVia(t, func() (net.Listener, error) { return peer.Listen("tcp", ":9100") },
		func() (net.Conn, error) { return nic.Dial(ctx, "tcp", "192.0.2.2:9100") }, randomPayload(8<<20, 3))
	st := seg.Stats()
	t.Logf("8 MiB each way in %v; segment lost %d, duplicated %d, reordered %d frames", took, st.Lost, st.Duplicated, st.Reordered)
	if st.Lost == 0 || st.Duplicated == 0 || st.Reordered == 0 {
		t.Fatalf("the segment did not misbehave: %+v", st)
	}
}
