package tests

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/build"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/conformance"
	"github.com/nichost/nichost/plugins/wiznet/wdev"
	"github.com/nichost/nichost/simnet"
)

// abi10 is ABI 1.0 as nic_abi_version encodes it: what the frozen plugin
// reports, whatever version this tree's abi package is at.
const abi10 = 0x00010000

// The host runs every ABI 1.0 plugin. testdata/abi10 is a separate module
// holding a frozen copy of the WIZNET5K driver, its guest SDK and package
// abi as they were at the last ABI 1.0 commit (see its README.md); it never
// follows the SDK. This test builds it to WASM with host/build, checks that
// the module really is a 1.0 plugin, and runs the WIZNET5K conformance
// suite on it against the simulated W5500: every check must pass and the
// chip must have seen no misuse.
func TestABI10Plugin_PassesConformance(t *testing.T) {
	if _, ok := goCommand(t, "the frozen ABI 1.0 plugin in testdata/abi10 cannot be built"); !ok {
		return
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "abi10"))
	if err != nil {
		t.Fatal(err)
	}
	statTree(t, dir) // an edit to the frozen module runs the test again

	// The nested module's go.sum lists everything it needs, so the build
	// runs offline from the module cache, outside any workspace.
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOWORK", "off")
	// No deadline of our own: a cold build takes as long as the machine
	// needs.
	b := &build.Builder{Progress: func(msg string) { t.Log(msg) }}
	res, err := b.Build(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built %s (cached %v, %v)", res.Path, res.Cached, res.Duration)

	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))

	// What runs is a 1.0 plugin, not one built against this tree's SDK:
	// the host refuses a module whose description's ABI differs from its
	// nic_abi_version, so the description says what the module speaks.
	checkABI10(t, res.Path, logger)

	var w5500dev *wdev.Device
	results, err := conformance.Run(t.Context(), conformance.Config{
		Source: res.Path,
		Class:  abi.ClassWIZNET5K,
		Device: func(lan *simnet.Router) (*simnet.Device, error) {
			w5500dev = wdev.New(lan.Attach("dut"), "dut", true) // as wdev.Conformance, keeping the chip
			return w5500dev.Device, nil
		},
		Logger: logger,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) == 0 {
		t.Fatal("the WIZNET5K suite ran no checks")
	}
	for _, r := range results {
		t.Run(r.Name, func(t *testing.T) {
			switch {
			case r.Err != nil:
				t.Fatal(r.Err)
			case r.Skipped != "":
				t.Fatalf("skipped: %s", r.Skipped) // every check must run
			}
		})
	}
	for _, err := range w5500dev.Chip.Errors() {
		t.Errorf("the simulated W5500 saw a misuse: %v", err)
	}
}

// checkABI10 loads the module at path on a simulated W5500 of its own and
// fails t unless its description says ABI 1.0 and class WIZNET5K.
func checkABI10(t *testing.T, path string, logger *slog.Logger) {
	t.Helper()
	lan, err := simnet.NewRouter(simnet.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer lan.Close()
	dev := wdev.New(lan.Attach("abi10"), "abi10", true)
	defer dev.Close()
	h, err := host.New(host.Options{Logger: logger, Hostname: "abi10", Buses: dev.Sims})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	p, _, err := h.Load(t.Context(), config.PluginConfig{Name: "abi10", Source: path, Class: abi.ClassWIZNET5K, Buses: dev.Buses, Options: dev.Options})
	if err != nil {
		t.Fatal(err)
	}
	d := p.Description()
	if d.ABI != abi10 || d.Class != abi.ClassWIZNET5K {
		t.Fatalf("the plugin from testdata/abi10 describes itself as ABI %s, class %q; want ABI %s, class %q (was it edited to follow the SDK?)",
			abi.VersionString(d.ABI), d.Class, abi.VersionString(abi10), abi.ClassWIZNET5K)
	}
	t.Logf("plugin %q speaks ABI %s; this host speaks ABI %s", d.Name, abi.VersionString(d.ABI), abi.VersionString(abi.Version))
}
