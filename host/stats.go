package host

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/nichost/nichost/internal/ratelimit"
)

// PluginStats are a plugin's counters since it was loaded.
type PluginStats struct {
	Calls      uint64 // control calls into the instance
	Polls      uint64
	Faults     uint64
	SPICalls   uint64 // spi_transact host calls
	SPIBytes   uint64 // bytes clocked on SPI buses
	BadHandles uint64 // host calls on handles not granted
	// Denied counts host calls refused with EPERM because the plugin may
	// not do what it asked: report on an Ethernet link, a link type its
	// class does not have.
	Denied uint64
	// OutputDropped counts lines of the plugin's stdout and stderr that
	// were not logged: they share the log import's rate limit.
	OutputDropped uint64
	// Busy is the time spent inside the plugin's calls, host calls they
	// made included: its CPU time as far as the host measures it.
	Busy time.Duration
	// Throttled counts the times the plugin overdrew its CPU share
	// (limits.cpu_share), so that its polls and transmits waited until its
	// credit was back; Throttling is true while they wait.
	Throttled  uint64
	Throttling bool
	// HostCalls counts the host calls (imports) the plugin's instances
	// made; 0 for a native build, whose calls the host does not see.
	HostCalls uint64
	// Memory is the size of the running instance's linear memory in
	// bytes (what limits.memory_limit caps); 0 while it is down.
	Memory uint64
	// Latency holds the time the plugin's calls took, by export
	// ("nic_poll", "nic_call", "nic_transmit", ...).
	Latency map[string]Histogram
}

// Histogram counts call latencies in buckets: Counts[i] calls took at
// most Bounds[i] seconds and more than Bounds[i-1] (not cumulative); the
// last count, Counts[len(Bounds)], is of calls longer than every bound.
type Histogram struct {
	Bounds []float64 // upper bounds in seconds, ascending
	Counts []uint64
	Count  uint64
	Sum    float64 // seconds
}

type pluginStats struct {
	calls, polls, faults, spiCalls, spiBytes, badHandles, denied, outputDropped atomic.Uint64
}

func (s *pluginStats) snapshot() PluginStats {
	return PluginStats{
		Calls: s.calls.Load(), Polls: s.polls.Load(), Faults: s.faults.Load(),
		SPICalls: s.spiCalls.Load(), SPIBytes: s.spiBytes.Load(), BadHandles: s.badHandles.Load(),
		Denied: s.denied.Load(), OutputDropped: s.outputDropped.Load(),
	}
}

// Reasons frames are dropped, the keys of NICStats.Drops. They are a fixed
// set: a driver's own words go to the (rate-limited) log, never into a key.
const (
	dropNoCore      = "no network core attached"
	dropCoreRefused = "the core refused it"
	dropQueueFull   = "queue full"
	dropTooLong     = "frame too long"
	dropDriverError = "the driver refused it"
)

// NICStats are a NIC's frame counters.
type NICStats struct {
	RxFrames, RxBytes uint64
	TxFrames, TxBytes uint64
	Drops             map[string]uint64 // dropped frames by reason
}

type nicStats struct {
	rxFrames, rxBytes, txFrames, txBytes atomic.Uint64
	mu                                   sync.Mutex
	drops                                map[string]uint64
}

func (s *nicStats) drop(reason string) {
	s.mu.Lock()
	if s.drops == nil {
		s.drops = map[string]uint64{}
	}
	s.drops[reason]++
	s.mu.Unlock()
}

func (s *nicStats) snapshot() NICStats {
	st := NICStats{
		RxFrames: s.rxFrames.Load(), RxBytes: s.rxBytes.Load(),
		TxFrames: s.txFrames.Load(), TxBytes: s.txBytes.Load(),
		Drops: map[string]uint64{},
	}
	s.mu.Lock()
	for k, v := range s.drops {
		st.Drops[k] = v
	}
	s.mu.Unlock()
	return st
}

// rateLimiter keeps a plugin that logs in a loop from flooding the host's
// log.
type rateLimiter = ratelimit.Lines

const (
	logBurst = ratelimit.Burst
	logRate  = ratelimit.Rate // per second
)
