package radio_test

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/plugins/wlan/radio"
)

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// A Manual clock runs what is due, in time order, inside Advance, with Now
// at each function's due time; stopped functions never run; functions
// scheduled by functions run in the same Advance when due.
func TestManual(t *testing.T) {
	m := radio.NewManual(epoch)
	var got []string
	var at []time.Duration
	rec := func(name string) func() {
		return func() { got = append(got, name); at = append(at, m.Now().Sub(epoch)) }
	}
	m.AfterFunc(30*time.Millisecond, rec("c"))
	m.AfterFunc(10*time.Millisecond, rec("a"))
	stop := m.AfterFunc(20*time.Millisecond, rec("never"))
	m.AfterFunc(20*time.Millisecond, func() {
		rec("b")()
		m.AfterFunc(5*time.Millisecond, rec("b+5"))
	})
	m.AfterFunc(10*time.Millisecond, rec("a2")) // same time as a: after it
	if !stop() {
		t.Fatal("stop of a pending function returned false")
	}
	m.Advance(29 * time.Millisecond)
	if want := []string{"a", "a2", "b", "b+5"}; !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
	if want := []time.Duration{10e6, 10e6, 20e6, 25e6}; !slices.Equal(at, want) {
		t.Fatalf("ran at %v, want %v", at, want)
	}
	if d := m.Now().Sub(epoch); d != 29*time.Millisecond {
		t.Fatalf("Now after Advance: +%v", d)
	}
	if m.Pending() != 1 {
		t.Fatalf("Pending = %d, want 1", m.Pending())
	}
	m.Advance(time.Millisecond)
	if got[len(got)-1] != "c" || m.Pending() != 0 {
		t.Fatalf("ran %v, pending %d", got, m.Pending())
	}
	if stop() {
		t.Fatal("stop of a cancelled function returned true")
	}
}

// Wall runs functions on real time.
func TestWall(t *testing.T) {
	c := radio.Wall()
	if d := time.Since(c.Now()); d < 0 || d > time.Minute {
		t.Fatalf("Wall().Now() is %v away from time.Now", d)
	}
	var ran atomic.Bool
	c.AfterFunc(0, func() { ran.Store(true) })
	wait.For(t, "the wall clock's function", ran.Load)
	if c.AfterFunc(time.Hour, func() {})() != true {
		t.Fatal("stop of a pending wall function returned false")
	}
}
