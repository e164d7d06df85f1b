// Package supervise runs one plugin: one instance at a time of one module,
// on a goroutine of its own. Every call into the instance runs there, one at
// a time, under the call deadline. When the instance faults (a trap, a
// deadline, memory exhaustion, an ABI violation) it is discarded and a fresh
// one is started after a back-off, and the plugin's owner replays the state
// callers asked for. A reload swaps the module the same way, after checking
// the new one while the old one runs, and rolls back if it fails to start.
// A driver that declares the resume feature is handed the running device
// instead of resetting it (ABI.md "Warm handover"), with the links held as
// they are meanwhile.
//
// The owner (package host's Plugin) supplies what is not supervision through
// Hooks: the host calls' view of grants and NICs, the checks of a
// description against the config, the steps of the replay, and the
// bookkeeping of frames sent.
package supervise

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/internal/engine"
	"github.com/nichost/nichost/host/internal/hostcall"
)

// Errors the supervisor returns; package host exports the same values.
var (
	ErrABIVersion    = errors.New("ABI version mismatch")
	ErrBadModule     = errors.New("not a valid nichost plugin")
	ErrClassMismatch = errors.New("class mismatch")
	ErrClosed        = errors.New("closed")
	ErrTxQueueFull   = errors.New("host: transmit queue full")
)

// Hooks is what the supervisor needs of the plugin it runs. Every method
// runs on the plugin's goroutine, except those of hostcall.Owner that say
// otherwise.
type Hooks interface {
	hostcall.Owner
	// Check is called with every instance's description once the handshake
	// found it well-formed; first is true for the plugin's first instance
	// (check it against the config and the grants, make the NICs). For a
	// later instance the supervisor then checks that it declares the same
	// class and interfaces as the first.
	Check(desc abi.Description, first bool) error
	// StartInfo is the argument of nic_start.
	StartInfo() abi.StartInfo
	// Replay lists the calls that bring a fresh instance to the state
	// callers asked for, in order.
	Replay() []Step
	// Down says the instance was discarded: nothing moves frames now, and
	// the core is told the links are down.
	Down()
	// Hold says the instance stopped and the next one will be offered the
	// running device: the links stay as the core has them, and link
	// reports of the down state are held back until Release, while an up
	// report of a held link ends its hold.
	Hold()
	// Held reports whether any link is still held.
	Held() bool
	// Release ends the hold. takenOver: a resumed instance took the links
	// over, and the reports held back apply now; otherwise every link still
	// held is reported down.
	Release(takenOver bool)
	// Sent says what became of a frame offered to nic_transmit.
	Sent(iface int, frame []byte, outcome TxOutcome, err error)
	// FlushRx is called after each round of calls into the instance: the
	// frames it received in them go on to the core now, before the
	// frames queued to send meanwhile are offered to the driver.
	FlushRx()
	// Wrap turns an error of operation op into the plugin's error type.
	Wrap(op string, err error) error
	// Lifecycle says what became of the plugin's instances: LifeFault (err
	// is the fault, generation the instance discarded), LifeRestart (after
	// a fault or an operator's Restart; err says which, nil after a fault)
	// and LifeReload, with the new instance's generation.
	Lifecycle(kind string, generation int, err error)
}

// Kinds of Hooks.Lifecycle.
const (
	LifeFault   = "fault"
	LifeRestart = "restart"
	LifeReload  = "reload"
)

// Step is one call of a replay.
type Step struct {
	Iface  int
	Name   string // the NIC's name, for the log
	Export string
	Args   any
}

// Module is a compiled plugin: NewInstance makes a fresh instance bound to
// the host's side of the ABI, Release frees the module (nil: nothing to
// free).
type Module struct {
	NewInstance func(ctx context.Context, imp abi.Imports) (engine.Instance, error)
	Release     func()
	// Declared, if set, checks every instance's description once it is
	// found well-formed, before Hooks.Check: what this module may declare
	// (a signed module, the declaration its signature covers).
	Declared func(abi.Description) error
}

// State is a snapshot of a plugin's health.
type State struct {
	Up        bool      // an instance is running
	Restarts  int       // instances started after faults or by Restart
	Reloads   int       // modules replaced by Reload
	Faults    int       // faults so far
	LastFault error     // the last fault, nil if none
	RestartAt time.Time // when the next restart is due, if down
}

// Stats are the supervisor's counters.
type Stats struct {
	Calls, Polls, Faults uint64
	// Busy is the time spent inside the plugin's calls (host calls they
	// made included): its CPU time as far as the host can tell.
	Busy time.Duration
	// Throttled counts the times the plugin overdrew its CPU credit, so
	// that its polls and transmits had to wait; Throttling says it is
	// waiting now.
	Throttled  uint64
	Throttling bool
}

// Supervisor runs one plugin. Its methods may be called from any goroutine
// unless they say otherwise.
type Supervisor struct {
	name   string
	limits config.Limits
	log    *slog.Logger
	epoch  time.Time
	hooks  Hooks

	reqs    chan func() // calls that need a running instance
	ctrl    chan func() // work that runs even while the plugin is down (reload)
	wakeCh  chan struct{}
	pending atomic.Uint32
	quit    chan struct{}
	done    chan struct{}

	lifeMu  sync.Mutex // orders Go and Close, which may come from two goroutines
	running bool
	closed  bool

	txMu    sync.Mutex
	txq     []txFrame
	txBytes int // bytes of the frames in txq

	desc                 atomic.Pointer[abi.Description]
	state                atomic.Pointer[State]
	calls, polls, faults atomic.Uint64
	busyNs, throttled    atomic.Uint64
	throttleEnd          atomic.Int64 // ns since epoch until which polls and transmits wait; 0 none

	// Owned by the plugin goroutine.
	mod       Module
	inst      engine.Instance
	sess      *hostcall.Session
	wakeAt    int64         // host monotonic ns of the requested poll; -1 none
	lastTimer time.Time     // when the last timer poll started
	credit    time.Duration // CPU time the plugin may still use (a token bucket)
	refilled  time.Time     // when credit was last topped up
	batch     bool          // the instance takes frames with nic_transmit_batch
	txRecs    []byte        // records of the batch being offered
	txBatch   []txFrame     // its frames
	txWarned  bool          // the missing transmit buffer was logged
	txBusy    bool
	backoff   time.Duration
	restartAt time.Time
	startedAt time.Time

	// The warm handover (reload.go).
	probing    bool        // faults of the instance are only recorded (a candidate, a reload's start, a suspend)
	probeErr   error       // the fault recorded while probing
	hold       bool        // the links are held for the next instance
	holdUntil  time.Time   // when the hold runs out
	resumeNext *abi.Resume // what the next start after a fault offers; nil: a cold start

	obs observer // statistics (observe.go)
}

// New makes the supervisor of plugin name running module m. Call Start,
// then Go.
func New(name string, limits config.Limits, log *slog.Logger, epoch time.Time, h Hooks, m Module) *Supervisor {
	s := &Supervisor{
		name: name, limits: limits, log: log, epoch: epoch, hooks: h, mod: m,
		reqs:   make(chan func()),
		ctrl:   make(chan func()),
		wakeCh: make(chan struct{}, 1),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	s.state.Store(&State{})
	s.desc.Store(&abi.Description{})
	return s
}

// Start starts the first instance on the caller's goroutine, before Go.
// On failure the instance is discarded and the module released.
func (s *Supervisor) Start() error {
	if _, err := s.startInstance(true, nil, nil); err != nil {
		s.discard()
		s.release()
		return err
	}
	return nil
}

// Description is what the running module declared about itself (a reload
// may change it).
func (s *Supervisor) Description() abi.Description { return *s.desc.Load() }

// State reports the plugin's health.
func (s *Supervisor) State() State { return *s.state.Load() }

// Stats returns the counters.
func (s *Supervisor) Stats() Stats {
	return Stats{
		Calls: s.calls.Load(), Polls: s.polls.Load(), Faults: s.faults.Load(),
		Busy: time.Duration(s.busyNs.Load()), Throttled: s.throttled.Load(),
		Throttling: s.throttling(),
	}
}

func (s *Supervisor) setState(f func(*State)) {
	st := *s.state.Load()
	f(&st)
	s.state.Store(&st)
}

// Notify records an event and wakes the plugin goroutine.
func (s *Supervisor) Notify(ev abi.Event) {
	s.pending.Or(uint32(ev))
	select {
	case s.wakeCh <- struct{}{}:
	default:
	}
}

// WakeAt records the driver's next wake-up (plugin goroutine).
func (s *Supervisor) WakeAt(ns int64) { s.wakeAt = ns }

// Do runs fn on the plugin goroutine once an instance is up, waiting at most
// until ctx is done: a ctx done before fn starts fails the call; once fn has
// started it runs to its end (each call into the instance is bounded by the
// call deadline), so that a caller is never told a call failed that took
// effect. op names the operation in errors.
func (s *Supervisor) Do(ctx context.Context, op string, fn func() (any, error)) (any, error) {
	return s.send(ctx, s.reqs, op, fn)
}

// DoAlways runs fn on the plugin goroutine even while no instance is up.
func (s *Supervisor) DoAlways(ctx context.Context, op string, fn func() (any, error)) (any, error) {
	return s.send(ctx, s.ctrl, op, fn)
}

func (s *Supervisor) send(ctx context.Context, ch chan func(), op string, fn func() (any, error)) (any, error) {
	type result struct {
		v   any
		err error
	}
	res := make(chan result, 1)
	req := func() {
		v, err := fn()
		res <- result{v, err}
	}
	// A ctx already done never starts the call: select alone would pick
	// at random between it and a ready plugin goroutine.
	if err := ctx.Err(); err != nil {
		return nil, s.hooks.Wrap(op, err)
	}
	select {
	case ch <- req:
	case <-s.done:
		return nil, s.hooks.Wrap(op, ErrClosed)
	case <-ctx.Done():
		err := ctx.Err()
		if st := s.State(); !st.Up && st.LastFault != nil {
			err = fmt.Errorf("waiting for the plugin to restart after a fault (%v): %w", st.LastFault, err)
		}
		return nil, s.hooks.Wrap(op, err)
	}
	r := <-res
	if r.err != nil {
		r.err = s.hooks.Wrap(op, r.err)
	}
	return r.v, r.err
}

// Go starts the plugin goroutine; it runs until Close. After Close it does
// nothing.
func (s *Supervisor) Go() {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.running || s.closed {
		return
	}
	s.running = true
	go s.run()
}

func (s *Supervisor) run() {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.hooks.FlushRx() // what the calls of the last round received
		var reqs chan func()
		var due time.Time
		wake := s.wakeCh
		if s.inst != nil {
			reqs = s.reqs
			if s.wakeAt >= 0 {
				due = s.timerDue()
			}
			if s.throttling() {
				// Over its CPU share: events and frames wait until its
				// credit is back; callers' control calls are still served.
				// Wake at the end whatever else is due: the next pass sees
				// what events and timers wait.
				wake = nil
				due = s.epoch.Add(time.Duration(s.throttleEnd.Load()))
			}
		} else {
			due = s.restartAt
		}
		if s.hold && (due.IsZero() || s.holdUntil.Before(due)) {
			due = s.holdUntil
		}
		var tc <-chan time.Time
		if !due.IsZero() {
			timer.Reset(max(time.Until(due), 0))
			tc = timer.C
		}
		select {
		case <-s.quit:
			s.discard()
			return
		case fn := <-reqs:
			fn()
		case fn := <-s.ctrl:
			fn()
		case <-wake:
			s.pollFor(abi.Event(s.pending.Swap(0)))
		case <-tc:
			s.holding() // ends a hold that ran out
			if s.inst == nil {
				if !s.restartAt.IsZero() && !time.Now().Before(s.restartAt) {
					s.restart()
				}
				break
			}
			// The wake-up that was due, or the end of a throttled window
			// with events waiting.
			ev := abi.Event(s.pending.Swap(0))
			if s.wakeAt >= 0 && !time.Now().Before(s.timerDue()) {
				s.wakeAt = -1
				s.lastTimer = time.Now()
				ev |= abi.EventTimer
			}
			s.pollFor(ev)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		// Received frames first: the core's answers to them (a TCP
		// handshake's ACK) then go out in this round's flushTx.
		s.hooks.FlushRx()
		s.flushTx()
	}
}

// pollFor polls for events ev, if they call for a poll: a wake-up for
// frames to send needs none unless the driver said it was busy (flushTx
// offers them).
func (s *Supervisor) pollFor(ev abi.Event) {
	if s.inst != nil && (ev&^abi.EventTx != 0 || (ev != 0 && s.txBusy)) {
		s.poll(ev)
	}
}

// timerDue is when the requested timer poll may run: at the time the
// driver asked for, but not sooner than MinPollInterval after the last
// timer poll, so that a driver re-arming wake_at(now) in every poll cannot
// hold a core.
func (s *Supervisor) timerDue() time.Time {
	due := s.epoch.Add(time.Duration(s.wakeAt))
	if floor := s.lastTimer.Add(s.limits.MinPollInterval); due.Before(floor) {
		return floor
	}
	return due
}

// cpuWindow is the span over which a plugin's CPU share is measured: its
// credit holds at most cpu_share of it, so a plugin idle for a while may
// use that much at once.
const cpuWindow = time.Second

// account charges a call of export that started at t0 to its latency
// histogram (observe.go), the plugin's busy time and
// its CPU credit, which refills at cpu_share seconds a second up to
// cpu_share × cpuWindow. A plugin whose credit runs out is throttled until
// it is back to zero: a call of 2 s at a share of 0.5, from a full credit
// of 0.5 s, waits 3 s, so that long calls are held to the share as short
// ones are.
func (s *Supervisor) account(export string, t0 time.Time) {
	now := time.Now()
	d := now.Sub(t0)
	s.busyNs.Add(uint64(d))
	s.observe(export, d)
	share := s.limits.CPUShare
	if share <= 0 {
		return
	}
	full := time.Duration(share * float64(cpuWindow))
	if s.refilled.IsZero() {
		s.credit = full
	} else {
		s.credit = min(full, s.credit+time.Duration(share*float64(t0.Sub(s.refilled))))
	}
	s.refilled = t0
	s.credit -= d
	if s.credit >= 0 || s.throttling() {
		return
	}
	wait := time.Duration(float64(-s.credit) / share)
	s.throttleEnd.Store(int64(now.Add(wait).Sub(s.epoch)))
	n := s.throttled.Add(1)
	if n == 1 || n%60 == 0 {
		s.log.Warn("plugin used its CPU share; its polls and transmits wait", "share", share, "wait", wait.Round(time.Millisecond), "times", n)
	}
}

// throttling reports whether the plugin is over its CPU share now.
func (s *Supervisor) throttling() bool {
	return int64(time.Since(s.epoch)) < s.throttleEnd.Load()
}

// Close stops the goroutine (if Go started it) and the instance, and
// releases the module. The caller releases grants and NICs afterwards.
func (s *Supervisor) Close() {
	s.lifeMu.Lock()
	if s.closed {
		s.lifeMu.Unlock()
		<-s.done
		return
	}
	s.closed = true
	running := s.running
	s.lifeMu.Unlock()
	close(s.quit)
	if running {
		<-s.done
	} else {
		s.discard()
		close(s.done)
	}
	s.release()
}

func (s *Supervisor) release() {
	if s.mod.Release != nil {
		s.mod.Release()
		s.mod.Release = nil
	}
}
