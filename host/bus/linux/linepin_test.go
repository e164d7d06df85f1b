package linux

import (
	"errors"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/internal/wait"
)

// testLine is a linePin over periph's fake pin, counting the releases of
// the line.
func testLine(t *testing.T) (*linePin, *gpiotest.Pin, *int) {
	t.Helper()
	pin := &gpiotest.Pin{N: "GPIO25", Num: 25, EdgesChan: make(chan gpio.Level, 16)}
	released := new(int)
	p := newLinePin(pin, func() { *released++ })
	t.Cleanup(func() { _ = p.Close() })
	return p, pin, released
}

// waitAsync runs WaitForEdge(timeout) and returns its result's channel.
func waitAsync(p *linePin, timeout time.Duration) <-chan bool {
	got := make(chan bool, 1)
	go func() { got <- p.WaitForEdge(timeout) }()
	return got
}

func result(t *testing.T, got <-chan bool, what string) bool {
	t.Helper()
	select {
	case ok := <-got:
		return ok
	case <-time.After(wait.Limit):
		t.Fatalf("WaitForEdge did not return: %s", what)
		return false
	}
}

// An interrupt line: the edges the chip raises reach a waiter that waits
// without limit, however long they take, and the level reads back.
func TestLinePin_Edges(t *testing.T) {
	p, pin, _ := testLine(t)
	if err := p.In(gpio.PullUp, gpio.FallingEdge); err != nil {
		t.Fatal(err)
	}
	if p.Read() != gpio.High {
		t.Fatal("a pulled-up input does not read High")
	}
	got := waitAsync(p, -1)
	pin.EdgesChan <- gpio.Low // the W5500 asserts INTn
	if !result(t, got, "an edge arrived") {
		t.Fatal("WaitForEdge(-1) = false after an edge")
	}
	if p.Read() != gpio.Low {
		t.Fatal("the line does not read Low after the falling edge")
	}
	// Edges queued while nobody waits are not lost to the next wait.
	pin.EdgesChan <- gpio.High
	if !p.WaitForEdge(time.Millisecond) {
		t.Fatal("a queued edge was missed by a short wait")
	}
	// With no edge detection configured, there is nothing to wait for.
	if err := p.In(gpio.PullNoChange, gpio.NoEdge); err != nil {
		t.Fatal(err)
	}
	if p.WaitForEdge(-1) {
		t.Fatal("WaitForEdge without edge detection returned true")
	}
}

// Halt stops a waiter that waits without limit (the host's stop sequence
// for a pin watcher: Halt, then wait for it), and keeps stopping waits
// until the next In.
func TestLinePin_Halt(t *testing.T) {
	p, pin, _ := testLine(t)
	if err := p.In(gpio.PullNoChange, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	got := waitAsync(p, -1)
	if err := p.Halt(); err != nil {
		t.Fatal(err)
	}
	if result(t, got, "Halt was called") {
		t.Fatal("a halted wait returned true")
	}
	// Sticky: a wait that starts after the Halt does not block.
	if result(t, waitAsync(p, -1), "after a Halt") {
		t.Fatal("a wait after Halt returned true")
	}
	// In re-arms the line.
	if err := p.In(gpio.PullNoChange, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	got = waitAsync(p, -1)
	pin.EdgesChan <- gpio.High
	if !result(t, got, "an edge after In") {
		t.Fatal("no edge after In re-armed the line")
	}
}

func TestLinePin_Out(t *testing.T) {
	p, pin, _ := testLine(t)
	for _, l := range []gpio.Level{gpio.Low, gpio.High} {
		if err := p.Out(l); err != nil {
			t.Fatal(err)
		}
		pin.Lock()
		drove := pin.L
		pin.Unlock()
		if drove != l || p.Read() != l {
			t.Fatalf("Out(%s): the line is %s, reads %s", l, drove, p.Read())
		}
	}
}

// After Close the line is the kernel's again: nothing reaches it, and a
// waiter is let go.
func TestLinePin_Close(t *testing.T) {
	p, pin, released := testLine(t)
	if err := p.In(gpio.PullNoChange, gpio.RisingEdge); err != nil {
		t.Fatal(err)
	}
	if err := p.Out(gpio.High); err != nil {
		t.Fatal(err)
	}
	got := waitAsync(p, -1)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if result(t, got, "the line was closed") {
		t.Fatal("a wait on a closed line returned true")
	}
	if err := p.Close(); err != nil || *released != 1 {
		t.Fatalf("second Close = %v, line released %d times; want nil and once", err, *released)
	}
	if err := p.Out(gpio.Low); !errors.Is(err, bus.ErrClosed) {
		t.Fatalf("Out after Close: %v, want bus.ErrClosed", err)
	}
	if err := p.In(gpio.PullUp, gpio.RisingEdge); !errors.Is(err, bus.ErrClosed) {
		t.Fatalf("In after Close: %v, want bus.ErrClosed", err)
	}
	pin.Lock()
	level := pin.L
	pin.Unlock()
	if level != gpio.High {
		t.Fatal("Out after Close reached the line")
	}
	if p.Read() != gpio.Low || p.WaitForEdge(-1) {
		t.Fatal("a closed line reads High or waits")
	}
}
