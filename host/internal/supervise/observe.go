package supervise

import (
	"sync"
	"sync/atomic"
	"time"
)

// LatencyBounds are the upper bounds, in seconds, of the buckets of the
// call latency histograms: from 10 µs (a poll with nothing to do) to 2.5 s
// (past the default call deadline).
var LatencyBounds = []float64{1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// Histogram is a snapshot of one export's call latencies.
type Histogram struct {
	Bounds []float64 // LatencyBounds
	Counts []uint64  // per bucket, not cumulative; the last is above every bound
	Count  uint64
	Sum    float64 // seconds
}

// observer holds what the supervisor measures of its instances for the
// host's statistics: call latencies per export, host calls, memory, and
// the generation of the running instance.
type observer struct {
	mu      sync.Mutex
	latency map[string]*Histogram

	hostCalls atomic.Uint64 // all instances'
	callsBase uint64        // host calls of the instances before the running one (plugin goroutine)
	memory    atomic.Uint64 // bytes of the running instance's memory; 0 when down
	gen       atomic.Int64  // instances started so far
}

// counters is what an engine instance may report about itself (the
// wazero engine does; a native one does not).
type counters interface {
	// Counters returns the host calls the instance made and the size of
	// its linear memory in bytes.
	Counters() (hostCalls, memory uint64)
}

// observe records one call of export that took d, and the instance's
// counters after it (plugin goroutine).
func (s *Supervisor) observe(export string, d time.Duration) {
	o := &s.obs
	o.mu.Lock()
	if o.latency == nil {
		o.latency = map[string]*Histogram{}
	}
	h := o.latency[export]
	if h == nil {
		h = &Histogram{Bounds: LatencyBounds, Counts: make([]uint64, len(LatencyBounds)+1)}
		o.latency[export] = h
	}
	sec := d.Seconds()
	i := 0
	for i < len(LatencyBounds) && sec > LatencyBounds[i] {
		i++
	}
	h.Counts[i]++
	h.Count++
	h.Sum += sec
	o.mu.Unlock()
	if c, ok := s.inst.(counters); ok {
		calls, mem := c.Counters()
		o.hostCalls.Store(o.callsBase + calls)
		o.memory.Store(mem)
	}
}

// instanceGone folds the discarded instance's host calls into the base
// (plugin goroutine).
func (s *Supervisor) instanceGone() {
	s.obs.callsBase = s.obs.hostCalls.Load()
	s.obs.memory.Store(0)
}

// Latency returns a copy of the latency histograms, by export.
func (s *Supervisor) Latency() map[string]Histogram {
	o := &s.obs
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]Histogram, len(o.latency))
	for k, h := range o.latency {
		c := *h
		c.Counts = append([]uint64(nil), h.Counts...)
		out[k] = c
	}
	return out
}

// HostCalls is the number of host calls the plugin's instances made.
func (s *Supervisor) HostCalls() uint64 { return s.obs.hostCalls.Load() }

// Memory is the size of the running instance's linear memory in bytes, 0
// when no instance runs or the engine does not say.
func (s *Supervisor) Memory() uint64 { return s.obs.memory.Load() }

// Generation is the number of the running (or last) instance: 1 for the
// first, one more for each started after a fault, a reload or a restart.
func (s *Supervisor) Generation() int { return int(s.obs.gen.Load()) }
