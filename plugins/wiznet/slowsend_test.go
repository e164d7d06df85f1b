//go:build !wasip1

package main_test

import (
	"bytes"
	"sync/atomic"
	"testing"

	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/hosttest"
)

// sendCmd is the SPI frame the driver issues SEND with: S0_CR (block 1,
// offset 0x0001, write) ← 0x20.
var sendCmd = []byte{0x00, 0x01, 0x01<<3 | 0x04, 0x20}

// sendHolder stands between the driver and the simulated chip and holds a
// SEND frame back, handing it to the chip later: on a real chip a SEND takes
// time on the wire (~120 µs per frame), while the simulator would finish it
// at once. hold says whether a SEND is held at all; release is asked at each
// chip-select after a held SEND, with the count of them so far, whether to
// hand it over now.
type sendHolder struct {
	sim.SPIDevice
	hold    func() bool
	release func(frames int) bool
	pending bool // Select seen, not forwarded: the first bytes say what the frame is
	holding bool // this frame is a SEND being held back
	held    bool // a SEND waits for the chip
	after   int  // chip-selects since it
	delayed atomic.Int64
}

func (d *sendHolder) Select() {
	if d.held {
		if d.after++; d.release(d.after) {
			d.held = false
			r := make([]byte, len(sendCmd))
			d.SPIDevice.Select()
			d.SPIDevice.Transfer(sendCmd, r)
			d.SPIDevice.Deselect()
		}
	}
	d.pending = true
}

func (d *sendHolder) Transfer(w, r []byte) {
	if d.pending {
		d.pending = false
		if bytes.Equal(w, sendCmd) && !d.held && d.hold() {
			d.holding = true
			d.delayed.Add(1)
			copy(r, []byte{0x01, 0x02, 0x03, 0x00})
			return
		}
		d.SPIDevice.Select()
	}
	d.SPIDevice.Transfer(w, r)
}

func (d *sendHolder) Deselect() {
	switch {
	case d.holding:
		d.holding, d.held, d.after = false, true, 0
		return
	case d.pending:
		d.pending = false
		d.SPIDevice.Select()
	}
	d.SPIDevice.Deselect()
}

// With every SEND taking as long as two chip-select frames (the look that
// follows a SEND in the same host call sees it outstanding, as on a real
// chip), frames wait in the TX buffer behind the outstanding one and go
// out, in order and each exactly once, as the looks see each SEND done; the
// chip records no misuse (every SEND waits for the previous one to be seen
// complete).
func TestWiznet_SlowSend(t *testing.T) {
	engines(t, func(t *testing.T, native bool) {
		var dev *sendHolder
		r := newRig(t, rigConfig{native: native, wrap: func(d sim.SPIDevice) sim.SPIDevice {
			dev = &sendHolder{SPIDevice: d,
				hold:    func() bool { return true },
				release: func(frames int) bool { return frames == 2 }}
			return dev
		}})
		r.up(t)
		const n = 60 // about 30 KB: the 16 KiB TX buffer fills behind the outstanding SENDs
		for i := range n {
			if err := hosttest.Transmit(r.nic, frame(peerMAC, i, 500)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range n {
			if got := r.readPeer(t); !bytes.Equal(got, frame(peerMAC, i, 500)) {
				t.Fatalf("frame %d at the peer: seq %d", i, seqOf(got))
			}
		}
		if s := r.nic.Stats(); s.TxFrames != n || len(s.Drops) != 0 {
			t.Fatalf("NIC stats %+v, want %d frames sent, none dropped", s, n)
		}
		if dev.delayed.Load() < n {
			t.Fatalf("%d SENDs were held back, want all %d", dev.delayed.Load(), n)
		}
	})
}

// Frames that piled up behind a slow SEND all go out once it completes,
// more than one poll's rounds of them included, without waiting for the
// safety poll (set to a minute here, so that a driver that forgets them
// fails).
func TestWiznet_StagedFramesDrainAfterSlowSend(t *testing.T) {
	var hold atomic.Bool // SENDs are held while it is set
	r := newRig(t, rigConfig{native: true, options: map[string]any{"poll_ms": 60000}, wrap: func(d sim.SPIDevice) sim.SPIDevice {
		return &sendHolder{SPIDevice: d, hold: hold.Load, release: func(int) bool { return !hold.Load() }}
	}})
	r.up(t)
	hold.Store(true)
	const n = 150 // more than the 56 SENDs of one poll; 9 KB, the buffer takes them all
	for i := range n {
		if err := hosttest.Transmit(r.nic, frame(peerMAC, i, 60)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the driver to take every frame", func() bool { return r.nic.Stats().TxFrames == n })
	hold.Store(false)
	// A poll comes when the INTn edge of the next received frame, or the
	// driver's own wake-up, asks for one; make sure one does.
	r.peer.WriteFrame(frame(r.nic.MAC(), 0, 60))
	for i := range n {
		if got := r.readPeer(t); seqOf(got) != i {
			t.Fatalf("frame %d came as seq %d", i, seqOf(got))
		}
	}
}
