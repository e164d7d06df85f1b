package guesttest_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest/guesttest"
)

const ms = time.Millisecond

func TestHost_Advance(t *testing.T) {
	tests := []struct {
		name    string
		period  time.Duration
		advance []time.Duration
		want    []time.Duration // times of the polls after the first
	}{
		{"no wake-up, no poll", 0, []time.Duration{time.Second}, nil},
		{"each wake-up at its time", 10 * ms, []time.Duration{35 * ms}, []time.Duration{10 * ms, 20 * ms, 30 * ms}},
		{"a wake-up due at the end is made", 10 * ms, []time.Duration{20 * ms}, []time.Duration{10 * ms, 20 * ms}},
		{"in steps", 10 * ms, []time.Duration{5 * ms, 5 * ms, 9 * ms, 1 * ms}, []time.Duration{10 * ms, 20 * ms}},
		{"advance by 0 makes nothing due", 10 * ms, []time.Duration{0}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newTicker(tt.period)
			h := guesttest.New(t, d, guesttest.Options{})
			var total time.Duration
			for _, step := range tt.advance {
				if err := h.Advance(step); err != nil {
					t.Fatal(err)
				}
				total += step
			}
			if got := d.times(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("polls at %v, want %v", got, tt.want)
			}
			for _, p := range d.polls[1:] {
				if p.events != abi.EventTimer {
					t.Errorf("poll at %v for %v, want timer", p.at, p.events)
				}
			}
			if h.Now() != total {
				t.Errorf("clock at %v after advancing %v", h.Now(), total)
			}
		})
	}
}

func TestHost_Wake(t *testing.T) {
	d := newTicker(0)
	h := guesttest.New(t, d, guesttest.Options{})
	if _, ok := h.Wake(); ok {
		t.Fatal("a wake-up is requested before the driver asked")
	}
	if _, err := h.Call("wake_after", int64(3*ms)); err != nil {
		t.Fatal(err)
	}
	if at, ok := h.Wake(); !ok || at != 3*ms {
		t.Fatalf("Wake() = %v, %v after wake_after(3 ms)", at, ok)
	}
	if _, err := h.Call("wake_after", int64(-1)); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.Wake(); ok {
		t.Fatal("wake_after(-1) did not cancel the request")
	}
}

func TestHost_Next(t *testing.T) {
	d := newTicker(0)
	h := guesttest.New(t, d, guesttest.Options{})
	if err := h.Next(); !errors.Is(err, guesttest.ErrIdle) {
		t.Fatalf("Next with nothing due = %v, want ErrIdle", err)
	}
	if _, err := h.Call("wake_after", int64(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := h.Next(); err != nil {
		t.Fatal(err)
	}
	if got := d.times(); !reflect.DeepEqual(got, []time.Duration{time.Hour}) || h.Now() != time.Hour {
		t.Fatalf("polls at %v, clock at %v; want one poll at 1h", got, h.Now())
	}
	if _, ok := h.Wake(); ok {
		t.Fatal("the timer poll left the request in place")
	}
}

func TestHost_AdvanceErrors(t *testing.T) {
	t.Run("a driver that never lets time pass", func(t *testing.T) {
		h := guesttest.New(t, newTicker(-1), guesttest.Options{})
		err := h.Advance(ms)
		if err == nil || !strings.Contains(err.Error(), "without time passing") {
			t.Fatalf("Advance = %v, want an error about polls without time passing", err)
		}
	})
	t.Run("stops at the failing poll", func(t *testing.T) {
		d := newTicker(10 * ms)
		d.failAt = 20 * ms
		h := guesttest.New(t, d, guesttest.Options{})
		err := h.Advance(time.Second)
		if !errors.Is(err, abi.ErrOS) || h.Now() != 20*ms {
			t.Fatalf("Advance = %v with the clock at %v; want the OSError of the poll at 20ms", err, h.Now())
		}
	})
}

func TestImports_Sleep(t *testing.T) {
	tests := []struct {
		name      string
		ns        []int64 // one call each
		wantClock time.Duration
		wantErrno int // of the last call; 0 none
	}{
		{"moves the clock", []int64{int64(2 * ms), int64(3 * ms)}, 5 * ms, 0},
		{"zero", []int64{0}, 0, 0},
		{"negative", []int64{-1}, 0, abi.EINVAL},
		{"over 10 ms", []int64{abi.MaxSleepNanos + 1}, 0, abi.EINVAL},
		{"each call has its own deadline", []int64{int64(10 * ms), int64(10 * ms)}, 20 * ms, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := guesttest.New(t, newTicker(0), guesttest.Options{})
			var err error
			for _, ns := range tt.ns {
				_, err = h.Call("sleep", ns)
			}
			checkErrno(t, err, tt.wantErrno)
			if h.Now() != tt.wantClock {
				t.Errorf("clock at %v, want %v", h.Now(), tt.wantClock)
			}
		})
	}
}

func TestImports_SleepPastDeadline(t *testing.T) {
	h := guesttest.New(t, newTicker(0), guesttest.Options{Deadline: 25 * ms})
	_, err := h.Call("naps", 2)
	checkErrno(t, err, 0)
	// The deadline bounds the sleeps of one call: the next call starts
	// afresh and runs out in its third nap, which stops at the deadline.
	_, err = h.Call("naps", 3)
	checkErrno(t, err, abi.ETIMEDOUT)
	if h.Now() != 45*ms {
		t.Fatalf("clock at %v, want 45ms", h.Now())
	}
}

func TestClock_Time(t *testing.T) {
	clock := new(guesttest.Clock)
	h := guesttest.New(t, newTicker(0), guesttest.Options{Clock: clock})
	start := clock.Time()
	if err := h.Advance(1500 * ms); err != nil {
		t.Fatal(err)
	}
	if h.Clock() != clock || clock.Now() != 1500*ms || clock.Time().Sub(start) != 1500*ms {
		t.Fatalf("the shared clock reads %v (%v since start), want 1.5s", clock.Now(), clock.Time().Sub(start))
	}
}

// checkErrno checks that err is nil for errno 0, else an OSError with
// that errno.
func checkErrno(t *testing.T, err error, errno int) {
	t.Helper()
	var e *abi.Error
	switch {
	case errno == 0 && err != nil:
		t.Errorf("error %v, want none", err)
	case errno != 0 && (!errors.As(err, &e) || e.Kind != abi.KindOSError || e.Errno != errno):
		t.Errorf("error %v, want OSError errno %d (%s)", err, errno, abi.ErrnoName(errno))
	}
}
