package sim

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// Pin is a simulated GPIO line between a driver and a device simulator.
//
// The driver side is gpio.PinIO. The device side drives the input level with
// SetLevel and watches the level the driver outputs through OnOut.
//
// Edges: while the pin is an input configured with an edge mode, every
// SetLevel that changes the level in a matching direction queues one edge;
// each WaitForEdge consumes one queued edge, so no edge is lost between two
// waits. In and Out discard queued edges, as periph specifies.
//
// Halt: Halt makes a pending WaitForEdge return false and puts the pin in a
// halted state in which WaitForEdge returns false at once; In re-arms it.
//
// A Pin is safe for concurrent use.
type Pin struct {
	name   string
	number int

	mu      sync.Mutex
	dir     pinDir
	pull    gpio.Pull
	edge    gpio.Edge
	in      gpio.Level // level driven by the device
	driven  bool       // the device has called SetLevel
	out     gpio.Level // level driven by the driver
	pending int        // queued edges
	edges   uint64     // edges queued since creation
	halted  bool
	gen     uint64        // bumped by In, Out and Halt
	wake    chan struct{} // closed and replaced on every state change
	onOut   func(gpio.Level)
}

type pinDir uint8

const (
	dirNone pinDir = iota
	dirIn
	dirOut
)

var _ gpio.PinIO = (*Pin)(nil)

// NewPin returns an unconfigured pin. number is what Number returns.
func NewPin(name string, number int) *Pin {
	return &Pin{name: name, number: number, wake: make(chan struct{})}
}

// SetLevel is the device side: it drives the line to l. If the level changes
// while the pin is an input whose edge mode matches, one edge is queued and
// a waiting WaitForEdge returns true.
func (p *Pin) SetLevel(l gpio.Level) {
	p.mu.Lock()
	defer p.mu.Unlock()
	prev := p.inputLevel()
	p.in, p.driven = l, true
	if p.dir != dirIn || prev == l {
		return
	}
	if (l == gpio.High && p.edge&gpio.RisingEdge != 0) || (l == gpio.Low && p.edge&gpio.FallingEdge != 0) {
		p.pending++
		p.edges++
		p.signal()
	}
}

// OnOut is the device side: fn is called with the level on every Out call,
// from the driver's goroutine after the pin has changed. fn may call
// SetLevel. nil unregisters.
func (p *Pin) OnOut(fn func(gpio.Level)) {
	p.mu.Lock()
	p.onOut = fn
	p.mu.Unlock()
}

// Output returns the level the driver drives and whether the pin is an
// output at all.
func (p *Pin) Output() (l gpio.Level, isOut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out, p.dir == dirOut
}

// Edges returns how many edges were queued since the pin was created.
func (p *Pin) Edges() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.edges
}

// String implements pin.Pin.
func (p *Pin) String() string {
	return p.name + "(" + strconv.Itoa(p.number) + ")"
}

// Name implements pin.Pin.
func (p *Pin) Name() string { return p.name }

// Number implements pin.Pin.
func (p *Pin) Number() int { return p.number }

// Function implements pin.Pin.
func (p *Pin) Function() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.dir {
	case dirIn:
		return string(gpio.IN)
	case dirOut:
		return string(gpio.OUT)
	}
	return ""
}

// Halt implements conn.Resource: it unblocks a pending WaitForEdge, which
// returns false, and keeps WaitForEdge returning false until the next In.
func (p *Pin) Halt() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.halted = true
	p.gen++
	p.signal()
	return nil
}

// In implements gpio.PinIn. It discards queued edges, leaves the halted
// state and makes a pending WaitForEdge return false.
func (p *Pin) In(pull gpio.Pull, edge gpio.Edge) error {
	if edge < gpio.NoEdge || edge > gpio.BothEdges {
		return errors.New("bus: gpio: invalid edge " + edge.String())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dir = dirIn
	if pull != gpio.PullNoChange {
		p.pull = pull
	}
	p.edge = edge
	p.pending = 0
	p.halted = false
	p.gen++
	p.signal()
	return nil
}

// Read implements gpio.PinIn: the level the device drives (or the pull when
// it drives none) for an input, the driven level for an output.
func (p *Pin) Read() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dir == dirOut {
		return p.out
	}
	return p.inputLevel()
}

// WaitForEdge implements gpio.PinIn. A negative timeout waits without limit,
// 0 only consumes an already queued edge.
func (p *Pin) WaitForEdge(timeout time.Duration) bool {
	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	p.mu.Lock()
	gen := p.gen
	for {
		if p.gen != gen {
			// In, Out or Halt was called while waiting.
			p.mu.Unlock()
			return false
		}
		if p.halted || p.dir != dirIn || p.edge == gpio.NoEdge {
			p.mu.Unlock()
			return false
		}
		if p.pending > 0 {
			p.pending--
			p.mu.Unlock()
			return true
		}
		if timeout == 0 {
			p.mu.Unlock()
			return false
		}
		wake := p.wake
		p.mu.Unlock()
		select {
		case <-wake:
		case <-timer:
			return false
		}
		p.mu.Lock()
	}
}

// Pull implements gpio.PinIn.
func (p *Pin) Pull() gpio.Pull {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pull
}

// DefaultPull implements gpio.PinIn: gpio.Float.
func (p *Pin) DefaultPull() gpio.Pull { return gpio.Float }

// Out implements gpio.PinOut. It discards queued edges, makes a pending
// WaitForEdge return false, then calls the OnOut callback.
func (p *Pin) Out(l gpio.Level) error {
	p.mu.Lock()
	p.dir = dirOut
	p.out = l
	p.pending = 0
	p.gen++
	p.signal()
	fn := p.onOut
	p.mu.Unlock()
	if fn != nil {
		fn(l)
	}
	return nil
}

// PWM implements gpio.PinOut; a Pin has no PWM.
func (p *Pin) PWM(gpio.Duty, physic.Frequency) error {
	return errors.New("bus: gpio: " + p.name + ": PWM not supported")
}

// inputLevel is the level an input sees; p.mu must be held.
func (p *Pin) inputLevel() gpio.Level {
	if p.driven {
		return p.in
	}
	return p.pull == gpio.PullUp
}

// signal wakes every WaitForEdge; p.mu must be held.
func (p *Pin) signal() {
	close(p.wake)
	p.wake = make(chan struct{})
}
