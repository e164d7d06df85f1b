package radio

import (
	"sync"
	"time"
)

// Clock: the environment's time. Wall() for plugins on real time; NewManual
// for tests.
//
// The environment calls AfterFunc with its own lock held, so an
// implementation must never run f before AfterFunc has returned (Wall and
// Manual never do).
type Clock interface {
	Now() time.Time
	// AfterFunc runs f on its own goroutine once d has passed on this clock;
	// stop cancels it (true if it had not run).
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// Wall returns the real-time clock: time.Now and time.AfterFunc, so each
// function runs on its own goroutine.
func Wall() Clock { return wallClock{} }

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// Manual is a deterministic clock for tests: time moves only when Advance
// is called, and the functions given to AfterFunc run inside Advance, on
// the goroutine that called it, in the order of their due times (functions
// due at the same time in the order they were scheduled). A function may
// schedule others; those due within the same Advance run in it too.
// Manual is safe for concurrent use; no lock of its own is held while a
// function runs, so a function may call Now, AfterFunc, stop functions and
// even Advance.
type Manual struct {
	mu     sync.Mutex
	now    time.Time
	seq    uint64
	timers []*manualTimer
}

type manualTimer struct {
	when time.Time
	seq  uint64
	f    func()
}

// NewManual returns a Manual clock that reads start until advanced.
func NewManual(start time.Time) *Manual { return &Manual{now: start} }

// Now returns the clock's current time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// AfterFunc schedules f to run once the clock has been advanced by d (d <=
// 0: at the next Advance, even Advance(0)). It runs on the Advance
// goroutine, not its own. stop cancels it and reports whether it had not
// run yet.
func (m *Manual) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	t := &manualTimer{when: m.now.Add(max(d, 0)), seq: m.seq, f: f}
	m.timers = append(m.timers, t)
	return func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		for i, x := range m.timers {
			if x == t {
				m.timers = append(m.timers[:i], m.timers[i+1:]...)
				return true
			}
		}
		return false
	}
}

// Advance moves the clock forward by d (negative counts as 0), running
// every function that becomes due, in time order, synchronously: when a
// function runs, Now returns its due time. When Advance returns, Now is the
// old time plus d.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	target := m.now.Add(max(d, 0))
	for {
		i := m.next(target)
		if i < 0 {
			break
		}
		t := m.timers[i]
		m.timers = append(m.timers[:i], m.timers[i+1:]...)
		if t.when.After(m.now) {
			m.now = t.when
		}
		m.mu.Unlock()
		t.f()
		m.mu.Lock()
	}
	if target.After(m.now) {
		m.now = target
	}
	m.mu.Unlock()
}

// next returns the index of the earliest timer due by target, -1 if none.
func (m *Manual) next(target time.Time) int {
	best := -1
	for i, t := range m.timers {
		if t.when.After(target) {
			continue
		}
		if best < 0 || t.when.Before(m.timers[best].when) ||
			(t.when.Equal(m.timers[best].when) && t.seq < m.timers[best].seq) {
			best = i
		}
	}
	return best
}

// Pending returns how many functions are scheduled and have not run.
func (m *Manual) Pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.timers)
}
