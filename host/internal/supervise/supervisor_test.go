package supervise

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/internal/engine"
	"github.com/nichost/nichost/host/internal/hostcall"
)

// Close and Go may come from two goroutines in either order (a host closing
// while a load finishes): neither panics, and Go after Close starts nothing.
func TestSupervisor_CloseBeforeGo(t *testing.T) {
	released := 0
	s := New("p", config.DefaultLimits, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now(), wrapOnly{},
		Module{Release: func() { released++ }})
	s.Close()
	s.Go()
	s.Close()
	select {
	case <-s.done:
	default:
		t.Fatal("Close returned with the plugin goroutine's done channel open")
	}
	if released != 1 {
		t.Fatalf("module released %d times, want once", released)
	}
	if _, err := s.DoAlways(t.Context(), "op", func() (any, error) { return nil, nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("a call on a closed supervisor: %v, want ErrClosed", err)
	}
}

// wrapOnly is Hooks for a supervisor that never starts an instance: only
// Wrap is called.
type wrapOnly struct{ Hooks }

func (wrapOnly) Wrap(op string, err error) error { return fmt.Errorf("%s: %w", op, err) }

func (wrapOnly) Lifecycle(string, int, error) {}

// batchInst is an instance whose nic_transmit_batch answers from a script,
// recording the frames it was offered.
type batchInst struct {
	engine.Instance // nil: only the batch calls are made
	sess            *hostcall.Session
	script          []int32 // answers, in order; then all taken
	offered         [][][]byte
	single          []int // lengths of the frames offered to nic_transmit
}

func (b *batchInst) CanBatch() bool              { return true }
func (b *batchInst) Close(context.Context) error { return nil }

func (b *batchInst) TransmitBatch(_ context.Context, _, count int32, recs []byte) (int32, error) {
	var frames [][]byte
	n, err := abi.ForEachFrame(recs, abi.MaxTxBatch, func(f []byte) { frames = append(frames, append([]byte(nil), f...)) })
	if err != nil || n != int(count) {
		return 0, fmt.Errorf("the host wrote a bad batch: %d records for %d, %v", n, count, err)
	}
	b.offered = append(b.offered, frames)
	rc := count
	if len(b.script) > 0 {
		rc, b.script = b.script[0], b.script[1:]
	}
	if rc == abi.StatusError {
		b.sess.Raise(int32(abi.KindOSError), abi.EAGAIN, []byte("link down"))
	}
	return rc, nil
}

// sentHooks records what became of each frame.
type sentHooks struct {
	wrapOnly
	hostcall.Owner
	outcomes []TxOutcome
	faults   int
}

func (h *sentHooks) Sent(_ int, _ []byte, o TxOutcome, _ error) { h.outcomes = append(h.outcomes, o) }
func (h *sentHooks) Down()                                      { h.faults++ }
func (h *sentHooks) Wrap(op string, err error) error            { return fmt.Errorf("%s: %w", op, err) }

func TestSupervisor_TransmitBatch(t *testing.T) {
	frames := func(n int) [][]byte {
		var fs [][]byte
		for i := range n {
			fs = append(fs, []byte{byte(i), 0xee})
		}
		return fs
	}
	for _, tt := range []struct {
		name     string
		script   []int32
		offers   []int // frames in each batch offered
		outcomes []TxOutcome
		busy     bool
		fault    bool
	}{
		{"all taken", nil, []int{5}, []TxOutcome{TxSent, TxSent, TxSent, TxSent, TxSent}, false, false},
		{"busy at once", []int32{0}, []int{5}, nil, true, false},
		{"two taken, then busy", []int32{2, 0}, []int{5, 3}, []TxOutcome{TxSent, TxSent}, true, false},
		{"first refused, rest taken", []int32{-1}, []int{5, 4}, []TxOutcome{TxRefused, TxSent, TxSent, TxSent, TxSent}, false, false},
		{"more than offered", []int32{6}, []int{5}, nil, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := &sentHooks{}
			s := New("p", config.DefaultLimits, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now(), h, Module{})
			s.sess = hostcall.New(h, time.Now())
			s.sess.TxBuffer(make([]byte, 4096))
			inst := &batchInst{sess: s.sess, script: tt.script}
			s.inst, s.batch = inst, true
			for _, f := range frames(5) {
				if err := s.Enqueue(0, f); err != nil {
					t.Fatal(err)
				}
			}
			s.flushTx()
			var offers []int
			for _, o := range inst.offered {
				offers = append(offers, len(o))
			}
			if fmt.Sprint(offers) != fmt.Sprint(tt.offers) {
				t.Errorf("batches offered %v, want %v", offers, tt.offers)
			}
			if fmt.Sprint(h.outcomes) != fmt.Sprint(tt.outcomes) {
				t.Errorf("outcomes %v, want %v", h.outcomes, tt.outcomes)
			}
			if s.txBusy != tt.busy {
				t.Errorf("busy = %v, want %v", s.txBusy, tt.busy)
			}
			if (s.inst == nil) != tt.fault {
				t.Errorf("instance discarded = %v, want %v", s.inst == nil, tt.fault)
			}
			if want := 5 - len(tt.outcomes); !tt.fault && len(s.txq) != want {
				t.Errorf("%d frames still queued, want %d", len(s.txq), want)
			}
		})
	}
}

func (b *batchInst) Transmit(_ context.Context, _ int32, frame []byte) (int32, error) {
	b.single = append(b.single, len(frame))
	return abi.StatusOK, nil
}

// A frame too big for a record goes through nic_transmit if it fits the
// buffer, and is dropped alone (not with the frames behind it) if not.
func TestSupervisor_TransmitBatchOddSizes(t *testing.T) {
	h := &sentHooks{}
	s := New("p", config.DefaultLimits, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now(), h, Module{})
	s.sess = hostcall.New(h, time.Now())
	s.sess.TxBuffer(make([]byte, 1515)) // a 1514-byte frame fits, its record does not
	inst := &batchInst{sess: s.sess}
	s.inst, s.batch = inst, true
	for _, n := range []int{1514, 60, 1600, 60} {
		if err := s.Enqueue(0, make([]byte, n)); err != nil {
			t.Fatal(err)
		}
	}
	s.flushTx()
	if fmt.Sprint(inst.single) != "[1514]" {
		t.Errorf("frames through nic_transmit: %v, want [1514]", inst.single)
	}
	if fmt.Sprint(h.outcomes) != fmt.Sprint([]TxOutcome{TxSent, TxSent, TxTooLong, TxSent}) {
		t.Errorf("outcomes %v", h.outcomes)
	}
}

// A long call costs its time at the plugin's share: a 2 s call at 0.5 of
// a core, with a full credit of 0.5 s, waits 3 s.
func TestSupervisor_CPUShareHoldsLongCalls(t *testing.T) {
	limits := config.DefaultLimits
	limits.CPUShare = 0.5
	s := New("p", limits, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now(), wrapOnly{}, Module{})
	s.account("nic_poll", time.Now().Add(-2*time.Second))
	if !s.throttling() || s.throttled.Load() != 1 {
		t.Fatalf("throttling %v, throttled %d after a 2 s call", s.throttling(), s.throttled.Load())
	}
	wait := time.Duration(s.throttleEnd.Load()) - time.Since(s.epoch)
	if wait < 2500*time.Millisecond || wait > 3*time.Second {
		t.Fatalf("throttled for %v, want about 3 s", wait)
	}
}
