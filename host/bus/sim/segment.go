package sim

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/internal/queue"
)

// SegmentOptions shape a simulated Ethernet segment. The zero value is a
// perfect hub: no loss, no delay, MTU 1500, 512-frame receive queues.
//
// Loss, Duplicate and Reorder are drawn independently for every receiving
// port of every frame, from a generator seeded with Seed, so a single writer
// sees the same impairments on every run.
type SegmentOptions struct {
	// Loss is the probability (0..1) that a frame is not delivered to a port.
	Loss float64 `yaml:"loss"`
	// Duplicate is the probability (0..1) that a delivered frame is queued
	// twice at a port.
	Duplicate float64 `yaml:"duplicate"`
	// Reorder is the probability (0..1) that a delivered frame overtakes the
	// frame queued just before it at a port. Overtaking needs that frame to be
	// still unread, so a reader that drains its port at once sees fewer
	// reorders than configured; SegmentStats.Reordered counts the real ones.
	Reorder float64 `yaml:"reorder"`
	// Delay holds every frame for this long before it becomes readable.
	Delay time.Duration `yaml:"delay"`
	// Seed seeds the random generator.
	Seed uint64 `yaml:"seed"`
	// QueueLen is the receive queue of each port, in frames (0: 512). A frame
	// arriving at a full queue is dropped and counted.
	QueueLen int `yaml:"queue_len"`
	// MTU is the largest payload (0: 1500); frames are at most MTU+14 bytes.
	MTU int `yaml:"mtu"`
}

// Validate reports the first out-of-range field, by its yaml name.
func (o SegmentOptions) Validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"loss", o.Loss}, {"duplicate", o.Duplicate}, {"reorder", o.Reorder}} {
		if !(f.v >= 0 && f.v <= 1) {
			return fmt.Errorf("bus: segment options: %s: probability %v out of range 0..1", f.name, f.v)
		}
	}
	switch {
	case o.Delay < 0:
		return fmt.Errorf("bus: segment options: delay: %v is negative", o.Delay)
	case o.QueueLen < 0:
		return fmt.Errorf("bus: segment options: queue_len: %d is negative", o.QueueLen)
	case o.MTU < 0 || o.MTU > 65535-bus.EthernetHeaderLen:
		return fmt.Errorf("bus: segment options: mtu: %d out of range 0..%d", o.MTU, 65535-bus.EthernetHeaderLen)
	}
	return nil
}

// SegmentStats counts what happened to the frames on a segment.
type SegmentStats struct {
	Frames     uint64 // frames written by any port
	Delivered  uint64 // copies queued at receiving ports, duplicates included
	Lost       uint64 // copies not delivered because of Loss
	Duplicated uint64 // extra copies queued because of Duplicate
	Reordered  uint64 // copies queued ahead of the frame before them
	Dropped    uint64 // copies dropped because a receive queue was full
}

// Segment is a simulated Ethernet hub: a frame written to one attached port
// is delivered to every other attached port, with the impairments of its
// SegmentOptions. A Segment is safe for concurrent use.
type Segment struct {
	opts SegmentOptions

	mu    sync.Mutex
	rng   *rand.Rand
	ports []*FramePort
	stats SegmentStats
}

// NewSegment returns an empty segment. It panics if opts.Validate fails;
// validate options that come from a config first.
func NewSegment(opts SegmentOptions) *Segment {
	if err := opts.Validate(); err != nil {
		panic(err)
	}
	if opts.QueueLen == 0 {
		opts.QueueLen = bus.DefaultFrameQueue
	}
	if opts.MTU == 0 {
		opts.MTU = bus.DefaultMTU
	}
	return &Segment{
		opts: opts,
		rng:  rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
	}
}

// Attach returns a new port on the segment. name is what the port's String
// returns. The port stays attached until it is closed.
func (s *Segment) Attach(name string) *FramePort {
	p := &FramePort{seg: s, name: name, rx: queue.NewFrames(s.opts.QueueLen)}
	s.mu.Lock()
	s.ports = append(s.ports, p)
	s.mu.Unlock()
	return p
}

// Stats returns the counters of the segment.
func (s *Segment) Stats() SegmentStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// detach removes p from the segment.
func (s *Segment) detach(p *FramePort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := slices.Index(s.ports, p); i >= 0 {
		s.ports = slices.Delete(s.ports, i, i+1)
	}
}

// chance draws one impairment; no draw is made for a probability of 0.
func (s *Segment) chance(p float64) bool {
	return p > 0 && s.rng.Float64() < p
}

// send delivers a copy of frame to every port but from, then runs the
// receivers' Notify callbacks with no lock held.
func (s *Segment) send(from *FramePort, frame []byte) {
	data := bytes.Clone(frame)
	var ready time.Time
	if s.opts.Delay > 0 {
		ready = time.Now().Add(s.opts.Delay)
	}
	var notify []func()
	s.mu.Lock()
	s.stats.Frames++
	for _, p := range s.ports {
		if p == from {
			continue
		}
		if s.chance(s.opts.Loss) {
			s.stats.Lost++
			continue
		}
		copies := 1
		if s.chance(s.opts.Duplicate) {
			copies = 2
		}
		reorder := s.chance(s.opts.Reorder)
		for c := range copies {
			r := p.enqueue(data, ready, reorder && c == 0)
			switch {
			case r.dropped:
				s.stats.Dropped++
				continue
			case c == 1:
				s.stats.Duplicated++
			}
			s.stats.Delivered++
			if r.reordered {
				s.stats.Reordered++
			}
			if r.notify != nil {
				notify = append(notify, r.notify)
			}
		}
	}
	s.mu.Unlock()
	for _, fn := range notify {
		fn()
	}
}
