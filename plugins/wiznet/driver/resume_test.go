package driver_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest/guesttest"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/plugins/wiznet/driver"
	"github.com/nichost/nichost/plugins/wiznet/w5500"
)

var resumeMAC = []byte{0x02, 0x55, 0, 0, 0, 0x07}

// chipRig is a simulated W5500 on a segment, and the fake host's clock
// the chip shares.
type chipRig struct {
	clock *guesttest.Clock
	chip  *w5500.Chip
	spi   *sim.SPI
	peer  *sim.FramePort
}

func newChipRig(t *testing.T) *chipRig {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	r := &chipRig{clock: new(guesttest.Clock), peer: seg.Attach("peer")}
	r.chip = w5500.New(w5500.Options{Strict: true, Now: r.clock.Time, RelinkDelay: time.Millisecond})
	t.Cleanup(r.chip.Close)
	r.chip.Attach(seg.Attach("chip"))
	r.spi = sim.NewSPI(r.chip)
	t.Cleanup(func() {
		for _, err := range r.chip.Errors() {
			t.Errorf("the chip saw a misuse: %v", err)
		}
	})
	return r
}

// start runs a driver instance on the chip, offered resume if not nil.
func (r *chipRig) start(t *testing.T, resume *abi.Resume) *guesttest.Host {
	return guesttest.New(t, driver.New(), guesttest.Options{
		Buses: map[string]any{"spi": r.spi, "rst": r.chip.RST()},
		MACs:  [][]byte{resumeMAC}, Clock: r.clock, Resume: resume,
	})
}

// up activates h's driver and polls until it reports the link.
func up(t *testing.T, h *guesttest.Host) {
	t.Helper()
	if _, err := h.Call("active", true); err != nil {
		t.Fatal(err)
	}
	for i := 0; !h.Link(0).Up; i++ {
		if i == 100 {
			t.Fatal("no link after 100 polls")
		}
		if err := h.Next(); err != nil {
			t.Fatal(err)
		}
	}
}

// frameTo is a frame for the driver's MAC with marker m.
func frameTo(m byte) []byte {
	f := bytes.Repeat([]byte{m}, 200)
	copy(f, resumeMAC)
	copy(f[6:], []byte{0x02, 0, 0, 0, 0, 0x99})
	return f
}

// A frame the chip stored before the swap is delivered by the next
// instance, which takes the chip over without a reset: no frame of the
// buffer is lost and the link is not reported again.
func TestResume_TakesTheChipOver(t *testing.T) {
	r := newChipRig(t)
	old := r.start(t, nil)
	up(t, old)
	state, err := old.Suspend()
	if err != nil {
		t.Fatal(err)
	}
	r.peer.WriteFrame(frameTo(1))
	wait.For(t, "the chip to store the frame", func() bool { return r.chip.Stats().FramesIn == 1 })

	next := r.start(t, &abi.Resume{Reason: abi.ResumeReload, State: state})
	if !next.Resumed() {
		t.Fatalf("the new instance started cold; log: %v", next.Logs())
	}
	if _, err := next.Call("active", true); err != nil { // the replay
		t.Fatal(err)
	}
	for i := 0; len(next.Frames(0)) == 0; i++ {
		if i == 100 {
			t.Fatal("the frame stored during the swap never reached the core")
		}
		if err := next.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if got := next.Frames(0)[0]; !bytes.Equal(got, frameTo(1)) {
		t.Fatalf("got % x", got[:16])
	}
	if links := next.Links(0); len(links) != 0 {
		t.Fatalf("the resumed instance reported the link %v: the core already had it", links)
	}
	if err := next.Transmit(frameTo(2)); err != nil {
		t.Fatalf("transmit after the takeover: %v", err)
	}
}

// A state the driver cannot read, or a chip that does not match it, starts
// the instance cold.
func TestResume_StartsColdWhenTheStateDoesNotMatch(t *testing.T) {
	for name, state := range map[string][]byte{
		"another driver's state": []byte("nichost-lan\x01whatever"),
		"a truncated state":      []byte("nichost-w5500\x01"),
	} {
		t.Run(name, func(t *testing.T) {
			r := newChipRig(t)
			h := r.start(t, &abi.Resume{Reason: abi.ResumeReload, State: state})
			if h.Resumed() {
				t.Fatal("the instance took over a chip described by a state it cannot read")
			}
			up(t, h) // the cold path still brings the link up
		})
	}
	t.Run("a chip reset since", func(t *testing.T) {
		r := newChipRig(t)
		old := r.start(t, nil)
		up(t, old)
		r.peer.WriteFrame(frameTo(1)) // moves socket 0's RX pointers
		wait.For(t, "the chip to store the frame", func() bool { return r.chip.Stats().FramesIn == 1 })
		for i := 0; len(old.Frames(0)) == 0; i++ {
			if i == 100 {
				t.Fatal("the frame never arrived")
			}
			if err := old.Next(); err != nil {
				t.Fatal(err)
			}
		}
		state, err := old.Suspend()
		if err != nil {
			t.Fatal(err)
		}
		fresh := r.start(t, nil) // a cold instance resets the chip behind the state's back
		up(t, fresh)
		h := r.start(t, &abi.Resume{Reason: abi.ResumeReload, State: state})
		if h.Resumed() {
			t.Fatal("the instance took over a chip whose pointers no longer match the state")
		}
	})
}

// After a fault there is no state: the instance takes over a configured
// chip, and the replayed active(True) reports the link without a reset.
func TestResume_AfterAFault(t *testing.T) {
	r := newChipRig(t)
	old := r.start(t, nil)
	up(t, old)
	h := r.start(t, &abi.Resume{Reason: abi.ResumeFault})
	if !h.Resumed() {
		t.Fatalf("the instance did not take the configured chip over; log: %v", h.Logs())
	}
	if _, err := h.Call("active", true); err != nil {
		t.Fatal(err)
	}
	if !h.Link(0).Up {
		t.Fatal("active(True) on the chip taken over did not report the link at once")
	}
}
