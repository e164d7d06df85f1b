package guesttest

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/nichost/nichost/abi"
)

// Clock is the fake host's monotonic clock: what the driver reads with
// now. Only the Host moves it, forward: the driver's sleep calls, Advance
// and Next. A device simulator that takes a time source reads the same
// clock through Time, from any goroutine. The zero value reads 0.
type Clock struct{ ns atomic.Int64 }

// epoch is the wall-clock time of Clock 0.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Now is the time since the clock started.
func (c *Clock) Now() time.Duration { return time.Duration(c.ns.Load()) }

// Time is the clock as a wall-clock time (2026-01-01 00:00 UTC plus Now),
// for simulators whose options take a func() time.Time.
func (c *Clock) Time() time.Time { return epoch.Add(c.Now()) }

// set moves the clock to t if that is later.
func (c *Clock) set(t time.Duration) {
	for {
		old := c.ns.Load()
		if int64(t) <= old || c.ns.CompareAndSwap(old, int64(t)) {
			return
		}
	}
}

// ErrIdle is returned by Next when nothing would poll the driver: it asked
// for no wake-up and no bus event is pending.
var ErrIdle = errors.New("guesttest: the driver asked for no wake-up and no bus event is pending")

// maxPollsAtOnce bounds the polls Advance makes without the clock moving:
// a driver that asks for an immediate poll at every poll would spin.
const maxPollsAtOnce = 1000

// Clock is the host's clock.
func (h *Host) Clock() *Clock { return h.clock }

// Now is the host's monotonic clock.
func (h *Host) Now() time.Duration { return h.clock.Now() }

// Wake is the time the driver asked to be polled at with wake_at, and
// whether it asked (a request is cleared by the timer poll).
func (h *Host) Wake() (time.Duration, bool) { return h.wake, h.wake >= 0 }

// Advance moves the clock forward by d and polls the driver on the way as
// the host would: at once for pending bus events (an edge on a watched
// GPIO line, UART bytes, a frame on a port), and with abi.EventTimer at
// every wake-up it asks for that comes due, at that time. It stops at the
// first poll that raises an error and returns it, with the clock at that
// poll's time.
func (h *Host) Advance(d time.Duration) error {
	target := h.Now() + d
	at, n := h.Now(), 0
	for {
		polled, err := h.step(target)
		if err != nil {
			return err
		}
		if !polled {
			break
		}
		if now := h.Now(); now != at {
			at, n = now, 0
		} else if n++; n == maxPollsAtOnce {
			return fmt.Errorf("guesttest: the driver was polled %d times at %v without time passing", n, now)
		}
	}
	h.clock.set(target)
	return nil
}

// Next makes the one poll the host would make next: at once if a bus
// event is pending, else at the wake-up the driver asked for, moving the
// clock there if it is later. It returns the error the poll raised, or
// ErrIdle when nothing would poll the driver.
func (h *Host) Next() error {
	polled, err := h.step(math.MaxInt64)
	if err == nil && !polled {
		return ErrIdle
	}
	return err
}

// step makes the next poll due by limit, if any, and reports whether it
// polled.
func (h *Host) step(limit time.Duration) (bool, error) {
	ev := h.pending()
	if ev == 0 {
		if h.wake < 0 || h.wake > limit {
			return false, nil
		}
		h.clock.set(h.wake)
	}
	if h.wake >= 0 && h.wake <= h.Now() {
		ev |= abi.EventTimer
	}
	return true, h.Poll(ev)
}

// pending is the set of bus events the host would poll for now.
func (h *Host) pending() abi.Event {
	ev := abi.Event(h.notified.Load())
	for _, g := range h.grants {
		if g.collect() {
			ev |= abi.EventGPIO
		}
	}
	return ev
}
