package engine

import (
	"context"
	"crypto/rand"
	"errors"
	"sync/atomic"
	"time"

	"github.com/nichost/nichost/internal/ratelimit"
)

// WASI as a plugin sees it, on either engine: no files (only stdin, which
// is empty, and stdout/stderr), no sockets, no args or environment, clocks
// that read the host's, poll_oneoff and sched_yield that return at once
// (wazero's default nanosleep and osyield do nothing; the wasmtime engine's
// own WASI, wasmtime_wasi.go, answers as wazero's does). What remains that
// could keep the host busy or make it hold memory is bounded here:
//
//   - stdout and stderr together take at most maxOutputPerCall bytes per
//     call into the instance, and nothing once the call's deadline has
//     passed; each write counts at least one byte, so a flood of empty
//     writes ends too. Beyond that a write fails (the guest sees EIO) and
//     fd_write stops at once, so the guest's code runs again and the
//     deadline interrupt lands.
//   - random_get gives at most maxRandomPerCall bytes per call, then EIO.
//   - fd_read, fd_write, fd_pread and fd_pwrite take at most iovMax iovecs
//     (POSIX's IOV_MAX; more is EINVAL, as writev(2) answers): fd_write
//     walks every iovec, and a skipped empty one costs no write.
//   - poll_oneoff takes at most maxSubscriptions subscriptions (more is
//     EINVAL): wazero allocates per subscription.
//
// Lines the guest writes are logged through a rate limit (Output.Allow);
// all of them pass through the tail that explains a fault.

// Output is where an instance's stdout and stderr lines go.
type Output struct {
	// Log is called with each line (cut to 1 KiB) that Allow lets through.
	Log func(line string)
	// Allow is the rate limit on logged lines; the host passes the one its
	// log import uses. Nil: a limit of the module's own, burst 50 lines,
	// 20 lines a second (the host's log limit).
	Allow func() bool
	// Dropped counts the lines Allow refused. Nil: the module counts them
	// (Module.DroppedLines).
	Dropped *atomic.Uint64
}

const (
	maxOutputPerCall = 64 << 10 // bytes of stdout+stderr per call
	maxRandomPerCall = 64 << 10 // bytes of random_get per call
	iovMax           = 1024     // iovecs per fd_read/fd_write/fd_pread/fd_pwrite
	maxSubscriptions = 1024     // subscriptions per poll_oneoff

	outputBurst = ratelimit.Burst // lines; the host's log limit
	outputRate  = ratelimit.Rate  // lines a second
)

// WASI errno values (wasi_snapshot_preview1's errno enum).
const (
	wasiEINVAL = 28
	wasiEIO    = 29
)

// errOutputFull and errNoRandom fail a write or read beyond the call's
// budget; the guest sees EIO.
var (
	errOutputFull = errors.New("engine: the plugin's output for this call is used up (64 KiB, or the deadline passed)")
	errNoRandom   = errors.New("engine: the plugin's random bytes for this call are used up (64 KiB, or the deadline passed)")
)

// callBudget is what the running call may still take from WASI. The engine
// resets it at the start of every call into the instance (begin); the
// writers and the random source run inside that call, on its goroutine.
type callBudget struct {
	ctx  context.Context
	out  int
	rand int
}

func (b *callBudget) begin(ctx context.Context) {
	b.ctx, b.out, b.rand = ctx, maxOutputPerCall, maxRandomPerCall
}

func (b *callBudget) expired() bool { return b.ctx != nil && b.ctx.Err() != nil }

// outputSink is the guest's stdout and stderr: the call's byte budget in
// front of the tail.
type outputSink struct {
	b *callBudget
	t *tail
}

func (s outputSink) Write(p []byte) (int, error) {
	if s.b.out <= 0 || s.b.expired() {
		s.b.out = 0
		return 0, errOutputFull
	}
	n := min(len(p), s.b.out)
	s.b.out -= max(n, 1) // an empty write costs too: a list of them ends
	s.t.Write(p[:n])
	if n < len(p) {
		return n, errOutputFull
	}
	return n, nil
}

// randSource is the guest's random_get.
type randSource struct{ b *callBudget }

func (r randSource) Read(p []byte) (int, error) {
	if r.b.rand <= 0 || r.b.expired() {
		r.b.rand = 0
		return 0, errNoRandom
	}
	n := min(len(p), r.b.rand)
	r.b.rand -= max(n, 1)
	rand.Read(p[:n]) // never fails
	return n, nil
}

// lineLimit is a module's own limit on its instances' logged lines, for
// instances whose Output has none.
type lineLimit struct {
	outLimit ratelimit.Lines
	dropped  atomic.Uint64
}

// logFunc applies out's rate limit to its Log; l keeps the limit and the
// count when out has none.
func (l *lineLimit) logFunc(out Output) func(string) {
	allow, dropped := out.Allow, out.Dropped
	if allow == nil {
		allow = func() bool { return l.outLimit.Allow(time.Now()) }
	}
	if dropped == nil {
		dropped = &l.dropped
	}
	log := out.Log
	return func(line string) {
		if !allow() {
			dropped.Add(1)
			return
		}
		if log != nil {
			log(line)
		}
	}
}

// DroppedLines implements Module.
func (l *lineLimit) DroppedLines() uint64 { return l.dropped.Load() }
