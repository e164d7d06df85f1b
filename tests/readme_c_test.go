package tests

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
	"github.com/nichost/nichost/internal/testenv"
)

// readmeCDriverHeading is the README section whose ```yaml and ```c blocks
// are a C plugin directory: its manifest and its driver.
const readmeCDriverHeading = "## Writing a driver in C"

// The C driver of README.md builds as a C plugin directory (its manifest
// and its source, as the README shows them) with clang and the C SDK, loads
// in a host, and answers as the SDK promises: the methods it implements,
// NotImplementedError naming the class for those it leaves out, the
// errors it raises.
func TestREADMECDriverSnippet(t *testing.T) {
	testenv.NeedTool(t, "clang", "clang, with lld, wasi-libc and libclang-rt-14-dev-wasm32")
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	manifest, _, err := blockUnder(readme, readmeCDriverHeading, "yaml")
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	src, line, err := blockUnder(readme, readmeCDriverHeading, "c")
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	dir := t.TempDir()
	// The manifest names the sources: the snippet goes into the first.
	name := "mylan.c"
	if !strings.Contains(string(manifest), "sources: ["+name+"]") {
		t.Fatalf("README.md's manifest does not list %s: %s", name, manifest)
	}
	readmePath, _ := filepath.Abs(filepath.Join("..", "README.md"))
	src = append([]byte("#line "+strconv.Itoa(line)+" \""+readmePath+"\"\n"), src...)
	for f, b := range map[string][]byte{"nichost-plugin.yaml": manifest, name: src} {
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	r := hosttest.NewRig(t, hosttest.RigConfig{
		Sims: map[string]any{"port": seg.Attach("nic"), "mdio": sim.NewMDIO()},
		Plugin: config.PluginConfig{Name: "mylan", Source: dir, Class: abi.ClassLAN, Buses: map[string]config.BusGrant{
			"port": {Kind: "frame", Sim: "port"}, "mdio": {Kind: "mdio", Sim: "mdio"}}},
	})
	ctx := hosttest.Context(t)
	if err := r.NIC.SetActive(ctx, true); err != nil {
		t.Fatalf("active(True): %v", err)
	}
	if up, err := r.NIC.Active(ctx); !up || err != nil {
		t.Fatalf("active() = %v, %v after active(True)", up, err)
	}
	var e *abi.Error
	if err := r.NIC.Connect(ctx); !errors.As(err, &e) || e.Kind != abi.KindUnsupported || !strings.Contains(e.Msg, "connect() is not supported by LAN") {
		t.Fatalf("connect() = %v, want the SDK's NotImplementedError naming LAN", err)
	}
	if _, err := r.NIC.Config(ctx, "speed"); !errors.As(err, &e) || e.Kind != abi.KindValueError || !strings.Contains(e.Msg, `"speed"`) {
		t.Fatalf("config('speed') = %v, want the driver's ValueError naming it", err)
	}
}
