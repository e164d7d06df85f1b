package driver_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/abi/guest/guesttest"
	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/plugins/wlan/driver"
	"github.com/nichost/nichost/plugins/wlan/radio"
	"github.com/nichost/nichost/plugins/wlan/wlandev"
)

// The driver's timers seen on simulated time: the driver runs on the fake
// host (guesttest, whose clock only the test moves) and the simulated
// chip on a radio.Manual clock. tick moves both in step; a test that
// wants the chip silent moves the host's clock alone.

// tick is the step in which the two clocks move together.
const tick = time.Millisecond

// line is a line the driver logged and the host time the test saw it at.
type line struct {
	at  time.Duration
	msg string
}

// simRig is the driver on the fake host, granted the buses of a simulated
// CYW43439 in a radio environment of wlandev's default networks.
type simRig struct {
	h     *guesttest.Host
	radio *radio.Manual
	dev   *wlandev.Device
	lines []line
	seen  int // h.Logs() taken into lines
	buses map[string]any
	macs  [][]byte
}

func newSimRig(t *testing.T) *simRig {
	t.Helper()
	return newSimRigMACs(t, nil)
}

// newSimRigMACs is newSimRig with the interfaces' MACs (guesttest's by
// default).
func newSimRigMACs(t *testing.T, macs [][]byte) *simRig {
	t.Helper()
	clk := radio.NewManual(time.Unix(0, 0))
	dev, err := wlandev.New(nil, "dut", wlandev.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dev.Close)
	t.Cleanup(func() {
		for _, err := range dev.Misuse() {
			t.Errorf("the chip saw a misuse: %v", err)
		}
	})
	// The grants wlandev makes (spi, on, irq, firmware, clm), by the
	// names the driver declares.
	buses := map[string]any{}
	for name, g := range dev.Buses {
		buses[name] = dev.Sims[g.Sim]
	}
	r := &simRig{radio: clk, dev: dev, buses: buses, macs: macs}
	r.h = guesttest.New(t, driver.New(), guesttest.Options{Buses: buses, MACs: macs})
	return r
}

// restart replaces the driver instance with a fresh one on the same chip,
// as the host does after a fault or a reload (its clock starts again at
// 0; the radio's goes on).
func (r *simRig) restart(t *testing.T) {
	t.Helper()
	r.h.Close()
	r.h = guesttest.New(t, driver.New(), guesttest.Options{Buses: r.buses, MACs: r.macs})
	r.lines, r.seen = nil, 0
}

// stamp takes the lines logged since the last look, seen at the host's
// time now.
func (r *simRig) stamp() {
	logs := r.h.Logs()
	for _, l := range logs[r.seen:] {
		r.lines = append(r.lines, line{r.h.Now(), l.Msg})
	}
	r.seen = len(logs)
}

// run moves the host's clock by d, polling the driver as the host would;
// the radio clock stays where it is.
func (r *simRig) run(t *testing.T, d time.Duration) {
	t.Helper()
	if err := r.h.Advance(d); err != nil {
		t.Fatal(err)
	}
	r.stamp()
}

// step moves both clocks by one tick: the polls the chip's last events
// made due at once, the timer polls of the tick, then the chip's timers
// of the tick (whose events the next step's first polls take).
func (r *simRig) step(t *testing.T) {
	t.Helper()
	r.run(t, 0)
	r.run(t, tick)
	r.radio.Advance(tick)
}

// stepUntil steps until cond holds, for at most limit of host time.
func (r *simRig) stepUntil(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	for end := r.h.Now() + limit; !cond(); r.step(t) {
		if r.h.Now() >= end {
			t.Fatalf("no %s after %v of simulated time; log:\n%s", what, limit, r.log())
		}
	}
}

// logged reports whether a line containing s was logged.
func (r *simRig) logged(s string) bool {
	r.stamp()
	for _, l := range r.lines {
		if strings.Contains(l.msg, s) {
			return true
		}
	}
	return false
}

// times are the host times of the lines containing s.
func (r *simRig) times(s string) []time.Duration {
	var out []time.Duration
	for _, l := range r.lines {
		if strings.Contains(l.msg, s) {
			out = append(out, l.at)
		}
	}
	return out
}

func (r *simRig) log() string {
	var b strings.Builder
	for _, l := range r.lines {
		b.WriteString(l.at.String() + " " + l.msg + "\n")
	}
	return b.String()
}

func (r *simRig) call(t *testing.T, method string, args ...any) any {
	t.Helper()
	v, err := r.h.Call(method, args...)
	if err != nil {
		t.Fatalf("%s(%v): %v", method, args, err)
	}
	r.stamp()
	return v
}

func (r *simRig) status(t *testing.T) int64 {
	t.Helper()
	return r.call(t, "status").(int64)
}

// up activates the station and steps both clocks until the firmware runs
// (the chip boots 5 ms after the ARM leaves reset, on the radio clock).
func (r *simRig) up(t *testing.T) {
	t.Helper()
	r.call(t, "active", true)
	r.stepUntil(t, "firmware", 5*time.Second, func() bool { return r.logged("firmware up") })
	if got := r.status(t); got != 0 {
		t.Fatalf("status() once up = %d, want 0", got)
	}
}

// With the chip's clock stopped once the firmware runs, the join's ioctls
// are answered (the chip answers them at once) but its events never come:
// status() reads 1 (connecting) until 10 s of host time after connect(),
// and -1 from then on, with the reason in the log.
func TestJoinTimeout(t *testing.T) {
	r := newSimRig(t)
	r.up(t)
	r.run(t, 100*time.Millisecond) // the host alone from here: the radio is frozen
	frozen, ioctls := r.radio.Now(), r.dev.Chip.Stats().Ioctls
	n := wlandev.NetWPA2
	// config(security=...) set: the join is sent at once, without a scan.
	r.call(t, "config", guesttest.KW{"security": int64(n.Security)})
	t0 := r.h.Now()
	r.call(t, "connect", n.SSID, n.Key)
	if r.h.Now() != t0 {
		t.Fatalf("connect() slept %v", r.h.Now()-t0)
	}
	if got := r.status(t); got != 1 {
		t.Fatalf("status() right after connect() = %d, want 1", got)
	}
	r.run(t, 10*time.Second-time.Nanosecond)
	if got := r.status(t); got != 1 {
		t.Fatalf("status() %v after connect() = %d, want 1 (connecting) until the 10 s join timeout; log:\n%s", r.h.Now()-t0, got, r.log())
	}
	// The join reached the chip, whose answer waits on its clock.
	if got := r.dev.Chip.Stats().Ioctls; got <= ioctls {
		t.Fatalf("the chip answered no ioctl after connect() (%d before, %d after)", ioctls, got)
	}
	if r.radio.Pending() == 0 {
		t.Fatal("the chip scheduled no join events: the join never reached it")
	}
	if at := r.times(" failed: "); len(at) != 0 {
		t.Fatalf("a failure before the timeout at %v; log:\n%s", at, r.log())
	}
	r.run(t, time.Nanosecond)
	if got := r.status(t); got != -1 {
		t.Fatalf("status() %v after connect() = %d, want -1 (the join timeout); log:\n%s", r.h.Now()-t0, got, r.log())
	}
	if at := r.times("no outcome 10s after connect()"); len(at) != 1 || at[0] != t0+10*time.Second {
		t.Fatalf("the timeout logged at %v, want once at %v; log:\n%s", at, t0+10*time.Second, r.log())
	}
	if c := r.call(t, "isconnected"); c != false {
		t.Errorf("isconnected() after the join timeout = %v", c)
	}
	for _, l := range r.h.Links(0) {
		if l.Up {
			t.Errorf("the link was reported up during a join that timed out: %+v", r.h.Links(0))
		}
	}
	// The failure stays.
	r.run(t, 5*time.Second)
	if got := r.status(t); got != -1 {
		t.Errorf("status() 5 s after the timeout = %d, want -1 to stay", got)
	}
	if !r.radio.Now().Equal(frozen) {
		t.Fatal("the radio clock moved")
	}
}

// After link loss with config(reconnects=2), the driver tries again 1 s
// of host time after the loss and 1 s after each failed try, twice, then
// gives up: status() -1, the link down. Both clocks move in step
// throughout.
func TestReconnectTries(t *testing.T) {
	r := newSimRig(t)
	r.call(t, "config", guesttest.KW{"reconnects": int64(2), "trace": int64(guest.TraceEvents)})
	r.up(t)
	n := wlandev.NetWPA2
	r.call(t, "connect", n.SSID, n.Key)
	r.stepUntil(t, "join", 5*time.Second, func() bool { return r.status(t) == 2 })
	if !r.h.Link(0).Up {
		t.Fatal("joined and the link is not reported up")
	}
	// The AP goes off the air; BeaconLoss later on the radio clock the
	// radio tells the chip, on a goroutine of its own (package radio's
	// callbacks): the test waits for the chip's two events (LINK down,
	// DEAUTH_IND) before the next step, so that the driver takes them at a
	// host time the clocks fix.
	chip := r.dev.Chip
	events := func() uint64 { s := chip.Stats(); return s.Events + s.EventsMasked }
	before := events()
	if sts := r.dev.APs[0].Stations(); len(sts) != 1 {
		t.Fatalf("the AP has stations %v once joined, want the chip's", sts)
	}
	r.dev.APs[0].SetOn(false)
	r.stepUntil(t, "beacon loss", 5*time.Second, func() bool { return len(r.dev.APs[0].Stations()) == 0 })
	wait.For(t, "the chip's events of the beacon loss", func() bool { return events() >= before+2 })
	r.stepUntil(t, "link loss", 5*time.Second, func() bool { return !r.h.Link(0).Up })
	if got := r.status(t); got != 1 {
		t.Fatalf("status() after link loss with tries left = %d, want 1", got)
	}
	r.stepUntil(t, "end of the tries", 10*time.Second, func() bool { return r.status(t) != 1 })
	if got := r.status(t); got != -1 {
		t.Fatalf("status() after the tries = %d, want -1; log:\n%s", got, r.log())
	}
	lost := r.times("cyw43439: lost ")
	tries := r.times("reconnecting to ")
	failed := r.times("reconnect to ")
	gaveUp := r.times("no reconnect tries left")
	if len(lost) != 1 || len(tries) != 2 || len(failed) != 1 || len(gaveUp) != 1 {
		t.Fatalf("lost %v, tries %v, failed tries with one left %v, gave up %v: want 1, 2, 1, 1; log:\n%s",
			lost, tries, failed, gaveUp, r.log())
	}
	if d := tries[0] - lost[0]; d != time.Second {
		t.Errorf("first try %v after the loss, want 1s; log:\n%s", d, r.log())
	}
	if d := tries[1] - failed[0]; d != time.Second {
		t.Errorf("second try %v after the first failed, want 1s; log:\n%s", d, r.log())
	}
	if gaveUp[0] <= tries[1] {
		t.Errorf("gave up at %v, before the second try at %v", gaveUp[0], tries[1])
	}
	// The AP back: the station stays idle at -1 until connect().
	r.dev.APs[0].SetOn(true)
	for range 3000 {
		r.step(t)
	}
	if got := r.status(t); got != -1 || r.h.Link(0).Up {
		t.Fatalf("status() %d, link up %v with the AP back after the tries ran out; want -1, down", got, r.h.Link(0).Up)
	}
	r.call(t, "connect", n.SSID, n.Key)
	r.stepUntil(t, "join after the tries", 5*time.Second, func() bool { return r.status(t) == 2 })
}
