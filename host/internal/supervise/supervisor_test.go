package supervise

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nichost/nichost/host/config"
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
