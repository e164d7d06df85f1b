//go:build !wasip1

package main_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
	"github.com/nichost/nichost/plugins/lan/phy"
)

// TestExampleManifest loads example.yaml with the simulated buses it names
// and brings the link up.
func TestExampleManifest(t *testing.T) {
	cfg, err := config.LoadConfig("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Plugins) != 1 {
		t.Fatalf("example.yaml has %d plugins, want 1", len(cfg.Plugins))
	}
	mdio := sim.NewMDIO()
	p := phy.New(phy.Options{Addr: 1, AutoNegTime: testANTime})
	mdio.Attach(1, p)
	seg := sim.NewSegment(sim.SegmentOptions{})
	log := &hosttest.LogBuffer{}
	h, err := host.New(host.Options{
		Logger:   slog.New(slog.NewTextHandler(log, nil)),
		Hostname: cfg.Hostname,
		Buses:    map[string]any{"lan-port": seg.Attach("eth0"), "lan-mdio": mdio},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	plug, _, err := h.Load(ctx, cfg.Plugins[0])
	if err != nil {
		t.Fatalf("load: %v\n%s", err, log)
	}
	nic := plug.NICs()[0]
	if nic.Name() != "eth0" || nic.MAC().String() != "02:00:00:00:00:01" {
		t.Fatalf("NIC %s with MAC %s", nic.Name(), nic.MAC())
	}
	if err := nic.SetActive(ctx, true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the link", func() bool { return nic.LinkState().Up })
}
