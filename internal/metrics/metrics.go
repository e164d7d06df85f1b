// Package metrics exposes a host's counters to Prometheus: frames, bytes
// and drops per NIC, health, faults, host calls, memory, CPU time and call
// latencies per plugin, with the Go runtime's and the process's own
// collectors beside them. docs/metrics.md lists every family.
//
// Nothing here keeps a copy of a counter: the collector reads the host's
// snapshots (NIC.Stats, Plugin.State, Plugin.Stats) when it is scraped, so
// there is no goroutine to stop and no second count to drift from the
// host's. A plugin closed and loaded again starts its counters from zero,
// which Prometheus reads as a counter reset.
package metrics

import (
	"maps"
	"net/http"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
)

// NewRegistry returns a registry holding the host's collector, the Go
// runtime's and the process's, and nichost_build_info for version (the
// program's version string).
func NewRegistry(h *host.Host, version string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		NewCollector(h, version),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// Handler serves NewRegistry's metrics in Prometheus' text and protobuf
// formats, as the daemon mounts it at /metrics. A collector that fails
// does not hide the others: the scrape carries what could be gathered.
func Handler(h *host.Host, version string) http.Handler {
	reg := NewRegistry(h, version)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:      reg, // promhttp's own request counters
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// Label names. A NIC's series carry its plugin and class so that a query
// can group interfaces by driver without a join.
var (
	nicLabels    = []string{"nic", "plugin", "class"}
	pluginLabels = []string{"plugin"}
)

func desc(name, help string, labels []string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc("nichost_"+name, help, append(slices.Clip(labels), extra...), nil)
}

// Collector is a prometheus.Collector of one host's NICs and plugins.
type Collector struct {
	h       *host.Host
	version string

	buildInfo *prometheus.Desc

	rxFrames, rxBytes, txFrames, txBytes, drops, linkUp *prometheus.Desc

	up, generation, restarts, reloads, faults, hostCalls, calls, polls *prometheus.Desc
	memory, cpu, throttled, throttling, spiBytes, denied, badHandles   *prometheus.Desc
	outputDropped, latency                                             *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns the collector NewRegistry registers, for a program
// that has a registry of its own.
func NewCollector(h *host.Host, version string) *Collector {
	return &Collector{
		h: h, version: version,
		buildInfo: prometheus.NewDesc("nichost_build_info",
			"Always 1; the labels say which nichost runs and the plugin ABI version it implements.",
			[]string{"version", "abi"}, nil),

		rxFrames: desc("nic_rx_frames_total", "Frames the NIC's driver handed to the network core.", nicLabels),
		rxBytes:  desc("nic_rx_bytes_total", "Bytes of the frames counted by nichost_nic_rx_frames_total.", nicLabels),
		txFrames: desc("nic_tx_frames_total", "Frames the network core sent through the NIC's driver.", nicLabels),
		txBytes:  desc("nic_tx_bytes_total", "Bytes of the frames counted by nichost_nic_tx_frames_total.", nicLabels),
		drops:    desc("nic_drops_total", "Frames dropped on the way between the driver and the core, by reason.", nicLabels, "reason"),
		linkUp:   desc("nic_link_up", "1 while the driver reports the NIC's link up, else 0.", nicLabels),

		up:            desc("plugin_up", "1 while an instance of the plugin runs, 0 while it is down (between a fault and its restart).", pluginLabels),
		generation:    desc("plugin_generation", "The number of the plugin's running (or last) instance: 1 for the first, one more for each restart or reload.", pluginLabels),
		restarts:      desc("plugin_restarts_total", "Instances started after a fault or by an operator's restart.", pluginLabels),
		reloads:       desc("plugin_reloads_total", "Modules replaced by a reload.", pluginLabels),
		faults:        desc("plugin_faults_total", "Instances discarded after a fault: a trap, a deadline, memory exhaustion or an ABI violation.", pluginLabels),
		hostCalls:     desc("plugin_host_calls_total", "Host calls (imports) the plugin's instances made; 0 for a native plugin.", pluginLabels),
		calls:         desc("plugin_calls_total", "Control calls (AbstractNIC methods and call()) into the plugin.", pluginLabels),
		polls:         desc("plugin_polls_total", "Calls of the plugin's nic_poll.", pluginLabels),
		memory:        desc("plugin_memory_bytes", "Size of the running instance's linear memory (what limits.memory_limit caps); 0 while down.", pluginLabels),
		cpu:           desc("plugin_cpu_seconds_total", "Time spent inside the plugin's calls, host calls they made included.", pluginLabels),
		throttled:     desc("plugin_throttled_total", "Times the plugin overdrew its CPU share (limits.cpu_share) and its polls and transmits were held back.", pluginLabels),
		throttling:    desc("plugin_throttling", "1 while the plugin's polls and transmits wait for CPU credit, else 0.", pluginLabels),
		spiBytes:      desc("plugin_spi_bytes_total", "Bytes clocked on the plugin's SPI buses.", pluginLabels),
		denied:        desc("plugin_denied_total", "Host calls refused because the plugin may not do what it asked.", pluginLabels),
		badHandles:    desc("plugin_bad_handles_total", "Host calls on bus handles the plugin was not granted.", pluginLabels),
		outputDropped: desc("plugin_output_dropped_total", "Lines of the plugin's log and output dropped by the log rate limit.", pluginLabels),
		latency:       desc("plugin_call_duration_seconds", "How long the plugin's calls took, by export (nic_poll, nic_call, nic_transmit, ...).", pluginLabels, "export"),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.buildInfo,
		c.rxFrames, c.rxBytes, c.txFrames, c.txBytes, c.drops, c.linkUp,
		c.up, c.generation, c.restarts, c.reloads, c.faults, c.hostCalls, c.calls, c.polls,
		c.memory, c.cpu, c.throttled, c.throttling, c.spiBytes, c.denied, c.badHandles,
		c.outputDropped, c.latency,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: one snapshot of each plugin and
// NIC, read now.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.buildInfo, prometheus.GaugeValue, 1, c.version, abi.VersionString(abi.Version))
	for _, p := range c.h.Plugins() {
		c.collectPlugin(ch, p)
		for _, n := range p.NICs() {
			c.collectNIC(ch, n)
		}
	}
}

func (c *Collector) collectPlugin(ch chan<- prometheus.Metric, p *host.Plugin) {
	name := p.Name()
	st, s := p.State(), p.Stats()
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, name)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, name)
	}
	gauge(c.up, b2f(st.Up))
	gauge(c.generation, float64(p.Generation()))
	gauge(c.memory, float64(s.Memory))
	gauge(c.throttling, b2f(s.Throttling))
	counter(c.restarts, float64(st.Restarts))
	counter(c.reloads, float64(st.Reloads))
	counter(c.faults, float64(st.Faults))
	counter(c.hostCalls, float64(s.HostCalls))
	counter(c.calls, float64(s.Calls))
	counter(c.polls, float64(s.Polls))
	counter(c.cpu, s.Busy.Seconds())
	counter(c.throttled, float64(s.Throttled))
	counter(c.spiBytes, float64(s.SPIBytes))
	counter(c.denied, float64(s.Denied))
	counter(c.badHandles, float64(s.BadHandles))
	counter(c.outputDropped, float64(s.OutputDropped))
	for _, export := range slices.Sorted(maps.Keys(s.Latency)) {
		hist := s.Latency[export]
		count, sum, buckets := cumulative(hist)
		ch <- prometheus.MustNewConstHistogram(c.latency, count, sum, buckets, name, export)
	}
}

func (c *Collector) collectNIC(ch chan<- prometheus.Metric, n *host.NIC) {
	labels := []string{n.Name(), n.Plugin().Name(), n.Class()}
	s := n.Stats()
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(c.rxFrames, s.RxFrames)
	counter(c.rxBytes, s.RxBytes)
	counter(c.txFrames, s.TxFrames)
	counter(c.txBytes, s.TxBytes)
	for _, reason := range slices.Sorted(maps.Keys(s.Drops)) {
		ch <- prometheus.MustNewConstMetric(c.drops, prometheus.CounterValue, float64(s.Drops[reason]), append(labels, reason)...)
	}
	ch <- prometheus.MustNewConstMetric(c.linkUp, prometheus.GaugeValue, b2f(n.LinkState().Up), labels...)
}

// cumulative turns the host's per-bucket counts into Prometheus' buckets,
// each the count of calls at most its bound. The last of Counts (longer
// than every bound) is only in the total, as Prometheus' implicit +Inf
// bucket is.
func cumulative(h host.Histogram) (count uint64, sum float64, buckets map[float64]uint64) {
	buckets = make(map[float64]uint64, len(h.Bounds))
	var acc uint64
	for i, bound := range h.Bounds {
		if i < len(h.Counts) {
			acc += h.Counts[i]
		}
		buckets[bound] = acc
	}
	for i := len(h.Bounds); i < len(h.Counts); i++ {
		acc += h.Counts[i]
	}
	// Count is the host's own total; it can only be short of the buckets'
	// sum if the snapshot was torn, and a histogram whose buckets exceed
	// its count is invalid, so the larger one stands.
	return max(h.Count, acc), h.Sum, buckets
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
