package driver_test

import (
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest/guesttest"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/plugins/lan/driver"
	"github.com/nichost/nichost/plugins/lan/landev"
	"github.com/nichost/nichost/plugins/lan/phy"
)

// phyRig is a simulated LAN8720A on an MDIO bus and a port on a segment,
// on the fake host's clock.
type phyRig struct {
	clock *guesttest.Clock
	mdio  *sim.MDIO
	port  *sim.FramePort
}

func newPHYRig(t *testing.T) *phyRig {
	r := &phyRig{clock: new(guesttest.Clock), mdio: sim.NewMDIO()}
	p := phy.New(phy.Options{Addr: 1, ResetTime: time.Millisecond, AutoNegTime: 300 * time.Millisecond, Now: r.clock.Time})
	w := landev.Watch(p)
	p.Attach(r.mdio, w)
	t.Cleanup(func() {
		for _, err := range w.Errors() {
			t.Errorf("PHY: %v", err)
		}
	})
	r.port = sim.NewSegment(sim.SegmentOptions{Seed: 1}).Attach("mac")
	return r
}

func (r *phyRig) start(t *testing.T, resume *abi.Resume) *guesttest.Host {
	return guesttest.New(t, driver.New(), guesttest.Options{
		Buses: map[string]any{"port": r.port, "mdio": r.mdio}, Clock: r.clock, Resume: resume,
	})
}

// up activates h's driver and polls until it reports the link, or fails
// after limit polls.
func up(t *testing.T, h *guesttest.Host, limit int) {
	t.Helper()
	if _, err := h.Call("active", true); err != nil {
		t.Fatal(err)
	}
	for i := 0; !h.Link(0).Up; i++ {
		if i == limit {
			t.Fatalf("no link after %d polls", limit)
		}
		if err := h.Next(); err != nil {
			t.Fatal(err)
		}
	}
}

// The next instance takes the PHY over without a reset: it reports no
// change of the link, neither at once nor at its link watches.
func TestResume_TakesThePHYOver(t *testing.T) {
	r := newPHYRig(t)
	old := r.start(t, nil)
	up(t, old, 100)
	state, err := old.Suspend()
	if err != nil {
		t.Fatal(err)
	}
	next := r.start(t, &abi.Resume{Reason: abi.ResumeReload, State: state})
	if !next.Resumed() {
		t.Fatalf("the new instance started cold; log: %v", next.Logs())
	}
	if _, err := next.Call("active", true); err != nil { // the replay: nothing to do
		t.Fatal(err)
	}
	for range 5 { // link watches, 50 ms apart
		if err := next.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if links := next.Links(0); len(links) != 0 {
		t.Fatalf("the resumed instance reported the link %v: it reset the PHY, or the link dropped", links)
	}
	if st, err := next.Call("isconnected"); err != nil || st != true {
		t.Fatalf("isconnected() = %v, %v", st, err)
	}
}

// A state the driver cannot read starts it cold, and the cold path brings
// the link up as usual.
func TestResume_ForeignStateStartsCold(t *testing.T) {
	r := newPHYRig(t)
	h := r.start(t, &abi.Resume{Reason: abi.ResumeReload, State: []byte("nichost-w5500\x01whatever")})
	if h.Resumed() {
		t.Fatal("the instance took over a PHY described by another driver's state")
	}
	up(t, h, 100)
}

// After a fault the next instance takes over a PHY it finds negotiated:
// the replayed active(True) reports the link at once, without waiting for
// a reset and a new auto-negotiation (300 ms here).
func TestResume_AfterAFault(t *testing.T) {
	r := newPHYRig(t)
	old := r.start(t, nil)
	up(t, old, 100)
	h := r.start(t, &abi.Resume{Reason: abi.ResumeFault})
	if !h.Resumed() {
		t.Fatalf("the instance did not take the PHY over; log: %v", h.Logs())
	}
	t0 := h.Now()
	up(t, h, 1)
	if d := h.Now() - t0; d != 0 {
		t.Fatalf("the link came up %v after active(True): the PHY was reset", d)
	}
}
