// Package ratelimit is the token bucket that keeps a plugin's lines (its
// log import, its stdout and stderr, the host's warnings about it) from
// flooding the host's log: a burst of Burst lines, refilled at Rate a
// second.
package ratelimit

import (
	"sync"
	"time"
)

// The bucket's size and refill rate, which ABI.md gives for the log import.
const (
	Burst = 50
	Rate  = 20 // lines per second
)

// Lines is one bucket; the zero value is full. It is safe for concurrent
// use.
type Lines struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// Allow reports whether one more line may go out at now, and takes it.
func (l *Lines) Allow(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last.IsZero() {
		l.tokens = Burst
	} else {
		l.tokens = min(Burst, l.tokens+now.Sub(l.last).Seconds()*Rate)
	}
	l.last = now
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}
