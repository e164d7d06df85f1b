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

// slowSendDev makes every SEND take as long as two chip-select frames: it
// holds the SEND frame back and hands it to the chip just before the
// second frame after it. The look that follows a SEND in the same host
// call therefore sees it outstanding, as on a real chip, where the frame
// is on the wire for ~120 µs; the simulator would finish it at once.
type slowSendDev struct {
	sim.SPIDevice
	pending bool // Select seen, not forwarded: the first bytes say what the frame is
	holding bool // this frame is a SEND being held back
	held    bool // a SEND waits for the chip
	after   int  // frames since it
	delayed atomic.Int64
}

func (d *slowSendDev) Select() {
	if d.held {
		if d.after++; d.after == 2 {
			d.held = false
			r := make([]byte, len(sendCmd))
			d.SPIDevice.Select()
			d.SPIDevice.Transfer(sendCmd, r)
			d.SPIDevice.Deselect()
		}
	}
	d.pending = true
}

func (d *slowSendDev) Transfer(w, r []byte) {
	if d.pending {
		d.pending = false
		if bytes.Equal(w, sendCmd) && !d.held {
			d.holding = true
			d.delayed.Add(1)
			copy(r, []byte{0x01, 0x02, 0x03, 0x00})
			return
		}
		d.SPIDevice.Select()
	}
	d.SPIDevice.Transfer(w, r)
}

func (d *slowSendDev) Deselect() {
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

// With SENDs that do not complete at once, frames wait in the TX buffer
// behind the outstanding one and go out, in order and each exactly once,
// as the looks see each SEND done; the chip records no misuse (every SEND
// waits for the previous one to be seen complete).
func TestWiznet_SlowSend(t *testing.T) {
	engines(t, func(t *testing.T, native bool) {
		var dev *slowSendDev
		r := newRig(t, rigConfig{native: native, wrap: func(d sim.SPIDevice) sim.SPIDevice {
			dev = &slowSendDev{SPIDevice: d}
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

// heldSendDev holds back every SEND while hold is set, and hands the one
// it holds to the chip once hold is cleared.
type heldSendDev struct {
	sim.SPIDevice
	hold                   atomic.Bool
	pending, holding, held bool
}

func (d *heldSendDev) Select() {
	if d.held && !d.hold.Load() {
		d.held = false
		r := make([]byte, len(sendCmd))
		d.SPIDevice.Select()
		d.SPIDevice.Transfer(sendCmd, r)
		d.SPIDevice.Deselect()
	}
	d.pending = true
}

func (d *heldSendDev) Transfer(w, r []byte) {
	if d.pending {
		d.pending = false
		if bytes.Equal(w, sendCmd) && d.hold.Load() && !d.held {
			d.holding = true
			copy(r, []byte{0x01, 0x02, 0x03, 0x00})
			return
		}
		d.SPIDevice.Select()
	}
	d.SPIDevice.Transfer(w, r)
}

func (d *heldSendDev) Deselect() {
	switch {
	case d.holding:
		d.holding, d.held = false, true
		return
	case d.pending:
		d.pending = false
		d.SPIDevice.Select()
	}
	d.SPIDevice.Deselect()
}

// Frames that piled up behind a slow SEND all go out once it completes,
// more than one poll's rounds of them included, without waiting for the
// safety poll (set to a minute here, so that a driver that forgets them
// fails).
func TestWiznet_StagedFramesDrainAfterSlowSend(t *testing.T) {
	var dev *heldSendDev
	r := newRig(t, rigConfig{native: true, options: map[string]any{"poll_ms": 60000}, wrap: func(d sim.SPIDevice) sim.SPIDevice {
		dev = &heldSendDev{SPIDevice: d}
		return dev
	}})
	r.up(t)
	dev.hold.Store(true)
	const n = 150 // more than the 56 SENDs of one poll; 9 KB, the buffer takes them all
	for i := range n {
		if err := hosttest.Transmit(r.nic, frame(peerMAC, i, 60)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the driver to take every frame", func() bool { return r.nic.Stats().TxFrames == n })
	dev.hold.Store(false)
	// A poll comes when the INTn edge of the next received frame, or the
	// driver's own wake-up, asks for one; make sure one does.
	r.peer.WriteFrame(frame(r.nic.MAC(), 0, 60))
	for i := range n {
		if got := r.readPeer(t); seqOf(got) != i {
			t.Fatalf("frame %d came as seq %d", i, seqOf(got))
		}
	}
}
