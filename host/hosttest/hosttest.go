// Package hosttest has test doubles and helpers for code that uses package
// host: a Link that records what a NIC hands the network core, a log buffer
// that several goroutines may write, and waiting with a bound.
package hosttest

import (
	"bytes"
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/nichost/nichost/host"
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

// Eventually polls cond every few milliseconds until it holds, failing t
// if limit passes first.
func Eventually(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Context returns a context that ends after limit or with the test.
func Context(t testing.TB, limit time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	return ctx
}
