package host_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
)

// What a plugin must not be able to do at the boundary (ABI.md §7), each
// checked by its outcome.

// KEEP_CS on the last record of a batch must not leave chip select
// asserted when spi_transact returns, nor into the next instance: a
// restarted driver's first write (a chip's soft reset) must reach the chip
// as a transaction of its own.
func TestSandbox_ChipSelectReleasedAtEndOfCall(t *testing.T) {
	r := newRig(t, config.Limits{})
	nic := r.load(t, "full", plugin("full")).NICs()[0]
	ctx := ctxT(t)

	if _, err := nic.Call(ctx, "spi_keep", []byte{0xaa}); err != nil {
		t.Fatal(err)
	}
	if _, err := nic.Call(ctx, "noop"); err != nil { // the plugin goroutine has moved on
		t.Fatal(err)
	}
	if r.spiDev.selected {
		t.Fatal("chip select still asserted after spi_transact returned")
	}
	// KEEP_CS outstanding, then a trap: the fresh instance writes first.
	if _, err := nic.Call(ctx, "spi_keep", []byte{0xbb}); err != nil {
		t.Fatal(err)
	}
	if _, err := nic.Call(ctx, "crash"); !host.IsFault(err) {
		t.Fatalf("crash = %v, want a fault", err)
	}
	reset := []byte{0x00, 0x00, 0x04, 0x80} // a W5500 MR <- RST write
	if _, err := nic.Call(ctx, "spi", reset); err != nil {
		t.Fatal(err)
	}
	want := [][]byte{{0xaa}, {0xbb}, reset}
	if got := r.spiDev.frames; !reflect.DeepEqual(got, want) {
		t.Fatalf("chip-select frames the chip saw: %x, want %x", got, want)
	}
}

// An Ethernet-class plugin may not set the interface's addresses or DNS
// servers, nor turn its link into an IP-only one: the core owns IP
// configuration. The calls fail with EPERM, are counted, and change
// nothing.
func TestSandbox_EthernetPluginCannotConfigureIP(t *testing.T) {
	r := newRig(t, config.Limits{})
	p := r.load(t, "full", plugin("full"))
	nic := p.NICs()[0]
	ctx := ctxT(t)
	if err := nic.SetIPConfig(ctx, host.KW{"addr4": "10.64.0.100/24", "gw4": "10.64.0.1"}); err != nil {
		t.Fatal(err)
	}
	if err := nic.SetActive(ctx, true); err != nil {
		t.Fatal(err)
	}
	dnsBefore, _ := nic.DNS()

	for _, rep := range []map[string]any{
		{"addr4": "10.9.9.9/32"},
		{"dns": []any{"10.9.9.9"}},
		{"peer4": "10.9.9.1"},
	} {
		_, err := nic.Call(ctx, "report", rep)
		if !errors.Is(err, syscall.EPERM) {
			t.Errorf("report(%v) = %v, want OSError EPERM", rep, err)
		}
	}
	if a, _ := nic.Addr4(); a != netip.MustParsePrefix("10.64.0.100/24") {
		t.Errorf("addr4 is %v after the refused reports, want 10.64.0.100/24", a)
	}
	if gw, _ := nic.Gateway4(); gw != netip.MustParseAddr("10.64.0.1") {
		t.Errorf("gw4 is %v after the refused reports, want 10.64.0.1", gw)
	}
	if dns, _ := nic.DNS(); !reflect.DeepEqual(dns, dnsBefore) {
		t.Errorf("DNS servers %v after the refused reports, want %v", dns, dnsBefore)
	}
	if len(nic.Reported()) != 0 {
		t.Errorf("Reported() = %v, want nothing", nic.Reported())
	}

	if _, err := nic.Call(ctx, "link", true, int64(abi.LinkIP), int64(1500)); !errors.Is(err, syscall.EPERM) {
		t.Errorf("link(type=2) = %v, want OSError EPERM", err)
	}
	if st := nic.LinkState(); st.Type != abi.LinkEthernet || !st.Up {
		t.Errorf("link state %+v after a refused link(type=2), want Ethernet and up", st)
	}
	if got := p.Stats().Denied; got != 4 {
		t.Errorf("Denied = %d, want 4", got)
	}
	if !contains(r.log.String(), "host call refused (EPERM)") || !contains(r.log.String(), "call=report") {
		t.Errorf("the refusals are not logged:\n%s", r.log)
	}
	// What the driver may do still works.
	if _, err := nic.Call(ctx, "link", false, int64(abi.LinkEthernet), int64(0)); err != nil {
		t.Fatal(err)
	}
	if nic.LinkState().Up {
		t.Error("link(up=0, type=1) from an Ethernet plugin did not take the link down")
	}
}

// A PPP plugin negotiates its addresses: report is its to make, on its
// IP-only link, and an Ethernet link type is refused.
func TestSandbox_PPPPluginReports(t *testing.T) {
	r := newRig(t, config.Limits{})
	p := r.load(t, "ppp", plugin("ppp"), noBuses)
	nic := p.NICs()[0]
	link := &hosttest.Link{}
	hosttest.Attach(nic, link)
	ctx := ctxT(t)
	if err := nic.SetActive(ctx, true); err != nil {
		t.Fatal(err)
	}
	if st := nic.LinkState(); st.Type != abi.LinkIP {
		t.Fatalf("link state %+v, want IP-only", st)
	}
	rep := map[string]any{"addr4": "10.64.0.2", "dns": []any{"10.64.0.1"}}
	if _, err := nic.Call(ctx, "report", rep); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(nic.Reported(), rep) || !reflect.DeepEqual(link.Reports()[len(link.Reports())-1], rep) {
		t.Fatalf("reported %v / core got %v", nic.Reported(), link.Reports())
	}
	if _, err := nic.Call(ctx, "link", true, int64(abi.LinkEthernet), int64(1500)); !errors.Is(err, syscall.EPERM) {
		t.Errorf("link(type=1) from a PPP plugin = %v, want OSError EPERM", err)
	}
	if p.Stats().Denied != 1 {
		t.Errorf("Denied = %d, want 1", p.Stats().Denied)
	}
}

// A driver that asks for a poll "now" in every poll is held to the timer
// poll floor instead of holding a core.
func TestSandbox_TimerPollFloor(t *testing.T) {
	const floor = 5 * time.Millisecond
	r := newRig(t, config.Limits{})
	p := r.load(t, "spin", plugin("full"), noBuses, func(c *config.PluginConfig) {
		c.Options = map[string]any{"spin": true}
		c.Limits.MinPollInterval = floor
	})
	polls := func() int64 { return int64(p.Stats().Polls) }
	eventually(t, "the spinning driver polled", func() bool { return polls() > 3 })
	start, n0 := time.Now(), polls()
	eventually(t, "20 more polls", func() bool { return polls() >= n0+20 })
	n, el := polls()-n0, time.Since(start)
	// At most one timer poll per floor interval (and one in hand).
	if max := int64(el/floor) + 2; n > max {
		t.Fatalf("%d polls in %v: the floor of %v allows at most %d", n, el, floor, max)
	}
	t.Logf("%d polls in %v (floor %v)", n, el, floor)
}

// sleep answers ETIMEDOUT while the call can still return: the driver
// sees the error, and the instance is not discarded.
func TestSandbox_SleepTimesOutBeforeTheDeadline(t *testing.T) {
	r := newRig(t, config.Limits{})
	p := r.load(t, "full", plugin("full"), noBuses, func(c *config.PluginConfig) {
		c.Limits.CallTimeout = 300 * time.Millisecond
	})
	v, err := p.NICs()[0].Call(ctxT(t), "sleep_out")
	if err != nil {
		t.Fatalf("sleep_out = %v; the call should have returned after sleep's ETIMEDOUT", err)
	}
	res := v.(abi.Tuple)
	if msg := res[1].(string); !contains(msg, fmt.Sprintf("[Errno %d]", abi.ETIMEDOUT)) || res[0].(int64) < 1 {
		t.Fatalf("sleep_out = %v, want some sleeps, then ETIMEDOUT", res)
	}
	if st := p.State(); st.Faults != 0 || st.Restarts != 0 {
		t.Fatalf("state %+v: the instance was discarded", st)
	}
}

// Over its CPU share, a plugin's polls wait for the next window, and its
// stats say so; its busy time is counted.
func TestSandbox_CPUShareThrottles(t *testing.T) {
	r := newRig(t, config.Limits{})
	p := r.load(t, "spin", plugin("full"), noBuses, func(c *config.PluginConfig) {
		c.Options = map[string]any{"spin": true}
		c.Limits.MinPollInterval = time.Microsecond
		c.Limits.CPUShare = 0.01 // 10 ms a second
	})
	eventually(t, "the plugin throttled", func() bool { return p.Stats().Throttled > 0 })
	st := p.Stats()
	if st.Busy <= 0 {
		t.Fatalf("busy time %v", st.Busy)
	}
	// Control calls are still served while it waits.
	if _, err := p.NICs()[0].Call(ctxT(t), "noop"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains([]byte(r.log.String()), []byte("CPU share")) {
		t.Errorf("the throttling is not logged:\n%s", r.log)
	}
}

// A blob bus hands a driver data larger than any control message (Wi-Fi
// firmware), from a file or a simulated bus, read in ranges.
func TestBlob_FileAndSim(t *testing.T) {
	firmware := make([]byte, 230_000) // a CYW43439 firmware's size
	for i := range firmware {
		firmware[i] = byte(i * 7)
	}
	path := filepath.Join(t.TempDir(), "fw.bin")
	if err := os.WriteFile(path, firmware, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, g := range map[string]config.BusGrant{
		"file": {Kind: "blob", File: path},
		"sim":  {Kind: "blob", Sim: "fw0"},
	} {
		t.Run(name, func(t *testing.T) {
			h, err := host.New(host.Options{Logger: quiet(), Buses: map[string]any{"fw0": firmware}})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			p, _, err := h.Load(t.Context(), config.PluginConfig{Name: "b", Source: plugin("full"), Buses: map[string]config.BusGrant{"fw": g}})
			if err != nil {
				t.Fatal(err)
			}
			nic := p.NICs()[0]
			for _, c := range []struct{ off, n, want int }{
				{0, 100, 100},
				{100_000, 60_000, 60_000},
				{229_990, 100, 10}, // the tail
				{230_000, 100, 0},  // at the end
			} {
				v, err := nic.Call(ctxT(t), "blob", int64(c.off), int64(c.n))
				if err != nil {
					t.Fatalf("blob(%d, %d): %v", c.off, c.n, err)
				}
				res := v.(abi.Tuple)
				if res[0].(int64) != int64(len(firmware)) {
					t.Fatalf("size %v, want %d", res[0], len(firmware))
				}
				if got := res[1].([]byte); len(got) != c.want || !bytes.Equal(got, firmware[c.off:c.off+c.want]) {
					t.Fatalf("blob(%d, %d): %d bytes, want %d of the file", c.off, c.n, len(got), c.want)
				}
			}
		})
	}
	// Read-only, a blob may be granted to two plugins (two chips of one
	// kind share their firmware file).
	h2, err := host.New(host.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	for _, name := range []string{"a", "b"} {
		if _, _, err := h2.Load(t.Context(), config.PluginConfig{Name: name, Source: plugin("full"), Buses: map[string]config.BusGrant{"fw": {Kind: "blob", File: path}}}); err != nil {
			t.Fatalf("load %s with the shared blob: %v", name, err)
		}
	}
	// A missing file fails the load, naming it.
	h, err := host.New(host.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	_, _, err = h.Load(t.Context(), config.PluginConfig{Name: "b", Source: plugin("full"), Buses: map[string]config.BusGrant{"fw": {Kind: "blob", File: path + ".missing"}}})
	if err == nil || !contains(err.Error(), "fw.bin.missing") {
		t.Fatalf("load with a missing blob file = %v, want an error naming it", err)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
