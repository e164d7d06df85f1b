package metrics_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
	"github.com/nichost/nichost/internal/metrics"
	"github.com/nichost/nichost/plugins/lan/phy"
)

// lanRig is the LAN driver, built to WASM, on a simulated segment and a
// LAN8720A: a host with real traffic, faults and memory to count.
type lanRig struct {
	*hosttest.Rig
	wire *sim.FramePort // the peer's port
}

func newLANRig(t *testing.T) *lanRig {
	t.Helper()
	mdio := sim.NewMDIO()
	p := phy.New(phy.Options{Model: phy.LAN8720A, Addr: 1, ResetTime: time.Millisecond, AutoNegTime: 30 * time.Millisecond})
	p.Attach(mdio, p)
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	port := seg.Attach("plugin")
	r := &lanRig{wire: seg.Attach("peer")}
	r.Rig = hosttest.NewRig(t, hosttest.RigConfig{
		Hostname: "metrics",
		Sims:     map[string]any{"wire0": port, "mdio0": mdio},
		Plugin: config.PluginConfig{
			Name: "lan0", Source: "../../plugins/lan",
			Buses: map[string]config.BusGrant{
				"port": {Kind: "frame", Sim: "wire0"},
				"mdio": {Kind: "mdio", Sim: "mdio0"},
			},
		},
	})
	return r
}

// scrape fetches /metrics as Prometheus does and parses the text format.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequestWithContext(hosttest.Context(t), http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("the scrape does not parse: %v", err)
	}
	return fams
}

// series finds the one series of family name whose labels include want.
func series(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no family %s in the scrape", name)
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	t.Fatalf("family %s has no series with labels %v", name, want)
	return nil
}

// value is a counter's or gauge's value.
func value(m *dto.Metric) float64 {
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return m.GetGauge().GetValue()
}

// frame is a 60-byte Ethernet frame to dst.
func frame(dst []byte, marker byte) []byte {
	f := make([]byte, 60)
	copy(f, dst)
	copy(f[6:], []byte{0x02, 0xee, 0, 0, 0, 1})
	f[12], f[13], f[14] = 0x88, 0xb5, marker
	return f
}

func TestHandler_Traffic(t *testing.T) {
	r := newLANRig(t)
	h := metrics.Handler(r.Host, "v-test")
	nic := map[string]string{"nic": r.NIC.Name(), "plugin": "lan0", "class": abi.ClassLAN}
	plugin := map[string]string{"plugin": "lan0"}

	before := scrape(t, h)
	if v := value(series(t, before, "nichost_nic_link_up", nic)); v != 0 {
		t.Fatalf("link_up %v before active(True)", v)
	}
	info := series(t, before, "nichost_build_info", map[string]string{"version": "v-test", "abi": abi.VersionString(abi.Version)})
	if value(info) != 1 {
		t.Fatalf("build_info = %v, want 1", value(info))
	}
	if _, ok := before["go_goroutines"]; !ok {
		t.Fatal("the Go runtime's collector is missing")
	}
	if _, ok := before["process_cpu_seconds_total"]; !ok {
		t.Fatal("the process collector is missing")
	}
	rx0 := value(series(t, before, "nichost_nic_rx_frames_total", nic))

	r.Up(t)
	const n = 5
	for i := range n {
		if err := r.wire.WriteFrame(frame(r.NIC.MAC(), byte(i))); err != nil {
			t.Fatal(err)
		}
	}
	hosttest.Eventually(t, "the frames in the core", func() bool { return r.Link.Count() >= n })
	out := frame([]byte{0x02, 0x99, 0, 0, 0, 9}, 0x77)
	if err := hosttest.Transmit(r.NIC, out); err != nil {
		t.Fatal(err)
	}
	if got := hosttest.ReadFrame(t, r.wire); !bytes.Equal(got, out) {
		t.Fatalf("peer got % x", got)
	}
	// A frame larger than the ABI allows is dropped before the driver sees
	// it, and counted under its reason.
	if err := hosttest.Transmit(r.NIC, make([]byte, abi.MaxFrame+1)); err == nil {
		t.Fatal("an oversized frame was queued")
	}

	after := scrape(t, h)
	if rx := value(series(t, after, "nichost_nic_rx_frames_total", nic)); rx < rx0+n {
		t.Errorf("rx_frames_total %v, want at least %v after %d frames", rx, rx0+n, n)
	}
	if b := value(series(t, after, "nichost_nic_rx_bytes_total", nic)); b < 60*n {
		t.Errorf("rx_bytes_total %v, want at least %d", b, 60*n)
	}
	if tx := value(series(t, after, "nichost_nic_tx_frames_total", nic)); tx < 1 {
		t.Errorf("tx_frames_total %v after a frame went out", tx)
	}
	if b := value(series(t, after, "nichost_nic_tx_bytes_total", nic)); b < 60 {
		t.Errorf("tx_bytes_total %v, want at least 60", b)
	}
	if v := value(series(t, after, "nichost_nic_link_up", nic)); v != 1 {
		t.Errorf("link_up %v with the link up", v)
	}
	drop := series(t, after, "nichost_nic_drops_total", map[string]string{"nic": r.NIC.Name(), "reason": "frame too long"})
	if value(drop) != 1 {
		t.Errorf(`drops_total{reason="frame too long"} = %v, want 1`, value(drop))
	}

	if v := value(series(t, after, "nichost_plugin_up", plugin)); v != 1 {
		t.Errorf("plugin_up %v", v)
	}
	if v := value(series(t, after, "nichost_plugin_generation", plugin)); v != 1 {
		t.Errorf("plugin_generation %v, want 1", v)
	}
	if v := value(series(t, after, "nichost_plugin_memory_bytes", plugin)); v < 1<<20 {
		t.Errorf("plugin_memory_bytes %v, want the instance's linear memory (MiBs)", v)
	}
	for _, name := range []string{"nichost_plugin_host_calls_total", "nichost_plugin_calls_total", "nichost_plugin_polls_total", "nichost_plugin_cpu_seconds_total"} {
		if v := value(series(t, after, name, plugin)); v <= 0 {
			t.Errorf("%s = %v after bring-up and traffic", name, v)
		}
	}
	poll := series(t, after, "nichost_plugin_call_duration_seconds", map[string]string{"plugin": "lan0", "export": abi.ExportPoll})
	hist := poll.GetHistogram()
	if hist.GetSampleCount() == 0 || hist.GetSampleSum() <= 0 {
		t.Fatalf("nic_poll latency: count %d, sum %v", hist.GetSampleCount(), hist.GetSampleSum())
	}
	prev := uint64(0)
	for _, b := range hist.GetBucket() {
		if b.GetCumulativeCount() < prev || b.GetCumulativeCount() > hist.GetSampleCount() {
			t.Fatalf("nic_poll buckets are not cumulative within the count: %v", hist.GetBucket())
		}
		prev = b.GetCumulativeCount()
	}

	// An operator's restart shows as a new generation and a restart, not
	// a fault.
	if err := r.Plugin.Restart(hosttest.Context(t)); err != nil {
		t.Fatal(err)
	}
	hosttest.Eventually(t, "the restarted instance up", func() bool { return r.Plugin.State().Up })
	restarted := scrape(t, h)
	if v := value(series(t, restarted, "nichost_plugin_generation", plugin)); v != 2 {
		t.Errorf("plugin_generation %v after a restart, want 2", v)
	}
	if v := value(series(t, restarted, "nichost_plugin_restarts_total", plugin)); v != 1 {
		t.Errorf("plugin_restarts_total %v, want 1", v)
	}
	if v := value(series(t, restarted, "nichost_plugin_faults_total", plugin)); v != 0 {
		t.Errorf("plugin_faults_total %v after an operator's restart, want 0", v)
	}
	// Counters span instances: a restart is not a counter reset.
	for _, name := range []string{"nichost_plugin_host_calls_total", "nichost_plugin_calls_total", "nichost_plugin_polls_total"} {
		if was, now := value(series(t, after, name, plugin)), value(series(t, restarted, name, plugin)); now < was {
			t.Errorf("%s fell from %v to %v across a restart", name, was, now)
		}
	}
	if rx := value(series(t, restarted, "nichost_nic_rx_frames_total", nic)); rx < rx0+n {
		t.Errorf("rx_frames_total %v after the restart, want at least %v", rx, rx0+n)
	}
}

func TestCollector_Lint(t *testing.T) {
	r := newLANRig(t)
	r.Up(t)
	problems, err := testutil.CollectAndLint(metrics.NewCollector(r.Host, "v-test"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// Faults count, and a plugin that is down reads as down.
func TestHandler_Fault(t *testing.T) {
	r := hosttest.NewRig(t, hosttest.RigConfig{
		Plugin: config.PluginConfig{Name: "full", Source: "../../host/testdata/plugins/full"},
	})
	h := metrics.Handler(r.Host, "v-test")
	if _, err := r.NIC.Call(hosttest.Context(t), "crash"); !host.IsFault(err) {
		t.Fatalf("crash() = %v, want a fault", err)
	}
	hosttest.Eventually(t, "the restart", func() bool { return r.Plugin.State().Up })
	fams := scrape(t, h)
	plugin := map[string]string{"plugin": "full"}
	if v := value(series(t, fams, "nichost_plugin_faults_total", plugin)); v != 1 {
		t.Errorf("plugin_faults_total %v after a crash, want 1", v)
	}
	if v := value(series(t, fams, "nichost_plugin_restarts_total", plugin)); v != 1 {
		t.Errorf("plugin_restarts_total %v after a crash, want 1", v)
	}
	if v := value(series(t, fams, "nichost_plugin_generation", plugin)); v != 2 {
		t.Errorf("plugin_generation %v after a crash, want 2", v)
	}
	// Both of the test driver's interfaces are NICs of their own.
	for _, n := range r.Plugin.NICs() {
		series(t, fams, "nichost_nic_rx_frames_total", map[string]string{"nic": n.Name(), "plugin": "full"})
	}
	call := series(t, fams, "nichost_plugin_call_duration_seconds", map[string]string{"plugin": "full", "export": abi.ExportCall})
	if call.GetHistogram().GetSampleCount() == 0 {
		t.Error("nic_call latency has no samples after a call")
	}
}
