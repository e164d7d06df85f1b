package guesttest_test

import (
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/internal/testdriver"
)

// poll is one poll the ticker saw.
type poll struct {
	at     time.Duration
	events abi.Event
}

// ticker is the module's test driver (which reaches every import through
// its class-specific methods) with a poll log: it records when it was
// polled and why, and asks for its next poll every period (0: never, <0:
// at once, every time). failAt makes the poll at that time raise.
type ticker struct {
	*testdriver.Driver
	env    *guest.Env
	period time.Duration
	failAt time.Duration
	polls  []poll
}

func newTicker(period time.Duration) *ticker {
	return &ticker{Driver: testdriver.New().(*testdriver.Driver), period: period, failAt: -1}
}

func (d *ticker) Start(env *guest.Env) error {
	d.env = env
	return d.Driver.Start(env)
}

func (d *ticker) Poll(ev abi.Event) error {
	now := d.env.Now()
	d.polls = append(d.polls, poll{now, ev})
	switch {
	case d.period > 0:
		d.env.WakeAfter(d.period)
	case d.period < 0:
		d.env.WakeAfter(0)
	}
	if now == d.failAt {
		return abi.OSError(abi.EIO, "poll at %v fails", now)
	}
	return d.Driver.Poll(ev)
}

// Call adds naps(n) to the test driver's methods: n sleeps of 10 ms in
// one call.
func (d *ticker) Call(iface int, name string, a guest.Args) (any, error) {
	if name != "naps" {
		return d.Driver.Call(iface, name, a)
	}
	n, err := a.At(0, "n").Int()
	for range n {
		if err == nil {
			err = d.env.Sleep(10 * time.Millisecond)
		}
	}
	return nil, err
}

// times are the times of the polls after the first.
func (d *ticker) times() []time.Duration {
	var out []time.Duration
	for _, p := range d.polls[1:] {
		out = append(out, p.at)
	}
	return out
}
