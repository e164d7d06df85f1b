package guest_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/abi/guest/guesttest"
)

// receiver is a two-interface LAN driver whose Poll delivers the frames
// the test queued, then runs after (if set).
type receiver struct {
	recorder
	queue []rxFrame
	after func(env *guest.Env)
	echo  bool // SetActive and Transmit deliver a frame
	errs  []error
}

func (d *receiver) SetActive(iface int, up bool) error {
	if d.echo {
		d.env.Deliver(0, make([]byte, 60))
	}
	return d.recorder.SetActive(iface, up)
}

func (d *receiver) Transmit(int, []byte) error {
	if d.echo {
		d.env.Deliver(0, make([]byte, 60))
	}
	return nil
}

type rxFrame struct {
	iface int
	data  []byte
}

func (d *receiver) Describe() abi.Description {
	return abi.Description{Class: abi.ClassLAN, Name: "rx", Interfaces: []string{"eth0", "eth1"}}
}

func (d *receiver) Poll(abi.Event) error {
	buf := make([]byte, 0, 2048)
	for _, f := range d.queue {
		buf = append(buf[:0], f.data...) // the driver reuses its buffer
		d.errs = append(d.errs, d.env.Deliver(f.iface, buf))
	}
	d.queue = nil
	if d.after != nil {
		d.after(d.env)
	}
	return nil
}

func rxFrames(iface, n, size int) []rxFrame {
	out := make([]rxFrame, n)
	for i := range out {
		b := bytes.Repeat([]byte{byte(i)}, size)
		b[0] = byte(i >> 8)
		out[i] = rxFrame{iface, b}
	}
	return out
}

// Frames delivered in one export reach the core in order with one
// rx_push_batch per interface, or more when a batch fills.
func TestEnv_DeliverBatches(t *testing.T) {
	tests := []struct {
		name        string
		frames      []rxFrame
		wantBatches int
	}{
		{"one frame", rxFrames(0, 1, 60), 1},
		{"a batch's worth", rxFrames(0, abi.MaxRxBatch, 60), 1},
		{"one frame more than a batch", rxFrames(0, abi.MaxRxBatch+1, 60), 2},
		{"64 KiB of full frames", rxFrames(0, 43, 1514), 1},
		{"one full frame more", rxFrames(0, 44, 1514), 2},
		{"a frame of the largest size", rxFrames(0, 3, abi.MaxFrame), 3},
		{"two interfaces", append(rxFrames(0, 3, 60), rxFrames(1, 2, 60)...), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &receiver{}
			h := guesttest.New(t, d, guesttest.Options{})
			d.queue = tt.frames
			if err := h.Poll(abi.EventFrame); err != nil {
				t.Fatal(err)
			}
			for i, err := range d.errs {
				if err != nil {
					t.Fatalf("Deliver of frame %d: %v", i, err)
				}
			}
			want := [2][][]byte{}
			for _, f := range tt.frames {
				want[f.iface] = append(want[f.iface], f.data)
			}
			for iface := range 2 {
				if got := h.Frames(iface); len(got) != len(want[iface]) || (len(got) > 0 && !equalFrames(got, want[iface])) {
					t.Fatalf("interface %d: the core got %d frames, want the %d delivered in order", iface, len(got), len(want[iface]))
				}
			}
			if n := h.HostCalls(abi.ImportRxPushBatch); n != tt.wantBatches {
				t.Fatalf("%d rx_push_batch calls, want %d", n, tt.wantBatches)
			}
			if n := h.HostCalls(abi.ImportRxPush); n != 0 {
				t.Fatalf("%d rx_push calls on a host with rx_batch", n)
			}
		})
	}
}

func equalFrames(a, b [][]byte) bool {
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// Every export the SDK serves pushes what its driver delivered before it
// returns, and Flush pushes at once.
func TestEnv_DeliverFlush(t *testing.T) {
	d := &receiver{}
	h := guesttest.New(t, d, guesttest.Options{})
	var seen int
	d.queue = rxFrames(0, 2, 60)
	d.after = func(env *guest.Env) {
		if err := env.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		seen = len(h.Frames(0))
		env.Deliver(0, make([]byte, 60))
	}
	if err := h.Poll(abi.EventFrame); err != nil {
		t.Fatal(err)
	}
	if seen != 2 {
		t.Fatalf("after Flush the core had %d frames, want 2", seen)
	}
	if got := len(h.Frames(0)); got != 3 || h.HostCalls(abi.ImportRxPushBatch) != 2 {
		t.Fatalf("after the poll: %d frames in %d batches, want 3 in 2", got, h.HostCalls(abi.ImportRxPushBatch))
	}

	// A control call and a transmit push too.
	d.after, d.echo = nil, true
	for _, export := range []func() error{
		func() error { _, err := h.Call("active", true); return err },
		func() error { return h.Transmit(make([]byte, 60)) },
		func() error { _, err := h.TransmitBatch(make([]byte, 60)); return err },
	} {
		before := len(h.Frames(0))
		if err := export(); err != nil {
			t.Fatal(err)
		}
		if got := len(h.Frames(0)); got != before+1 {
			t.Fatalf("the core has %d frames after the export, want %d", got, before+1)
		}
	}
}

// Without rx_batch (a host that does not offer it) every frame is one
// rx_push.
func TestEnv_DeliverWithoutBatching(t *testing.T) {
	d := &receiver{}
	h := guesttest.New(t, d, guesttest.Options{WithoutFeatures: []string{abi.FeatureRxBatch}})
	d.queue = rxFrames(0, 5, 60)
	if err := h.Poll(abi.EventFrame); err != nil {
		t.Fatal(err)
	}
	if got := h.Frames(0); len(got) != 5 || h.HostCalls(abi.ImportRxPush) != 5 || h.HostCalls(abi.ImportRxPushBatch) != 0 {
		t.Fatalf("%d frames, %d rx_push and %d rx_push_batch calls; want 5, 5, 0", len(got), h.HostCalls(abi.ImportRxPush), h.HostCalls(abi.ImportRxPushBatch))
	}
}

// Deliver refuses a frame no batch may carry at once, batching or not.
func TestEnv_DeliverRefuses(t *testing.T) {
	for _, opts := range []guesttest.Options{{}, {WithoutFeatures: []string{abi.FeatureRxBatch}}} {
		d := &receiver{}
		h := guesttest.New(t, d, opts)
		d.queue = []rxFrame{{0, nil}, {0, make([]byte, abi.MaxFrame+1)}, {2, make([]byte, 60)}}
		if err := h.Poll(abi.EventFrame); err != nil {
			t.Fatal(err)
		}
		for i, want := range []int{abi.EINVAL, abi.EMSGSIZE, abi.ENODEV} {
			var e *abi.Error
			if !errors.As(d.errs[i], &e) || e.Kind != abi.KindOSError || e.Errno != want {
				t.Errorf("without %v: Deliver %d returned %v; want OSError %d", opts.WithoutFeatures, i, d.errs[i], want)
			}
		}
		if n := len(h.Frames(0)); n != 0 {
			t.Errorf("%d refused frames reached the core", n)
		}
	}
}
