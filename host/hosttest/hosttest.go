// Package hosttest has test doubles and helpers for code that uses package
// host: a Link that records what a NIC hands the network core, a log buffer
// that several goroutines may write, waiting with a bound, and Rig, the
// host with one driver on simulated buses that drivers' tests run on.
package hosttest

import (
	"bytes"
	"context"
	"maps"
	"sync"
	"testing"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/internal/wait"
)

// Link is a host.Link that records frames, link states and reports. Attach
// it to a NIC in place of the core. It is safe for concurrent use.
type Link struct {
	mu      sync.Mutex
	frames  [][]byte
	states  []host.LinkState
	reports []map[string]any
}

var _ host.Link = (*Link)(nil)

// DeliverFrame implements host.Link: it keeps a copy of the frame.
func (l *Link) DeliverFrame(f []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.frames = append(l.frames, bytes.Clone(f))
	return nil
}

// LinkChanged implements host.Link.
func (l *Link) LinkChanged(s host.LinkState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.states = append(l.states, s)
}

// Reported implements host.Link.
func (l *Link) Reported(m map[string]any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reports = append(l.reports, maps.Clone(m))
}

// Frames returns the frames delivered so far, oldest first.
func (l *Link) Frames() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][]byte(nil), l.frames...)
}

// Count is the number of frames delivered so far.
func (l *Link) Count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.frames)
}

// States returns the link states reported so far, oldest first.
func (l *Link) States() []host.LinkState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]host.LinkState(nil), l.states...)
}

// Ups returns the Up field of every state reported, oldest first.
func (l *Link) Ups() []bool {
	var ups []bool
	for _, s := range l.States() {
		ups = append(ups, s.Up)
	}
	return ups
}

// Reports returns what the driver reported, oldest first.
func (l *Link) Reports() []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]map[string]any(nil), l.reports...)
}

// LogBuffer is an io.Writer for a host's slog handler that tests can read
// while plugin goroutines write to it.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Eventually polls cond until it holds, failing t if the module's one wait
// bound passes first (a minute, or $NICHOST_TEST_WAIT as a Go duration):
// the bound only keeps a broken test from hanging; no test depends on its
// length.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	wait.For(t, what, cond)
}

// Context returns a context for calls that must not hang a test: it ends
// after the same bound, or with the test.
func Context(t testing.TB) context.Context { return wait.Context(t) }
