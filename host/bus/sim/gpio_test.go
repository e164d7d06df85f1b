package sim

import (
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
)

func TestPin_WaitForEdge(t *testing.T) {
	H, L := gpio.High, gpio.Low
	tests := []struct {
		name   string
		edge   gpio.Edge
		levels []gpio.Level // driven by the device, starting from Low
		want   int          // edges WaitForEdge reports afterwards
	}{
		{"rising counts low-to-high", gpio.RisingEdge, []gpio.Level{H, L, H, L, H}, 3},
		{"falling counts high-to-low", gpio.FallingEdge, []gpio.Level{H, L, H, L, H}, 2},
		{"both counts every change", gpio.BothEdges, []gpio.Level{H, L, H, L, H}, 5},
		{"same level twice is no edge", gpio.BothEdges, []gpio.Level{H, H, H}, 1},
		{"no edge mode reports nothing", gpio.NoEdge, []gpio.Level{H, L}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPin("INT", 4)
			p.SetLevel(L)
			if err := p.In(gpio.PullUp, tt.edge); err != nil {
				t.Fatal(err)
			}
			for _, l := range tt.levels {
				p.SetLevel(l)
			}
			got := 0
			for p.WaitForEdge(0) {
				got++
			}
			if got != tt.want {
				t.Errorf("edges = %d, want %d", got, tt.want)
			}
			if p.Read() != tt.levels[len(tt.levels)-1] {
				t.Errorf("Read() = %v, want %v", p.Read(), tt.levels[len(tt.levels)-1])
			}
		})
	}
}

func TestPin_WaitForEdge_noEdgeLostAcrossGoroutines(t *testing.T) {
	p := NewPin("INT", 0)
	if err := p.In(gpio.Float, gpio.RisingEdge); err != nil {
		t.Fatal(err)
	}
	const pulses = 1000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range pulses {
			p.SetLevel(gpio.High)
			p.SetLevel(gpio.Low)
		}
	}()
	got := 0
	for got < pulses && p.WaitForEdge(time.Second) {
		got++
	}
	wg.Wait()
	if got != pulses || p.WaitForEdge(0) {
		t.Fatalf("saw %d edges, want exactly %d", got, pulses)
	}
	if p.Edges() != pulses {
		t.Fatalf("Edges() = %d, want %d", p.Edges(), pulses)
	}
}

func TestPin_Halt(t *testing.T) {
	p := NewPin("INT", 0)
	if err := p.In(gpio.Float, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	go func() { done <- p.WaitForEdge(-1) }()
	time.Sleep(10 * time.Millisecond) // let it block
	if err := p.Halt(); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-done:
		if got {
			t.Fatal("WaitForEdge returned true after Halt")
		}
	case <-time.After(time.Second):
		t.Fatal("Halt did not unblock WaitForEdge(-1)")
	}
	// Halted: later waits return false at once, even with edges coming in.
	p.SetLevel(gpio.High)
	if p.WaitForEdge(-1) {
		t.Fatal("WaitForEdge returned true on a halted pin")
	}
	// In re-arms the pin.
	if err := p.In(gpio.Float, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	p.SetLevel(gpio.Low)
	if !p.WaitForEdge(time.Second) {
		t.Fatal("no edge after In re-armed the pin")
	}
}

func TestPin_WaitForEdge_timeout(t *testing.T) {
	p := NewPin("INT", 0)
	if err := p.In(gpio.Float, gpio.RisingEdge); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if p.WaitForEdge(20 * time.Millisecond) {
		t.Fatal("edge reported with none driven")
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("returned after %v, before the timeout", d)
	}
}

func TestPin_Out(t *testing.T) {
	p := NewPin("RST", 1)
	var seen []gpio.Level
	p.OnOut(func(l gpio.Level) {
		seen = append(seen, l)
		p.SetLevel(l) // a device may react from the callback
	})
	for _, l := range []gpio.Level{gpio.Low, gpio.High, gpio.High} {
		if err := p.Out(l); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 3 || seen[0] != gpio.Low || seen[2] != gpio.High {
		t.Fatalf("OnOut saw %v, want [Low High High]", seen)
	}
	if l, isOut := p.Output(); !isOut || l != gpio.High {
		t.Fatalf("Output() = %v, %t; want High, true", l, isOut)
	}
	if p.Read() != gpio.High {
		t.Fatal("Read() of an output does not return its level")
	}
	if p.WaitForEdge(0) {
		t.Fatal("an output pin reported an edge")
	}
}

func TestPin_Read_pull(t *testing.T) {
	tests := []struct {
		pull gpio.Pull
		want gpio.Level
	}{
		{gpio.PullUp, gpio.High},
		{gpio.PullDown, gpio.Low},
		{gpio.Float, gpio.Low},
	}
	for _, tt := range tests {
		t.Run(tt.pull.String(), func(t *testing.T) {
			p := NewPin("IN", 0)
			if err := p.In(tt.pull, gpio.NoEdge); err != nil {
				t.Fatal(err)
			}
			if got := p.Read(); got != tt.want {
				t.Errorf("Read() = %v, want %v", got, tt.want)
			}
		})
	}
}
